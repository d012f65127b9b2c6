/**
 * `npm run query -- sql`: one statement over in-memory copies of tables filled by real syncs of
 * the simulator into DynamoDB Local. What it reads (only the tables named), what it shows (every
 * attribute, DynamoDB's types), what it refuses (files, the network, more than one statement), and
 * the CLI's exit status for a mistake.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InputError, StoreError } from '../functions/engine/errors.js';
import { runQuery } from '../cli/query-command.js';
import { makeReplicas, TavusSimulator, type SimReplica } from '../local/tavus-simulator.js';
import { startSyncHarness, type SyncHarness } from './support/sync-harness.js';
import { scanAll } from './support/tables.js';

const KEY = 'sql-test-key-4b1e9d0a';
const HOUR = 3_600_000;
// Two days ago, not a fixed date: run records expire by TTL (DynamoDB Local deletes expired items).
const T0 = new Date(Math.floor(Date.now() / HOUR) * HOUR - 48 * HOUR);
const ROOT = path.resolve(import.meta.dirname, '..');

/** A replica with fields the API might add tomorrow, one of them spelled like `status` in another case. */
const NOVA: SimReplica & Record<string, unknown> = {
  replica_id: 'rnova0001',
  replica_name: 'Nova - Studio',
  status: 'completed',
  training_progress: '100/100',
  created_at: '2025-03-01T08:00:00.000Z',
  updated_at: '2025-03-01T09:00:00.000Z',
  replica_type: 'user',
  model_name: 'phoenix-3',
  error_message: null,
  thumbnail_video_url: null,
  voice: { language: 'en', tags: ['calm', 'warm'] },
  score: 1.5,
  Status: 'shadow',
  'say "hi"': 'quoted',
};

