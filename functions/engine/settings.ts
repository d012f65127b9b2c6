import { DEFAULT_TABLE_NAMES, type TableNames } from './tables.js';
import type { ReplicaType } from './replica.js';

/** Everything a sync run is configured with, from flags (CLI) or the environment (both). */
export interface SyncSettings {
  apiUrl: string;
  tables: TableNames;
  /** Sync only this type; deletion detection is scoped to it. Undefined: both types. */
  replicaType?: ReplicaType;
  stuckAfterMs: number;
  maxDeleteFraction: number;
  /** Days a run record is kept before DynamoDB's TTL removes it. */
  runRecordTtlDays: number;
  /** Days an event is kept; undefined keeps events forever. */
  eventTtlDays?: number;
  /** API requests in flight at most; halved on every 429, grown back slowly. */
  maxConcurrency: number;
}

/** Kept under its old name while callers move to `InputError`. */
export { InputError as SettingsError } from './errors.js';
import { InputError as SettingsError, type SettingTerms } from './errors.js';

export const DEFAULTS = {
  apiUrl: 'https://tavusapi.com',
  stuckAfter: '6h',
  maxDeleteFraction: 0.5,
  runRecordTtlDays: 90,
  maxConcurrency: 4,
} as const;

/**
 * The setting names, each with its environment variable; the CLI maps its flags onto the same keys
 * so one validator serves the CLI and the Lambda handler.
 */
export interface RawSettings {
  apiUrl?: string;
  table?: string;
  runsTable?: string;
  eventsTable?: string;
  replicaType?: string;
  stuckAfter?: string;
  maxDeleteFraction?: string;
  runRecordTtlDays?: string;
  eventTtlDays?: string;
  maxConcurrency?: string;
}

export type SettingKey = keyof RawSettings;

export const ENVIRONMENT_VARIABLES: Record<keyof RawSettings, string> = {
  apiUrl: 'TAVUS_API_URL',
  table: 'REPLICAS_TABLE',
  runsTable: 'SYNC_RUNS_TABLE',
  eventsTable: 'REPLICA_EVENTS_TABLE',
  replicaType: 'REPLICA_TYPE',
  stuckAfter: 'STUCK_TRAINING_AFTER',
  maxDeleteFraction: 'MAX_DELETE_FRACTION',
  runRecordTtlDays: 'RUN_RECORD_TTL_DAYS',
  eventTtlDays: 'EVENT_TTL_DAYS',
  maxConcurrency: 'MAX_API_CONCURRENCY',
};

/** Reads the raw settings from environment variables; empty values count as unset. */
export function rawSettingsFromEnv(env: NodeJS.ProcessEnv): RawSettings {
  const raw: RawSettings = {};
  for (const [key, variable] of Object.entries(ENVIRONMENT_VARIABLES) as Array<[keyof RawSettings, string]>) {
    const value = env[variable]?.trim();
    if (value) raw[key] = value;
  }
  return raw;
}

/**
 * Validates raw settings. `describe(key)` names the source of a value in error messages
 * ("--stuck-after" for a flag, "STUCK_TRAINING_AFTER" for the environment).
 */
export function parseSettings(
  raw: RawSettings,
  describe: (key: keyof RawSettings) => string = (key) => ENVIRONMENT_VARIABLES[key],
): SyncSettings {
  const settings: SyncSettings = {
    apiUrl: parseUrl(raw.apiUrl ?? DEFAULTS.apiUrl, describe('apiUrl')),
    tables: {
      replicas: parseTableName(raw.table ?? DEFAULT_TABLE_NAMES.replicas, describe('table')),
      runs: parseTableName(raw.runsTable ?? DEFAULT_TABLE_NAMES.runs, describe('runsTable')),
      events: parseTableName(raw.eventsTable ?? DEFAULT_TABLE_NAMES.events, describe('eventsTable')),
    },
    stuckAfterMs: parseDuration(raw.stuckAfter ?? DEFAULTS.stuckAfter, describe('stuckAfter')),
    maxDeleteFraction: parseFraction(
      raw.maxDeleteFraction ?? String(DEFAULTS.maxDeleteFraction),
      describe('maxDeleteFraction'),
    ),
    runRecordTtlDays: parsePositiveInteger(
      raw.runRecordTtlDays ?? String(DEFAULTS.runRecordTtlDays),
      describe('runRecordTtlDays'),
    ),
    maxConcurrency: parsePositiveInteger(
      raw.maxConcurrency ?? String(DEFAULTS.maxConcurrency),
      describe('maxConcurrency'),
    ),
  };
  if (raw.replicaType !== undefined) settings.replicaType = parseReplicaType(raw.replicaType, describe('replicaType'));
  if (raw.eventTtlDays !== undefined) settings.eventTtlDays = parsePositiveInteger(raw.eventTtlDays, describe('eventTtlDays'));
  const names = new Set(Object.values(settings.tables));
  if (names.size !== 3) {
    throw new SettingsError(
      `The replicas, runs and events tables must be three different tables, but two share a name (${Object.values(settings.tables).join(', ')}): give each its own name.`,
    );
  }
  return settings;
}

const DURATION_UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `6h`, `1d` (a whole number and one unit) as milliseconds. */
export function parseDuration(text: string, source: string): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  const amount = match ? Number(match[1]) : 0;
  if (!match || amount <= 0) {
    throw new SettingsError(
      `${source} must be a whole number followed by s, m, h or d (like 90s, 30m, 6h or 1d), not "${text}".`,
    );
  }
  return amount * DURATION_UNITS_MS[match[2] as string]!;
}

export function parseFraction(text: string, source: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new SettingsError(`${source} must be a number from 0 to 1 (like 0.5), not "${text}".`);
  }
  return value;
}

export function parsePositiveInteger(text: string, source: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw new SettingsError(`${source} must be a whole number of at least 1, not "${text}".`);
  }
  return value;
}

export function parseReplicaType(text: string, source: string): ReplicaType {
  if (text !== 'user' && text !== 'system') {
    throw new SettingsError(`${source} must be user or system (leave it out to sync both), not "${text}".`);
  }
  return text;
}

export function parseUrl(text: string, source: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SettingsError(`${source} must be an http(s) URL like https://tavusapi.com, not "${text}".`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SettingsError(`${source} must be an http(s) URL like https://tavusapi.com, not "${text}".`);
  }
  return url.toString().replace(/\/+$/, '');
}

/** DynamoDB's own rule for table names, checked here so the mistake is named before any request. */
export function parseTableName(text: string, source: string): string {
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(text)) {
    throw new SettingsError(
      `${source} must be a DynamoDB table name (3 to 255 letters, digits, "_", "-" or "."), not "${text}".`,
    );
  }
  return text;
}

/** The API key from the environment: required, never a flag, never echoed. */
export function apiKeyFromEnv(env: NodeJS.ProcessEnv): string {
  const key = env.TAVUS_API_KEY?.trim();
  if (!key) {
    throw new SettingsError(
      'TAVUS_API_KEY is not set: export your Tavus API key (from the Tavus developer portal) as TAVUS_API_KEY and run again.',
    );
  }
  return key;
}

/** Settings named as environment variables: the engine's neutral default. */
export const ENVIRONMENT_TERMS: SettingTerms = {
  name: (key) => ENVIRONMENT_VARIABLES[key],
  assign: (key, value) => `${ENVIRONMENT_VARIABLES[key]}=${value}`,
};
