/**
 * The sync owns its attributes: through real syncs of the simulator into DynamoDB Local, a row
 * that carries a field named like each of the sync's own attributes (every name in
 * SYNC_ATTRIBUTES, one replica each, and one replica carrying them all) neither sets nor feeds it.
 * The API's value is kept under the documented prefix, the replica stays live and not stuck, a
 * resync writes nothing and repeats no event, and a change of the API's value is an update.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_FIELD_PREFIX, SYNC_ATTRIBUTES, apiFields, type ApiRow } from '../functions/engine/model/replica.js';
import type { RunSummary } from '../functions/engine/model/summary.js';
import { TavusSimulator, makeReplicas, type SimReplica } from '../local/tavus-simulator.js';
import { startSyncHarness, type SyncHarness } from './support/sync-harness.js';

const KEY = 'tvs-sync-owned-key';
const T1 = new Date('2026-11-29T08:00:00Z');
const T2 = new Date('2026-11-29T20:00:00Z');
const T3 = new Date('2026-11-30T08:00:00Z');

/** What a hostile row would put in each attribute to do the most harm: hide it, stick it, pin its version. */
function poison(name: string): unknown {
  if (name === 'version') return 999_999;
  if (name === 'training_progress_pct') return 42;
  if (name === 'stuck_reason') return 'training';
  if (name === 'content_hash') return 'forged-hash';
  return '2019-01-01T00:00:00.000Z';
}

describe('API fields named like the sync attributes', () => {
  const template = makeReplicas(1, { seed: 3 })[0] as SimReplica;
  const single = SYNC_ATTRIBUTES.map((name): SimReplica => ({ ...template, replica_id: `owned-${name}`, [name]: poison(name) }));
  const all: SimReplica = {
    ...template,
    replica_id: 'owned-all',
    ...Object.fromEntries(SYNC_ATTRIBUTES.map((name) => [name, poison(name)])),
    // The prefixed name itself taken by the API: the moved value goes one prefix further.
    [`${API_FIELD_PREFIX}deleted_at`]: 'the API has this one too',
  };
  const rows = [...single, all];
  const sim = new TavusSimulator({ apiKey: KEY, replicas: rows });
  let h: SyncHarness;
  let first: RunSummary;
  let second: RunSummary;
  let third: RunSummary;
  const before = new Map<string, Record<string, unknown>>();
  const eventsBefore = new Map<string, Record<string, unknown>[]>();

  const item = async (id: string) => (await h.documents.send(new GetCommand({ TableName: h.tables.replicas, Key: { replica_id: id } }))).Item ?? {};
  const events = async (id: string) =>
    (await h.documents.send(new QueryCommand({ TableName: h.tables.events, KeyConditionExpression: 'replica_id = :id', ExpressionAttributeValues: { ':id': id } })))
      .Items ?? [];

  beforeAll(async () => {
    h = await startSyncHarness('owned', sim, KEY);
    first = await h.sync(T1);
    for (const row of rows) {
      before.set(row.replica_id, await item(row.replica_id));
      eventsBefore.set(row.replica_id, await events(row.replica_id));
    }
    // Twelve hours on: a replica that wrongly looked stuck or deleted would now be flagged again.
    second = await h.sync(T2);
    sim.update('owned-all', { deleted_at: '2020-02-02T00:00:00.000Z' });
    third = await h.sync(T3);
  }, 120_000);

  afterAll(() => h?.close());

  it('stores each replica live, unstuck, with its own attributes, the API value under the prefix', async () => {
    expect(first.created).toBe(rows.length);
    expect(first.stuck).toBe(0);
    expect(first.deleted).toBe(0);
    for (const name of SYNC_ATTRIBUTES) {
      const stored = before.get(`owned-${name}`) ?? {};
      expect(stored[`${API_FIELD_PREFIX}${name}`], name).toEqual(poison(name));
      expect(stored[name], name).not.toEqual(poison(name));
      expect(stored.deleted_at, name).toBeUndefined();
      expect(stored.stuck_since, name).toBeUndefined();
      expect(stored.stuck_reason, name).toBeUndefined();
      expect(stored.version, name).toBe(1);
      expect(stored.first_seen_at, name).toBe(T1.toISOString());
      expect(stored.last_changed_at, name).toBe(T1.toISOString());
      expect(stored.training_progress_pct, name).toBe(100);
      expect((eventsBefore.get(`owned-${name}`) ?? []).map((event) => event.type), name).toEqual(['created']);
    }
    const everything = before.get('owned-all') ?? {};
    for (const name of SYNC_ATTRIBUTES) expect(everything[name], name).not.toEqual(poison(name));
    expect(everything.deleted_at).toBeUndefined();
    expect(everything[`${API_FIELD_PREFIX}deleted_at`]).toBe('the API has this one too');
    expect(everything[`${API_FIELD_PREFIX}${API_FIELD_PREFIX}deleted_at`]).toBe(poison('deleted_at'));
  });

  it('writes nothing on a resync and repeats no restored, unstuck or other event', async () => {
    expect(second).toMatchObject({ written: 0, created: 0, updated: 0, restored: 0, deleted: 0, stuck: 0, unchanged: rows.length });
    for (const row of single) {
      expect(await item(row.replica_id), row.replica_id).toEqual(before.get(row.replica_id));
      expect(await events(row.replica_id), row.replica_id).toEqual(eventsBefore.get(row.replica_id));
    }
  });

  it("counts a change of the API's value as an update, kept under the prefix", async () => {
    expect(third).toMatchObject({ written: 1, updated: 1, restored: 0, deleted: 0, stuck: 0 });
    const stored = await item('owned-all');
    expect(stored.deleted_at).toBeUndefined();
    expect(stored[`${API_FIELD_PREFIX}${API_FIELD_PREFIX}deleted_at`]).toBe('2020-02-02T00:00:00.000Z');
    expect(stored.version).toBe(2);
  });

  it('never names a sync attribute with the prefix, so a moved field cannot land on one', () => {
    for (const name of SYNC_ATTRIBUTES) expect(name.startsWith(API_FIELD_PREFIX)).toBe(false);
    const fields = apiFields({ replica_id: 'x', version: 1, api_version: 2, api_api_version: 3 } as ApiRow);
    expect(fields).toEqual({ replica_id: 'x', api_version: 2, api_api_version: 3, api_api_api_version: 1 });
  });
});
