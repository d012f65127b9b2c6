/**
 * attention.ts, pure: which events alert, what an alert event carries, the summary's `attention`
 * derived from written writes, and the "Needs attention" block the CLI prints.
 */
import { describe, expect, it } from 'vitest';
import { formatAttention, formatSummary } from '../cli/output.js';
import { alertKindOf, attentionOf, sortAttention, withAlert } from '../functions/engine/plan/attention.js';
import { ALERT_SNAPSHOT_FIELDS, type AttentionEntry, EVENT_TYPES, type ReplicaEvent } from '../functions/engine/model/events.js';
import { planDeletions, planUpserts, type PlanContext } from '../functions/engine/plan/plan.js';
import type { ReplicaWrite } from '../functions/engine/model/write.js';
import type { ApiRow, StoredReplica } from '../functions/engine/model/replica.js';
import type { RunSummary } from '../functions/engine/model/summary.js';

const HOUR = 3_600_000;
const T0 = new Date('2025-03-01T12:00:00.000Z');
const PLAIN_EVENT_KEYS = ['at', 'event_key', 'from', 'replica_id', 'run_id', 'to', 'type'];

function event(type: ReplicaEvent['type'], from: string | null, to: string | null, id = 'r1'): ReplicaEvent {
  return { replica_id: id, event_key: `0000000002#${type}`, at: T0.toISOString(), type, from, to, run_id: 'run-1' };
}

function row(id: string, overrides: Record<string, unknown> = {}): ApiRow {
  return {
    replica_id: id,
    replica_name: `Name ${id}`,
    training_progress: '100/100',
    status: 'completed',
    created_at: '2025-01-01T00:00:00.000Z',
    replica_type: 'user',
    error_message: null,
    ...overrides,
  };
}

function stored(id: string, overrides: Partial<StoredReplica> = {}): StoredReplica {
  const at = T0.toISOString();
  return {
    replica_id: id,
    version: 1,
    content_hash: 'stale',
    status: 'completed',
    training_progress: '100/100',
    replica_type: 'user',
    first_seen_at: at,
    last_changed_at: at,
    status_changed_at: at,
    progress_changed_at: at,
    ...overrides,
  };
}

/** The path production takes: upserts for the rows returned, then deletions of what is confirmed gone. */
function plan(seen: ApiRow[], before: StoredReplica[], overrides: Partial<PlanContext> & { confirmedGone?: Set<string> } = {}) {
  const { confirmedGone = new Set<string>(), ...context } = overrides;
  const input: PlanContext = {
    stored: new Map(before.map((r) => [r.replica_id, r])),
    now: T0,
    stuckAfterMs: 6 * HOUR,
    finetuneStuckAfterMs: 12 * HOUR,
    maxDeleteFraction: 0.5,
    runId: 'run-1',
    ...context,
  };
  const upserts = planUpserts(seen, input);
  const deletions = planDeletions(new Set(seen.map((r) => r.replica_id)), confirmedGone, input);
  return { writes: [...upserts.writes, ...deletions.writes] };
}

const alerts = (writes: ReplicaWrite[]) => writes.flatMap((w) => w.events.filter((e) => e.alert_kind !== undefined));

describe('alertKindOf', () => {
  const statuses = [null, 'started', 'completed', 'error', 'errored', 'failed', 'queued', 'training', 'ready', 'live', 'deleted', '2025-01-01T00:00:00.000Z'];
  const failedFinetunes = new Set(['error', 'errored', 'failed']);
  it('alerts exactly on stuck, a status turned error, a fine-tune turned failed, and a replica first seen in error', () => {
    for (const type of EVENT_TYPES) {
      for (const to of statuses) {
        const expected =
          type === 'stuck'
            ? 'stuck'
            : (type === 'status_changed' || type === 'created') && to === 'error'
              ? 'error'
              : type === 'finetune_changed' && to !== null && failedFinetunes.has(to)
                ? 'finetune_failed'
                : undefined;
        expect(alertKindOf({ type, to }), `${type} -> ${String(to)}`).toBe(expected);
      }
    }
  });

  it('alerts on a replica first seen with a failed fine-tune, unless its status is error (one alert per event)', () => {
    for (const finetune of statuses) {
      const failed = finetune !== null && failedFinetunes.has(finetune);
      expect(alertKindOf({ type: 'created', to: 'completed' }, { finetune_status: finetune }), String(finetune)).toBe(failed ? 'finetune_failed' : undefined);
      expect(alertKindOf({ type: 'created', to: 'error' }, { finetune_status: finetune })).toBe('error');
      // Only first sight reads the row: a later change of the fine-tune has its own event.
      expect(alertKindOf({ type: 'status_changed', to: 'completed' }, { finetune_status: finetune })).toBeUndefined();
    }
  });
});

