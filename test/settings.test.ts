/** Settings: every value a person types is checked once, and a bad one gets a sentence naming where it came from. */
import { describe, expect, it } from 'vitest';
import { apiKeyFromEnv, parseSettings, rawSettingsFromEnv, type RawSettings } from '../functions/engine/settings/registry.js';
import { parseDuration, parseFraction, parseTableName, parseUrl } from '../functions/engine/settings/parsers.js';
import { inputErrorFrom } from './support/input-error.js';

const FLAGS: Record<keyof RawSettings, string> = {
  apiUrl: '--api-url',
  apiResource: '--api-resource',
  table: '--table',
  runsTable: '--runs-table',
  eventsTable: '--events-table',
  replicaType: '--replica-type',
  stuckAfter: '--stuck-after',
  finetuneStuckAfter: '--finetune-stuck-after',
  maxDeleteFraction: '--max-delete-fraction',
  runRecordTtlDays: '--run-record-ttl-days',
  eventTtlDays: '--event-ttl-days',
  maxConcurrency: '--max-concurrency',
  maxReplicas: '--max-replicas',
};

const settingsError = inputErrorFrom;

/** One sentence: a capital or flag first, one full stop at the end, no line breaks. */
function expectOneSentence(message: string): void {
  expect(message).toMatch(/^[A-Z-]/);
  expect(message).toMatch(/\.$/);
  expect(message).not.toContain('\n');
}

describe('defaults', () => {
  it('match the contract when nothing is set', () => {
    expect(parseSettings({})).toEqual({
      apiUrl: 'https://tavusapi.com',
      apiResource: 'replicas',
      tables: { replicas: 'tavus-replicas', runs: 'tavus-replica-sync-runs', events: 'tavus-replica-events' },
      stuckAfterMs: 6 * 3_600_000,
      finetuneStuckAfterMs: 12 * 3_600_000,
      maxDeleteFraction: 0.5,
      runRecordTtlDays: 90,
      maxConcurrency: 4,
      maxReplicas: 1_000_000,
    });
  });

  it('walk /v2/replicas unless faces is named, and read the fine-tune stuck-after', () => {
    expect(parseSettings({ apiResource: 'faces', finetuneStuckAfter: '2h' })).toMatchObject({ apiResource: 'faces', finetuneStuckAfterMs: 2 * 3_600_000 });
    const error = settingsError(() => parseSettings({ apiResource: 'Faces' }));
    expect(error.message).toBe('TAVUS_API_RESOURCE must be replicas or faces (leave it out for replicas), not "Faces".');
    expect(error.setting).toBe('apiResource');
  });

  it('sync both replica types unless one is named', () => {
    expect(parseSettings({}).replicaType).toBeUndefined();
    expect(parseSettings({ replicaType: 'user' }).replicaType).toBe('user');
    expect(parseSettings({ replicaType: 'system' }).replicaType).toBe('system');
  });
});

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 30 * 60_000],
    ['6h', 6 * 3_600_000],
    ['1d', 86_400_000],
    [' 2h ', 2 * 3_600_000],
  ])('reads %s', (text, ms) => {
    expect(parseDuration(text, '--stuck-after')).toBe(ms);
  });

  it.each(['', '6', 'h', '0s', '1.5h', '-1h', '6 hours', '6hours', '1w', '6h30m', 'PT6H', '99999999999999999999d'])('rejects "%s" naming the flag, with an example', (text) => {
    const error = settingsError(() => parseDuration(text, '--stuck-after'));
    expect(error.message).toContain('--stuck-after');
    expect(error.message).toContain('90s, 30m, 6h or 1d');
    expectOneSentence(error.message);
  });

  /** Each kind of bad duration gets the sentence that fits it, never another kind's. */
  it.each([
    ['empty', ['', '  '], /^--stuck-after needs a duration, like 90s/],
    ['negative', ['-5m', '-1h', '-0.5d', '-30'], /^--stuck-after must be a positive duration \(like .*\), not "-[^"]+": a negative time cannot pass\.$/],
    ['zero', ['0s', '0m', '0h', '0d', '0', '0.0h', '+0s'], /^--stuck-after must be longer than zero \(like .*\), not "[^"]+"\.$/],
    ['without a unit', ['6', '90', '+5'], /^--stuck-after needs a unit after the number, s, m, h or d \(like .*\), not "[^"]+"\.$/],
    ['a fraction', ['1.5h', '0.5d', '2.5m'], /^--stuck-after must be a whole number of its unit \(like .*\), not "[^"]+": write \d+[smhd]\.$/],
    ['too long', ['99999999999999999999d', '9007199254740993s'], /^--stuck-after must be at most \d+d \(like .*\), not "[^"]+"\.$/],
    ['unreadable', ['h', 'soon', '6 hours', '1w', '6h30m', 'PT6H', '6hours'], /^--stuck-after must be a whole number followed by s, m, h or d \(like .*\), not "[^"]+"\.$/],
  ])('says what is wrong with a duration that is %s', (_kind, texts, sentence) => {
    for (const text of texts) expect(settingsError(() => parseDuration(text, '--stuck-after')).message, text).toMatch(sentence);
  });

  it('offers the fraction in a unit that makes it whole', () => {
    expect(settingsError(() => parseDuration('1.5h', '--stuck-after')).message).toMatch(/: write 90m\.$/);
    expect(settingsError(() => parseDuration('0.5d', '--stuck-after')).message).toMatch(/: write 12h\.$/);
  });
});

