/** The pure decisions of plan.ts: what is created, changed, restored, deleted and stuck, and which events say so. */
import { describe, expect, it } from 'vitest';
import { addCounts, deletionCandidates, isSettled, planDeletions, planUnchanged, planUpserts, stuckSinceFor, type Plan, type PlanContext } from '../functions/engine/plan/plan.js';
import type { ReplicaWrite } from '../functions/engine/model/write.js';
import { STORED_REPLICA_PROJECTION, type ApiRow, type StoredReplica } from '../functions/engine/model/replica.js';

const HOUR = 3_600_000;
const T0 = new Date('2025-03-01T12:00:00.000Z');
const at = (hours: number): Date => new Date(T0.getTime() + hours * HOUR);

function row(id: string, overrides: Record<string, unknown> = {}): ApiRow {
  return {
    replica_id: id,
    replica_name: `Name ${id}`,
    thumbnail_video_url: null,
    training_progress: '100/100',
    status: 'completed',
    created_at: '2025-01-01T00:00:00.000Z',
    updated_at: '2025-01-02T00:00:00.000Z',
    replica_type: 'user',
    model_name: 'phoenix-3',
    error_message: null,
    ...overrides,
  };
}

interface PlanInput extends PlanContext {
  /** Replicas confirmed gone upstream; undefined when the run may not delete anything. */
  confirmedGone?: Set<string>;
}

/** Slices far smaller than the engine's, so that every test also plans across slice borders. */
const SLICE = 2;

/**
 * A run's plan, made the way runSync makes it: settled rows counted from the stored state, the rest
 * planned slice by slice, then the deletions.
 */
function plan(seen: ApiRow[], stored: Map<string, StoredReplica>, overrides: Partial<PlanInput> = {}): Plan {
  const { confirmedGone, ...context }: PlanInput = {
    stored,
    now: T0,
    stuckAfterMs: 6 * HOUR,
    finetuneStuckAfterMs: 12 * HOUR,
    maxDeleteFraction: 0.5,
    runId: 'run-1',
    ...overrides,
  };
  const settled = seen.filter((r) => isSettled(r, stored.get(r.replica_id)));
  const returned = seen.filter((r) => !isSettled(r, stored.get(r.replica_id)));
  let counts = planUnchanged(settled.map((r) => r.replica_id), stored);
  const writes: ReplicaWrite[] = [];
  for (let start = 0; start < returned.length; start += SLICE) {
    const part = planUpserts(returned.slice(start, start + SLICE), context);
    writes.push(...part.writes);
    counts = addCounts(counts, part.counts);
  }
  const deletions = planDeletions(new Set(seen.map((r) => r.replica_id)), confirmedGone, context);
  return {
    writes: [...writes, ...deletions.writes],
    counts: addCounts(counts, deletions.counts),
    ...(deletions.breaker ? { breaker: deletions.breaker } : {}),
  };
}

/** Carries a plan's writes out on an in-memory copy of the table's projection, as the store would. */
function applied(stored: Map<string, StoredReplica>, writes: ReplicaWrite[]): Map<string, StoredReplica> {
  const next = new Map(stored);
  for (const write of writes) {
    if (write.kind === 'put') {
      const projected = Object.fromEntries(
        STORED_REPLICA_PROJECTION.filter((name) => write.item[name] !== undefined).map((name) => [name, write.item[name]]),
      );
      next.set(write.replicaId, projected as unknown as StoredReplica);
    } else {
      const before = next.get(write.replicaId)!;
      const { stuck_since: _dropped, stuck_reason: _reason, ...rest } = before;
      next.set(write.replicaId, { ...rest, deleted_at: write.deletedAt, last_changed_at: write.deletedAt, version: write.version });
    }
  }
  return next;
}

/** The table after a first sync of `rows` at `now`. */
function synced(rows: ApiRow[], now = T0): Map<string, StoredReplica> {
  return applied(new Map(), plan(rows, new Map(), { now }).writes);
}

