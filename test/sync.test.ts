/**
 * runSync end to end against DynamoDB Local and the simulator over real HTTP: what lands in the
 * tables, what never does, and what the summary says. Each test gets its own tables.
 */
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeReplicas, TavusSimulator, type SimReplica } from '../local/tavus-simulator.js';
import { parseSettings, type RawSettings, type SyncSettings } from '../functions/engine/settings/registry.js';
import type { DynamoReplicaStore } from '../functions/engine/load/dynamo-replica-store.js';
import type { DynamoRunLedger } from '../functions/engine/load/dynamo-run-ledger.js';
import { runSync, type RunOptions } from '../functions/engine/sync.js';
import type { RunSummary } from '../functions/engine/model/summary.js';
import { planUpserts } from '../functions/engine/plan/plan.js';
import type { ApiTuning } from '../functions/engine/extract/tavus-api.js';
import { productionParts } from '../functions/engine/wiring.js';
import { STUCK_INDEX, type TableNames } from '../functions/engine/contract/tables.js';
import { testDynamoClient } from './support/dynamodb.js';
import { createFreshTables, scanAll } from './support/tables.js';

/** Distinctive, so a leak anywhere is found by a plain substring search. */
const KEY = 'sk-live-SYNCTEST-9f27c1d0e4b3-do-not-print';
const HOUR = 3_600_000;
/** Now, to the second: run records expire from here, as they would in production. */
const T0 = new Date(Math.floor(Date.now() / 1000) * 1000);
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const RUN: RunOptions = { walkBudgetMs: 30_000 };
const FAST: ApiTuning = { baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 50, retries: 3, requestTimeoutMs: 5_000 };

let client: DynamoDBClient;
const sims: TavusSimulator[] = [];

beforeAll(() => {
  client = testDynamoClient();
});

afterEach(async () => {
  await Promise.all(sims.splice(0).map((sim) => sim.stop()));
});

afterAll(() => {
  client.destroy();
});

interface Harness {
  sim: TavusSimulator;
  tables: TableNames;
  store: DynamoReplicaStore;
  ledger: DynamoRunLedger;
  settings: SyncSettings;
  /** Everything the log callbacks received, one JSON text per call. */
  logs: string[];
  sync(options?: { at?: Date; settings?: Partial<SyncSettings>; apiKey?: string }): Promise<RunSummary>;
  scan(table: keyof TableNames): Promise<Record<string, unknown>[]>;
  item(id: string): Promise<Record<string, unknown> | undefined>;
  events(id?: string): Promise<Record<string, unknown>[]>;
}

/** A simulated account (page size capped at 10) and three fresh tables. */
async function harness(replicas: SimReplica[] = makeReplicas(25), raw: RawSettings = {}): Promise<Harness> {
  const sim = new TavusSimulator({ apiKey: KEY, replicas, pageSizeCap: 10 });
  sims.push(sim);
  await sim.start();
  const tables = await createFreshTables(client);
  const settings = parseSettings({
    apiUrl: sim.url,
    table: tables.replicas,
    runsTable: tables.runs,
    eventsTable: tables.events,
    maxConcurrency: '2',
    ...raw,
  });
  const { store, ledger } = productionParts({ client, settings, apiKey: KEY });
  const logs: string[] = [];
  const record = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    logs.push(JSON.stringify([level, message, fields]));
  };
  const log = { info: record('info'), warn: record('warn'), error: record('error') };
  const scan = (table: keyof TableNames) => scanAll(store.documents, tables[table]);
  return {
    sim,
    tables,
    store,
    ledger,
    settings,
    logs,
    sync: (options = {}) => {
      const run = { ...settings, ...options.settings };
      const parts = productionParts({ client, settings: run, apiKey: options.apiKey ?? KEY, tuning: FAST });
      return runSync(run, { ...parts, log, clock: () => options.at ?? T0 }, RUN);
    },
    scan,
    item: async (id) => (await scan('replicas')).find((item) => item.replica_id === id),
    events: async (id) => (await scan('events')).filter((event) => id === undefined || event.replica_id === id),
  };
}

