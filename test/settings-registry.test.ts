/**
 * The settings registry is the one description of every setting: the README's configuration
 * table, cdk.json, the CLI's --help and each edge's way of naming a setting are held to it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI_TERMS, parseFlags, rawSettingsFromFlags, settingsFrom, SYNC_FLAGS, syncHelpRows, TABLE_FLAGS } from '../cli/args.js';
import { SYNC_HELP } from '../cli/sync-command.js';
import type { InputError } from '../functions/engine/errors.js';
import { inputErrorFrom } from './support/input-error.js';
import { DEFAULTS, ENVIRONMENT_VARIABLES, parseSettings, rawSettingsFromEnv, SETTING_KEYS, settingSpec, type SettingKey } from '../functions/engine/settings/registry.js';
import { DEPLOYED_TERMS } from '../functions/engine/settings/terms.js';
import { DEFAULT_TABLE_NAMES } from '../functions/engine/contract/tables.js';
import { CONTEXT_DEFAULTS } from '../lib/deploy-config.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const cdkContext = (JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }).context;

/** The README's "## Configuration" table, one array of cells per row, without backticks. */
function configurationRows(): string[][] {
  const section = readme.split('\n## Configuration\n')[1]?.split('\n## ')[0] ?? '';
  return section
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\| (flag|---)/.test(line))
    .map((line) =>
      line
        .replace(/\\\|/g, '\u0000')
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim().replace(/`/g, '').replace(/\u0000/g, '|')),
    );
}

const inputError = inputErrorFrom;

describe('the registry', () => {
  it('gives every setting its own variable, flag and context key', () => {
    for (const part of ['variable', 'context'] as const) {
      const names = SETTING_KEYS.map((key) => settingSpec(key)[part]).filter((name) => name !== undefined);
      expect(new Set(names).size, part).toBe(names.length);
    }
    const flags = SETTING_KEYS.flatMap((key) => settingSpec(key).flag?.name ?? []);
    expect(new Set(flags).size).toBe(flags.length);
  });

  it('keeps the table defaults the table definitions use, and DEFAULTS as the entries give them', () => {
    expect(parseSettings({}).tables).toEqual(DEFAULT_TABLE_NAMES);
    expect(DEFAULTS).toMatchObject({ apiUrl: 'https://tavusapi.com', stuckAfter: '6h', maxDeleteFraction: 0.5, runRecordTtlDays: 90, maxConcurrency: 4 });
    for (const key of SETTING_KEYS) expect((DEFAULTS as Record<string, unknown>)[key], key).toBe(settingSpec(key).default);
  });

  it('reads every setting from its variable, and every flagged one from its flag', () => {
    const env = Object.fromEntries(SETTING_KEYS.map((key) => [ENVIRONMENT_VARIABLES[key], `value-of-${key}`]));
    expect(rawSettingsFromEnv(env)).toEqual(Object.fromEntries(SETTING_KEYS.map((key) => [key, `value-of-${key}`])));
    const flagged = SETTING_KEYS.filter((key) => settingSpec(key).flag);
    const values = Object.fromEntries(flagged.map((key) => [settingSpec(key).flag!.name, `flag-of-${key}`]));
    expect(rawSettingsFromFlags(values)).toEqual(Object.fromEntries(flagged.map((key) => [key, `flag-of-${key}`])));
    for (const key of flagged) expect(SYNC_FLAGS, key).toHaveProperty(settingSpec(key).flag!.name, { type: 'string' });
  });

  it('gives query the table flags and not the sync-only ones', () => {
    expect(Object.keys(TABLE_FLAGS).sort()).toEqual(['create-tables', 'endpoint', 'events-table', 'help', 'local', 'runs-table', 'table']);
  });
});

describe('the README configuration table and cdk.json', () => {
  const rows = configurationRows();

  it('lists every setting with its flag, variable and default', () => {
    for (const key of SETTING_KEYS) {
      const spec = settingSpec(key);
      const row = rows.find((cells) => cells[1] === spec.variable);
      expect(row, `README row for ${spec.variable}`).toBeDefined();
      expect(row![0], spec.variable).toBe(spec.flag ? `--${spec.flag.name} ${spec.flag.value}` : '');
      expect(row![2], spec.variable).toBe(String(spec.default ?? spec.unset));
    }
  });

  it('lists every flag of sync, and no flag sync does not take', () => {
    const documented = rows.map((cells) => cells[0]!.split(' ')[0]!).filter((flag) => flag !== '');
    const flags = syncHelpRows().flatMap((row) => (row.flag ? [row.flag.split(' ')[0]!] : [])).filter((flag) => flag !== '--help');
    expect(documented.sort()).toEqual(flags.sort());
  });

  it('holds cdk.json context to the defaults the registry gives each context key', () => {
    for (const key of SETTING_KEYS) {
      const { context, default: value } = settingSpec(key);
      if (context === undefined) continue;
      expect(cdkContext[context], context).toEqual(value ?? '');
      expect((CONTEXT_DEFAULTS as Record<string, unknown>)[context], context).toEqual(value ?? '');
    }
    // The context key names operators rely on.
    expect(Object.keys(CONTEXT_DEFAULTS)).toEqual(
      expect.arrayContaining(['apiUrl', 'replicasTable', 'runsTable', 'eventsTable', 'replicaType', 'stuckAfter', 'maxDeleteFraction', 'runRecordTtlDays', 'eventTtlDays', 'maxApiConcurrency']),
    );
  });
});

describe('npm run sync -- --help', () => {
  it('lists every flag sync takes, and every setting with its variable and default', () => {
    for (const flag of Object.keys(SYNC_FLAGS)) expect(SYNC_HELP, flag).toMatch(new RegExp(`^  --${flag}\\b`, 'm'));
    for (const key of SETTING_KEYS) {
      const { variable, default: value, unset } = settingSpec(key);
      const line = SYNC_HELP.split('\n').find((text) => text.includes(` ${variable} `));
      expect(line, variable).toBeDefined();
      expect(line, variable).toContain(`(default: ${value ?? unset})`);
    }
  });
});

describe('how each edge names a setting', () => {
  it('the CLI names the flag, or the variable where there is no flag', () => {
    expect(CLI_TERMS.name('maxDeleteFraction')).toBe('--max-delete-fraction');
    expect(CLI_TERMS.assign('maxDeleteFraction', '1')).toBe('--max-delete-fraction 1');
    expect(CLI_TERMS.name('maxConcurrency')).toBe('MAX_API_CONCURRENCY');
    expect(CLI_TERMS.assign('maxConcurrency', '2')).toBe('MAX_API_CONCURRENCY=2');
  });

  it('the deployed function names the context key and its variable', () => {
    expect(DEPLOYED_TERMS.name('maxDeleteFraction')).toBe('context key maxDeleteFraction (MAX_DELETE_FRACTION)');
    expect(DEPLOYED_TERMS.assign('maxDeleteFraction', '1')).toBe('-c maxDeleteFraction=1 (or MAX_DELETE_FRACTION=1 on the function)');
    expect(DEPLOYED_TERMS.name('maxConcurrency')).toBe('context key maxApiConcurrency (MAX_API_CONCURRENCY)');
  });

  it('a bad value names the flag the user typed, else the variable, and carries the setting', () => {
    const fromFlag = inputError(() => settingsFrom({ stuckAfter: 'soon' }, { STUCK_TRAINING_AFTER: '1h' }));
    expect(fromFlag.message).toMatch(/^--stuck-after must be/);
    expect(fromFlag.setting).toBe('stuckAfter');
    const fromEnv = inputError(() => settingsFrom({}, { MAX_API_CONCURRENCY: '0' }));
    expect(fromEnv.message).toMatch(/^MAX_API_CONCURRENCY must be/);
    expect(fromEnv.setting).toBe('maxConcurrency');
  });

  it('only the settings asked for are read: a query is not stopped by an unrelated bad variable', () => {
    const tables = settingsFrom({}, { STUCK_TRAINING_AFTER: 'soon', REPLICAS_TABLE: 'mine' }, ['table', 'runsTable', 'eventsTable']).tables;
    expect(tables.replicas).toBe('mine');
  });
});

describe('flag errors, classified by parseArgs error code', () => {
  const fails = (args: string[]): InputError => {
    const error = inputError(() => parseFlags(args, SYNC_FLAGS, 'sync'));
    expect((error.cause as { code?: string }).code).toMatch(/^ERR_PARSE_ARGS_/);
    return error;
  };

  it.each([
    [['--bogus'], 'Unknown flag --bogus: see npm run sync -- --help for the flags it takes.'],
    [['--json', '--bogus=3'], 'Unknown flag --bogus: see npm run sync -- --help for the flags it takes.'],
    [['-x'], 'Unknown flag -x: see npm run sync -- --help for the flags it takes.'],
    [['--table'], '--table needs a value: see npm run sync -- --help.'],
    [['--table', '--json'], '--table needs a value: see npm run sync -- --help.'],
    [['--json=yes'], '--json takes no value: write it alone, as in npm run sync -- --json.'],
  ])('%j gets one sentence', (args, sentence) => {
    expect(fails(args).message).toBe(sentence);
  });

  it.each([['--api-key', 'abc'], ['--key=abc'], ['--TAVUS_API_KEY', 'abc']])('%j is told the key comes only from the environment', (...args) => {
    expect(fails(args).message).toMatch(/is not a flag: the API key is read only from the TAVUS_API_KEY environment variable/);
  });

  it('reads good flags as before', () => {
    const { values } = parseFlags(['--table', 'mine', '--json', '--stuck-after=2h'], SYNC_FLAGS, 'sync');
    expect(values).toMatchObject({ table: 'mine', json: true, 'stuck-after': '2h' });
    expect(rawSettingsFromFlags(values)).toEqual({ table: 'mine', stuckAfter: '2h' });
  });
});

describe('every setting named by the registry has its parser', () => {
  it.each(SETTING_KEYS)('%s rejects garbage with one sentence that names its source and its setting', (key: SettingKey) => {
    const error = inputError(() => parseSettings({ [key]: '\u0000 not this' }, (setting) => `<${setting}>`));
    expect(error.message).toMatch(new RegExp(`^<${key}> .*\\.$`));
    expect(error.setting).toBe(key);
  });
});
