/**
 * `npm run query -- history ID`: one replica's story, oldest first, from the events real syncs of
 * the simulator wrote. One replica goes through every event type the contract names.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../functions/engine/model/events.js';
import type { RunSummary } from '../functions/engine/model/summary.js';
import { makeReplicas, TavusSimulator, type SimReplica } from '../local/tavus-simulator.js';
import { toHistory } from '../cli/query/history.js';
import { startSyncHarness, type SyncHarness } from './support/sync-harness.js';

const KEY = 'history-test-key-0d5e2a7c';
const T0 = new Date('2025-01-06T09:00:00.000Z');
const HOUR = 3_600_000;
const at = (hours: number): string => new Date(T0.getTime() + hours * HOUR).toISOString();

const XENA: SimReplica = {
  replica_id: 'rxena0001',
  replica_name: 'Xena - Studio',
  status: 'started',
  training_progress: '10/100',
  created_at: '2025-01-06T08:30:00.000Z',
  updated_at: '2025-01-06T08:30:00.000Z',
  replica_type: 'user',
  model_name: 'phoenix-3',
  error_message: null,
  thumbnail_video_url: null,
};

describe('npm run query -- history', () => {
  // Xena among a few others, so removing her is a small deletion the breaker allows.
  const sim = new TavusSimulator({ apiKey: KEY, replicas: [...makeReplicas(6, { seed: 11 }), XENA], pageSizeCap: 4 });
  let harness: SyncHarness;
  const runs: RunSummary[] = [];

  /**
   * Six syncs (stuck after 6h): created training; stalled (stuck); moved on (unstuck); deleted
   * upstream; back, in error (restored); completed and renamed, its Phoenix-4.5 fine-tune queued.
   */
  beforeAll(async () => {
    harness = await startSyncHarness('h', sim, KEY);
    const sync = async (hours: number): Promise<void> => {
      runs.push(await harness.sync(new Date(at(hours))));
    };
    await sync(0);
    await sync(7);
    sim.update(XENA.replica_id, { training_progress: '20/100' });
    await sync(8);
    sim.remove(XENA.replica_id);
    await sync(9);
    sim.add({ ...XENA, training_progress: '20/100', status: 'error', error_message: 'Training failed: the consent statement could not be verified.' });
    await sync(10);
    // Retrained on Phoenix-4.5: the preview is done, the fine-tune has begun.
    sim.update(XENA.replica_id, { replica_name: 'Xena - Studio (retrained)', status: 'completed', training_progress: '100/100', error_message: null, model_name: 'phoenix-4.5', finetune_status: 'queued' });
    await sync(11);
  });

  afterAll(async () => {
    await harness?.close();
  });

  const history = (args: string[], terminal = false) => harness.query(['history', ...args], { isTerminal: terminal });

  it('tells the story oldest first, one JSON object per event with exactly the contract fields', async () => {
    const { code, out } = await history([XENA.replica_id, '--format', 'json']);
    expect(code).toBe(0);
    const run = (i: number): string => runs[i]!.run_id;
    const id = XENA.replica_id;
    expect(out.trim().split('\n').map((line) => JSON.parse(line) as unknown)).toEqual([
      { replica_id: id, at: at(0), type: 'created', from: null, to: 'started', run_id: run(0) },
      { replica_id: id, at: at(7), type: 'stuck', from: null, to: at(0), run_id: run(1) },
      { replica_id: id, at: at(8), type: 'progress_changed', from: '10/100', to: '20/100', run_id: run(2) },
      { replica_id: id, at: at(8), type: 'unstuck', from: at(0), to: null, run_id: run(2) },
      { replica_id: id, at: at(9), type: 'deleted', from: 'live', to: 'deleted', run_id: run(3) },
      { replica_id: id, at: at(10), type: 'restored', from: 'deleted', to: 'live', run_id: run(4) },
      { replica_id: id, at: at(10), type: 'status_changed', from: 'started', to: 'error', run_id: run(4) },
      // One change, two events: the status change reads first, though its sort key sorts after.
      { replica_id: id, at: at(11), type: 'status_changed', from: 'error', to: 'completed', run_id: run(5) },
      { replica_id: id, at: at(11), type: 'progress_changed', from: '20/100', to: '100/100', run_id: run(5) },
      { replica_id: id, at: at(11), type: 'finetune_changed', from: null, to: 'queued', run_id: run(5) },
      { replica_id: id, at: at(11), type: 'renamed', from: 'Xena - Studio', to: 'Xena - Studio (retrained)', run_id: run(5) },
    ]);
  });

  it('covers every event type the contract names', async () => {
    const { out } = await history([XENA.replica_id, '--format', 'json']);
    const types = new Set(out.trim().split('\n').map((line) => (JSON.parse(line) as { type: string }).type));
    expect([...types].sort()).toEqual([...EVENT_TYPES].sort());
  });

  it('prints a table on a terminal and CSV when piped', async () => {
    const table = await history([XENA.replica_id], true);
    const lines = table.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^at\s+type\s+from\s+to\s+run_id$/);
    expect(lines[2]).toMatch(new RegExp(`^2025-01-06 09:00\\s+created\\s+started\\s+${runs[0]!.run_id}$`));
    expect(lines).toHaveLength(2 + 11);

    const csv = await history([XENA.replica_id]);
    const rows = csv.out.split('\r\n');
    expect(rows[0]).toBe('replica_id,at,type,from,to,run_id');
    expect(rows[1]).toBe(`${XENA.replica_id},${at(0)},created,,started,${runs[0]!.run_id}`);
    expect(rows).toHaveLength(1 + 11 + 1);
  });

  it('fails with a sentence naming the table for an id it has never seen', async () => {
    const { code, out, err } = await history(['rnobody99']);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toBe(`No replica rnobody99 in ${harness.tables.replicas}: check the id (npm run query -- --all --name TEXT finds one by name).\n`);
  });

  it('says so, without failing, for a replica stored before the events table existed', async () => {
    await harness.documents.send(new PutCommand({ TableName: harness.tables.replicas, Item: { replica_id: 'rold00001', status: 'completed', version: 1 } }));
    const { code, err } = await history(['rold00001']);
    expect(code).toBe(0);
    expect(err).toMatch(/^Replica rold00001 has no recorded history/);
  });

  it('orders events by item version first, whatever order they are handed over in', () => {
    const event = (version: number, type: string): Record<string, unknown> => ({
      replica_id: 'r1', event_key: `${String(version).padStart(10, '0')}#${type}`, at: `t${version}`, type, from: null, to: null, run_id: 'run',
    });
    const shuffled = [event(10, 'created'), event(2, 'progress_changed'), event(2, 'status_changed'), event(1, 'created')];
    expect(toHistory(shuffled).map((e) => `${e.at} ${e.type}`)).toEqual(['t1 created', 't2 status_changed', 't2 progress_changed', 't10 created']);
  });
});