/** The replicas and events tables, which a run that changes nothing must leave exactly as they were. */
async function snapshot(h: Harness): Promise<unknown> {
  return { replicas: await h.scan('replicas'), events: await h.scan('events') };
}

function expectSucceeded(summary: RunSummary): void {
  expect(summary.error, summary.error).toBeUndefined();
  expect(summary.status).toBe('succeeded');
}

/** The contract's promise: every replica the walk returned counts in exactly one bucket. */
function expectCountsAddUp(summary: RunSummary): void {
  expect(summary.created + summary.updated + summary.unchanged + summary.restored).toBe(summary.fetched);
}

const idAt = (h: Harness, index: number): string => h.sim.replicas[index]!.replica_id;

describe('a first sync', () => {
  it('creates every replica with every API field under its API name, plus the sync attributes', async () => {
    const h = await harness();
    const summary = await h.sync();
    expectSucceeded(summary);
    expect(summary).toMatchObject({ pages: 3, fetched: 25, created: 25, updated: 0, unchanged: 0, restored: 0, deleted: 0, written: 25 });

    const items = await h.scan('replicas');
    expect(items).toHaveLength(25);
    for (const replica of h.sim.replicas) {
      const item = items.find((i) => i.replica_id === replica.replica_id)!;
      for (const [field, value] of Object.entries(replica)) {
        if (value === null) expect(item[field] ?? null).toBeNull();
        else expect(item[field], field).toEqual(value);
      }
      expect(item.replica_type).toMatch(/^(user|system)$/);
      const [done, total] = replica.training_progress.split('/').map(Number);
      expect(item.training_progress_pct).toBe((100 * done!) / total!);
      expect(item).toMatchObject({
        first_seen_at: T0.toISOString(),
        last_changed_at: T0.toISOString(),
        status_changed_at: T0.toISOString(),
        progress_changed_at: T0.toISOString(),
      });
      expect(item).not.toHaveProperty('deleted_at');
      expect(item).not.toHaveProperty('stuck_since');
    }

    const events = await h.events();
    expect(events).toHaveLength(25);
    expect(events.every((e) => e.type === 'created' && e.from === null && e.run_id === summary.run_id && e.at === T0.toISOString())).toBe(true);
  });

  it('records the run, with its summary and expiry, in the runs table and releases the lease', async () => {
    const h = await harness();
    const summary = await h.sync();
    const runs = await h.scan('runs');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ ...summary, record_type: 'run' });
    expect(runs[0]!.expires_at).toBe(Math.floor(T0.getTime() / 1000) + 90 * 86_400);
  });

  it('returns every summary field of the contract', async () => {
    const h = await harness();
    const fields = ['run_id', 'status', 'started_at', 'finished_at', 'duration_ms', 'pages', 'fetched', 'created', 'updated', 'unchanged', 'restored', 'deleted', 'stuck', 'retries'];
    const ok = await h.sync();
    for (const field of fields) expect(ok, field).toHaveProperty(field);
    expect(ok).not.toHaveProperty('error');
    expect(new Date(ok.started_at).toISOString()).toBe(ok.started_at);
    expect(new Date(ok.finished_at).toISOString()).toBe(ok.finished_at);
    for (const field of fields.slice(4)) expect(Number.isInteger(ok[field as keyof RunSummary]), field).toBe(true);

    const failed = await h.sync({ apiKey: 'sk-wrong' });
    for (const field of fields) expect(failed, field).toHaveProperty(field);
    expect(failed.status).toBe('failed');
    expect(typeof failed.error).toBe('string');
    expect(failed.run_id).not.toBe(ok.run_id);
  });
});