describe('fractions', () => {
  it.each([
    ['0', 0],
    ['0.25', 0.25],
    ['0.5', 0.5],
    ['1', 1],
  ])('reads %s', (text, value) => {
    expect(parseFraction(text, '--max-delete-fraction')).toBe(value);
  });

  it.each(['', ' ', '-0.1', '1.01', '50%', 'half', 'NaN', 'Infinity'])('rejects "%s"', (text) => {
    const error = settingsError(() => parseFraction(text, 'MAX_DELETE_FRACTION'));
    expect(error.message).toContain('MAX_DELETE_FRACTION');
    expect(error.message).toContain('from 0 to 1');
    expectOneSentence(error.message);
  });
});

describe('replica type', () => {
  it.each(['both', 'User', 'users', 'stock'])('rejects "%s" and says how to sync both', (text) => {
    const error = settingsError(() => parseSettings({ replicaType: text }, (key) => FLAGS[key]));
    expect(error.message).toContain('--replica-type');
    expect(error.message).toContain('user or system');
    expectOneSentence(error.message);
  });
});

describe('API URL', () => {
  it('drops a trailing slash so paths join cleanly', () => {
    expect(parseUrl('http://127.0.0.1:8080/', '--api-url')).toBe('http://127.0.0.1:8080');
    expect(parseUrl('https://example.com/proxy/', '--api-url')).toBe('https://example.com/proxy');
  });

  it.each(['tavusapi.com', 'not a url', 'ftp://tavusapi.com', 'file:///etc/passwd'])('rejects "%s"', (text) => {
    const error = settingsError(() => parseUrl(text, 'TAVUS_API_URL'));
    expect(error.message).toContain('TAVUS_API_URL');
    expect(error.message).toContain('http(s) URL');
    expectOneSentence(error.message);
  });
});

describe('table names', () => {
  it.each(['abc', 'tavus-replicas', 'prod_replicas.v2', 'a'.repeat(255)])('accepts %s', (name) => {
    expect(parseTableName(name, '--table')).toBe(name);
  });

  it.each(['ab', 'my table', 'tavus/replicas', 'a'.repeat(256), 'réplicas'])('rejects "%s"', (name) => {
    const error = settingsError(() => parseTableName(name, 'REPLICAS_TABLE'));
    expect(error.message).toContain('REPLICAS_TABLE');
    expectOneSentence(error.message);
  });

  it('refuses two tables under one name, naming the setting that repeats one', () => {
    const error = settingsError(() => parseSettings({ table: 'same', runsTable: 'same' }));
    expect(error.message).toMatch(/different tables/);
    expect(error.setting).toBe('runsTable');
    expectOneSentence(error.message);
    expect(settingsError(() => parseSettings({ eventsTable: 'tavus-replicas' })).setting).toBe('eventsTable');
  });
});

