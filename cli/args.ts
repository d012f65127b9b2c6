/**
 * The CLI's flags: the settings' flags come from the registry (functions/engine/settings/registry.ts); the
 * flags only the CLI has are described here, each once, with its help line.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError } from '../functions/engine/errors.js';
import type { SettingTerms } from '../functions/engine/settings/terms.js';
import { flagWords } from '../functions/engine/text/query-hint.js';
import { shellLine } from '../functions/engine/text/shell-command.js';
import { ENVIRONMENT_VARIABLES, parseSettings, rawSettingsFromEnv, SETTING_KEYS, settingSpec, type RawSettings, type SETTINGS, type SettingKey, type SyncSettings } from '../functions/engine/settings/registry.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Registry = typeof SETTINGS;
type FlagName<K extends SettingKey> = Registry[K] extends { flag: { name: infer N extends string } } ? N : never;
type TableSetting = { [K in SettingKey]: Registry[K]['field'] extends `tables.${string}` ? K : never }[SettingKey];

/** The settings that name tables: every command that touches the tables takes their flags. */
export const TABLE_SETTINGS = SETTING_KEYS.filter((key) => settingSpec(key).field.startsWith('tables.')) as TableSetting[];

/** parseArgs options for the flags of these settings (each takes a value). */
function settingFlags<K extends SettingKey>(keys: readonly K[]): { [Key in K as FlagName<Key>]: { type: 'string' } } {
  const flags = keys.flatMap((key) => {
    const flag = settingSpec(key).flag;
    return flag ? [[flag.name, { type: 'string' as const }]] : [];
  });
  return Object.fromEntries(flags) as { [Key in K as FlagName<Key>]: { type: 'string' } };
}

/** A flag the CLI has beyond the settings: how parseArgs reads it and how --help shows it. */
export interface CliFlag {
  option: Options[string];
  /** The placeholder of a flag that takes a value. */
  value?: string;
  /** The environment variable that stands in for the flag, if one does. */
  variable?: string;
  help: string;
}

export const TABLE_CLI_FLAGS = {
  endpoint: { option: { type: 'string' }, value: 'URL', variable: 'DYNAMODB_ENDPOINT', help: 'a DynamoDB endpoint, e.g. DynamoDB Local' },
  local: { option: { type: 'boolean' }, help: 'embedded DynamoDB Local, data under .data/' },
  'create-tables': { option: { type: 'boolean' }, help: 'create missing tables (with --local or --endpoint)' },
  help: { option: { type: 'boolean', short: 'h' }, help: 'print this help' },
} as const satisfies Record<string, CliFlag>;

export const SYNC_CLI_FLAGS = {
  ...TABLE_CLI_FLAGS,
  json: { option: { type: 'boolean' }, help: 'one JSON line on stdout: the run summary' },
  'release-lease': {
    option: { type: 'boolean' },
    help: "first delete the table's lease, whoever holds it: only when no other sync runs (one crashed and left it)",
  },
} as const satisfies Record<string, CliFlag>;

/** parseArgs options for flags described as `CliFlag`s. */
export function optionsOf<T extends Record<string, CliFlag>>(flags: T): { [F in keyof T]: T[F]['option'] } {
  return Object.fromEntries(Object.entries(flags).map(([name, flag]) => [name, flag.option])) as { [F in keyof T]: T[F]['option'] };
}

/** Flags every command that touches the tables shares (sync, query). */
export const TABLE_FLAGS = { ...settingFlags(TABLE_SETTINGS), ...optionsOf(TABLE_CLI_FLAGS) } satisfies Options;

export const SYNC_FLAGS = { ...settingFlags(SETTING_KEYS), ...optionsOf(SYNC_CLI_FLAGS) } satisfies Options;

/** One row of --help (and of the README's configuration table). */
export interface HelpRow {
  /** `--stuck-after DURATION`; undefined for a setting only a variable sets. */
  flag?: string;
  variable?: string;
  /** The default as shown: a value, or what unset means ("both"); undefined for a switch. */
  default?: string;
  help: string;
}

/** What `npm run sync -- --help` lists: every setting, then the flags only the CLI has. */
export function syncHelpRows(): HelpRow[] {
  return [...settingHelpRows(SETTING_KEYS), ...cliHelpRows(SYNC_CLI_FLAGS)];
}

/** Help rows of these settings, from the registry. */
export function settingHelpRows(keys: readonly SettingKey[]): HelpRow[] {
  return keys.map((key): HelpRow => {
    const spec = settingSpec(key);
    return {
      flag: spec.flag && `--${spec.flag.name} ${spec.flag.value}`,
      variable: spec.variable,
      default: spec.default === undefined ? spec.unset : String(spec.default),
      help: spec.help,
    };
  });
}

/** Help rows of flags only the CLI has. */
export function cliHelpRows(flags: Record<string, CliFlag>): HelpRow[] {
  return Object.entries(flags).map(([name, flag]): HelpRow => ({
    flag: flag.value ? `--${name} ${flag.value}` : `--${name}`,
    variable: flag.variable,
    help: flag.help,
  }));
}

