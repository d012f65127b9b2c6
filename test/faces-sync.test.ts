/**
 * `/v2/faces` and Phoenix-4.5's fine-tune, end to end: runSync over real HTTP against the simulator
 * and DynamoDB Local. Either endpoint feeds one table; a move between them writes only what really
 * differs and deletes nothing; a fine-tune that stalls, moves and fails says so in the table, the
 * summary and the history.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResource } from '../functions/engine/model/replica.js';
import { parseSettings, type RawSettings } from '../functions/engine/settings/registry.js';
import { runSync } from '../functions/engine/sync.js';
import type { RunSummary } from '../functions/engine/model/summary.js';
import { productionParts } from '../functions/engine/wiring.js';
import type { TableNames } from '../functions/engine/contract/tables.js';
import { makeReplicas, PHOENIX_4_5, TavusSimulator } from '../local/tavus-simulator.js';
import { testDynamoClient } from './support/dynamodb.js';
import { createFreshTables, scanAll } from './support/tables.js';
import { documentClient } from '../functions/engine/load/dynamo-client.js';
import { QUIET_LOG } from './support/quiet-log.js';

const KEY = 'faces-test-key-7c1e90b2';
const HOUR = 3_600_000;
const T0 = new Date('2025-03-01T09:00:00.000Z');
const at = (hours: number): Date => new Date(T0.getTime() + hours * HOUR);
const FACE_FIELDS = ['face_id', 'face_name', 'face_type'];

/** One DynamoDB client for the file; each test's simulator is stopped after it. */
let client: DynamoDBClient;
const running: TavusSimulator[] = [];
beforeAll(() => void (client = testDynamoClient()));
afterEach(() => Promise.all(running.splice(0).map((sim) => sim.stop())).then(() => undefined));
afterAll(() => client.destroy());

/** A simulated account of 25 (pages of 10) and fresh tables; `sync` names the endpoint per run. */
async function harness(raw: RawSettings = {}) {
  const sim = new TavusSimulator({ apiKey: KEY, replicas: makeReplicas(25, { seed: 9 }), pageSizeCap: 10 });
  running.push(sim);
  await sim.start();
  const tables: TableNames = await createFreshTables(client, 'faces');
  const documents = documentClient(client);
  return {
    sim,
    async sync(apiResource: ApiResource, now: Date, extra: RawSettings = {}): Promise<RunSummary> {
      const settings = parseSettings({ apiUrl: sim.url, table: tables.replicas, runsTable: tables.runs, eventsTable: tables.events, apiResource, ...raw, ...extra });
      const summary = await runSync(settings, { ...productionParts({ client, settings, apiKey: KEY }), log: QUIET_LOG, clock: () => now }, { walkBudgetMs: 30_000 });
      expect(summary.error, summary.error).toBeUndefined();
      return summary;
    },
    replicas: () => scanAll(documents, tables.replicas),
    events: () => scanAll(documents, tables.events),
  };
}

describe('a faces walk', () => {
  it('walks /v2/faces only and stores every row under the replica names, as a replicas walk would', async () => {
    const h = await harness();
    const summary = await h.sync('faces', T0);
    expect(summary).toMatchObject({ fetched: 25, created: 25, deleted: 0, written: 25 });
    expect(new Set(h.sim.requests.map((request) => request.path))).toEqual(new Set(['/v2/faces']));
    const items = await h.replicas();
    for (const replica of h.sim.replicas) {
      const item = items.find((i) => i.replica_id === replica.replica_id)!;
      for (const [field, value] of Object.entries(replica)) expect(item[field] ?? null, field).toEqual(value);
      for (const field of FACE_FIELDS) expect(item, field).not.toHaveProperty(field);
    }
  });
});

describe('moving a table between the endpoints', () => {
  it('writes only what really differs, in both directions, and marks nothing deleted', async () => {
    const h = await harness();
    await h.sync('replicas', T0);
    const before = { replicas: await h.replicas(), events: await h.events() };

    const toFaces = await h.sync('faces', at(1));
    expect(toFaces).toMatchObject({ fetched: 25, unchanged: 25, updated: 0, deleted: 0, written: 0 });
    expect({ replicas: await h.replicas(), events: await h.events() }).toEqual(before);

    const renamed = h.sim.replicas[3]!.replica_id;
    h.sim.update(renamed, { replica_name: 'Renamed - Studio' });
    const changed = await h.sync('faces', at(2));
    expect(changed).toMatchObject({ unchanged: 24, updated: 1, deleted: 0, written: 1 });

    const back = await h.sync('replicas', at(3));
    expect(back).toMatchObject({ fetched: 25, unchanged: 25, deleted: 0, written: 0 });
    const items = await h.replicas();
    expect(items.find((i) => i.replica_id === renamed)).toMatchObject({ replica_name: 'Renamed - Studio', last_changed_at: at(2).toISOString() });
    expect(items.filter((i) => i.deleted_at !== undefined)).toEqual([]);
    // The rename is the one new event: the switches themselves wrote none.
    const added = (await h.events()).filter((event) => !before.events.some((b) => b.replica_id === event.replica_id && b.event_key === event.event_key));
    expect(added.map((event) => [event.replica_id, event.type, event.to])).toEqual([[renamed, 'renamed', 'Renamed - Studio']]);
  });
});