describe('bounds that keep a typo from becoming a runaway value', () => {
  it.each([
    [{ maxConcurrency: '65' }, 'MAX_API_CONCURRENCY', 'at most 64'],
    [{ runRecordTtlDays: '36501' }, 'RUN_RECORD_TTL_DAYS', 'at most 36500'],
    [{ eventTtlDays: '99999999' }, 'EVENT_TTL_DAYS', 'at most 36500'],
    [{ stuckAfter: '99999999999999999999d' }, 'STUCK_TRAINING_AFTER', '90s, 30m, 6h or 1d'],
  ] as Array<[RawSettings, string, string]>)('refuses %j', (raw, variable, limit) => {
    const error = settingsError(() => parseSettings(raw));
    expect(error.message).toContain(variable);
    expect(error.message).toContain(limit);
    expect(error.setting).toBe(Object.keys(raw)[0]);
    expectOneSentence(error.message);
  });

  it('accepts the bounds themselves', () => {
    expect(parseSettings({ maxConcurrency: '64', runRecordTtlDays: '36500', eventTtlDays: '1', stuckAfter: '3650d' })).toMatchObject({
      maxConcurrency: 64,
      runRecordTtlDays: 36_500,
      eventTtlDays: 1,
      stuckAfterMs: 3650 * 86_400_000,
    });
  });
});

describe('where a bad value came from', () => {
  it('names the flag when the value came from a flag', () => {
    for (const [raw, flag] of [
      [{ stuckAfter: 'soon' }, '--stuck-after'],
      [{ maxDeleteFraction: '2' }, '--max-delete-fraction'],
      [{ apiUrl: 'nope' }, '--api-url'],
      [{ table: 'x' }, '--table'],
      [{ runsTable: 'x' }, '--runs-table'],
      [{ eventsTable: 'x' }, '--events-table'],
    ] as Array<[RawSettings, string]>) {
      expect(settingsError(() => parseSettings(raw, (key) => FLAGS[key])).message).toContain(flag);
    }
  });

  it('names the environment variable by default', () => {
    for (const [raw, variable] of [
      [{ stuckAfter: 'soon' }, 'STUCK_TRAINING_AFTER'],
      [{ maxDeleteFraction: '2' }, 'MAX_DELETE_FRACTION'],
      [{ apiUrl: 'nope' }, 'TAVUS_API_URL'],
      [{ table: 'x' }, 'REPLICAS_TABLE'],
      [{ runsTable: 'x' }, 'SYNC_RUNS_TABLE'],
      [{ eventsTable: 'x' }, 'REPLICA_EVENTS_TABLE'],
      [{ replicaType: 'both' }, 'REPLICA_TYPE'],
      [{ maxConcurrency: '0' }, 'MAX_API_CONCURRENCY'],
      [{ runRecordTtlDays: '1.5' }, 'RUN_RECORD_TTL_DAYS'],
      [{ eventTtlDays: '-3' }, 'EVENT_TTL_DAYS'],
    ] as Array<[RawSettings, string]>) {
      const error = settingsError(() => parseSettings(raw));
      expect(error.message).toContain(variable);
      expectOneSentence(error.message);
    }
  });
});

describe('the environment', () => {
  it('reads every variable of the contract, trimmed, and ignores empty ones', () => {
    const raw = rawSettingsFromEnv({
      TAVUS_API_URL: ' http://127.0.0.1:9 ',
      REPLICAS_TABLE: 'r-table',
      SYNC_RUNS_TABLE: 'runs-table',
      REPLICA_EVENTS_TABLE: 'events-table',
      REPLICA_TYPE: 'user',
      STUCK_TRAINING_AFTER: '30m',
      MAX_DELETE_FRACTION: '',
    });
    expect(raw).toEqual({
      apiUrl: 'http://127.0.0.1:9',
      table: 'r-table',
      runsTable: 'runs-table',
      eventsTable: 'events-table',
      replicaType: 'user',
      stuckAfter: '30m',
    });
    expect(parseSettings(raw)).toMatchObject({ replicaType: 'user', stuckAfterMs: 30 * 60_000, maxDeleteFraction: 0.5 });
  });

  it('requires TAVUS_API_KEY and says how to set it, without echoing anything', () => {
    for (const env of [{}, { TAVUS_API_KEY: '' }, { TAVUS_API_KEY: '   ' }]) {
      const error = settingsError(() => apiKeyFromEnv(env));
      expect(error.message).toContain('TAVUS_API_KEY');
      expectOneSentence(error.message);
    }
    expect(apiKeyFromEnv({ TAVUS_API_KEY: ' sk-123 ' })).toBe('sk-123');
  });
});
