/**
 * A write's size is measured once, in bytes as DynamoDB counts them, and the store batches its
 * transactions by it: against DynamoDB Local, items of multi-byte text (4 bytes a character, 2
 * UTF-16 units) near the 400 KB limit go in transactions that each stay within 4 MB, so DynamoDB
 * refuses none and no transaction is split after the fact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoReplicaStore } from '../functions/engine/load/dynamo-replica-store.js';
import { itemSize } from '../functions/engine/plan/item-limits.js';
import { planUpserts } from '../functions/engine/plan/plan.js';
import { MAX_TRANSACTION_BYTES } from '../functions/engine/model/write.js';
import type { ApiRow } from '../functions/engine/model/replica.js';
import { TavusSimulator, makeReplicas } from '../local/tavus-simulator.js';
import { startSyncHarness, type SyncHarness } from './support/sync-harness.js';

const KEY = 'tvs-transaction-bytes-key';

describe('transactions batched by bytes', () => {
  const sim = new TavusSimulator({ apiKey: KEY, replicas: [] });
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness('bytes', sim, KEY);
  });
  afterAll(() => h?.close());

  it('measures each write in UTF-8 bytes and keeps every transaction within 4 MB', async () => {
    // 97,000 emoji: 388,000 bytes, but only 194,000 UTF-16 units (what JSON text length counts).
    const rows = makeReplicas(24, { seed: 4 }).map((row) => ({ ...row, replica_name: '😀'.repeat(97_000) })) as unknown as ApiRow[];
    const plan = planUpserts(rows, { stored: new Map(), now: new Date('2026-11-29T08:00:00Z'), stuckAfterMs: 3_600_000, finetuneStuckAfterMs: 3_600_000, maxDeleteFraction: 0.5, runId: 'bytes', replicasTable: h.tables.replicas });
    expect(plan.rejected).toEqual([]);
    for (const write of plan.writes) {
      if (write.kind !== 'put') throw new Error('a put was planned');
      expect(write.bytes).toBe(itemSize(write.item) + write.events.reduce((sum, event) => sum + itemSize(event as unknown as Record<string, unknown>), 0));
      expect(write.bytes).toBeGreaterThan(388_000);
    }

    const sent: number[] = [];
    h.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'TransactWriteItemsCommand') {
          const items = (args.input as { TransactItems: Array<{ Put?: { Item: Record<string, unknown> } }> }).TransactItems;
          sent.push(items.reduce((sum, item) => sum + (item.Put ? itemSize(item.Put.Item) : 0), 0));
        }
        return next(args);
      },
      { step: 'initialize', name: 'recordTransactionBytes' },
    );
    const outcome = await new DynamoReplicaStore(h.client, h.tables).applyWrites(plan.writes);
    h.client.middlewareStack.remove('recordTransactionBytes');

    expect(outcome).toEqual({ written: rows.length, conflicts: [], rejected: [] });
    // As many transactions as filling each up to 4 MB takes: none refused and split after the fact.
    let greedy = 0;
    let filled = Infinity;
    for (const write of plan.writes) {
      if (filled + write.bytes > MAX_TRANSACTION_BYTES) [greedy, filled] = [greedy + 1, 0];
      filled += write.bytes;
    }
    expect(sent).toHaveLength(greedy);
    for (const bytes of sent) expect(bytes).toBeLessThanOrEqual(MAX_TRANSACTION_BYTES);
  });
});
