/**
 * Real syncs of the simulator into DynamoDB Local: the alert events the events table holds (what
 * the notifier reads from its stream) and the run summary's `attention`, which must list exactly
 * the alert events each run wrote: a replica first seen in error, one that turns error, one that
 * becomes stuck, none for a write lost to another writer, none again on a resync.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attentionOf, sortAttention } from '../functions/engine/plan/attention.js';
import type { AttentionEntry, ReplicaEvent } from '../functions/engine/model/events.js';
import type { ReplicaWrite } from '../functions/engine/model/write.js';
import { DynamoReplicaStore } from '../functions/engine/load/dynamo-replica-store.js';
import { productionParts } from '../functions/engine/wiring.js';
import { runSync } from '../functions/engine/sync.js';
import type { RunSummary } from '../functions/engine/model/summary.js';
import { TavusSimulator, type SimReplica } from '../local/tavus-simulator.js';
import { startSyncHarness, type SyncHarness } from './support/sync-harness.js';
import { scanAll } from './support/tables.js';
import { QUIET_LOG } from './support/quiet-log.js';

const KEY = 'attention-test-key-3b8e61f0';
const T0 = new Date('2025-02-03T09:00:00.000Z');
const HOUR = 3_600_000;
const at = (hours: number): string => new Date(T0.getTime() + hours * HOUR).toISOString();
const PLAIN_EVENT_KEYS = ['at', 'event_key', 'from', 'replica_id', 'run_id', 'to', 'type'];

function replica(id: string, name: string, overrides: Partial<SimReplica> = {}): SimReplica {
  return {
    replica_id: id,
    replica_name: name,
    status: 'completed',
    training_progress: '100/100',
    created_at: '2025-02-01T08:00:00.000Z',
    updated_at: '2025-02-01T09:00:00.000Z',
    replica_type: 'user',
    model_name: 'phoenix-3',
    error_message: null,
    thumbnail_video_url: null,
    ...overrides,
  };
}

const QUIET = replica('rquiet001', 'Quinn - Office');
const TURNS = replica('rturns001', 'Tara - Studio');
const STALLS = replica('rstall001', 'Sam - Garden', { status: 'started', training_progress: '10/100' });
const BORN = replica('rborn0001', 'Bea - Lobby', {
  status: 'error',
  training_progress: '0/100',
  error_message: 'Training failed: the consent statement could not be verified.',
  finetune_status: 'queued',
});
const LOST = replica('rlost0001', 'Lee - Kitchen');
const BYSTANDER = replica('rbyst0001', 'Bo - Porch');

/** A store that lets another writer change one replica right after the run read the table. */
class InterferedStore extends DynamoReplicaStore {
  interfere?: () => Promise<void>;
  override async loadReplicas() {
    const state = await super.loadReplicas();
    await this.interfere?.();
    return state;
  }
}