describe('withAlert', () => {
  it('leaves every non-alert event exactly as it was', () => {
    for (const type of EVENT_TYPES.filter((t) => t !== 'stuck')) {
      const plain = event(type, 'started', 'completed');
      expect(withAlert(plain, row('r1', { status: 'error', error_message: 'boom' }))).toBe(plain);
    }
  });

  it('copies each snapshot field only when the row holds a string there', () => {
    const odd: unknown[] = [null, undefined, 42, true, { nested: 'x' }, ['a']];
    for (const value of odd) {
      for (const field of ALERT_SNAPSHOT_FIELDS) {
        const source = row('r1', { status: 'error', error_message: 'boom', finetune_status: 'queued', [field]: value });
        const marked = withAlert(event('status_changed', 'started', 'error'), source);
        expect(marked, `${field} = ${JSON.stringify(value)}`).not.toHaveProperty(field);
        for (const other of ALERT_SNAPSHOT_FIELDS.filter((f) => f !== field)) expect(marked[other]).toBe(source[other]);
      }
    }
  });

  it('dates a stuck event by its stuck_since value and an error by the event time', () => {
    const since = '2025-03-01T03:00:00.000Z';
    expect(withAlert(event('stuck', null, since), row('r1', { status: 'started', training_progress: '10/100' }))).toEqual({
      ...event('stuck', null, since),
      alert_kind: 'stuck',
      since,
      replica_name: 'Name r1',
      status: 'started',
      training_progress: '10/100',
    });
    expect(withAlert(event('created', null, 'error'), row('r1', { status: 'error', error_message: 'bad consent' }))).toEqual({
      ...event('created', null, 'error'),
      alert_kind: 'error',
      since: T0.toISOString(),
      replica_name: 'Name r1',
      status: 'error',
      training_progress: '100/100',
      error_message: 'bad consent',
    });
  });
});

describe('the plan marks alert events', () => {
  it('a replica first seen in error, one turned error and one newly stuck alert; nothing else does', () => {
    const p = plan(
      [
        row('new-error', { status: 'error', error_message: 'consent failed' }),
        row('new-ok'),
        row('turned-error', { status: 'error', error_message: 'gpu lost' }),
        row('still-error', { status: 'error', error_message: 'gpu lost', training_progress: '50/100' }),
        row('stalled', { status: 'started', training_progress: '10/100' }),
        row('still-stuck', { status: 'started', training_progress: '10/100' }),
        row('progressed', { training_progress: '100/100' }),
      ],
      [
        stored('turned-error', { status: 'started', training_progress: '100/100' }),
        stored('still-error', { status: 'error', training_progress: '10/100' }),
        stored('stalled', { status: 'started', training_progress: '10/100', progress_changed_at: new Date(T0.getTime() - 7 * HOUR).toISOString() }),
        stored('still-stuck', { status: 'started', training_progress: '10/100', stuck_since: '2025-02-28T00:00:00.000Z', progress_changed_at: '2025-02-28T00:00:00.000Z' }),
        stored('progressed', { training_progress: '90/100' }),
      ],
    );
    expect(alerts(p.writes).map((e) => [e.replica_id, e.type, e.alert_kind, e.since])).toEqual([
      ['new-error', 'created', 'error', T0.toISOString()],
      ['turned-error', 'status_changed', 'error', T0.toISOString()],
      ['stalled', 'stuck', 'stuck', new Date(T0.getTime() - 7 * HOUR).toISOString()],
    ]);
    for (const e of p.writes.flatMap((w) => w.events).filter((e) => e.alert_kind === undefined)) {
      expect(Object.keys(e).sort()).toEqual(PLAIN_EVENT_KEYS);
    }
  });

  it('a replica back from deletion in error alerts only when its status changed to error', () => {
    const p = plan(
      [row('back-error', { status: 'error' }), row('back-same', { status: 'error' })],
      [stored('back-error', { status: 'started', deleted_at: T0.toISOString() }), stored('back-same', { status: 'error', deleted_at: T0.toISOString() })],
    );
    expect(alerts(p.writes).map((e) => [e.replica_id, e.type])).toEqual([['back-error', 'status_changed']]);
  });
});

describe('attentionOf', () => {
  const p = plan(
    [
      row('b-err', { status: 'error', error_message: 'bad' }),
      row('a-err', { status: 'error', replica_name: 7 }),
      row('c-err', { status: 'error', error_message: 'lost' }),
      row('quiet'),
    ],
    [],
  );

  it('lists every alert event of the writes, with null for what the row did not hold', () => {
    expect(sortAttention(attentionOf(p.writes))).toEqual([
      { replica_id: 'a-err', replica_name: null, kind: 'error', status: 'error', training_progress: '100/100', finetune_status: null, since: T0.toISOString(), error_message: null },
      { replica_id: 'b-err', replica_name: 'Name b-err', kind: 'error', status: 'error', training_progress: '100/100', finetune_status: null, since: T0.toISOString(), error_message: 'bad' },
      { replica_id: 'c-err', replica_name: 'Name c-err', kind: 'error', status: 'error', training_progress: '100/100', finetune_status: null, since: T0.toISOString(), error_message: 'lost' },
    ]);
  });

  it('leaves out every replica whose write lost its condition', () => {
    const ids = ['a-err', 'b-err', 'c-err'];
    for (let mask = 0; mask < 8; mask += 1) {
      const lost = ids.filter((_, i) => mask & (1 << i));
      expect(attentionOf(p.writes, lost).map((entry) => entry.replica_id).sort()).toEqual(ids.filter((id) => !lost.includes(id)));
    }
  });
});

