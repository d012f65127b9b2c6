/**
 * Every sync setting, described once in `SETTINGS`: where a person sets it (environment variable,
 * cdk.json context key, CLI flag), its default, its parser and its help line. The environment
 * mapping, the CLI's flags and --help, the CDK context defaults and the README's configuration
 * table are all derived from (or held by a test to) that one list; adding a setting is one entry
 * there plus its field in `SyncSettings`.
 */
import { InputError, type SettingTerms } from './errors.js';
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

/** Where a parsed value lands in `SyncSettings`: a top-level field, or one of the table names. */
type Field = Exclude<keyof SyncSettings, 'tables'> | `tables.${keyof TableNames}`;
type FieldValue<F extends Field> = F extends `tables.${string}` ? string : NonNullable<SyncSettings[F & keyof SyncSettings]>;

/** One setting as every edge sees it. */
export interface SettingSpec<F extends Field = Field> {
  field: F;
  /** The environment variable (CLI and the deployed function). */
  variable: string;
  /** The CLI flag without its dashes, and the placeholder its help shows (`--stuck-after DURATION`). */
  flag?: { name: string; value: string };
  /** The cdk.json context key; the deployed function receives it as `variable`. */
  context?: string;
  /** As a person would type it; without one the setting is unset unless given. */
  default?: string | number;
  /** What leaving an optional setting unset means, for --help and the README ("both"). */
  unset?: string;
  help: string;
  /** Throws an InputError naming `source` and carrying `setting`. */
  parse: (text: string, source: string, setting: string) => FieldValue<F>;
}

type AnySpec = { [F in Field]: SettingSpec<F> }[Field];

// ---- parsers: each takes the text, how to name its source, and the setting it serves ----------

/** Parsers name their setting as a string (their types must not depend on the registry they fill). */
function inputError(message: string, setting?: string, options?: ErrorOptions): InputError {
  const key = setting !== undefined && Object.hasOwn(SETTINGS, setting) ? (setting as SettingKey) : undefined;
  return new InputError(message, key, options);
}

const DURATION_UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `6h`, `1d` (a whole number and one unit) as milliseconds. */
export function parseDuration(text: string, source: string, setting?: string): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  const ms = match ? Number(match[1]) * DURATION_UNITS_MS[match[2] as string]! : 0;
  // A safe whole number of milliseconds keeps date arithmetic exact.
  if (!match || ms <= 0 || !Number.isSafeInteger(ms)) {
    throw inputError(
      `${source} must be a whole number followed by s, m, h or d (like 90s, 30m, 6h or 1d), not "${text}".`,
      setting,
    );
  }
  return ms;
}

export function parseFraction(text: string, source: string, setting?: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw inputError(`${source} must be a number from 0 to 1 (like 0.5), not "${text}".`, setting);
  }
  return value;
}

export function parsePositiveInteger(text: string, source: string, setting?: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw inputError(`${source} must be a whole number of at least 1, not "${text}".`, setting);
  }
  return value;
}

/** A whole number from 1 to `max`: a bound that keeps a typo from becoming a runaway value. */
function boundedInteger(max: number, why: string): (text: string, source: string, setting?: string) => number {
  return (text: string, source: string, setting?: string): number => {
    const value = parsePositiveInteger(text, source, setting);
    if (value > max) throw inputError(`${source} must be at most ${max} (${why}), not "${text}".`, setting);
    return value;
  };
}

export function parseReplicaType(text: string, source: string, setting?: string): ReplicaType {
  if (text !== 'user' && text !== 'system') {
    throw inputError(`${source} must be user or system (leave it out to sync both), not "${text}".`, setting);
  }
  return text;
}

