/**
 * One row DynamoDB cannot store never takes the account hostage: through real runs against the
 * simulator and DynamoDB Local, rows of every kind DynamoDB refuses sit among good ones; each run
 * succeeds, names each bad row once, writes every good one with its history, leaves the bad ones'
 * stored items as they were, and still confirms and marks deletions. The store's own second line
 * (a refused transaction narrowed down to the one write it refuses) is proven with the pre-check
 * bypassed.
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoReplicaStore } from '../functions/engine/load/dynamo-replica-store.js';
import { planUpserts } from '../functions/engine/plan/plan.js';
import type { ApiRow } from '../functions/engine/model/replica.js';
import type { ReplicaWrite } from '../functions/engine/model/write.js';
import type { RunSummary } from '../functions/engine/model/summary.js';
import { TavusSimulator, makeReplicas, type SimReplica } from '../local/tavus-simulator.js';
import { startSyncHarness, type SyncHarness } from './support/sync-harness.js';

const KEY = 'tvs-rejected-rows-key';
const T1 = new Date('2026-11-29T08:00:00Z');
const T2 = new Date('2026-11-29T09:00:00Z');
const T3 = new Date('2026-11-29T10:00:00Z');

/** A map nested `levels` deep: DynamoDB stops at 32 levels, the item itself counting as one. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < levels; i += 1) value = { inner: value };
  return value;
}

/** Each kind of row DynamoDB refuses, by what it breaks (the limit the warning must name). */
function badRows(template: SimReplica): Array<{ row: SimReplica; limit: string }> {
  const like = (id: string, extra: Record<string, unknown>): SimReplica => ({ ...template, replica_id: id, ...extra });
  return [
    { row: like('bad-huge', { replica_name: 'x'.repeat(420_000) }), limit: 'item-size' },
    { row: like('bad-number', { score: 1e-200 }), limit: 'number-range' },
    { row: like(`bad-long-id-${'k'.repeat(2100)}`, {}), limit: 'key-size' },
    { row: like('bad-empty-name', { meta: { tags: { '': 'x' } } }), limit: 'attribute-name-empty' },
    { row: like('bad-deep', { meta: nested(40) }), limit: 'nesting-depth' },
  ];
}

describe('rows DynamoDB cannot store', () => {
  const good = makeReplicas(40, { seed: 11 });
  const sim = new TavusSimulator({ apiKey: KEY, replicas: good, pageSizeCap: 7 });
  let h: SyncHarness;
  const victim = good[3] as SimReplica;
  const changed = good[5] as SimReplica;
  const gone = [good[7], good[8]].map((r) => (r as SimReplica).replica_id);
  const bad = badRows(good[0] as SimReplica);
  let victimBefore: Record<string, unknown> | undefined;
  let second: RunSummary;
  let third: RunSummary;

  const item = async (id: string) => (await h.documents.send(new GetCommand({ TableName: h.tables.replicas, Key: { replica_id: id } }))).Item;
  const events = async (id: string) =>
    (await h.documents.send(new QueryCommand({ TableName: h.tables.events, KeyConditionExpression: 'replica_id = :id', ExpressionAttributeValues: { ':id': id } }))).Items ?? [];

  beforeAll(async () => {
    h = await startSyncHarness('rejected', sim, KEY);
    await h.sync(T1);
    victimBefore = await item(victim.replica_id);
    // The victim, stored before, now comes back too big; new bad rows arrive; two good ones go.
    sim.update(victim.replica_id, { replica_name: 'y'.repeat(420_000) });
    sim.update(changed.replica_id, { status: 'error', error_message: 'bad audio' });
    for (const id of gone) sim.remove(id);
    sim.add(...bad.map(({ row }) => row));
    second = await h.sync(T2);
    third = await h.sync(T3);
  }, 120_000);

  afterAll(() => h?.close());

  it('succeeds, counts each bad row as rejected and names it with its limit in warnings', () => {
    for (const summary of [second, third]) {
      expect(summary.status).toBe('succeeded');
      expect(summary.rejected).toBe(bad.length + 1);
      const named = [victim.replica_id, ...bad.map(({ row }) => row.replica_id)];
      for (const id of named) {
        const shown = id.length > 64 ? id.slice(0, 64) : id;
        expect(summary.warnings.filter((warning) => warning.includes(`"${shown}"`)), id.slice(0, 70)).toHaveLength(1);
      }
      expect(summary.warnings.some((warning) => warning.includes('k'.repeat(65)))).toBe(false);
      expect(summary.warnings.join('\n')).toMatch(/400 KB/);
      expect(summary.attention.map((entry) => entry.replica_id)).not.toContain(victim.replica_id);
    }
  });

  it('keeps the invariant: every fetched replica counts once, a rejected one as unchanged', () => {
    for (const summary of [second, third]) {
      expect(summary.created + summary.updated + summary.unchanged + summary.restored).toBe(summary.fetched);
    }
    expect(second.fetched).toBe(good.length - gone.length + bad.length);
    expect(second.updated).toBe(1);
    expect(second.created).toBe(0);
  });

  it('writes every good replica with its history, and never the bad ones', async () => {
    const stored = (await h.documents.send(new ScanCommand({ TableName: h.tables.replicas }))).Items ?? [];
    const ids = new Set(stored.map((entry) => entry.replica_id as string));
    for (const replica of good) expect(ids.has(replica.replica_id), replica.replica_id).toBe(true);
    for (const { row } of bad) {
      expect(ids.has(row.replica_id)).toBe(false);
      if (row.replica_id.length <= 2048) expect(await events(row.replica_id)).toEqual([]);
    }
    const turned = await item(changed.replica_id);
    expect(turned).toMatchObject({ status: 'error', version: 2 });
    expect((await events(changed.replica_id)).map((event) => event.type).sort()).toEqual(['created', 'status_changed']);
  });

  it("leaves a rejected replica's stored item exactly as it was, and never marks it deleted", async () => {
    expect(await item(victim.replica_id)).toEqual(victimBefore);
    expect((await events(victim.replica_id)).map((event) => event.type)).toEqual(['created']);
  });

  it('still confirms and marks deletions, once', async () => {
    expect(second.deleted).toBe(gone.length);
    expect(third.deleted).toBe(0);
    for (const id of gone) {
      expect((await item(id))?.deleted_at).toBe(T2.toISOString());
      expect((await events(id)).map((event) => event.type)).toContain('deleted');
    }
  });
});