function putFor(p: Plan, id: string): Extract<ReplicaWrite, { kind: 'put' }> {
  const write = p.writes.find((w) => w.replicaId === id);
  if (write?.kind !== 'put') throw new Error(`no put for ${id}`);
  return write;
}

const eventsOf = (p: Plan) => p.writes.flatMap((w) => w.events.map((e) => ({ id: e.replica_id, type: e.type, from: e.from, to: e.to })));

describe('first sight', () => {
  it('creates every replica with its API fields, the sync attributes and a created event', () => {
    const p = plan([row('a', { training_progress: '37/100', status: 'started' }), row('b')], new Map());
    expect(p.counts).toMatchObject({ created: 2, updated: 0, unchanged: 0, restored: 0, deleted: 0 });
    const a = putFor(p, 'a');
    expect(a.expectedVersion).toBeUndefined();
    expect(a.item).toMatchObject({
      replica_id: 'a',
      replica_name: 'Name a',
      replica_type: 'user',
      model_name: 'phoenix-3',
      status: 'started',
      training_progress: '37/100',
      training_progress_pct: 37,
      created_at: '2025-01-01T00:00:00.000Z',
      updated_at: '2025-01-02T00:00:00.000Z',
      first_seen_at: T0.toISOString(),
      last_changed_at: T0.toISOString(),
      status_changed_at: T0.toISOString(),
      progress_changed_at: T0.toISOString(),
      version: 1,
    });
    // Nulls may be left out, but never stored as something else.
    expect(a.item.error_message ?? null).toBeNull();
    expect(a.item).not.toHaveProperty('deleted_at');
    expect(a.item).not.toHaveProperty('stuck_since');
    expect(eventsOf(p)).toEqual([
      { id: 'a', type: 'created', from: null, to: 'started' },
      { id: 'b', type: 'created', from: null, to: 'completed' },
    ]);
    expect(a.events[0]).toMatchObject({ at: T0.toISOString(), run_id: 'run-1' });
  });

  it('keeps unknown fields and unknown statuses as they came', () => {
    const p = plan([row('a', { status: 'training', face_id: 'f-1', extra: { nested: [1, 2] } })], new Map());
    expect(putFor(p, 'a').item).toMatchObject({ status: 'training', face_id: 'f-1', extra: { nested: [1, 2] } });
  });

  it('leaves training_progress_pct out when the progress cannot be parsed', () => {
    const p = plan([row('a', { training_progress: 'soon' }), row('b', { training_progress: '1/0' })], new Map());
    expect(putFor(p, 'a').item).not.toHaveProperty('training_progress_pct');
    expect(putFor(p, 'b').item).not.toHaveProperty('training_progress_pct');
  });
});

