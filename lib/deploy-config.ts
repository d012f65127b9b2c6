/**
 * The app's configuration: CDK context (cdk.json, or `-c key=value` on the command line), checked
 * once here with one sentence per mistake. The sync's own settings go through the same validator
 * the CLI and the handler use (functions/engine/settings/registry.ts), so a value cdk.json accepts is a
 * value the function accepts.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { InputError } from '../functions/engine/errors.js';
import { parseDuration } from '../functions/engine/settings/parsers.js';
import { parseSettings, SETTING_KEYS, settingSpec, type RawSettings, type SETTINGS, type SettingKey, type SyncSettings } from '../functions/engine/settings/registry.js';

type Registry = typeof SETTINGS;
type ContextOf<K extends SettingKey> = Registry[K] extends { context: infer C extends string } ? C : never;
type ContextDefault<K extends SettingKey> = Registry[K] extends { default: infer D } ? D : '';

/** The sync settings' context keys and defaults, from the settings registry. */
const SYNC_CONTEXT_DEFAULTS = Object.fromEntries(
  SETTING_KEYS.flatMap((key) => {
    const { context, default: value } = settingSpec(key);
    return context === undefined ? [] : [[context, value ?? '']];
  }),
) as { [K in SettingKey as ContextOf<K>]: ContextDefault<K> };

/**
 * Every context key with its default. cdk.json lists the same values so they are visible and
 * editable in one place (a test keeps the two equal). An empty string means "not set".
 */
export const CONTEXT_DEFAULTS = {
  /** When the sync runs: EventBridge Scheduler `rate(...)` or `cron(...)`. */
  schedule: 'rate(1 hour)',
  /** The time zone a cron schedule is read in (IANA name). */
  scheduleTimeZone: 'UTC',
  /** Alarm when no run succeeded for this long; empty: three schedule intervals (rate only). */
  staleAfter: '',
  /** The sync's own settings (an empty string leaves an optional one unset). */
  ...SYNC_CONTEXT_DEFAULTS,
  /** Where alarm notifications are mailed; empty: subscribe to the topic yourself. */
  alarmEmail: '',
  /** Where alerts naming each replica that needs a person are mailed; empty: subscribe to AlertsTopic yourself. */
  alertsEmail: '',
  /** A complete secret ARN to read the key from instead of creating a secret. */
  existingSecretArn: '',
  logRetentionDays: 90,
  /** Reserve one concurrent execution; false for accounts whose concurrency quota cannot spare it. */
  reserveConcurrency: true,
  /** Add the Athena side for analysts (connector, workgroup, saved questions); it costs money when queried. */
  athena: false,
  /** With athena: the most one Athena query may scan, in MB (Athena's minimum is 10). */
  athenaScanCutoffMb: 1024,
} as const;

export type ContextKey = keyof typeof CONTEXT_DEFAULTS;

export interface ScheduleConfig {
  expression: string;
  timeZone: string;
  /** The interval of a rate() schedule; undefined for cron(). */
  intervalMs?: number;
}

export interface DeployConfig {
  /** Validated sync settings: table names, and the values the function's environment carries. */
  settings: SyncSettings;
  /** The function's environment for the sync settings (variable -> value), table names excluded. */
  syncEnvironment: Record<string, string>;
  schedule: ScheduleConfig;
  staleAfterMs: number;
  alarmEmail?: string;
  alertsEmail?: string;
  existingSecretArn?: string;
  logRetention: RetentionDays;
  reserveConcurrency: boolean;
  /** The Athena side, when `athena` is true; undefined leaves the stack without Athena resources. */
  athena?: AthenaConfig;
}

export interface AthenaConfig {
  /** Athena cancels a query of the workgroup once it has scanned this many bytes. */
  scanCutoffBytes: number;
}

/** Athena refuses a per-query cutoff below 10 MB. */
const MIN_SCAN_CUTOFF_MB = 10;

/** CloudWatch alarms evaluate at most seven days; a stale window must fit in it. */
const MAX_STALE_AFTER_MS = 7 * 86_400_000;

