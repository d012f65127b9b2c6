/**
 * Every sync setting, described once in `SETTINGS`: where a person sets it (environment variable,
 * cdk.json context key, CLI flag), its default, its parser and its help line. The environment
 * mapping, the CLI's flags and --help, the CDK context defaults and the README's configuration
 * table are all derived from (or held by a test to) that one list; adding a setting is one entry
 * there plus its field in `SyncSettings`.
 */
import { InputError } from '../errors.js';
import { DEFAULT_TABLE_NAMES, type TableNames } from '../contract/tables.js';
import type { ApiResource, ReplicaType } from '../model/replica.js';
import {
  boundedInteger,
  MAX_API_CONCURRENCY,
  MAX_TTL_DAYS,
  parseApiResource,
  parseApiUrl,
  parseDuration,
  parseFraction,
  parsePositiveInteger,
  parseReplicaType,
  parseTableName,
  parseUrl,
} from './parsers.js';

/** Everything a sync run is configured with, from flags (CLI) or the environment (both). */
export interface SyncSettings {
  apiUrl: string;
  /** Which list endpoint to walk: `/v2/replicas` (legacy) or `/v2/faces`; one table either way. */
  apiResource: ApiResource;
  tables: TableNames;
  /** Sync only this type; deletion detection is scoped to it. Undefined: both types. */
  replicaType?: ReplicaType;
  stuckAfterMs: number;
  /** A fine-tune (Phoenix-4.5's second phase) this long without a change of `finetune_status` is stuck. */
  finetuneStuckAfterMs: number;
  maxDeleteFraction: number;
  /** Days a run record is kept before DynamoDB's TTL removes it. */
  runRecordTtlDays: number;
  /** Days an event is kept; undefined keeps events forever. */
  eventTtlDays?: number;
  /** API requests in flight at most; halved on every 429, grown back slowly. */
  maxConcurrency: number;
  /** The most replicas a walk believes (total_count) or holds: an answer beyond it fails the walk. */
  maxReplicas: number;
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
  /** Throws an InputError naming `source` (`parseSettings` attaches the setting). */
  parse: (text: string, source: string) => FieldValue<F>;
}

type AnySpec = { [F in Field]: SettingSpec<F> }[Field];

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
  apiResource: {
    field: 'apiResource',
    variable: 'TAVUS_API_RESOURCE',
    flag: { name: 'api-resource', value: 'replicas|faces' },
    context: 'apiResource',
    default: 'replicas',
    help: 'the list endpoint: /v2/replicas (legacy name) or /v2/faces; the same replicas, one table either way',
    parse: parseApiResource,
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
  finetuneStuckAfter: {
    field: 'finetuneStuckAfterMs',
    variable: 'FINETUNE_STUCK_AFTER',
    flag: { name: 'finetune-stuck-after', value: 'DURATION' },
    context: 'finetuneStuckAfter',
    default: '12h',
    help: 'a Phoenix-4.5 fine-tune this long without a change of finetune_status is stuck: 90s, 30m, 12h, 1d',
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
  maxReplicas: {
    field: 'maxReplicas',
    variable: 'MAX_REPLICAS',
    flag: { name: 'max-replicas', value: 'N' },
    context: 'maxReplicas',
    default: 1_000_000,
    help: 'the most replicas a walk believes or holds: a total_count above it fails the walk at once',
    parse: parsePositiveInteger,
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
    const value = parsedAs(key, () => spec.parse(text, describe(key)));
    if (!spec.field.startsWith('tables.')) {
      settings[spec.field] = value;
      continue;
    }
    tables[spec.field.slice('tables.'.length)] = value as string;
    tableSettings.push([key, value as string]);
  }
  const shared = tableSettings.find(([, name], index) => tableSettings.slice(0, index).some(([, other]) => other === name));
  if (shared) {
    throw new InputError(
      `The replicas, runs and events tables must be three different tables, but two share a name (${Object.values(tables).join(', ')}): give each its own name.`,
      shared[0],
    );
  }
  return { ...settings, tables } as unknown as SyncSettings;
}

/** A parser's InputError, now carrying the setting it was about (its key in `SETTINGS`). */
function parsedAs<T>(key: SettingKey, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof InputError) || error.setting !== undefined) throw error;
    throw new InputError(error.message, key, { cause: error.cause });
  }
}

/** The API key from the environment: required, never a flag, never echoed. */
export function apiKeyFromEnv(env: NodeJS.ProcessEnv): string {
  const key = env.TAVUS_API_KEY?.trim();
  if (!key) {
    throw new InputError(
      'TAVUS_API_KEY is not set: export your Tavus API key (from the Tavus developer portal) as TAVUS_API_KEY and run again.',
    );
  }
  return key;
}