/** Help rows as the lines --help prints: flag, variable, help and default in columns. */
export function helpLines(rows: readonly HelpRow[]): string[] {
  return rows.map(
    (row) => `  ${(row.flag ?? '').padEnd(34)}${(row.variable ?? '').padEnd(22)}${row.help}${row.default === undefined ? '' : ` (default: ${row.default})`}`.trimEnd(),
  );
}

/** The table flags a person typed, as arguments to repeat in a command printed for them to run. */
export function tableFlagsGiven(values: Record<string, unknown>): string[] {
  return TABLE_SETTINGS.flatMap((key) => {
    const name = settingSpec(key).flag?.name;
    const value = name === undefined ? undefined : values[name];
    return typeof value === 'string' ? flagWords(`--${name}`, value) : [];
  });
}

/** `npm run COMMAND -- ARGS`, quoted for the shell by the one quoting (functions/engine/text/shell-command.ts). */
export function npmCommand(command: string, args: string[]): string {
  return shellLine({ words: ['npm', 'run', command, '--', ...args] });
}

/** The CLI names a setting by its flag, or by its variable where it has no flag. */
export const CLI_TERMS: SettingTerms = {
  name(key) {
    const { flag, variable } = settingSpec(key);
    return flag ? `--${flag.name}` : variable;
  },
  assign(key, value) {
    const { flag, variable } = settingSpec(key);
    return flag ? `--${flag.name} ${value}` : `${variable}=${value}`;
  },
};

/** parseArgs values (keyed by flag) as raw settings (keyed by setting). */
export function rawSettingsFromFlags(values: Record<string, string | boolean | undefined>): RawSettings {
  const raw: RawSettings = {};
  for (const key of SETTING_KEYS) {
    const flag = settingSpec(key).flag;
    const value = flag && values[flag.name];
    if (typeof value === 'string') raw[key] = value;
  }
  return raw;
}

/**
 * Flags over environment variables over defaults, validated once; an error names what the user
 * typed (the flag, or the variable). `keys` limits which settings are read: a query needs only the
 * table names, and an unrelated bad variable must not stop it.
 */
export function settingsFrom(fromFlags: RawSettings, env: NodeJS.ProcessEnv, keys: readonly SettingKey[] = SETTING_KEYS): SyncSettings {
  const fromEnv = rawSettingsFromEnv(env);
  const raw: RawSettings = {};
  for (const key of keys) {
    const value = fromFlags[key] ?? fromEnv[key];
    if (value !== undefined) raw[key] = value;
  }
  return parseSettings(raw, (key) => (fromFlags[key] !== undefined ? CLI_TERMS.name(key) : ENVIRONMENT_VARIABLES[key]));
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
    const { values, positionals } = parseArgs({ args: withNegativeValues(args, options), options, strict: true, allowPositionals: true });
    return { values, positionals };
  } catch (error) {
    throw flagError(error, args, options, command);
  }
}

/**
 * `--stuck-after -5m`: parseArgs refuses a value that starts with a dash as ambiguous, so the
 * parser never sees it and the user would hear "needs a value". A dash followed by a digit is a
 * negative value, never a flag: joined to its flag (`--stuck-after=-5m`), it meets its parser.
 */
function withNegativeValues(args: string[], options: Options): string[] {
  const joined: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] as string;
    const next = args[index + 1];
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      index += 1;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/** parseArgs names the fault only in its message; its code says which kind, the tokens say where. */
function flagError(error: unknown, args: string[], options: Options, command: string): Error {
  const code = (error as { code?: string }).code;
  const help = `see npm run ${command} -- --help`;
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  const flags = tokens.flatMap((token) => (token.kind === 'option' ? [token] : []));
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const unknown = flags.find((token) => !Object.hasOwn(options, token.name));
    if (unknown && /key/i.test(unknown.rawName)) {
      return new InputError(
        `${unknown.rawName} is not a flag: the API key is read only from the TAVUS_API_KEY environment variable, so it never lands in shell history.`,
        undefined,
        { cause: error },
      );
    }
    if (unknown) return new InputError(`Unknown flag ${unknown.rawName}: ${help} for the flags it takes.`, undefined, { cause: error });
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // A flag that wants a value got none (or swallowed the next flag), or a switch got one.
    const bad = flags.find((token) => {
      const wantsValue = options[token.name]?.type === 'string';
      return wantsValue ? token.value === undefined || (token.inlineValue === false && token.value.startsWith('-')) : token.value !== undefined;
    });
    if (bad && options[bad.name]?.type === 'string') return new InputError(`${bad.rawName} needs a value: ${help}.`, undefined, { cause: error });
    if (bad) return new InputError(`${bad.rawName} takes no value: write it alone, as in npm run ${command} -- ${bad.rawName}.`, undefined, { cause: error });
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const positional = tokens.find((token) => token.kind === 'positional');
    if (positional?.kind === 'positional') return new InputError(`Unexpected argument "${positional.value}": ${help}.`, undefined, { cause: error });
  }
  return new InputError(`${(error as Error).message.replace(/\.$/, '')}: ${help}.`, undefined, { cause: error });
}