describe('a resync', () => {
  it('writes nothing when nothing changed upstream', async () => {
    const h = await harness();
    await h.sync();
    const before = await snapshot(h);
    const runsBefore = await h.scan('runs');
    const summary = await h.sync({ at: at(60_000) });
    expectSucceeded(summary);
    expect(summary).toMatchObject({ fetched: 25, unchanged: 25, created: 0, updated: 0, restored: 0, deleted: 0, written: 0 });
    expect(await snapshot(h)).toEqual(before);
    // The runs table gains this run's record and nothing else (the lease is gone again).
    const runsAfter = await h.scan('runs');
    expect(runsAfter.filter((r) => !runsBefore.some((b) => b.run_id === r.run_id)).map((r) => r.run_id)).toEqual([summary.run_id]);
    expect(runsAfter).toHaveLength(2);
  });

  it('counts a rename as updated and bumps last_changed_at for that replica only', async () => {
    const h = await harness();
    await h.sync();
    const before = await h.scan('replicas');
    const renamed = idAt(h, 7);
    h.sim.update(renamed, { replica_name: 'Renamed by a test' });
    const summary = await h.sync({ at: at(HOUR) });
    expectSucceeded(summary);
    expect(summary).toMatchObject({ updated: 1, unchanged: 24, written: 1 });
    const after = await h.scan('replicas');
    for (const item of after) {
      const old = before.find((b) => b.replica_id === item.replica_id)!;
      if (item.replica_id !== renamed) expect(item).toEqual(old);
      else {
        expect(item).toEqual({
          ...old,
          replica_name: 'Renamed by a test',
          last_changed_at: at(HOUR).toISOString(),
          version: 2,
          content_hash: item.content_hash,
        });
        expect(item.content_hash).not.toBe(old.content_hash);
      }
    }
  });

  it('writes a renamed event, from the old name to the new, and nothing on the next run', async () => {
    const h = await harness();
    await h.sync();
    const id = idAt(h, 7);
    const oldName = h.sim.replicas[7]!.replica_name;
    h.sim.update(id, { replica_name: 'Renamed by a test' });
    const summary = await h.sync({ at: at(HOUR) });
    expectSucceeded(summary);
    const events = await h.events(id);
    expect(events.map((event) => ({ type: event.type, from: event.from, to: event.to, at: event.at }))).toEqual([
      { type: 'created', from: null, to: h.sim.replicas[7]!.status, at: T0.toISOString() },
      { type: 'renamed', from: oldName, to: 'Renamed by a test', at: at(HOUR).toISOString() },
    ]);
    expect((await h.events()).filter((event) => event.type === 'renamed')).toHaveLength(1);
    const unchanged = await snapshot(h);
    expect(await h.sync({ at: at(2 * HOUR) })).toMatchObject({ written: 0, updated: 0 });
    expect(await snapshot(h)).toEqual(unchanged);
  });

  it('sets status_changed_at and writes a status_changed event when the status moves', async () => {
    const h = await harness();
    await h.sync();
    const id = idAt(h, 4); // a replica still training
    expect(h.sim.replicas[4]!.status).toBe('started');
    h.sim.update(id, { status: 'error', error_message: 'Training failed.' });
    const summary = await h.sync({ at: at(HOUR) });
    expectSucceeded(summary);
    expect(await h.item(id)).toMatchObject({
      status: 'error',
      error_message: 'Training failed.',
      status_changed_at: at(HOUR).toISOString(),
      progress_changed_at: T0.toISOString(),
    });
    expect((await h.events(id)).map(({ type, from, to, run_id }) => ({ type, from, to, run_id }))).toEqual([
      { type: 'created', from: null, to: 'started', run_id: expect.any(String) },
      { type: 'status_changed', from: 'started', to: 'error', run_id: summary.run_id },
    ]);
    expect(summary.newly_in_error).toBe(1);
  });
});