describe('sortAttention', () => {
  it('orders by kind, then replica id, whatever order the entries came in', () => {
    const entry = (kind: AttentionEntry['kind'], replica_id: string): AttentionEntry => ({
      replica_id, kind, replica_name: null, status: null, training_progress: null, finetune_status: null, since: T0.toISOString(), error_message: null,
    });
    const sorted = [entry('error', 'A'), entry('error', 'a'), entry('error', 'b'), entry('finetune_failed', 'a'), entry('stuck', 'A'), entry('stuck', 'z')];
    for (let shift = 0; shift < sorted.length; shift += 1) {
      const shuffled = [...sorted.slice(shift), ...sorted.slice(0, shift)].reverse();
      expect(sortAttention(shuffled)).toEqual(sorted);
    }
  });
});

describe('the "Needs attention" block', () => {
  const entry = (i: number, overrides: Partial<AttentionEntry> = {}): AttentionEntry => ({
    replica_id: `r${String(i).padStart(3, '0')}`,
    replica_name: `Replica ${i}`,
    kind: 'error',
    status: 'error',
    training_progress: '40/100',
    finetune_status: null,
    since: T0.toISOString(),
    error_message: `failure ${i}`,
    ...overrides,
  });

  it('prints one line each (kind, name, id, detail, since) and the query commands', () => {
    const text = formatAttention([
      entry(1),
      entry(2, { kind: 'stuck', status: 'started', error_message: null, since: '2025-03-01T06:00:00.000Z' }),
      entry(3, { kind: 'finetune_failed', finetune_status: 'errored', error_message: null }),
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toBe('Needs attention (3): 1 error, 1 stuck, 1 finetune_failed');
    expect(lines[1]).toMatch(/^ {2}error +Replica 1 +r001 +failure 1 +since 2025-03-01T12:00:00.000Z$/);
    expect(lines[2]).toMatch(/^ {2}stuck +Replica 2 +r002 +progress 40\/100 +since 2025-03-01T06:00:00.000Z$/);
    expect(lines[3]).toMatch(/^ {2}finetune_failed +Replica 3 +r003 +fine-tune errored +since/);
    expect(text).toContain('npm run query -- --status error');
    expect(text).toContain('npm run query -- --stuck');
    expect(text).toContain('npm run query -- --finetune failed');
    expect(text).toContain('npm run query -- history r001');
  });

  it('names the flags of the run in the commands it prints, so they read the same tables', () => {
    const text = formatAttention([entry(1, { replica_id: '-r1 $(x)' })], { local: true, replicasTable: 'other', eventsTable: 'tavus-replica-events' });
    expect(text).toContain('npm run query -- --status error --local --table other');
    expect(text).toContain("npm run query -- history --local --table other -- '-r1 $(x)'");
  });

  it('shows at most 20 lines, then how many more', () => {
    for (const count of [1, 19, 20, 21, 300]) {
      const text = formatAttention(Array.from({ length: count }, (_, i) => entry(i)));
      const listed = text.split('\n').filter((line) => /^ {2}error /.test(line));
      expect(listed).toHaveLength(Math.min(count, 20));
      if (count > 20) expect(text).toContain(`and ${count - 20} more`);
      else expect(text).not.toMatch(/and \d+ more/);
    }
  });

  it('keeps API text that holds newlines or terminal escapes on its one line', () => {
    const text = formatAttention([entry(1, { replica_name: 'Evil\nName\x1b[31m', error_message: `line one\r\nline two ${'x'.repeat(500)}` })]);
    expect(text).not.toContain('\x1b');
    expect(text).not.toContain('\r');
    const line = text.split('\n')[1]!;
    expect(line).toContain('Evil\\nName\\x1b[31m');
    expect(line).toContain('line one\\r\\nline two');
    expect(line.length).toBeLessThan(200);
  });

  it('follows the summary table only when someone needs attention', () => {
    const summary = { status: 'succeeded', run_id: 'run-1', duration_ms: 1000, warnings: [], attention: [] } as unknown as RunSummary;
    expect(formatSummary(summary)).not.toContain('Needs attention');
    const text = formatSummary({ ...summary, attention: [entry(1)] });
    expect(text.indexOf('Needs attention (1):')).toBeGreaterThan(text.indexOf('run id'));
  });
});