/** Any http(s) URL, without its trailing slash (a DynamoDB endpoint, say). */
export function parseUrl(text: string, source: string, setting?: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch (error) {
    throw inputError(`${source} must be an http(s) URL like https://tavusapi.com, not "${text}".`, setting, { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw inputError(`${source} must be an http(s) URL like https://tavusapi.com, not "${text}".`, setting);
  }
  return url.toString().replace(/\/+$/, '');
}

/** localhost, 127.0.0.0/8 and [::1]: the URL parser has already normalised the host's spelling. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** The API's URL: the key travels with every request, so plain http:// only to this machine. */
export function parseApiUrl(text: string, source: string, setting?: string): string {
  const url = parseUrl(text, source, setting);
  if (new URL(url).protocol === 'http:' && !isLoopbackHost(new URL(url).hostname)) {
    throw inputError(
      `${source} must use https:// so the API key never crosses the network in clear text (plain http:// is only for localhost, 127.x.x.x or [::1]), not "${text}".`,
      setting,
    );
  }
  return url;
}

/** DynamoDB's own rule for table names, checked here so the mistake is named before any request. */
export function parseTableName(text: string, source: string, setting?: string): string {
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(text)) {
    throw inputError(
      `${source} must be a DynamoDB table name (3 to 255 letters, digits, "_", "-" or "."), not "${text}".`,
      setting,
    );
  }
  return text;
}

/** A hundred years: longer is a typo, and would push expiry times past what dates can hold. */
const MAX_TTL_DAYS = 36_500;
/** More requests in flight than this only earns 429s from the API. */
const MAX_API_CONCURRENCY = 64;

// ---- the registry --------------------------------------------------------------------------------

export const SETTINGS = {
  apiUrl: {
    field: 'apiUrl',
    variable: 'TAVUS_API_URL',
    flag: { name: 'api-url', value: 'URL' },
    context: 'apiUrl',
    default: 'https://tavusapi.com',
    help: 'API base URL; plain http:// only to this machine (localhost)',
    parse: parseApiUrl,
  },
  table: {
    field: 'tables.replicas',
    variable: 'REPLICAS_TABLE',
    flag: { name: 'table', value: 'NAME' },
    context: 'replicasTable',
    default: DEFAULT_TABLE_NAMES.replicas,
    help: 'the replicas table',
    parse: parseTableName,
  },
  runsTable: {
    field: 'tables.runs',
    variable: 'SYNC_RUNS_TABLE',
    flag: { name: 'runs-table', value: 'NAME' },
    context: 'runsTable',
    default: DEFAULT_TABLE_NAMES.runs,
    help: 'run records and the lease',
    parse: parseTableName,
  },
  eventsTable: {
    field: 'tables.events',
    variable: 'REPLICA_EVENTS_TABLE',
    flag: { name: 'events-table', value: 'NAME' },
    context: 'eventsTable',
    default: DEFAULT_TABLE_NAMES.events,
    help: "each replica's change history",
    parse: parseTableName,
  },
  replicaType: {
    field: 'replicaType',
    variable: 'REPLICA_TYPE',
    flag: { name: 'replica-type', value: 'user|system' },
    context: 'replicaType',
    unset: 'both',
    help: 'sync only that type; deletion detection is scoped to it',
    parse: parseReplicaType,
  },
  stuckAfter: {
    field: 'stuckAfterMs',
    variable: 'STUCK_TRAINING_AFTER',
    flag: { name: 'stuck-after', value: 'DURATION' },
    context: 'stuckAfter',
    default: '6h',
    help: 'a training this long without progress is stuck: 90s, 30m, 6h, 1d',
    parse: parseDuration,
  },
  maxDeleteFraction: {
    field: 'maxDeleteFraction',
    variable: 'MAX_DELETE_FRACTION',
    flag: { name: 'max-delete-fraction', value: 'F' },
    context: 'maxDeleteFraction',
    default: 0.5,
    help: 'the mass-deletion breaker: the most of the live replicas one run may mark deleted',
    parse: parseFraction,
  },
  runRecordTtlDays: {
    field: 'runRecordTtlDays',
    variable: 'RUN_RECORD_TTL_DAYS',
    context: 'runRecordTtlDays',
    default: 90,
    help: 'expire run records after this many days',
    parse: boundedInteger(MAX_TTL_DAYS, 'a hundred years'),
  },
  eventTtlDays: {
    field: 'eventTtlDays',
    variable: 'EVENT_TTL_DAYS',
    context: 'eventTtlDays',
    unset: 'keep forever',
    help: 'expire history events after this many days',
    parse: boundedInteger(MAX_TTL_DAYS, 'a hundred years; leave it unset to keep events forever'),
  },
  maxConcurrency: {
    field: 'maxConcurrency',
    variable: 'MAX_API_CONCURRENCY',
    context: 'maxApiConcurrency',
    default: 4,
    help: 'API requests in flight at most (halved on every 429)',
    parse: boundedInteger(MAX_API_CONCURRENCY, 'more only earns 429s from the API'),
  },
} as const satisfies Record<string, AnySpec>;

export type SettingKey = keyof typeof SETTINGS;
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

/** A setting's description, widened so every optional part can be read. */
export function settingSpec(key: SettingKey): SettingSpec {
  return SETTINGS[key];
}

/** The setting names, each with its raw text as typed; the CLI maps its flags onto the same keys. */
export type RawSettings = Partial<Record<SettingKey, string>>;

type DefaultOf<K extends SettingKey> = (typeof SETTINGS)[K] extends { default: infer D } ? D : never;
type WithDefault = { [K in SettingKey]: [DefaultOf<K>] extends [never] ? never : K }[SettingKey];

/** Each default as its registry entry gives it (`DEFAULTS.maxConcurrency` is the number 4). */
export const DEFAULTS = Object.fromEntries(
  SETTING_KEYS.flatMap((key) => (settingSpec(key).default === undefined ? [] : [[key, settingSpec(key).default]])),
) as { [K in WithDefault]: DefaultOf<K> };

export const ENVIRONMENT_VARIABLES = Object.fromEntries(SETTING_KEYS.map((key) => [key, settingSpec(key).variable])) as Record<
  SettingKey,
  string
>;

/** Reads the raw settings from environment variables; empty values count as unset. */
export function rawSettingsFromEnv(env: NodeJS.ProcessEnv): RawSettings {
  const raw: RawSettings = {};
  for (const key of SETTING_KEYS) {
    const value = env[ENVIRONMENT_VARIABLES[key]]?.trim();
    if (value) raw[key] = value;
  }
  return raw;
}

/**
 * Validates raw settings, unset ones taking their defaults. `describe(key)` names the source of a
 * value in error messages ("--stuck-after" for a flag, "STUCK_TRAINING_AFTER" for the environment).
 */
export function parseSettings(
  raw: RawSettings,
  describe: (key: SettingKey) => string = (key) => ENVIRONMENT_VARIABLES[key],
): SyncSettings {
  const settings: Record<string, unknown> = {};
  const tables: Record<string, string> = {};
  const tableSettings: Array<[SettingKey, string]> = [];
  for (const key of SETTING_KEYS) {
    const spec = settingSpec(key);
    const text = raw[key] ?? (spec.default === undefined ? undefined : String(spec.default));
    if (text === undefined) continue;
    const value = spec.parse(text, describe(key), key);
    if (!spec.field.startsWith('tables.')) {
      settings[spec.field] = value;
      continue;
    }
    tables[spec.field.slice('tables.'.length)] = value as string;
    tableSettings.push([key, value as string]);
  }
  const shared = tableSettings.find(([, name], index) => tableSettings.slice(0, index).some(([, other]) => other === name));
  if (shared) {
    throw inputError(
      `The replicas, runs and events tables must be three different tables, but two share a name (${Object.values(tables).join(', ')}): give each its own name.`,
      shared[0],
    );
  }
  return { ...settings, tables } as unknown as SyncSettings;
}

/** The API key from the environment: required, never a flag, never echoed. */
export function apiKeyFromEnv(env: NodeJS.ProcessEnv): string {
  const key = env.TAVUS_API_KEY?.trim();
  if (!key) {
    throw inputError(
      'TAVUS_API_KEY is not set: export your Tavus API key (from the Tavus developer portal) as TAVUS_API_KEY and run again.',
    );
  }
  return key;
}

// ---- how each place outside the CLI names a setting ---------------------------------------------

/** Settings named as environment variables: the engine's neutral default. */
export const ENVIRONMENT_TERMS: SettingTerms = {
  name: (key) => ENVIRONMENT_VARIABLES[key],
  assign: (key, value) => `${ENVIRONMENT_VARIABLES[key]}=${value}`,
};

/** The deployed function: the operator sets cdk.json context, which reaches the function as its variable. */
export const DEPLOYED_TERMS: SettingTerms = {
  name(key) {
    const { context, variable } = settingSpec(key);
    return context === undefined ? variable : `context key ${context} (${variable})`;
  },
  assign(key, value) {
    const { context, variable } = settingSpec(key);
    return context === undefined ? `${variable}=${value} on the function` : `-c ${context}=${value} (or ${variable}=${value} on the function)`;
  },
};