describe('deletion', () => {
  it('marks a replica gone upstream deleted, keeps the item, and writes a deleted event', async () => {
    const h = await harness();
    await h.sync();
    const gone = idAt(h, 12);
    const before = await h.item(gone);
    h.sim.remove(gone);
    const summary = await h.sync({ at: at(HOUR) });
    expectSucceeded(summary);
    expect(summary).toMatchObject({ fetched: 24, deleted: 1, unchanged: 24, written: 1 });
    expect(await h.item(gone)).toEqual({ ...before, deleted_at: at(HOUR).toISOString(), last_changed_at: at(HOUR).toISOString(), version: 2 });
    expect((await h.events(gone)).map((e) => [e.type, e.from, e.to])).toEqual([
      ['created', null, 'completed'],
      ['deleted', 'live', 'deleted'],
    ]);
    // Confirmed by id before it was marked.
    expect(h.sim.requests.some((r) => r.replicaIds?.includes(gone))).toBe(true);
  });

  it('restores a replica that comes back: deleted_at removed, counted as restored', async () => {
    const h = await harness();
    await h.sync();
    const back = h.sim.replicas[12]!;
    h.sim.remove(back.replica_id);
    await h.sync({ at: at(HOUR) });
    h.sim.add(back);
    const summary = await h.sync({ at: at(2 * HOUR) });
    expectSucceeded(summary);
    expect(summary).toMatchObject({ fetched: 25, restored: 1, unchanged: 24, created: 0, updated: 0, deleted: 0 });
    expectCountsAddUp(summary);
    const item = await h.item(back.replica_id);
    expect(item).not.toHaveProperty('deleted_at');
    expect(item).toMatchObject({ replica_name: back.replica_name, first_seen_at: T0.toISOString(), last_changed_at: at(2 * HOUR).toISOString() });
    expect((await h.events(back.replica_id)).map((e) => e.type)).toEqual(['created', 'deleted', 'restored']);
  });

  it('marks no live replica deleted when a removal shifts the pages mid-walk', async () => {
    const h = await harness(makeReplicas(25), { maxConcurrency: '1' });
    await h.sync();
    const removed = idAt(h, 3); // on page 1: every later row moves up one place
    let fired = false;
    h.sim.beforeResponse = (req, sim) => {
      if (!fired && req.page === 2 && req.replicaIds === undefined) {
        fired = true;
        sim.remove(removed);
      }
    };
    const summary = await h.sync({ at: at(HOUR) });
    expectSucceeded(summary);
    expect(fired).toBe(true);
    expect(summary.deleted).toBe(0);
    const items = await h.scan('replicas');
    const live = new Set(h.sim.replicas.map((r) => r.replica_id));
    expect(items.filter((i) => live.has(i.replica_id as string) && i.deleted_at !== undefined)).toEqual([]);

    // The next run sees the removal for what it is.
    h.sim.beforeResponse = undefined;
    const next = await h.sync({ at: at(2 * HOUR) });
    expectSucceeded(next);
    expect(next.deleted).toBe(1);
    expect(await h.item(removed)).toHaveProperty('deleted_at', at(2 * HOUR).toISOString());
  });

  it('marks nothing deleted when the walk does not account for the final total_count', async () => {
    const h = await harness(makeReplicas(25), { maxConcurrency: '1' });
    await h.sync();
    const gone = idAt(h, 20);
    h.sim.remove(gone);
    // A replica created at the head of the list while page 2 is asked for: the walk misses one.
    const [newcomer] = makeReplicas(1, { idPrefix: 'n' });
    h.sim.beforeResponse = (req, sim) => {
      if (req.page === 2 && req.replicaIds === undefined && !sim.replicas.some((r) => r.replica_id === newcomer!.replica_id)) {
        sim.replicas.unshift({ ...newcomer! });
      }
    };
    const summary = await h.sync({ at: at(HOUR) });
    expectSucceeded(summary);
    expect(summary.deleted).toBe(0);
    expect(summary.warnings.join(' ')).toMatch(/no replica was marked deleted/);
    expect(await h.item(gone)).not.toHaveProperty('deleted_at');
    expect(h.sim.requests.some((r) => r.replicaIds !== undefined)).toBe(false);
  });

  it('trips the breaker when more than the fraction (and more than 3) would go, marks none, and names the override', async () => {
    const h = await harness(makeReplicas(10));
    await h.sync();
    const before = await snapshot(h);
    const gone = h.sim.replicas.slice(0, 6).map((r) => r.replica_id);
    for (const id of gone) h.sim.remove(id);
    const summary = await h.sync({ at: at(HOUR) });
    expect(summary.status).toBe('failed');
    expect(summary.deleted).toBe(0);
    // The engine names the override in its neutral terms (the environment variable), never a flag.
    expect(summary.error).toContain('run once with MAX_DELETE_FRACTION=1');
    expect(summary.error).not.toContain('--');
    expect(await snapshot(h)).toEqual(before);

    const forced = await h.sync({ at: at(2 * HOUR), settings: { maxDeleteFraction: 1 } });
    expectSucceeded(forced);
    expect(forced.deleted).toBe(6);
    const deleted = (await h.scan('replicas')).filter((i) => i.deleted_at !== undefined).map((i) => i.replica_id);
    expect(deleted.sort()).toEqual([...gone].sort());
  });

  it('scopes deletions to --replica-type: system replicas stay untouched by a user sync', async () => {
    const h = await harness(makeReplicas(20));
    await h.sync();
    const system = h.sim.replicas.filter((r) => r.replica_type === 'system').map((r) => r.replica_id);
    expect(system).toHaveLength(2);
    const systemBefore = (await h.scan('replicas')).filter((i) => system.includes(i.replica_id as string));
    h.sim.resetStats();

    const userOnly = await h.sync({ at: at(HOUR), settings: { replicaType: 'user' } });
    expectSucceeded(userOnly);
    expect(userOnly).toMatchObject({ fetched: 18, deleted: 0, written: 0 });
    expect(h.sim.requests.filter((r) => r.replicaIds === undefined).every((r) => r.query.replica_type === 'user')).toBe(true);

    // A user replica and a system replica go away; a user sync marks only the user one.
    const user = idAt(h, 0);
    h.sim.remove(user);
    h.sim.remove(system[0]!);
    const scoped = await h.sync({ at: at(2 * HOUR), settings: { replicaType: 'user' } });
    expectSucceeded(scoped);
    expect(scoped.deleted).toBe(1);
    expect(await h.item(user)).toHaveProperty('deleted_at');
    expect((await h.scan('replicas')).filter((i) => system.includes(i.replica_id as string))).toEqual(systemBefore);

    const systemSync = await h.sync({ at: at(3 * HOUR), settings: { replicaType: 'system' } });
    expectSucceeded(systemSync);
    expect(systemSync.deleted).toBe(1);
    expect(await h.item(system[0]!)).toHaveProperty('deleted_at');
  });
});

