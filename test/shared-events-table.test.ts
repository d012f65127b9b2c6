/**
 * History is append-only: two replicas tables pointed at one events table (as `npm run sync --
 * --local --table other-name` does) keep their histories beside each other, against DynamoDB Local
 * and the simulator. The second table's syncs leave every event of the first exactly as written,
 * each history reads back alone, and an event key that is already taken is never overwritten: that
 * replica is rejected, the rest written.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoReplicaStore } from '../functions/engine/load/dynamo-replica-store.js';
import { createMissingTables } from '../functions/engine/load/table-provisioning.js';
import { eventKey, planUpserts } from '../functions/engine/plan/plan.js';
import type { ApiRow } from '../functions/engine/model/replica.js';
import type { RunSummary } from '../functions/engine/model/summary.js';
import type { TableNames } from '../functions/engine/contract/tables.js';
import { parseSettings } from '../functions/engine/settings/registry.js';
import { runSync } from '../functions/engine/sync.js';
import { productionParts } from '../functions/engine/wiring.js';
import { TavusSimulator, makeReplicas, type SimReplica } from '../local/tavus-simulator.js';
import { uniqueName } from './support/dynamodb.js';
import { scanAll } from './support/tables.js';
import { startSyncHarness, type SyncHarness } from './support/sync-harness.js';
import { QUIET_LOG } from './support/quiet-log.js';

const KEY = 'tvs-shared-events-key';
const T1 = new Date('2026-11-29T08:00:00Z');
const T2 = new Date('2026-11-29T09:00:00Z');
const T3 = new Date('2026-11-29T10:00:00Z');

describe('two replicas tables, one events table', () => {
  const replicas = makeReplicas(12, { seed: 8 });
  const sim = new TavusSimulator({ apiKey: KEY, replicas });
  let h: SyncHarness;
  let other: TableNames;
  let eventsAfterFirst: Record<string, unknown>[];
  let otherFirst: RunSummary;
  let otherSecond: RunSummary;
  let eventsAfterOther: Record<string, unknown>[];

  const syncOther = async (at: Date): Promise<RunSummary> => {
    const settings = parseSettings({ apiUrl: sim.url, table: other.replicas, runsTable: other.runs, eventsTable: other.events });
    return runSync(settings, { ...productionParts({ client: h.client, settings, apiKey: KEY }), log: QUIET_LOG, clock: () => at }, { walkBudgetMs: 30_000 });
  };

  beforeAll(async () => {
    h = await startSyncHarness('shared', sim, KEY);
    await h.sync(T1);
    eventsAfterFirst = await scanAll(h.documents, h.tables.events);
    other = { replicas: uniqueName('other-replicas'), runs: uniqueName('other-runs'), events: h.tables.events };
    await createMissingTables(h.client, other);
    otherFirst = await syncOther(T2);
    eventsAfterOther = await scanAll(h.documents, h.tables.events);
    otherSecond = await syncOther(T3);
  }, 120_000);

  afterAll(() => h?.close());

  it("leaves every event of the first table exactly as written, and adds the second table's beside them", () => {
    expect(otherFirst).toMatchObject({ status: 'succeeded', created: replicas.length, rejected: 0 });
    expect(eventsAfterFirst).toHaveLength(replicas.length);
    for (const event of eventsAfterFirst) expect(eventsAfterOther).toContainEqual(event);
    const added = eventsAfterOther.filter((event) => !eventsAfterFirst.some((first) => first.replica_id === event.replica_id && first.event_key === event.event_key));
    expect(added).toHaveLength(replicas.length);
    for (const event of added) {
      expect(event.type).toBe('created');
      expect(event.event_key).toBe(`0000000001#created#${other.replicas}`);
      expect(event.run_id).toBe(otherFirst.run_id);
    }
  });

  it('writes nothing on a resync of the second table', async () => {
    expect(otherSecond).toMatchObject({ status: 'succeeded', written: 0, created: 0, unchanged: replicas.length });
    expect(await scanAll(h.documents, h.tables.events)).toEqual(eventsAfterOther);
  });

  it("reads each table's history alone", async () => {
    const id = (replicas[0] as SimReplica).replica_id;
    const first = await h.query(['history', id, '--format', 'json']);
    const second = await h.query(['history', id, '--format', 'json', '--table', other.replicas]);
    const runs = (out: string) => out.trim().split('\n').map((line) => (JSON.parse(line) as { run_id: string; type: string }));
    expect(runs(first.out).map((entry) => entry.type)).toEqual(['created']);
    expect(runs(second.out)).toEqual([expect.objectContaining({ type: 'created', run_id: otherFirst.run_id })]);
    expect(runs(first.out)[0]?.run_id).not.toBe(otherFirst.run_id);
  });

  it('never replaces an event: a write whose event key is taken is rejected, the rest written', async () => {
    const store = new DynamoReplicaStore(h.client, h.tables);
    const rows = makeReplicas(3, { seed: 99, idPrefix: 'taken-' }) as unknown as ApiRow[];
    const context = { stored: new Map(), now: T3, stuckAfterMs: 3_600_000, finetuneStuckAfterMs: 3_600_000, maxDeleteFraction: 0.5, runId: 'taken-run', replicasTable: h.tables.replicas };
    const victim = rows[1] as ApiRow;
    const earlier = { replica_id: victim.replica_id, event_key: eventKey(1, 'created', h.tables.replicas), at: T1.toISOString(), type: 'created', from: null, to: 'started', run_id: 'earlier' };
    await h.documents.send(new PutCommand({ TableName: h.tables.events, Item: earlier }));
    const outcome = await store.applyWrites(planUpserts(rows, context).writes);
    expect(outcome.written).toBe(2);
    expect(outcome.rejected).toEqual([expect.objectContaining({ replicaId: victim.replica_id, limit: 'event-exists' })]);
    expect(outcome.rejected[0]?.sentence).toContain(earlier.event_key);
    const events = await scanAll(h.documents, h.tables.events);
    expect(events.filter((event) => event.replica_id === victim.replica_id)).toEqual([earlier]);
    expect(events.filter((event) => event.run_id === 'taken-run')).toHaveLength(2);
  });
});
