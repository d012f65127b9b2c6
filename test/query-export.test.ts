/**
 * `npm run query -- export`: the three tables as Parquet (default) or CSV files, read back with
 * DuckDB and compared with what the tables hold after real syncs.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeReplicas, TavusSimulator } from '../local/tavus-simulator.js';
import { startSyncHarness, type SyncHarness } from './support/sync-harness.js';
import { scanAll } from './support/tables.js';

const KEY = 'export-test-key-2e7c40d1';
const HOUR = 3_600_000;
// Recent, so the run records are not yet expired by TTL when the test reads them.
const T0 = new Date(Math.floor(Date.now() / HOUR) * HOUR - 24 * HOUR);

/** Rows of a statement over files, in a DuckDB of the test's own. */
async function readBack(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJson();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('npm run query -- export', () => {
  const sim = new TavusSimulator({ apiKey: KEY, replicas: makeReplicas(25, { seed: 9 }), pageSizeCap: 10 });
  let harness: SyncHarness;
  let dir: string;
  const counts: Record<string, number> = {};

  beforeAll(async () => {
    harness = await startSyncHarness('export', sim, KEY);
    await harness.sync(T0);
    sim.remove(sim.replicas[3]!.replica_id);
    sim.update(sim.replicas[4]!.replica_id, { status: 'error', error_message: 'Training failed: "bad", video' });
    await harness.sync(new Date(T0.getTime() + HOUR));
    await harness.documents.send(new PutCommand({ TableName: harness.tables.runs, Item: { run_id: `lease#${harness.tables.replicas}`, holder: 'x', lease_expires_at: 1 } }));
    counts.replicas = (await scanAll(harness.documents, harness.tables.replicas)).length;
    counts.events = (await scanAll(harness.documents, harness.tables.events)).length;
    counts.runs = (await scanAll(harness.documents, harness.tables.runs)).length - 1;
    dir = mkdtempSync(path.join(tmpdir(), 'export-'));
  });
  afterAll(async () => {
    await harness?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes replicas, events and runs as Parquet by default, every row and DynamoDB\'s types kept', async () => {
    const out = path.join(dir, 'parquet');
    const { code } = await harness.query(['export', '--out', out]);
    expect(code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['events.parquet', 'replicas.parquet', 'runs.parquet']);
    for (const table of ['replicas', 'events', 'runs']) {
      const [row] = await readBack(`SELECT count(*) AS n FROM read_parquet('${path.join(out, `${table}.parquet`)}')`);
      expect(Number(row!.n), table).toBe(counts[table]);
    }
    const types = await readBack(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${path.join(out, 'replicas.parquet')}'))`);
    const typeOf = Object.fromEntries(types.map((row) => [row.column_name, row.column_type]));
    expect(typeOf).toMatchObject({ replica_id: 'VARCHAR', created_at: 'VARCHAR', version: 'BIGINT', training_progress_pct: 'BIGINT' });
    const leases = await readBack(`SELECT count(*) AS n FROM read_parquet('${path.join(out, 'runs.parquet')}') WHERE run_id LIKE 'lease#%'`);
    expect(Number(leases[0]!.n)).toBe(0);
  });

  it('writes CSV with a UTF-8 byte-order mark and a header, readable back whole', async () => {
    const out = path.join(dir, 'csv');
    const { code } = await harness.query(['export', '--out', out, '--format', 'csv']);
    expect(code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['events.csv', 'replicas.csv', 'runs.csv']);
    for (const table of ['replicas', 'events', 'runs']) {
      const bytes = readFileSync(path.join(out, `${table}.csv`));
      expect([...bytes.subarray(0, 3)], table).toEqual([0xef, 0xbb, 0xbf]);
      const header = bytes.subarray(3).toString('utf8').split('\r\n', 1)[0]!;
      expect(header.split(','), table).toContain(table === 'runs' ? 'run_id' : 'replica_id');
      const [row] = await readBack(`SELECT count(*) AS n FROM read_csv('${path.join(out, `${table}.csv`)}', header = true)`);
      expect(Number(row!.n), table).toBe(counts[table]);
    }
    const errors = await readBack(`SELECT error_message FROM read_csv('${path.join(out, 'replicas.csv')}', header = true, all_varchar = true) WHERE status = 'error' AND error_message LIKE '%"bad"%'`);
    expect(errors).toEqual([{ error_message: 'Training failed: "bad", video' }]);
  });

  it('refuses a missing --out and an unknown format as bad input', async () => {
    await expect(harness.query(['export'])).rejects.toThrow(/export needs a folder/);
    await expect(harness.query(['export', '--out', dir, '--format', 'xlsx'])).rejects.toThrow(/parquet or csv/);
  });
});
