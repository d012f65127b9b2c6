/**
 * Deep JSON never fails a run: through real syncs against the simulator and DynamoDB Local, rows
 * with a field nested 5,000 and 100,000 levels deep (an extra field, the `status` index key, and a
 * `finetune_status` the plan compares with the stored one) are each rejected alone, for nesting
 * or size, and every other row is written. The simulator's own JSON.stringify cannot write such a
 * body, so the page is answered as raw text (a fault with status 200).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../functions/engine/model/summary.js';
import { TavusSimulator, makeReplicas, type SimReplica } from '../local/tavus-simulator.js';
import { startSyncHarness, type SyncHarness } from './support/sync-harness.js';

const KEY = 'tvs-deep-rows-key';
const T1 = new Date('2026-11-29T08:00:00Z');
const T2 = new Date('2026-11-29T09:00:00Z');

/** JSON text of a map nested `levels` deep, written without recursion. */
function deepJson(levels: number): string {
  return `${'{"inner":'.repeat(levels - 1)}{"leaf":1}${'}'.repeat(levels - 1)}`;
}

describe('rows nested deeper than any stack', () => {
  const good = makeReplicas(20, { seed: 21 });
  const template = good[1] as SimReplica;
  const deep: SimReplica[] = [
    { ...template, replica_id: 'deep-meta-5000', meta: '@DEEP5000@' },
    { ...template, replica_id: 'deep-meta-100000', meta: '@DEEP100000@' },
    { ...template, replica_id: 'deep-status-100000', status: '@DEEP100000@' },
  ];
  const finetune: SimReplica = { ...template, replica_id: 'deep-finetune', model_name: 'phoenix-4.5', finetune_status: 'training' };
  const sim = new TavusSimulator({ apiKey: KEY, replicas: [...good, ...deep, finetune] });
  const renamed = good[0] as SimReplica;
  let h: SyncHarness;
  let first: RunSummary;
  let second: RunSummary;

  /** The next list page answered as the account's rows, with each marker swapped for deep JSON. */
  const serveDeepPage = (): void => {
    const text = JSON.stringify({ data: sim.replicas, total_count: sim.replicas.length })
      .replaceAll('"@DEEP5000@"', deepJson(5_000))
      .replaceAll('"@DEEP100000@"', deepJson(100_000));
    sim.failNext({ status: 200, body: text, match: (req) => req.replicaIds === undefined && req.page === 1 });
  };
  const item = async (id: string) => (await h.documents.send(new GetCommand({ TableName: h.tables.replicas, Key: { replica_id: id } }))).Item;

  beforeAll(async () => {
    h = await startSyncHarness('deep', sim, KEY);
    serveDeepPage();
    first = await h.sync(T1);
    sim.update(renamed.replica_id, { replica_name: 'Renamed while the deep rows stay' });
    sim.update('deep-finetune', { finetune_status: '@DEEP100000@' });
    serveDeepPage();
    second = await h.sync(T2);
  }, 120_000);

  afterAll(() => h?.close());

  it('rejects each deep row alone, naming it, and the run succeeds', () => {
    expect(first.status).toBe('succeeded');
    expect(first.fetched).toBe(good.length + deep.length + 1);
    expect(first.rejected).toBe(deep.length);
    for (const row of deep) expect(first.warnings.filter((warning) => warning.includes(`"${row.replica_id}"`)), row.replica_id).toHaveLength(1);
    expect(first.warnings.find((warning) => warning.includes('deep-meta-5000'))).toMatch(/32 levels/);
    expect(first.warnings.find((warning) => warning.includes('deep-meta-100000'))).toMatch(/32 levels/);
    expect(second.status).toBe('succeeded');
    expect(second.rejected).toBe(deep.length + 1);
    expect(second.warnings.find((warning) => warning.includes('deep-finetune'))).toMatch(/32 levels/);
  });

  it('writes every other row, and the change of a good one beside them', async () => {
    expect(first.created).toBe(good.length + 1);
    for (const row of good) expect(await item(row.replica_id), row.replica_id).toBeDefined();
    for (const row of deep) expect(await item(row.replica_id), row.replica_id).toBeUndefined();
    expect(second.updated).toBe(1);
    expect((await item(renamed.replica_id))?.replica_name).toBe('Renamed while the deep rows stay');
    expect((await item('deep-finetune'))?.finetune_status).toBe('training');
  });
});
