import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SettingsError, type RawSettings } from '../functions/engine/settings.js';

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