describe('a later run', () => {
  const rows = [row('a'), row('b', { status: 'started', training_progress: '10/100' })];

  it('writes nothing when nothing changed', () => {
    const p = plan(rows, synced(rows), { now: at(1) });
    expect(p.writes).toEqual([]);
    expect(p.counts).toMatchObject({ created: 0, updated: 0, unchanged: 2, restored: 0, deleted: 0 });
  });

  it('counts a rename as updated, bumps only last_changed_at, and writes a renamed event', () => {
    const stored = synced(rows);
    const p = plan([row('a', { replica_name: 'Renamed' }), rows[1]!], stored, { now: at(1) });
    expect(p.counts).toMatchObject({ created: 0, updated: 1, unchanged: 1 });
    expect(p.writes).toHaveLength(1);
    const a = putFor(p, 'a');
    expect(a.expectedVersion).toBe(1);
    expect(a.item).toMatchObject({
      replica_name: 'Renamed',
      version: 2,
      first_seen_at: T0.toISOString(),
      last_changed_at: at(1).toISOString(),
      status_changed_at: T0.toISOString(),
      progress_changed_at: T0.toISOString(),
    });
    expect(eventsOf(p)).toEqual([{ id: 'a', type: 'renamed', from: 'Name a', to: 'Renamed' }]);
  });

  it('sets status_changed_at and writes a status_changed event with from and to', () => {
    const p = plan([rows[0]!, row('b', { status: 'error', training_progress: '10/100', error_message: 'no face' })], synced(rows), {
      now: at(2),
    });
    const b = putFor(p, 'b');
    expect(b.item).toMatchObject({ status_changed_at: at(2).toISOString(), progress_changed_at: T0.toISOString(), error_message: 'no face' });
    expect(eventsOf(p)).toEqual([{ id: 'b', type: 'status_changed', from: 'started', to: 'error' }]);
    expect(p.counts).toMatchObject({ updated: 1, inError: 1, newlyInError: 1 });
  });

  it('sets progress_changed_at and writes a progress_changed event when training moves', () => {
    const p = plan([rows[0]!, row('b', { status: 'started', training_progress: '55/100' })], synced(rows), { now: at(2) });
    expect(putFor(p, 'b').item).toMatchObject({
      progress_changed_at: at(2).toISOString(),
      status_changed_at: T0.toISOString(),
      training_progress_pct: 55,
    });
    expect(eventsOf(p)).toEqual([{ id: 'b', type: 'progress_changed', from: '10/100', to: '55/100' }]);
  });

  it('writes one event per kind of change when status and progress move together', () => {
    const p = plan([rows[0]!, row('b', { status: 'completed', training_progress: '100/100' })], synced(rows), { now: at(2) });
    expect(eventsOf(p)).toEqual([
      { id: 'b', type: 'status_changed', from: 'started', to: 'completed' },
      { id: 'b', type: 'progress_changed', from: '10/100', to: '100/100' },
    ]);
  });
});

describe('deletion and restore', () => {
  const rows = [row('a'), row('b'), row('c'), row('s', { replica_type: 'system' })];

  it('marks a confirmed-gone replica deleted with a deleted event', () => {
    const stored = synced(rows);
    const p = plan([rows[0]!, rows[1]!, rows[3]!], stored, { now: at(1), confirmedGone: new Set(['c']) });
    expect(p.counts.deleted).toBe(1);
    expect(p.writes).toEqual([
      expect.objectContaining({ kind: 'mark-deleted', replicaId: 'c', expectedVersion: 1, version: 2, deletedAt: at(1).toISOString() }),
    ]);
    expect(eventsOf(p)).toEqual([{ id: 'c', type: 'deleted', from: 'live', to: 'deleted' }]);
  });

  it('marks nothing deleted without a confirmation, or for a replica the lookup still found', () => {
    const stored = synced(rows);
    expect(plan([rows[0]!], stored, { confirmedGone: undefined }).writes).toEqual([]);
    expect(plan([rows[0]!], stored, { confirmedGone: new Set(['b']) }).writes.map((w) => w.replicaId)).toEqual(['b']);
  });

  it('never marks a replica deleted twice', () => {
    const stored = applied(synced(rows), plan(rows.slice(0, 2), synced(rows), { confirmedGone: new Set(['c']) }).writes);
    expect(stored.get('c')?.deleted_at).toBeDefined();
    const p = plan([rows[0]!, rows[1]!, rows[3]!], stored, { now: at(2), confirmedGone: new Set(['c']) });
    expect(p.writes).toEqual([]);
    expect(p.counts.deleted).toBe(0);
  });

  it('counts a returning replica as restored (not updated) and drops deleted_at', () => {
    const gone = applied(synced(rows), plan([rows[0]!, rows[1]!, rows[3]!], synced(rows), { confirmedGone: new Set(['c']) }).writes);
    const p = plan([...rows.slice(0, 2), row('c', { replica_name: 'Back, renamed' }), rows[3]!], gone, { now: at(3) });
    expect(p.counts).toMatchObject({ restored: 1, updated: 0, unchanged: 3, created: 0 });
    const c = putFor(p, 'c');
    expect(c.item).not.toHaveProperty('deleted_at');
    expect(c.item).toMatchObject({ replica_name: 'Back, renamed', version: 3, first_seen_at: T0.toISOString(), last_changed_at: at(3).toISOString() });
    expect(eventsOf(p)).toEqual([
      { id: 'c', type: 'restored', from: 'deleted', to: 'live' },
      { id: 'c', type: 'renamed', from: 'Name c', to: 'Back, renamed' },
    ]);
  });

  it('scopes deletion candidates to the synced type and to live, unseen replicas', () => {
    const stored = applied(synced(rows), plan(rows.slice(1), synced(rows), { confirmedGone: new Set(['a']) }).writes);
    const seen = new Set([rows[1]!.replica_id]);
    expect(deletionCandidates(stored, seen, 'user')).toEqual(['c']);
    expect(deletionCandidates(stored, seen, 'system')).toEqual(['s']);
    expect(deletionCandidates(stored, seen).sort()).toEqual(['c', 's']);
  });

  it('never deletes a replica of the other type, even when told it is gone', () => {
    const p = plan(rows.slice(0, 3), synced(rows), { scope: 'user', confirmedGone: new Set(['s']) });
    expect(p.writes).toEqual([]);
  });
});