describe('stuck training', () => {
  it('is flagged after the stuck-after duration and cleared when progress moves or the status leaves started', async () => {
    const h = await harness(makeReplicas(25), { stuckAfter: '1h' });
    const training = h.sim.replicas.filter((r) => r.status === 'started').map((r) => r.replica_id);
    expect(training).toHaveLength(2);
    await h.sync();

    const early = await h.sync({ at: at(30 * 60_000) });
    expect(early).toMatchObject({ stuck: 0, written: 0 });

    const late = await h.sync({ at: at(2 * HOUR) });
    expectSucceeded(late);
    expect(late).toMatchObject({ stuck: 2, written: 2, unchanged: 25 });
    for (const id of training) {
      expect(await h.item(id)).toMatchObject({ stuck_since: T0.toISOString(), last_changed_at: at(2 * HOUR).toISOString() });
      expect((await h.events(id)).at(-1)).toMatchObject({ type: 'stuck', from: null, to: T0.toISOString(), run_id: late.run_id });
    }
    // The sparse index lists exactly the stuck replicas.
    const stuck = await h.store.documents.send(
      new QueryCommand({
        TableName: h.tables.replicas,
        IndexName: STUCK_INDEX,
        KeyConditionExpression: '#s = :started',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':started': 'started' },
      }),
    );
    expect((stuck.Items ?? []).map((i) => i.replica_id).sort()).toEqual([...training].sort());

    const [moves, leaves] = training as [string, string];
    h.sim.update(moves, { training_progress: '99/100' });
    h.sim.update(leaves, { status: 'error', error_message: 'Training failed.' });
    const cleared = await h.sync({ at: at(3 * HOUR) });
    expectSucceeded(cleared);
    expect(cleared.stuck).toBe(0);
    for (const id of training) {
      expect(await h.item(id)).not.toHaveProperty('stuck_since');
      expect((await h.events(id)).filter((e) => e.run_id === cleared.run_id && e.type === 'unstuck')).toEqual([
        expect.objectContaining({ from: T0.toISOString(), to: null }),
      ]);
    }
    expect(await h.item(moves)).toMatchObject({ progress_changed_at: at(3 * HOUR).toISOString(), training_progress_pct: 99 });
  });
});

