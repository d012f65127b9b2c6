/**
 * `npm run simulator -- --live`: the account that lives. First its story as a pure function of
 * seed and time (no sleeping: the clock is an argument), then the simulator serving it over real
 * HTTP with an injected clock, advanced between three real syncs into DynamoDB Local.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatorCommand } from '../cli/simulator-command.js';
import { InputError } from '../functions/engine/errors.js';
import type { RunSummary } from '../functions/engine/model/summary.js';
import { attachLiveAccount, liveAccountAt, type LiveAccountOptions } from '../local/live-account.js';
import { makeReplicas, PHOENIX_4_5, TavusSimulator, type SimReplica } from '../local/tavus-simulator.js';
import { startSyncHarness, type SyncHarness } from './support/sync-harness.js';
import { startSimulatorProcess } from './support/simulator-process.js';
import { scanAll } from './support/tables.js';

const MINUTE = 60_000;
const T0 = new Date('2026-12-01T09:00:00.000Z');
const OPTIONS: LiveAccountOptions = { seed: 7, startedAt: T0, pace: 1 };
const minutes = (n: number) => new Date(T0.getTime() + n * MINUTE);

/** 60 replicas: three trainings (all Phoenix-4.5), fine-tunes completed, training and queued. */
const BASE = makeReplicas(60, { seed: 5 });

/** The account at each whole minute from 0 to `until`, by id. */
function timeline(until: number, options = OPTIONS): Array<Map<string, SimReplica>> {
  return Array.from({ length: until + 1 }, (_, m) => new Map(liveAccountAt(BASE, options, minutes(m)).map((r) => [r.replica_id, r])));
}

/** One replica's values of `field` over the timeline (undefined while absent). */
const trail = (states: Array<Map<string, SimReplica>>, id: string, field: keyof SimReplica) => states.map((state) => state.get(id)?.[field]);

describe('the living account, as a function of seed and time', () => {
  const states = timeline(60);
  const first = states[0]!;
  const last = states[60]!;
  const baseTrainings = BASE.filter((r) => r.status === 'started').map((r) => r.replica_id);

  it('is the starting account at its start, the same for the same seed and time, and leaves its input alone', () => {
    const copy = structuredClone(BASE);
    expect(liveAccountAt(BASE, OPTIONS, T0)).toEqual(BASE);
    expect(liveAccountAt(BASE, OPTIONS, minutes(37))).toEqual(liveAccountAt(BASE, OPTIONS, minutes(37)));
    expect(liveAccountAt(BASE, OPTIONS, minutes(37))).not.toEqual(liveAccountAt(BASE, { ...OPTIONS, seed: 8 }, minutes(37)));
    expect(BASE).toEqual(copy);
  });

  it('moves trainings on minute by minute, and completes some of them', () => {
    expect(baseTrainings.length).toBeGreaterThanOrEqual(3);
    const percent = (value: unknown) => Number(String(value).split('/')[0]);
    const moved = baseTrainings.filter((id) => percent(states[2]!.get(id)!.training_progress) > percent(states[1]!.get(id)!.training_progress));
    expect(moved.length).toBeGreaterThan(0);
    const completed = [...first.keys()].filter((id) => first.get(id)!.status === 'started' && last.get(id)?.status === 'completed');
    expect(completed.length).toBeGreaterThan(0);
    for (const id of completed) expect(last.get(id)!.training_progress).toBe('100/100');
  });

  it('stalls a training: still started, its progress and updated_at unchanged for the last half hour', () => {
    const stalled = [...last.keys()].filter(
      (id) => last.get(id)!.status === 'started' && new Set(trail(states.slice(30), id, 'training_progress')).size === 1 && new Set(trail(states.slice(30), id, 'updated_at')).size === 1,
    );
    expect(stalled.length).toBeGreaterThan(0);
  });

  it('fails a training: started when it appeared, in error with an error_message now', () => {
    const failed = [...last.values()].filter((r) => r.status === 'error' && trail(states, r.replica_id, 'status').includes('started'));
    expect(failed.length).toBeGreaterThan(0);
    for (const replica of failed) expect(replica.error_message).toMatch(/^Training failed: /);
  });

  it('runs Phoenix-4.5 fine-tunes: queued, then training, then completed or errored', () => {
    const phases = [...last.keys()].map((id) => trail(states, id, 'finetune_status').filter((value, i, all) => value !== all[i - 1]));
    const ran = phases.filter((phase) => phase.includes('queued') && phase.includes('training'));
    expect(ran.length).toBeGreaterThan(0);
    for (const phase of ran) expect(phase.indexOf('queued')).toBeLessThan(phase.indexOf('training'));
    expect(ran.some((phase) => phase.at(-1) === 'completed')).toBe(true);
    expect(phases.some((phase) => phase.includes('training') && phase.at(-1) === 'errored')).toBe(true);
    // Only Phoenix-4.5 replicas fine-tune.
    for (const replica of last.values()) if (replica.finetune_status) expect(replica.model_name).toBe(PHOENIX_4_5);
  });

  it('renames replicas (same id, new name, a newer updated_at)', () => {
    const renamed = [...first.keys()].filter((id) => last.has(id) && last.get(id)!.replica_name !== first.get(id)!.replica_name);
    expect(renamed.length).toBeGreaterThan(1);
    for (const id of renamed) expect(last.get(id)!.updated_at > first.get(id)!.updated_at).toBe(true);
  });

  it('adds new replicas, training from 0, created when they arrived', () => {
    const arrived = [...last.values()].filter((r) => !first.has(r.replica_id));
    expect(arrived.length).toBe(20); // one every 3 minutes
    for (const replica of arrived) {
      expect(replica.replica_type).toBe('user');
      expect(replica.created_at >= T0.toISOString() && replica.created_at <= minutes(60).toISOString()).toBe(true);
      const seen = states.find((state) => state.has(replica.replica_id))!.get(replica.replica_id)!;
      expect(seen).toMatchObject({ status: 'started', training_progress: '0/100' });
    }
  });

  it('deletes a few replicas, and keeps them deleted', () => {
    const deleted = [...first.keys()].filter((id) => !last.has(id));
    expect(deleted.length).toBeGreaterThan(0);
    expect(deleted.length).toBeLessThanOrEqual(5);
    for (const id of deleted) {
      const gone = trail(states, id, 'replica_id').indexOf(undefined);
      expect(trail(states.slice(gone), id, 'replica_id').every((value) => value === undefined), id).toBe(true);
    }
  });

  it('plays the same story faster at a faster pace: an hour at pace 60 is a minute', () => {
    const stampless = (rows: SimReplica[]) => rows.map(({ updated_at: _u, created_at: _c, ...rest }) => rest);
    const slow = liveAccountAt(BASE, OPTIONS, minutes(60));
    const fast = liveAccountAt(BASE, { ...OPTIONS, pace: 60 }, minutes(1));
    expect(stampless(fast)).toEqual(stampless(slow));
    // Its times are real ones: within the minute that passed.
    for (const replica of fast) if (replica.updated_at >= T0.toISOString()) expect(replica.updated_at <= minutes(1).toISOString()).toBe(true);
  });
});