describe('the mass-deletion breaker', () => {
  const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `r${i}`);
  const account = (n: number): ApiRow[] => ids(n).map((id) => row(id));

  function run(live: number, gone: number, maxDeleteFraction: number, extra: Partial<PlanInput> = {}): Plan {
    const rows = account(live);
    return plan(rows.slice(gone), synced(rows), {
      now: at(1),
      confirmedGone: new Set(ids(gone)),
      maxDeleteFraction,
      ...extra,
    });
  }

  it('trips above the fraction and above 3, and then marks none', () => {
    const p = run(10, 6, 0.5);
    expect(p.breaker).toEqual({ wouldDelete: 6, liveInScope: 10, maxDeleteFraction: 0.5 });
    expect(p.writes.filter((w) => w.kind === 'mark-deleted')).toEqual([]);
    expect(p.counts.deleted).toBe(0);
  });

  it('does not trip at exactly the fraction', () => {
    const p = run(8, 4, 0.5);
    expect(p.breaker).toBeUndefined();
    expect(p.counts.deleted).toBe(4);
  });

  it('does not trip for 3 deletions, even when they are all of the replicas', () => {
    const p = run(3, 3, 0.5);
    expect(p.breaker).toBeUndefined();
    expect(p.counts.deleted).toBe(3);
  });

  it('trips for 4 of 4', () => {
    expect(run(4, 4, 0.5).breaker).toMatchObject({ wouldDelete: 4, liveInScope: 4 });
  });

  it('is overridden by a fraction of 1, even when everything is gone', () => {
    const p = run(10, 10, 1);
    expect(p.breaker).toBeUndefined();
    expect(p.counts.deleted).toBe(10);
  });

  it('measures the fraction against the live replicas in scope only', () => {
    // 4 users gone out of 6 users; 20 system replicas must not dilute the fraction.
    const users = account(6);
    const system = Array.from({ length: 20 }, (_, i) => row(`s${i}`, { replica_type: 'system' }));
    const p = plan(users.slice(4), synced([...users, ...system]), {
      scope: 'user',
      confirmedGone: new Set(ids(4)),
    });
    expect(p.breaker).toEqual({ wouldDelete: 4, liveInScope: 6, maxDeleteFraction: 0.5 });
  });
});

