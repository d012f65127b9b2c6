import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  ENVIRONMENT_VARIABLES,
  parseSettings,
  rawSettingsFromEnv,
  SettingsError,
  type RawSettings,
  type SyncSettings,
} from '../functions/engine/settings.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags every command that touches the tables shares (sync, query). */
export const TABLE_FLAGS = {
  table: { type: 'string' },
  'runs-table': { type: 'string' },
  'events-table': { type: 'string' },
  endpoint: { type: 'string' },
  local: { type: 'boolean' },
  'create-tables': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export const SYNC_FLAGS = {
  ...TABLE_FLAGS,
  'api-url': { type: 'string' },
  'replica-type': { type: 'string' },
  'stuck-after': { type: 'string' },
  'max-delete-fraction': { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies Options;

/** Which flag sets each setting, for error messages that name what the user typed. */
export const FLAG_FOR_SETTING: Partial<Record<keyof RawSettings, string>> = {
  apiUrl: '--api-url',
  table: '--table',
  runsTable: '--runs-table',
  eventsTable: '--events-table',
  replicaType: '--replica-type',
  stuckAfter: '--stuck-after',
  maxDeleteFraction: '--max-delete-fraction',
};

/**
 * Flags over environment variables over defaults, validated once; an error names what the user
 * typed (the flag, or the variable). `keys` limits which settings are read: a query needs only the
 * table names, and an unrelated bad variable must not stop it.
 */
export function settingsFrom(
  fromFlags: RawSettings,
  env: NodeJS.ProcessEnv,
  keys: ReadonlyArray<keyof RawSettings> = Object.keys(ENVIRONMENT_VARIABLES) as Array<keyof RawSettings>,
): SyncSettings {
  const fromEnv = rawSettingsFromEnv(env);
  const raw: RawSettings = {};
  for (const key of keys) {
    const value = fromFlags[key] ?? fromEnv[key];
    if (value !== undefined) raw[key] = value;
  }
  return parseSettings(raw, (key) =>
    fromFlags[key] !== undefined ? (FLAG_FOR_SETTING[key] ?? key) : ENVIRONMENT_VARIABLES[key],
  );
}

/**
 * node:util parseArgs in strict mode, with its errors turned into one sentence that says what to
 * do. A flag that looks like an attempt to pass the key gets its own answer.
 */
export function parseFlags<T extends Options>(
  args: string[],
  options: T,
  command: string,
): { values: ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: true }>>['values']; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
    return { values, positionals };
  } catch (error) {
    const message = (error as Error).message;
    const flag = /'(-[^' ]+)/.exec(message)?.[1];
    if (flag && /key/i.test(flag)) {
      throw new SettingsError(`${flag} is not a flag: the API key is read only from the TAVUS_API_KEY environment variable, so it never lands in shell history.`);
    }
    if (/argument missing/i.test(message) && flag) {
      throw new SettingsError(`${flag} needs a value: see npm run ${command} -- --help.`);
    }
    if (/does not take an argument/i.test(message) && flag) {
      throw new SettingsError(`${flag} takes no value: write it alone, as in npm run ${command} -- ${flag}.`);
    }
    if (flag) throw new SettingsError(`Unknown flag ${flag}: see npm run ${command} -- --help for the flags it takes.`);
    throw new SettingsError(`${message.replace(/\.$/, '')}: see npm run ${command} -- --help.`);
  }
}