describe('npm run query -- sql', () => {
  const sim = new TavusSimulator({ apiKey: KEY, replicas: [...makeReplicas(12, { seed: 5 }), NOVA], pageSizeCap: 5 });
  let harness: SyncHarness;
  let gone: string;
  const sql = (statement: string, more: string[] = []) => harness.query(['sql', statement, ...more]);

  beforeAll(async () => {
    harness = await startSyncHarness('sql', sim, KEY);
    await harness.sync(T0);
    gone = sim.replicas[0]!.replica_id;
    sim.remove(gone);
    await harness.sync(new Date(T0.getTime() + HOUR));
    // A lease a crashed run left behind: it shares the runs table but is not a run.
    await harness.documents.send(new PutCommand({ TableName: harness.tables.runs, Item: { run_id: `lease#${harness.tables.replicas}`, holder: 'crashed', lease_expires_at: 1 } }));
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('answers a statement over the replicas, as CSV when piped', async () => {
    const { code, out, err } = await sql('SELECT count(*) AS replicas, count(deleted_at) AS deleted FROM replicas');
    expect(code).toBe(0);
    expect(out).toBe('replicas,deleted\r\n13,1\r\n');
    expect(err).toContain(`${harness.tables.replicas}: 13 items`);
  });

  it('keeps DynamoDB types: strings (ISO timestamps too), numbers as numbers, maps and lists as JSON text', async () => {
    const { out } = await sql(`SELECT replica_id, created_at, version, score, voice, typeof(created_at) AS t_created, typeof(version) AS t_version, typeof(score) AS t_score FROM replicas WHERE replica_id = 'rnova0001'`, ['--format', 'json']);
    const row = JSON.parse(out);
    expect(row).toMatchObject({ replica_id: 'rnova0001', created_at: NOVA.created_at, version: 1, score: 1.5, t_created: 'VARCHAR', t_version: 'BIGINT', t_score: 'DOUBLE' });
    expect(JSON.parse(row.voice)).toEqual(NOVA.voice);
  });

  it('makes every attribute of any item a column, a name differing only in case suffixed', async () => {
    const { out } = await sql(`SELECT status, "Status_2", "say ""hi""" FROM replicas WHERE replica_id = 'rnova0001'`, ['--format', 'json']);
    expect(JSON.parse(out)).toEqual({ status: 'completed', Status_2: 'shadow', 'say "hi"': 'quoted' });
    const others = await sql(`SELECT count(*) AS n FROM replicas WHERE score IS NULL`);
    expect(others.out).toBe('n\r\n12\r\n');
  });

  it('reads only the tables a statement names: a replicas question never touches the events table', async () => {
    const missing = ['--events-table', 'no-such-events-table', '--runs-table', 'no-such-runs-table'];
    const replicas = await harness.query([...missing, 'sql', 'SELECT count(*) AS n FROM replicas']);
    expect(replicas.out).toBe('n\r\n13\r\n');
    await expect(harness.query([...missing, 'sql', 'SELECT count(*) FROM events'])).rejects.toThrow(StoreError);
    await expect(harness.query([...missing, 'sql', 'SELECT count(*) FROM status_history'])).rejects.toThrow(/no-such-events-table/);
    // A table name inside a string or a comment reads nothing.
    const quoted = await harness.query([...missing, 'sql', "SELECT 'events' AS word -- runs\n"]);
    expect(quoted.out).toBe('word\r\nevents\r\n');
  });

  it('lists run records in runs, not the lease', async () => {
    const { out } = await sql('SELECT count(*) AS runs, count(DISTINCT status) AS statuses, min(status) AS status FROM runs', ['--format', 'json']);
    expect(JSON.parse(out)).toEqual({ runs: 2, statuses: 1, status: 'succeeded' });
  });

  it('builds status_history from the events: a deletion ends the interval, the current one has valid_to NULL', async () => {
    const { out } = await sql(`SELECT replica_id, status, valid_from, valid_to FROM status_history WHERE replica_id IN ('${gone}', 'rnova0001') ORDER BY replica_id, valid_from`, ['--format', 'json']);
    const rows = out.trim().split('\n').map((line) => JSON.parse(line));
    const goneStatus = makeReplicas(12, { seed: 5 })[0]!.status;
    const expected = [
      { replica_id: gone, status: goneStatus, valid_from: T0.toISOString(), valid_to: new Date(T0.getTime() + HOUR).toISOString() },
      { replica_id: 'rnova0001', status: 'completed', valid_from: T0.toISOString(), valid_to: null },
    ];
    expect(rows).toEqual(expected.sort((a, b) => (a.replica_id < b.replica_id ? -1 : 1)));
  });

  it('prints a table on a terminal and JSON lines with --format json', async () => {
    const table = await harness.query(['sql', 'SELECT replica_id, status FROM replicas ORDER BY replica_id LIMIT 2'], { isTerminal: true });
    expect(table.out.split('\n')[0]).toMatch(/^replica_id\s+status$/);
    expect(table.out.split('\n')[1]).toMatch(/^-+/);
    const json = await sql('SELECT 1 AS one, NULL AS nothing', ['--format', 'json']);
    expect(json.out).toBe('{"one":1,"nothing":null}\n');
  });

  it('runs on a copy: DELETE and DROP change nothing in DynamoDB', async () => {
    const before = (await scanAll(harness.documents, harness.tables.replicas)).length;
    expect((await sql('DELETE FROM replicas')).code).toBe(0);
    expect((await sql('DROP TABLE replicas')).code).toBe(0);
    expect((await scanAll(harness.documents, harness.tables.replicas)).length).toBe(before);
  });

  it('refuses files, the network and extensions, and keeps them refused', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sql-refused-'));
    const target = path.join(dir, 'leak.csv');
    const refused = [
      "SELECT * FROM read_csv('/etc/passwd')",
      "SELECT * FROM read_text('/etc/passwd')",
      `COPY replicas TO '${target}'`,
      `COPY (SELECT 1) TO '${target}' (FORMAT csv)`,
      `ATTACH '${path.join(dir, 'other.db')}' AS other`,
      'INSTALL httpfs',
      'LOAD httpfs',
      "SELECT * FROM read_parquet('https://example.com/x.parquet')",
      'SET enable_external_access = true',
      'RESET enable_external_access',
      'SET lock_configuration = false',
    ];
    try {
      for (const statement of refused) {
        const error = await sql(statement).then(() => undefined, (e: unknown) => e);
        expect(error, statement).toBeInstanceOf(InputError);
      }
      expect(existsSync(target)).toBe(false);
      expect(existsSync(path.join(dir, 'other.db'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turns a mistake into one or two lines of DuckDB\'s message, and refuses two statements at once', async () => {
    const typo = await sql('SELEC 1').then(() => undefined, (e: unknown) => e as InputError);
    expect(typo).toBeInstanceOf(InputError);
    expect(typo!.message).toMatch(/^SQL error: Parser Error: syntax error/);
    const unknown = await sql('SELECT nope FROM replicas').then(() => undefined, (e: unknown) => e as InputError);
    expect(unknown!.message).toMatch(/nope/);
    expect(unknown!.message.split('\n').length).toBeLessThanOrEqual(2);
    await expect(sql('SELECT 1; SELECT 2')).rejects.toThrow(/2 statements: run one at a time/);
  });

  it('reads the statement from --file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sql-file-'));
    try {
      const file = path.join(dir, 'q.sql');
      writeFileSync(file, '-- how many\nSELECT count(*) AS n FROM replicas WHERE deleted_at IS NULL\n');
      expect((await harness.query(['sql', '--file', file])).out).toBe('n\r\n12\r\n');
      await expect(harness.query(['sql', '--file', path.join(dir, 'missing.sql')])).rejects.toThrow(/Cannot read the SQL from .*ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('at a prompt loads each table once and answers many statements, a mistake included', async () => {
    let out = '';
    let err = '';
    async function* lines(): AsyncGenerator<string> {
      yield 'SELECT count(*) AS n';
      yield 'FROM replicas;';
      yield 'SELEC oops;';
      yield 'SELECT count(*) AS again FROM replicas;';
      yield 'SELECT count(DISTINCT replica_id) AS histories FROM events';
      yield '';
      yield '.exit';
      yield 'SELECT 1;';
    }
    const where = ['--endpoint', inject('dynamodbEndpoint'), '--table', harness.tables.replicas, '--events-table', harness.tables.events, '--runs-table', harness.tables.runs];
    const code = await runQuery([...where, 'sql'], {}, { out: (t) => void (out += t), err: (t) => void (err += t), isTerminal: false, prompt: lines() } as Parameters<typeof runQuery>[2]);
    expect(code).toBe(0);
    expect(out).toBe('n\r\n13\r\nagain\r\n13\r\nhistories\r\n13\r\n');
    expect(err).toMatch(/SQL error: Parser Error/);
    expect(err.match(new RegExp(`${harness.tables.replicas}: 13 items`, 'g'))).toHaveLength(1);
  });

  describe('as a child process', () => {
    // Synchronous: the child talks only to DynamoDB Local, a process of its own.
    const run = (args: string[], stdin = ''): { code: number | null; stdout: string; stderr: string } => {
      const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bin', 'replica-sync.ts'), 'query', ...args], {
        cwd: ROOT,
        input: stdin,
        encoding: 'utf8',
      });
      return { code: child.status, stdout: child.stdout, stderr: child.stderr };
    };
    const where = (): string[] => ['--endpoint', inject('dynamodbEndpoint'), '--table', harness.tables.replicas, '--events-table', harness.tables.events];

    it('exits 2 for a mistake, with a line or two and no stack trace', async () => {
      const { code, stdout, stderr } = run(['sql', ...where(), 'SELECT replica_id FROM replicas WHERE']);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
      expect(stderr).toMatch(/^SQL error: Parser Error/);
      expect(stderr).not.toMatch(/\n\s+at /);
    });

    it('reads the statement from stdin with --file -', async () => {
      const { code, stdout } = run([...where(), 'sql', '--file', '-'], 'SELECT count(*) AS n FROM replicas');
      expect(code).toBe(0);
      expect(stdout).toBe('n\r\n13\r\n');
    });
  });
});