describe('deletion and scope on /v2/faces', () => {
  it('confirms a deletion by face_ids before marking it', async () => {
    const h = await harness();
    await h.sync('faces', T0);
    const gone = h.sim.replicas[5]!.replica_id;
    h.sim.remove(gone);
    h.sim.requests.length = 0;
    const summary = await h.sync('faces', at(1));
    expect(summary).toMatchObject({ deleted: 1, fetched: 24 });
    const lookups = h.sim.requests.filter((request) => request.replicaIds !== undefined);
    expect(lookups.length).toBeGreaterThan(0);
    for (const lookup of lookups) {
      expect(lookup.path).toBe('/v2/faces');
      expect(lookup.query.face_ids?.split(',')).toContain(gone);
      expect(lookup.query).not.toHaveProperty('replica_ids');
    }
    expect((await h.replicas()).find((i) => i.replica_id === gone)?.deleted_at).toBe(at(1).toISOString());
  });

  it('scopes by face_type: only that type is asked for, stored, and ever a deletion candidate', async () => {
    const h = await harness();
    await h.sync('faces', T0);
    const user = h.sim.replicas.find((r) => r.replica_type === 'user')!.replica_id;
    h.sim.remove(user);
    h.sim.requests.length = 0;
    const summary = await h.sync('faces', at(1), { replicaType: 'system' });
    const systems = h.sim.replicas.filter((r) => r.replica_type === 'system').length;
    expect(summary).toMatchObject({ fetched: systems, deleted: 0 });
    for (const request of h.sim.requests) {
      expect(request.query.face_type).toBe('system');
      expect(request.query).not.toHaveProperty('replica_type');
    }
    expect((await h.replicas()).find((i) => i.replica_id === user)).not.toHaveProperty('deleted_at');
  });
});

describe('a Phoenix-4.5 fine-tune', () => {
  it('stalls (stuck, reason finetune, alert), moves (unstuck, finetune_changed), then fails (finetune_failed, alert)', async () => {
    // Trainings never stall here: only the fine-tune is watched.
    const h = await harness({ stuckAfter: '1000d', finetuneStuckAfter: '12h' });
    const tuned = h.sim.replicas.find((r) => r.model_name === PHOENIX_4_5 && r.status === 'completed')!;
    const id = tuned.replica_id;
    h.sim.setFinetuneStatus(id, 'training');
    const first = await h.sync('faces', T0);
    const failedBefore = first.finetune_failed;
    const item = async () => (await h.replicas()).find((i) => i.replica_id === id)!;
    const eventsOf = async () => (await h.events()).filter((e) => e.replica_id === id).map((e) => [e.type, e.from, e.to]);
    expect(await item()).toMatchObject({ finetune_status: 'training', finetune_status_changed_at: T0.toISOString() });

    const early = await h.sync('faces', at(11));
    expect(early).toMatchObject({ stuck: 0, written: 0 });

    const stalled = await h.sync('faces', at(12));
    expect(stalled).toMatchObject({ stuck: 1, written: 1 });
    expect(stalled.attention).toEqual([
      expect.objectContaining({ replica_id: id, kind: 'stuck', finetune_status: 'training', since: T0.toISOString() }),
    ]);
    expect(await item()).toMatchObject({ stuck_since: T0.toISOString(), stuck_reason: 'finetune' });
    expect(await eventsOf()).toEqual([
      ['created', null, 'completed'],
      ['stuck', null, T0.toISOString()],
    ]);

    h.sim.setFinetuneStatus(id, 'finishing');
    const moved = await h.sync('faces', at(13));
    expect(moved).toMatchObject({ stuck: 0, updated: 1, attention: [] });
    const afterMove = await item();
    expect(afterMove).not.toHaveProperty('stuck_since');
    expect(afterMove).not.toHaveProperty('stuck_reason');
    expect((await eventsOf()).slice(2)).toEqual([
      ['finetune_changed', 'training', 'finishing'],
      ['unstuck', T0.toISOString(), null],
    ]);

    h.sim.setFinetuneStatus(id, 'errored');
    const failed = await h.sync('faces', at(14));
    expect(failed).toMatchObject({ stuck: 0, finetune_failed: failedBefore + 1, in_error: first.in_error, newly_in_error: 0 });
    expect(failed.attention).toEqual([
      expect.objectContaining({ replica_id: id, kind: 'finetune_failed', status: 'completed', finetune_status: 'errored', since: at(14).toISOString() }),
    ]);
    expect((await eventsOf()).slice(4)).toEqual([['finetune_changed', 'finishing', 'errored']]);
    const alert = (await h.events()).find((e) => e.replica_id === id && e.type === 'finetune_changed' && e.to === 'errored');
    expect(alert).toMatchObject({ alert_kind: 'finetune_failed', since: at(14).toISOString() });

    // Settled from then on: counted from the stored state, nothing written.
    expect(await h.sync('faces', at(15))).toMatchObject({ finetune_failed: failedBefore + 1, written: 0 });
  });
});
