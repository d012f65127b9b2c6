/**
 * A run record stays within DynamoDB's item limit however many replicas need attention: a first
 * sync of an account with hundreds of replicas in error keeps the first 100 entries of `attention`
 * and `warnings` in its record, with the totals beside them, while the summary the run returns
 * (the CLI's --json) stays whole.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECORD_LIST_LIMIT, recordOf } from '../functions/engine/load/run-record.js';
import type { RunSummary } from '../functions/engine/model/summary.js';
import { makeReplicas, TavusSimulator } from '../local/tavus-simulator.js';
import { startSyncHarness, type SyncHarness } from './support/sync-harness.js';

const KEY = 'run-record-test-key';

describe('the run record of a run with many replicas needing attention', () => {
  const replicas = makeReplicas(260, { seed: 23 }).map((replica) => ({ ...replica, status: 'error', error_message: `failed: ${'why '.repeat(200)}` }));
  const sim = new TavusSimulator({ apiKey: KEY, replicas, pageSizeCap: 100 });
  let h: SyncHarness;
  let summary: RunSummary;

  beforeAll(async () => {
    h = await startSyncHarness('record', sim, KEY);
    summary = await h.sync(new Date('2026-11-29T12:00:00Z'));
  }, 120_000);
  afterAll(() => h?.close());

  it('keeps the first 100 attention entries and the total, while the summary keeps them all', async () => {
    expect(summary.attention).toHaveLength(replicas.length);
    const record = (await h.documents.send(new GetCommand({ TableName: h.tables.runs, Key: { run_id: summary.run_id } }))).Item;
    expect(record?.attention).toHaveLength(RECORD_LIST_LIMIT);
    expect(record?.attention).toEqual(summary.attention.slice(0, RECORD_LIST_LIMIT));
    expect(record?.attention_total).toBe(replicas.length);
    expect(record).not.toHaveProperty('warnings_total');
  });
});

describe('recordOf', () => {
  const base = { attention: [], warnings: [] } as unknown as RunSummary;

  it('cuts warnings and attention independently, and adds a total only to a list it cut', () => {
    const warnings = Array.from({ length: 101 }, (_, index) => `warning ${index}`);
    const record = recordOf({ ...base, warnings });
    expect(record.warnings).toEqual(warnings.slice(0, 100));
    expect(record.warnings_total).toBe(101);
    expect(record).not.toHaveProperty('attention_total');
    expect(recordOf({ ...base, warnings: warnings.slice(0, 100) })).not.toHaveProperty('warnings_total');
  });
});