describe('npm run simulator -- --live', () => {
  it('serves an account that changes while it runs (a child process, at a pace where minutes pass in a blink)', async () => {
    const simulator = await startSimulatorProcess(['--replicas', '12', '--live', '--pace', '100000']);
    try {
      expect(simulator.stdout).toContain('The account lives (--live, pace 100000)');
      const ids = async () => {
        const response = await fetch(`${simulator.url}/v2/replicas?limit=100`, { headers: { 'x-api-key': simulator.key } });
        return ((await response.json()) as { data: SimReplica[] }).data.map((replica) => replica.replica_id);
      };
      // Newcomers arrive within a second or two of real time; no timing is asserted, only that they come.
      let served = await ids();
      while (!served.some((id) => id.startsWith('rlive'))) {
        await delay(200);
        served = await ids();
      }
      expect(served.length).toBeGreaterThan(12);
      expect(await simulator.interrupt()).toBe(0);
    } finally {
      simulator.kill();
    }
  });

  it('refuses --pace without --live, and a pace that is not a whole number, with one sentence', async () => {
    await expect(simulatorCommand(['--pace', '60'], {})).rejects.toThrow(InputError);
    await expect(simulatorCommand(['--pace', '60'], {})).rejects.toThrow(/^--pace .* add --live, or leave --pace out\.$/);
    await expect(simulatorCommand(['--live', '--pace', 'fast'], {})).rejects.toThrow(/^--pace must be a whole number/);
  });
});

describe('three syncs of the living account, over HTTP, into DynamoDB Local', () => {
  const KEY = 'live-account-test-key-6f2c91';
  const sim = new TavusSimulator({ apiKey: KEY, replicas: BASE, pageSizeCap: 25 });
  let now = T0;
  let harness: SyncHarness;
  const runs: RunSummary[] = [];
  let events: Record<string, unknown>[];

  beforeAll(async () => {
    attachLiveAccount(sim, OPTIONS, () => now);
    harness = await startSyncHarness('live', sim, KEY);
    for (const at of [0, 8, 30]) {
      now = minutes(at);
      runs.push(await harness.sync(now));
    }
    events = await scanAll(harness.documents, harness.tables.events);
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('creates the account first, then counts what changed each time: updates, arrivals, deletions', () => {
    const [first, second, third] = runs as [RunSummary, RunSummary, RunSummary];
    expect(first).toMatchObject({ status: 'succeeded', created: BASE.length, updated: 0, deleted: 0 });
    for (const run of [second, third]) {
      expect(run.status).toBe('succeeded');
      expect(run.created).toBeGreaterThan(0);
      expect(run.updated).toBeGreaterThan(0);
      expect(run.deleted).toBeGreaterThan(0);
    }
    // Every arrival so far, once: one every 3 minutes.
    expect(second.created + third.created).toBe(10);
  });

  it('writes the history of each kind of change across the syncs', () => {
    const afterFirst = events.filter((event) => event.run_id !== runs[0]!.run_id);
    const types = new Set(afterFirst.map((event) => event.type));
    for (const type of ['created', 'status_changed', 'progress_changed', 'finetune_changed', 'deleted']) expect(types, type).toContain(type);
    expect(afterFirst.some((e) => e.type === 'status_changed' && e.from === 'started' && e.to === 'completed')).toBe(true);
    expect(afterFirst.some((e) => e.type === 'status_changed' && e.from === 'started' && e.to === 'error')).toBe(true);
    expect(afterFirst.some((e) => e.type === 'finetune_changed' && e.to === 'training')).toBe(true);
    // Both later syncs wrote history: it was not all written at once.
    for (const run of runs.slice(1)) expect(events.some((event) => event.run_id === run.run_id), run.run_id).toBe(true);
  });
});