describe('alerts in the events table and the summary', () => {
  const sim = new TavusSimulator({ apiKey: KEY, replicas: [QUIET, TURNS, STALLS, BORN, LOST, BYSTANDER], pageSizeCap: 4 });
  let harness: SyncHarness;
  const runs: RunSummary[] = [];
  let events: Record<string, unknown>[] = [];

  /** Five runs (stuck after 6h): first sight; a turn to error and a stall; a resync; a conflict; the reconcile. */
  beforeAll(async () => {
    harness = await startSyncHarness('att', sim, KEY);
    runs.push(await harness.sync(new Date(at(0))));
    sim.update(TURNS.replica_id, { status: 'error', error_message: 'GPU node lost during training.' });
    runs.push(await harness.sync(new Date(at(7))));
    runs.push(await harness.sync(new Date(at(8))));

    sim.update(LOST.replica_id, { status: 'error', error_message: 'Lost to another writer.' });
    sim.update(BYSTANDER.replica_id, { status: 'error', error_message: 'Audio too quiet.' });
    const store = new InterferedStore(harness.client, harness.tables);
    store.interfere = async () => {
      store.interfere = undefined;
      await harness.documents.send(
        new UpdateCommand({
          TableName: harness.tables.replicas,
          Key: { replica_id: LOST.replica_id },
          UpdateExpression: 'SET version = version + :one',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
    };
    const parts = productionParts({ client: harness.client, settings: harness.settings, apiKey: KEY });
    runs.push(await runSync(harness.settings, { ...parts, store, log: QUIET_LOG, clock: () => new Date(at(9)) }, { walkBudgetMs: 30_000 }));
    runs.push(await harness.sync(new Date(at(10))));
    events = await scanAll(harness.documents, harness.tables.events);
  });

  afterAll(async () => {
    await harness?.close();
  });

  const entry = (r: SimReplica, kind: AttentionEntry['kind'], since: string, patch: Partial<SimReplica> = {}): AttentionEntry => {
    const now = { ...r, ...patch };
    return {
      replica_id: r.replica_id,
      replica_name: now.replica_name,
      kind,
      status: now.status,
      training_progress: now.training_progress,
      finetune_status: typeof now.finetune_status === 'string' ? now.finetune_status : null,
      since,
      error_message: now.error_message,
    };
  };

  it('lists who newly needs a person in each run, by kind then id, and nothing again on a resync', () => {
    expect(runs.map((run) => run.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'failed', 'succeeded']);
    expect(runs[0]!.attention).toEqual([entry(BORN, 'error', at(0))]);
    expect(runs[1]!.attention).toEqual([
      entry(TURNS, 'error', at(7), { status: 'error', error_message: 'GPU node lost during training.' }),
      entry(STALLS, 'stuck', at(0)),
    ]);
    expect(runs[2]!.attention).toEqual([]);
    expect(runs[2]).toMatchObject({ stuck: 1, in_error: 2, newly_in_error: 0 });
  });

  it('leaves out a write that lost to another writer, and lists it when the next run writes it', () => {
    expect(runs[3]!.error).toMatch(/changed by another writer/);
    expect(runs[3]!.error).toContain(LOST.replica_id);
    expect(runs[3]!.attention).toEqual([entry(BYSTANDER, 'error', at(9), { status: 'error', error_message: 'Audio too quiet.' })]);
    expect(events.filter((e) => e.replica_id === LOST.replica_id && e.run_id === runs[3]!.run_id)).toEqual([]);
    expect(runs[4]!.attention).toEqual([entry(LOST, 'error', at(10), { status: 'error', error_message: 'Lost to another writer.' })]);
  });

  it('is exactly the alert events each run wrote to the events table', () => {
    for (const run of runs) {
      // The stored items, read back as the writes that carried them.
      const stored = events.filter((e) => e.run_id === run.run_id) as unknown as ReplicaEvent[];
      const written = attentionOf(stored.map((e): ReplicaWrite => ({ kind: 'put', replicaId: e.replica_id, item: {}, events: [e], bytes: 0 })));
      expect(sortAttention(written)).toEqual(run.attention);
    }
  });

  it('stores alert events with their kind, since and a snapshot; every other event exactly as before', () => {
    const born = events.find((e) => e.replica_id === BORN.replica_id && e.type === 'created');
    expect(born).toEqual({
      replica_id: BORN.replica_id,
      event_key: `0000000001#created#${harness.tables.replicas}`,
      at: at(0),
      type: 'created',
      from: null,
      to: 'error',
      run_id: runs[0]!.run_id,
      alert_kind: 'error',
      since: at(0),
      replica_name: BORN.replica_name,
      status: 'error',
      training_progress: '0/100',
      finetune_status: 'queued',
      error_message: BORN.error_message,
    });
    const stuck = events.find((e) => e.replica_id === STALLS.replica_id && e.type === 'stuck');
    expect(stuck).toMatchObject({ alert_kind: 'stuck', since: at(0), to: at(0), status: 'started', training_progress: '10/100' });
    // A null error_message in the row is left out of the snapshot, not stored as null.
    expect(stuck).not.toHaveProperty('error_message');
    const plain = events.filter((e) => e.alert_kind === undefined);
    // The five other replicas' created events.
    expect(plain).toHaveLength(5);
    for (const e of plain) expect(Object.keys(e).sort()).toEqual(PLAIN_EVENT_KEYS);
  });
});