describe('failures', () => {
  /** A table after one sync, and an account changed so that a successful run would write. */
  async function changedAccount(): Promise<{ h: Harness; before: unknown }> {
    const h = await harness();
    await h.sync();
    h.sim.update(idAt(h, 1), { replica_name: 'Changed' });
    h.sim.remove(idAt(h, 2));
    return { h, before: await snapshot(h) };
  }

  it('retries a 429 with Retry-After mid-walk and still succeeds, counting the retry', async () => {
    const h = await harness();
    h.sim.failNext({ status: 429, retryAfter: '1', match: (req) => req.page === 2 });
    const summary = await h.sync();
    expectSucceeded(summary);
    expect(summary).toMatchObject({ fetched: 25, created: 25, retries: 1 });
    expect(h.logs.some((line) => line.includes('429'))).toBe(true);
  });

  it('fails a run whose page keeps failing and writes nothing', async () => {
    const { h, before } = await changedAccount();
    h.sim.failNext({ status: 503, times: 100, match: (req) => req.page === 2 });
    const summary = await h.sync({ at: at(HOUR) });
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/kept failing after 4 attempts/);
    expect(summary).toMatchObject({ retries: 3, deleted: 0, written: 0 });
    expect(await snapshot(h)).toEqual(before);
    const record = (await h.scan('runs')).find((r) => r.run_id === summary.run_id);
    expect(record).toMatchObject({ status: 'failed', error: summary.error });
  });

  it('fails on JSON that stays truncated and writes nothing', async () => {
    const { h, before } = await changedAccount();
    h.sim.failNext({ status: 200, truncate: true, times: 100, match: (req) => req.page === 3 });
    const summary = await h.sync({ at: at(HOUR) });
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/not valid JSON/);
    expect(await snapshot(h)).toEqual(before);
  });

  it('fails on 401 with no retries and one request, saying to set TAVUS_API_KEY', async () => {
    const { h, before } = await changedAccount();
    h.sim.resetStats();
    const summary = await h.sync({ at: at(HOUR), apiKey: 'sk-rejected' });
    expect(summary.status).toBe('failed');
    expect(summary.retries).toBe(0);
    expect(summary.error).toContain('TAVUS_API_KEY');
    expect(h.sim.requests).toHaveLength(1);
    expect(await snapshot(h)).toEqual(before);
  });

  it('never lets a stale plan overwrite a newer write', async () => {
    const h = await harness();
    await h.sync();
    const id = idAt(h, 4);
    const stored = await h.store.loadReplicas();
    const staleVersion = stored.get(id)!.version;
    // A newer run got there first.
    await h.store.documents.send(
      new UpdateCommand({
        TableName: h.tables.replicas,
        Key: { replica_id: id },
        UpdateExpression: 'SET replica_name = :name, version = :version',
        ExpressionAttributeValues: { ':name': 'Written by a newer run', ':version': staleVersion + 1 },
      }),
    );
    const newer = await h.item(id);
    // The older run's plan, from the state it read before: it also changes a bystander, written
    // first in the same transaction, which must still land.
    const bystander = idAt(h, 2);
    const changed = new Set([id, bystander]);
    const seen = new Map(h.sim.replicas.map((r) => [r.replica_id, changed.has(r.replica_id) ? { ...r, status: 'error' } : r]));
    const plan = planUpserts(seen.values(), { stored, now: at(HOUR), stuckAfterMs: 6 * HOUR, finetuneStuckAfterMs: 12 * HOUR, maxDeleteFraction: 0.5, runId: 'stale-run' });
    expect(plan.writes.map((w) => w.replicaId)).toEqual([bystander, id]);
    const eventsBefore = await h.scan('events');

    const outcome = await h.store.applyWrites(plan.writes);
    expect(outcome).toEqual({ written: 1, conflicts: [id], rejected: [] });
    expect(await h.item(id)).toEqual(newer);
    expect(await h.item(bystander)).toMatchObject({ status: 'error', version: 2 });
    // History and item never disagree: the stale change left no event behind.
    const newEvents = (await h.scan('events')).filter((e) => !eventsBefore.some((b) => b.replica_id === e.replica_id && b.event_key === e.event_key));
    expect(newEvents.map((e) => [e.replica_id, e.type])).toEqual([[bystander, 'status_changed']]);
  });
});