describe('DynamoReplicaStore, should DynamoDB refuse a write the check let through', () => {
  const sim = new TavusSimulator({ apiKey: KEY, replicas: [] });
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness('refused', sim, KEY);
  });
  afterAll(() => h?.close());

  it('narrows a refused transaction to each write it refuses, quarantines those and writes the rest', async () => {
    const good = makeReplicas(30, { seed: 5 });
    const bad = badRows(good[0] as SimReplica);
    // The plan's own check would reject the bad rows: their writes are made by hand, as the plan
    // would make them without it. Bad rows spread among good ones, so the halving must find each in
    // a different transaction.
    const plan = planUpserts(good as unknown as ApiRow[], { stored: new Map(), now: T1, stuckAfterMs: 3_600_000, finetuneStuckAfterMs: 3_600_000, maxDeleteFraction: 0.5, runId: 'bypass' });
    const writes: ReplicaWrite[] = [...plan.writes];
    bad.forEach(({ row }, index) => writes.splice(index * 6 + 2, 0, { kind: 'put', replicaId: row.replica_id, item: { ...row, version: 1 }, events: [], bytes: 1 }));
    const store = new DynamoReplicaStore(h.client, h.tables);

    const outcome = await store.applyWrites(writes);

    expect(outcome.written).toBe(good.length);
    expect(outcome.conflicts).toEqual([]);
    expect(outcome.rejected.map((rejection) => rejection.replicaId).sort()).toEqual(bad.map(({ row }) => row.replica_id).sort());
    for (const rejection of outcome.rejected) {
      expect(rejection.limit).toBe('refused-by-dynamodb');
      expect(rejection.sentence).toMatch(/cannot be stored in DynamoDB: it refused the write as invalid \(.+\); the sync skips it/);
    }
    const stored = (await h.documents.send(new ScanCommand({ TableName: h.tables.replicas }))).Items ?? [];
    expect(stored.map((entry) => entry.replica_id).sort()).toEqual(good.map((replica) => replica.replica_id).sort());
  });

  it('fails, instead of quarantining every row, when the table refuses every write (a key schema not the stack\'s)', async () => {
    const wrongTable = `${h.tables.replicas}-wrong-key`;
    await h.client.send(
      new CreateTableCommand({
        TableName: wrongTable,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    const rows = makeReplicas(5, { seed: 9 }) as unknown as ApiRow[];
    const plan = planUpserts(rows, { stored: new Map(), now: T1, stuckAfterMs: 3_600_000, finetuneStuckAfterMs: 3_600_000, maxDeleteFraction: 0.5, runId: 'wrong-key' });
    const store = new DynamoReplicaStore(h.client, { ...h.tables, replicas: wrongTable });

    await expect(store.applyWrites(plan.writes)).rejects.toThrow(/refused all 5 writes .* not the one the sync expects/);
    expect((await h.documents.send(new ScanCommand({ TableName: wrongTable }))).Items).toEqual([]);
  });
});