/** Reads and checks the context; `get` is `(key) => app.node.tryGetContext(key)`. */
export function readDeployConfig(get: (key: string) => unknown): DeployConfig {
  const text = (key: string): string => {
    const value = get(key) ?? (CONTEXT_DEFAULTS as Record<string, unknown>)[key];
    return typeof value === 'string' ? value.trim() : String(value);
  };
  const describe = (key: string) => `The context value "${key}" (cdk.json or -c ${key}=...)`;

  const raw: RawSettings = {};
  for (const key of SETTING_KEYS) {
    const { context } = settingSpec(key);
    const value = context === undefined ? '' : text(context);
    if (value !== '') raw[key] = value;
  }
  const settings = parseSettings(raw, (key) => describe(settingSpec(key).context ?? key));
  // Table names reach the function through bindTable, beside the grants.
  const syncEnvironment: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw) as Array<[SettingKey, string]>) {
    const { field, variable } = settingSpec(key);
    if (!field.startsWith('tables.')) syncEnvironment[variable] = key === 'apiUrl' ? settings.apiUrl : value;
  }

  const schedule = parseSchedule(text('schedule'), text('scheduleTimeZone'), describe);
  const staleAfterMs = parseStaleAfter(text('staleAfter'), schedule, describe('staleAfter'));
  const email = (key: 'alarmEmail' | 'alertsEmail'): string | undefined => {
    const address = text(key) || undefined;
    if (address !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) {
      throw new InputError(`${describe(key)} must be an e-mail address like ops@example.com (or empty for none), not "${address}".`);
    }
    return address;
  };
  const alarmEmail = email('alarmEmail');
  const alertsEmail = email('alertsEmail');
  const existingSecretArn = text('existingSecretArn') || undefined;
  if (existingSecretArn !== undefined && !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/.test(existingSecretArn)) {
    throw new InputError(
      `${describe('existingSecretArn')} must be a secret's complete ARN, with the six-character suffix Secrets Manager adds (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf), not "${existingSecretArn}".`,
    );
  }
  return {
    settings,
    syncEnvironment,
    schedule,
    staleAfterMs,
    alarmEmail,
    alertsEmail,
    existingSecretArn,
    logRetention: parseRetention(text('logRetentionDays'), describe('logRetentionDays')),
    reserveConcurrency: parseBoolean(text('reserveConcurrency'), describe('reserveConcurrency')),
    athena: parseBoolean(text('athena'), describe('athena')) ? { scanCutoffBytes: parseScanCutoff(text('athenaScanCutoffMb'), describe('athenaScanCutoffMb')) } : undefined,
  };
}

function parseScanCutoff(text: string, source: string): number {
  const mb = Number(text);
  if (!/^\d+$/.test(text) || mb < MIN_SCAN_CUTOFF_MB) {
    throw new InputError(`${source} must be a whole number of megabytes, at least ${MIN_SCAN_CUTOFF_MB} (Athena's minimum), not "${text}".`);
  }
  return mb * 1_000_000;
}

const RATE_UNITS_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

function parseSchedule(expression: string, timeZone: string, describe: (key: ContextKey) => string): ScheduleConfig {
  const rate = /^rate\((\d+) (minute|hour|day)(s?)\)$/.exec(expression);
  const amount = Number(rate?.[1]);
  // EventBridge wants the singular exactly for 1 ("rate(1 hour)", "rate(2 hours)").
  const rateOk = rate !== null && amount >= 1 && (amount === 1) === (rate[3] === '');
  const cronOk = /^cron\(\S+( \S+){5}\)$/.test(expression);
  if (!rateOk && !cronOk) {
    throw new InputError(
      `${describe('schedule')} must be an EventBridge Scheduler rate or cron expression like "rate(1 hour)", "rate(30 minutes)" or "cron(0 6 * * ? *)", not "${expression}".`,
    );
  }
  try {
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    throw new InputError(`${describe('scheduleTimeZone')} must be an IANA time zone like UTC or Europe/Berlin, not "${timeZone}".`);
  }
  return { expression, timeZone, intervalMs: rateOk ? amount * RATE_UNITS_MS[rate[2] as string]! : undefined };
}

function parseStaleAfter(text: string, schedule: ScheduleConfig, source: string): number {
  if (text === '') {
    if (schedule.intervalMs === undefined) {
      throw new InputError(
        `${source} must be set when the schedule is a cron expression: give the longest time without a successful run that is still normal, like 26h for a daily run.`,
      );
    }
    const threeRuns = 3 * schedule.intervalMs;
    if (threeRuns > MAX_STALE_AFTER_MS) {
      throw new InputError(`${source} must be set, to at most 7d, when three schedule intervals exceed the seven days a CloudWatch alarm can watch.`);
    }
    return threeRuns;
  }
  const ms = parseDuration(text, source);
  if (ms % 60_000 !== 0 || ms > MAX_STALE_AFTER_MS) {
    throw new InputError(`${source} must be whole minutes up to 7d (like 3h or 2d), as CloudWatch alarms require, not "${text}".`);
  }
  return ms;
}

const RETENTION_DAYS = Object.values(RetentionDays).filter((value): value is number => typeof value === 'number');

function parseRetention(text: string, source: string): RetentionDays {
  const days = Number(text);
  if (!RETENTION_DAYS.includes(days)) {
    throw new InputError(`${source} must be one of the retention periods CloudWatch Logs offers (${RETENTION_DAYS.join(', ')}), not "${text}".`);
  }
  return days as RetentionDays;
}

function parseBoolean(text: string, source: string): boolean {
  if (text === 'true' || text === 'false') return text === 'true';
  throw new InputError(`${source} must be true or false, not "${text}".`);
}