describe('stuck training', () => {
  const training = row('t', { status: 'started', training_progress: '10/100' });

  it('sets stuck_since once progress has not moved for the stuck-after duration, with a stuck event', () => {
    const stored = synced([training]);
    const early = plan([training], stored, { now: new Date(at(6).getTime() - 1) });
    expect(early.writes).toEqual([]);
    expect(early.counts.stuck).toBe(0);

    const late = plan([training], stored, { now: at(6) });
    expect(putFor(late, 't').item).toMatchObject({ stuck_since: T0.toISOString(), last_changed_at: at(6).toISOString(), version: 2 });
    expect(eventsOf(late)).toEqual([{ id: 't', type: 'stuck', from: null, to: T0.toISOString() }]);
    expect(late.counts).toMatchObject({ stuck: 1, unchanged: 1 });
  });

  it('writes nothing more while it stays stuck, and still counts it', () => {
    const stuck = applied(synced([training]), plan([training], synced([training]), { now: at(7) }).writes);
    const p = plan([training], stuck, { now: at(9) });
    expect(p.writes).toEqual([]);
    expect(p.counts.stuck).toBe(1);
  });

  it('clears stuck_since with an unstuck event when progress moves', () => {
    const stuck = applied(synced([training]), plan([training], synced([training]), { now: at(7) }).writes);
    const p = plan([row('t', { status: 'started', training_progress: '11/100' })], stuck, { now: at(8) });
    expect(putFor(p, 't').item).not.toHaveProperty('stuck_since');
    expect(putFor(p, 't').item.progress_changed_at).toBe(at(8).toISOString());
    expect(eventsOf(p)).toEqual([
      { id: 't', type: 'progress_changed', from: '10/100', to: '11/100' },
      { id: 't', type: 'unstuck', from: T0.toISOString(), to: null },
    ]);
    expect(p.counts.stuck).toBe(0);
  });

  it('clears stuck_since when the status leaves started', () => {
    const stuck = applied(synced([training]), plan([training], synced([training]), { now: at(7) }).writes);
    const p = plan([row('t', { status: 'error', training_progress: '10/100' })], stuck, { now: at(8) });
    expect(putFor(p, 't').item).not.toHaveProperty('stuck_since');
    expect(eventsOf(p).map((e) => e.type)).toEqual(['status_changed', 'unstuck']);
  });

  it('clears stuck_since, with an unstuck event, when a stuck replica is deleted', () => {
    const stuck = applied(synced([training, row('x')]), plan([training, row('x')], synced([training, row('x')]), { now: at(7) }).writes);
    const p = plan([row('x')], stuck, { now: at(8), confirmedGone: new Set(['t']) });
    expect(eventsOf(p)).toEqual([
      { id: 't', type: 'deleted', from: 'live', to: 'deleted' },
      { id: 't', type: 'unstuck', from: T0.toISOString(), to: null },
    ]);
    expect(p.counts).toMatchObject({ deleted: 1, stuck: 0 });
  });

  it('is never set for a replica that is not started', () => {
    expect(stuckSinceFor('completed', T0.toISOString(), at(100), HOUR)).toBeUndefined();
    expect(stuckSinceFor('training', T0.toISOString(), at(100), HOUR)).toBeUndefined();
    expect(stuckSinceFor('started', T0.toISOString(), at(1), HOUR)).toBe(T0.toISOString());
  });
});

describe('event keys', () => {
  it('are the same for the same input, so a retried run rewrites events instead of repeating them', () => {
    const rows = [row('a', { status: 'started', training_progress: '1/100' }), row('b'), row('c')];
    const stored = synced(rows);
    const next = [row('a', { status: 'started', training_progress: '2/100' }), row('b', { status: 'error' })];
    const input = { now: at(1), confirmedGone: new Set(['c']) };
    expect(plan(next, stored, input)).toEqual(plan(next, stored, input));
  });

  it('are unique within a replica and order its history by version', () => {
    const rows = [row('a', { status: 'started', training_progress: '1/100' })];
    const first = plan(rows, new Map());
    const second = plan([row('a', { status: 'completed', training_progress: '100/100' })], applied(new Map(), first.writes), { now: at(1) });
    const keys = [...first.writes, ...second.writes].flatMap((w) => w.events.map((e) => e.event_key));
    expect(new Set(keys).size).toBe(keys.length);
    const versions = keys.map((key) => key.split('#')[0]);
    expect([...versions].sort()).toEqual(versions);
  });

  it('carry expires_at only when events are set to expire', () => {
    expect(plan([row('a')], new Map()).writes[0]?.events[0]).not.toHaveProperty('expires_at');
    const expiring = plan([row('a')], new Map(), { eventTtlDays: 30 }).writes[0]?.events[0];
    expect(expiring?.expires_at).toBe(T0.getTime() / 1000 + 30 * 86_400);
  });
});