describe('the lease', () => {
  it('skips a run while another sync holds the lease, touching nothing', async () => {
    const h = await harness();
    expect(await h.ledger.acquireLease('another-run', T0, HOUR)).toEqual({ acquired: true });
    const summary = await h.sync();
    expect(summary.status).toBe('skipped');
    // When the lease expires, whose it is, and which item to delete if that run crashed.
    expect(summary.error).toContain(`(run another-run) holds the lease until ${new Date(T0.getTime() + HOUR).toISOString()}`);
    expect(summary.error).toContain(`wait until then or delete the lease item (run_id "lease#${h.settings.tables.replicas}" in the table "${h.settings.tables.runs}")`);
    expect(h.sim.requests).toHaveLength(0);
    expect(await h.scan('replicas')).toEqual([]);
    // The other run's lease is still there: a skipped run must not release it.
    expect(await h.ledger.acquireLease('a-third-run', T0, HOUR)).toMatchObject({ acquired: false, held: { holder: 'another-run' } });
  });

  it('lets exactly one of two overlapping runs go ahead', async () => {
    const h = await harness();
    h.sim.latencyMs = 50;
    const summaries = await Promise.all([h.sync(), h.sync()]);
    expect(summaries.map((s) => s.status).sort()).toEqual(['skipped', 'succeeded']);
    expect((await h.scan('replicas')).length).toBe(25);
  });

  it('expires a lease left by a crashed run', async () => {
    const h = await harness();
    expect(await h.ledger.acquireLease('crashed-run', at(-2 * HOUR), HOUR)).toEqual({ acquired: true });
    const summary = await h.sync();
    expectSucceeded(summary);
    expect((await h.scan('runs')).map((r) => r.run_id)).toEqual([summary.run_id]);
  });
});

describe('the API key', () => {
  it('never appears in the logs, the summaries or any table', async () => {
    const h = await harness(makeReplicas(25), { stuckAfter: '1h' });
    h.sim.failNext({ status: 429, retryAfter: '1' });
    h.sim.failNext({ status: 503, match: (req) => req.page === 2 });
    h.sim.failNext({ status: 200, truncate: true, match: (req) => req.page === 3 });
    const summaries = [await h.sync()];
    h.sim.remove(idAt(h, 0));
    summaries.push(await h.sync({ at: at(2 * HOUR) }));
    h.sim.failNext({ status: 500, times: 4 }); // every attempt of page 1: 1 + 3 retries
    summaries.push(await h.sync({ at: at(3 * HOUR) }));
    // A rejected key is a secret too.
    const rejected = `${KEY}-rotated`;
    summaries.push(await h.sync({ at: at(4 * HOUR), apiKey: rejected }));

    expect(summaries.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'failed', 'failed']);
    expect(summaries[0]!.retries).toBe(3);
    expect(summaries[2]!.error).toMatch(/HTTP 500/);
    expect(summaries[3]!.error).toMatch(/TAVUS_API_KEY/);
    expect(h.logs.length).toBeGreaterThan(0);
    const everything = JSON.stringify({
      logs: h.logs,
      summaries,
      replicas: await h.scan('replicas'),
      runs: await h.scan('runs'),
      events: await h.scan('events'),
    });
    expect(everything).not.toContain('SYNCTEST');
    expect(everything).not.toContain(KEY.slice(8));
  });
});
