/**
 * The app's configuration: CDK context (cdk.json, or `-c key=value` on the command line), checked
 * once here with one sentence per mistake. The sync's own settings go through the same validator
 * the CLI and the handler use (functions/engine/settings.ts), so a value cdk.json accepts is a
 * value the function accepts.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  ENVIRONMENT_VARIABLES,
  parseDuration,
  parseSettings,
  SettingsError,
  type RawSettings,
  type SyncSettings,
} from '../functions/engine/settings.js';

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
  apiUrl: 'https://tavusapi.com',
  /** `user` or `system`; empty syncs both. */
  replicaType: '',
  stuckAfter: '6h',
  maxDeleteFraction: 0.5,
  replicasTable: 'tavus-replicas',
  runsTable: 'tavus-replica-sync-runs',
  eventsTable: 'tavus-replica-events',
  runRecordTtlDays: 90,
  /** Empty keeps history events forever. */
  eventTtlDays: '',
  maxApiConcurrency: 4,
  /** Where alarm notifications are mailed; empty: subscribe to the topic yourself. */
  alarmEmail: '',
  /** Where alerts naming each replica that needs a person are mailed; empty: subscribe to AlertsTopic yourself. */
  alertsEmail: '',
  /** A complete secret ARN to read the key from instead of creating a secret. */
  existingSecretArn: '',
  logRetentionDays: 90,
  /** Reserve one concurrent execution; false for accounts whose concurrency quota cannot spare it. */
  reserveConcurrency: true,
} as const;

export type ContextKey = keyof typeof CONTEXT_DEFAULTS;

/** The sync settings each context key feeds, and through it the function's environment variable. */
const SETTING_FOR_CONTEXT = {
  apiUrl: 'apiUrl',
  replicasTable: 'table',
  runsTable: 'runsTable',
  eventsTable: 'eventsTable',
  replicaType: 'replicaType',
  stuckAfter: 'stuckAfter',
  maxDeleteFraction: 'maxDeleteFraction',
  runRecordTtlDays: 'runRecordTtlDays',
  eventTtlDays: 'eventTtlDays',
  maxApiConcurrency: 'maxConcurrency',
} as const satisfies Partial<Record<ContextKey, keyof RawSettings>>;

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
}

/** CloudWatch alarms evaluate at most seven days; a stale window must fit in it. */
const MAX_STALE_AFTER_MS = 7 * 86_400_000;
const TABLE_VARIABLES = new Set([ENVIRONMENT_VARIABLES.table, ENVIRONMENT_VARIABLES.runsTable, ENVIRONMENT_VARIABLES.eventsTable]);

/** Reads and checks the context; `get` is `(key) => app.node.tryGetContext(key)`. */
export function readDeployConfig(get: (key: string) => unknown): DeployConfig {
  const text = (key: ContextKey): string => {
    const value = get(key) ?? CONTEXT_DEFAULTS[key];
    return typeof value === 'string' ? value.trim() : String(value);
  };
  const describe = (key: ContextKey) => `The context value "${key}" (cdk.json or -c ${key}=...)`;

  const raw: RawSettings = {};
  const contextFor = new Map<keyof RawSettings, ContextKey>();
  for (const [contextKey, setting] of Object.entries(SETTING_FOR_CONTEXT) as Array<[ContextKey, keyof RawSettings]>) {
    contextFor.set(setting, contextKey);
    const value = text(contextKey);
    if (value !== '') raw[setting] = value;
  }
  const settings = parseSettings(raw, (setting) => describe(contextFor.get(setting) ?? (setting as ContextKey)));
  const syncEnvironment: Record<string, string> = {};
  for (const [setting, value] of Object.entries(raw) as Array<[keyof RawSettings, string]>) {
    const variable = ENVIRONMENT_VARIABLES[setting];
    if (!TABLE_VARIABLES.has(variable)) syncEnvironment[variable] = setting === 'apiUrl' ? settings.apiUrl : value;
  }

  const schedule = parseSchedule(text('schedule'), text('scheduleTimeZone'), describe);
  const staleAfterMs = parseStaleAfter(text('staleAfter'), schedule, describe('staleAfter'));
  const alarmEmail = text('alarmEmail') || undefined;
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    throw new SettingsError(`${describe('alarmEmail')} must be an e-mail address like ops@example.com (or empty for none), not "${alarmEmail}".`);
  }
  const alertsEmail = text('alertsEmail') || undefined;
  if (alertsEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alertsEmail)) {
    throw new SettingsError(`${describe('alertsEmail')} must be an e-mail address like ops@example.com (or empty for none), not "${alertsEmail}".`);
  }
  const existingSecretArn = text('existingSecretArn') || undefined;
  if (existingSecretArn !== undefined && !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/.test(existingSecretArn)) {
    throw new SettingsError(
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
  };
}

const RATE_UNITS_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

function parseSchedule(expression: string, timeZone: string, describe: (key: ContextKey) => string): ScheduleConfig {
  const rate = /^rate\((\d+) (minute|hour|day)(s?)\)$/.exec(expression);
  const amount = Number(rate?.[1]);
  // EventBridge wants the singular exactly for 1 ("rate(1 hour)", "rate(2 hours)").
  const rateOk = rate !== null && amount >= 1 && (amount === 1) === (rate[3] === '');
  const cronOk = /^cron\(\S+( \S+){5}\)$/.test(expression);
  if (!rateOk && !cronOk) {
    throw new SettingsError(
      `${describe('schedule')} must be an EventBridge Scheduler rate or cron expression like "rate(1 hour)", "rate(30 minutes)" or "cron(0 6 * * ? *)", not "${expression}".`,
    );
  }
  try {
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    throw new SettingsError(`${describe('scheduleTimeZone')} must be an IANA time zone like UTC or Europe/Berlin, not "${timeZone}".`);
  }
  return { expression, timeZone, intervalMs: rateOk ? amount * RATE_UNITS_MS[rate[2] as string]! : undefined };
}

function parseStaleAfter(text: string, schedule: ScheduleConfig, source: string): number {
  if (text === '') {
    if (schedule.intervalMs === undefined) {
      throw new SettingsError(
        `${source} must be set when the schedule is a cron expression: give the longest time without a successful run that is still normal, like 26h for a daily run.`,
      );
    }
    const threeRuns = 3 * schedule.intervalMs;
    if (threeRuns > MAX_STALE_AFTER_MS) {
      throw new SettingsError(`${source} must be set, to at most 7d, when three schedule intervals exceed the seven days a CloudWatch alarm can watch.`);
    }
    return threeRuns;
  }
  const ms = parseDuration(text, source);
  if (ms % 60_000 !== 0 || ms > MAX_STALE_AFTER_MS) {
    throw new SettingsError(`${source} must be whole minutes up to 7d (like 3h or 2d), as CloudWatch alarms require, not "${text}".`);
  }
  return ms;
}

const RETENTION_DAYS = Object.values(RetentionDays).filter((value): value is number => typeof value === 'number');

function parseRetention(text: string, source: string): RetentionDays {
  const days = Number(text);
  if (!RETENTION_DAYS.includes(days)) {
    throw new SettingsError(`${source} must be one of the retention periods CloudWatch Logs offers (${RETENTION_DAYS.join(', ')}), not "${text}".`);
  }
  return days as RetentionDays;
}

function parseBoolean(text: string, source: string): boolean {
  if (text === 'true' || text === 'false') return text === 'true';
  throw new SettingsError(`${source} must be true or false, not "${text}".`);
}