describe('settled replicas (rows the walk may drop as they arrive)', () => {
  const stored = synced([row('done'), row('failed', { status: 'error' }), row('training', { status: 'started', training_progress: '5/100' })]);

  it('are exactly the stored, live, unchanged replicas that are not training and not stuck', () => {
    expect(isSettled(row('done'), stored.get('done'))).toBe(true);
    expect(isSettled(row('failed', { status: 'error' }), stored.get('failed'))).toBe(true);
    expect(isSettled(row('done', { replica_name: 'Renamed' }), stored.get('done'))).toBe(false);
    expect(isSettled(row('training', { status: 'started', training_progress: '5/100' }), stored.get('training'))).toBe(false);
    expect(isSettled(row('new'), undefined)).toBe(false);
    expect(isSettled(row('done'), { ...stored.get('done')!, deleted_at: T0.toISOString() })).toBe(false);
  });

  it('count as unchanged, and in error when their stored status is error, exactly as planning their rows counts them', () => {
    const counts = planUnchanged(['done', 'failed'], stored);
    expect(counts).toMatchObject({ unchanged: 2, inError: 1, created: 0, updated: 0, stuck: 0, newlyInError: 0 });
    const context = { stored, now: at(1), stuckAfterMs: 6 * HOUR, finetuneStuckAfterMs: 12 * HOUR, maxDeleteFraction: 0.5, runId: 'run-1' };
    const planned = planUpserts([row('done'), row('failed', { status: 'error' })], context);
    expect(planned.writes).toEqual([]);
    expect(planned.counts).toEqual(counts);
  });
});

describe('the fine-tune phase (Phoenix-4.5)', () => {
  const tuning = (finetune: string | null, overrides: Record<string, unknown> = {}) =>
    row('f', { model_name: 'phoenix-4.5', finetune_status: finetune, ...overrides });
  const context = { finetuneStuckAfterMs: 12 * HOUR };
  /** The table after a first sync of `f` with `finetune`, then `steps` runs, each [finetune, hours]. */
  const after = (finetune: string | null, ...steps: Array<[string | null, number]>) => {
    let stored = synced([tuning(finetune)]);
    for (const [value, hours] of steps) stored = applied(stored, plan([tuning(value)], stored, { ...context, now: at(hours) }).writes);
    return stored;
  };

  it('stores finetune_status as it comes, with finetune_status_changed_at at first sight and at a change', () => {
    expect(putFor(plan([tuning('queued')], new Map()), 'f').item).toMatchObject({ finetune_status: 'queued', finetune_status_changed_at: T0.toISOString() });
    // A replica that never had a fine-tune (Phoenix-3/4) never carries the time of one.
    expect(putFor(plan([tuning(null)], new Map()), 'f').item).not.toHaveProperty('finetune_status_changed_at');
    const p = plan([tuning('training')], after('queued'), { ...context, now: at(1) });
    expect(putFor(p, 'f').item).toMatchObject({ finetune_status: 'training', finetune_status_changed_at: at(1).toISOString() });
    expect(eventsOf(p)).toEqual([{ id: 'f', type: 'finetune_changed', from: 'queued', to: 'training' }]);
    expect(p.counts).toMatchObject({ updated: 1, stuck: 0, finetuneFailed: 0, inError: 0 });
  });

  it('is stuck, reason finetune, once in progress and unchanged for the fine-tune stuck-after duration', () => {
    const stored = after('training');
    expect(plan([tuning('training')], stored, { ...context, now: new Date(at(12).getTime() - 1) }).writes).toEqual([]);
    const p = plan([tuning('training')], stored, { ...context, now: at(12) });
    expect(putFor(p, 'f').item).toMatchObject({ stuck_since: T0.toISOString(), stuck_reason: 'finetune' });
    expect(eventsOf(p)).toEqual([{ id: 'f', type: 'stuck', from: null, to: T0.toISOString() }]);
    expect(p.counts).toMatchObject({ stuck: 1, unchanged: 1 });
  });

  it('reads a finetune_status map with its keys reordered as the same value: no finetune_changed, stuck still detected', () => {
    const inOrder = { phase: 'training', detail: { step: 3, of: 9 }, steps: [{ a: 1, b: 2 }] };
    const reordered = { steps: [{ b: 2, a: 1 }], detail: { of: 9, step: 3 }, phase: 'training' };
    const mapped = (value: unknown) => row('f', { model_name: 'phoenix-4.5', finetune_status: value });
    const stored = synced([mapped(inOrder)]);
    const quiet = plan([mapped(reordered)], stored, { ...context, now: at(1) });
    expect(quiet.writes).toEqual([]);
    expect(quiet.counts).toMatchObject({ unchanged: 1, updated: 0, stuck: 0 });
    const stuck = plan([mapped(reordered)], stored, { ...context, now: at(12) });
    expect(eventsOf(stuck)).toEqual([{ id: 'f', type: 'stuck', from: null, to: T0.toISOString() }]);
    expect(putFor(stuck, 'f').item).toMatchObject({ stuck_since: T0.toISOString(), stuck_reason: 'finetune' });
    // A real change inside the map is still one.
    const moved = plan([mapped({ ...inOrder, detail: { step: 4, of: 9 } })], stored, { ...context, now: at(1) });
    expect(eventsOf(moved).map((event) => event.type)).toEqual(['finetune_changed']);
  });

  it('is never stuck without a fine-tune in progress, whatever the clock says', () => {
    for (const value of [null, 'completed', 'errored', 'error', 'failed']) {
      const p = plan([tuning(value)], after(value), { ...context, now: at(1000) });
      expect(p.writes, String(value)).toEqual([]);
      expect(p.counts.stuck).toBe(0);
    }
  });

  it('is unstuck, with finetune_changed, when the fine-tune moves; then failed counts and alerts, and is not in error', () => {
    const stuck = after('training', ['training', 13]);
    const moved = plan([tuning('finishing')], stuck, { ...context, now: at(14) });
    expect(putFor(moved, 'f').item).not.toHaveProperty('stuck_since');
    expect(putFor(moved, 'f').item).not.toHaveProperty('stuck_reason');
    expect(eventsOf(moved)).toEqual([
      { id: 'f', type: 'finetune_changed', from: 'training', to: 'finishing' },
      { id: 'f', type: 'unstuck', from: T0.toISOString(), to: null },
    ]);
    const failed = plan([tuning('errored')], applied(stuck, moved.writes), { ...context, now: at(15) });
    expect(eventsOf(failed)).toEqual([{ id: 'f', type: 'finetune_changed', from: 'finishing', to: 'errored' }]);
    expect(putFor(failed, 'f').events[0]).toMatchObject({ alert_kind: 'finetune_failed', since: at(15).toISOString(), finetune_status: 'errored' });
    expect(failed.counts).toMatchObject({ finetuneFailed: 1, inError: 0, newlyInError: 0, stuck: 0 });
  });

  it('counts a failed fine-tune whether the row is planned, settled, unseen or held back by the breaker', () => {
    const rows = ['a', 'b', 'c', 'd', 'e', 'g'].map((id) => row(id, { finetune_status: 'failed' }));
    const stored = synced(rows);
    expect(isSettled(rows[0]!, stored.get('a'))).toBe(true);
    expect(planUnchanged(['a'], stored).finetuneFailed).toBe(1);
    expect(plan(rows, stored).counts.finetuneFailed).toBe(6);
    expect(plan(rows.slice(0, 2), stored).counts.finetuneFailed).toBe(6);
    const held = plan(rows.slice(0, 1), stored, { confirmedGone: new Set(['b', 'c', 'd', 'e', 'g']) });
    expect(held.breaker).toBeDefined();
    expect(held.counts.finetuneFailed).toBe(6);
    const deleted = plan(rows.slice(0, 4), stored, { confirmedGone: new Set(['e', 'g']) });
    expect(deleted.counts).toMatchObject({ deleted: 2, finetuneFailed: 4 });
  });

  it('alerts finetune_failed on first sight with a failed fine-tune, and error wins over it', () => {
    const p = plan([tuning('errored'), row('x', { status: 'error', finetune_status: 'failed' })], new Map());
    expect(putFor(p, 'f').events[0]).toMatchObject({ type: 'created', alert_kind: 'finetune_failed', since: T0.toISOString() });
    expect(putFor(p, 'x').events[0]).toMatchObject({ type: 'created', alert_kind: 'error' });
    expect(p.counts).toMatchObject({ finetuneFailed: 2, inError: 1 });
  });

  it('keeps a row whose fine-tune is in progress out of the settled ones: it can become stuck', () => {
    const stored = after('training');
    expect(isSettled(tuning('training'), stored.get('f'))).toBe(false);
    expect(isSettled(tuning('completed'), after('completed').get('f'))).toBe(true);
  });

  it('says in the history when the reason or the start of a stall changes, training winning over the fine-tune', () => {
    const both = tuning('training', { status: 'started', training_progress: '10/100' });
    let stored = synced([tuning('training')]);
    stored = applied(stored, plan([tuning('training')], stored, { ...context, now: at(12) }).writes);
    expect(stored.get('f')).toMatchObject({ stuck_reason: 'finetune', stuck_since: T0.toISOString() });
    // The replica goes back to training: the fine-tune stall goes on until training has stalled too.
    const p = plan([both], stored, { ...context, now: at(13) });
    expect(putFor(p, 'f').item).toMatchObject({ stuck_reason: 'finetune', stuck_since: T0.toISOString() });
    expect(eventsOf(p).filter((e) => e.type === 'stuck' || e.type === 'unstuck')).toEqual([]);
    const later = plan([both], applied(stored, p.writes), { ...context, now: at(19) });
    expect(putFor(later, 'f').item).toMatchObject({ stuck_reason: 'training', stuck_since: at(13).toISOString() });
    expect(eventsOf(later)).toEqual([
      { id: 'f', type: 'unstuck', from: T0.toISOString(), to: null },
      { id: 'f', type: 'stuck', from: null, to: at(13).toISOString() },
    ]);
  });

  it('reads a stuck item stored before reasons were kept as stuck in training, and rewrites nothing it need not', () => {
    const legacy = synced([row('t', { status: 'started', training_progress: '10/100' })]);
    const stuck = applied(legacy, plan([row('t', { status: 'started', training_progress: '10/100' })], legacy, { now: at(7) }).writes);
    const { stuck_reason: _reason, ...old } = stuck.get('t')!;
    const p = plan([row('t', { status: 'started', training_progress: '10/100' })], new Map([['t', old as StoredReplica]]), { ...context, now: at(8) });
    expect(p.writes).toEqual([]);
    // A fine-tune in progress on an item stored before the sync kept its time: from now it is watched.
    const { finetune_status_changed_at: _at, ...untimed } = after('training').get('f')!;
    const adopted = plan([tuning('training')], new Map([['f', untimed as StoredReplica]]), { ...context, now: at(30) });
    expect(putFor(adopted, 'f').item).toMatchObject({ finetune_status_changed_at: at(30).toISOString() });
    expect(putFor(adopted, 'f').item).not.toHaveProperty('stuck_since');
  });
});
