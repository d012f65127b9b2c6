/**
 * Pure decisions: given what the API returned and what the table holds, what to write. No I/O and
 * no clock: `now` comes in, a plan comes out, so every rule here is unit-tested without DynamoDB.
 */
import {
  apiFields,
  asString,
  contentHash,
  progressPercent,
  stableJson,
  type ApiRow,
  type ReplicaType,
  type StoredReplica,
  type StuckReason,
  type SyncAttribute,
} from '../model/replica.js';
import { withAlert } from './attention.js';
import type { AlertFields, EventType, ReplicaEvent } from '../model/events.js';
import type { Rejection, ReplicaWrite } from '../model/write.js';
import { measureReplicaWrite } from './item-limits.js';
import { finetuneClass, finetuneStuckSince } from '../model/finetune.js';

export interface PlanCounts {
  created: number;
  updated: number;
  unchanged: number;
  restored: number;
  deleted: number;
  /** Live replicas in scope carrying `stuck_since` once the plan is written. */
  stuck: number;
  /** Live replicas in scope whose status is `error` once the plan is written. */
  inError: number;
  /** Replicas whose status became `error` in this run (new ones included). */
  newlyInError: number;
  /** Live replicas in scope whose fine-tune failed once the plan is written (they are not in error). */
  finetuneFailed: number;
}

export interface Plan {
  writes: ReplicaWrite[];
  counts: PlanCounts;
  /** Set when the mass-deletion breaker held back every deletion. */
  breaker?: { wouldDelete: number; liveInScope: number; maxDeleteFraction: number };
}

/** What every decision of one run shares. */
export interface PlanContext {
  /** The table's current state (the projection the sync reads). */
  stored: Map<string, StoredReplica>;
  scope?: ReplicaType;
  now: Date;
  stuckAfterMs: number;
  /** A fine-tune in progress this long without a change of `finetune_status` is stuck. */
  finetuneStuckAfterMs: number;
  maxDeleteFraction: number;
  runId: string;
  eventTtlDays?: number;
  /**
   * The replicas table this history belongs to, named at the end of every event key, so two
   * replicas tables sharing one events table keep their histories beside each other and never
   * overwrite one another's. Always set by the sync; a test may leave it out.
   */
  replicasTable?: string;
}

/** Deletions only ever touch live replicas of the synced type that the walk did not return. */
export function deletionCandidates(
  stored: Map<string, StoredReplica>,
  seen: { has(replicaId: string): boolean },
  scope?: ReplicaType,
): string[] {
  const candidates: string[] = [];
  for (const replica of stored.values()) {
    if (replica.deleted_at === undefined && inScope(replica, scope) && !seen.has(replica.replica_id)) {
      candidates.push(replica.replica_id);
    }
  }
  return candidates;
}

export function emptyCounts(): PlanCounts {
  return { created: 0, updated: 0, unchanged: 0, restored: 0, deleted: 0, stuck: 0, inError: 0, newlyInError: 0, finetuneFailed: 0 };
}

export function addCounts(a: PlanCounts, b: PlanCounts): PlanCounts {
  return combineCounts(a, b, 1);
}

/** `a` less `b`, count by count. */
export function subtractCounts(a: PlanCounts, b: PlanCounts): PlanCounts {
  return combineCounts(a, b, -1);
}

function combineCounts(a: PlanCounts, b: PlanCounts, sign: 1 | -1): PlanCounts {
  const result = emptyCounts();
  for (const key of Object.keys(result) as Array<keyof PlanCounts>) result[key] = a[key] + sign * b[key];
  return result;
}

/**
 * A returned row that needs no write now or at any clock reading this run: stored, live, not
 * stuck, not training and no fine-tune in progress (so it cannot become stuck), and its API fields
 * unchanged. The walk may drop such rows as they arrive and keep only their ids; `planUnchanged`
 * counts them.
 */
export function isSettled(row: ApiRow, before: StoredReplica | undefined): boolean {
  return (
    before !== undefined &&
    before.deleted_at === undefined &&
    before.stuck_since === undefined &&
    before.status !== 'started' &&
    finetuneClass(before.finetune_status) !== 'in_progress' &&
    before.content_hash === contentHash(apiFields(row))
  );
}

/**
 * Counts for replicas this run leaves as stored: settled ones (the walk dropped them as needing
 * nothing) and rejected ones (DynamoDB cannot store their new row). Each is unchanged, with the
 * flags of its stored copy if that copy is live.
 */
export function planUnchanged(ids: Iterable<string>, stored: Map<string, StoredReplica>): PlanCounts {
  const counts = emptyCounts();
  for (const id of ids) countUnchanged(counts, stored.get(id));
  return counts;
}

function countUnchanged(counts: PlanCounts, replica: StoredReplica | undefined): void {
  counts.unchanged += 1;
  if (replica !== undefined && replica.deleted_at === undefined) countFlags(counts, replica);
}

/** A live replica the run leaves as stored (settled, rejected, unseen, held back): its flags still count. */
function countFlags(counts: PlanCounts, replica: StoredReplica): void {
  if (replica.stuck_since !== undefined) counts.stuck += 1;
  if (replica.status === 'error') counts.inError += 1;
  if (finetuneClass(replica.finetune_status) === 'failed') counts.finetuneFailed += 1;
}

/**
 * An event's sort key: the item version the change produced (10 digits), its type, and the
 * replicas table whose history it is (table names never hold `#`). Unique per change and table,
 * and the same when a failed run is retried from the same stored state.
 */
export function eventKey(version: number, type: EventType, replicasTable?: string): string {
  const key = `${String(version).padStart(10, '0')}#${type}`;
  return replicasTable === undefined ? key : `${key}#${replicasTable}`;
}

/** Events of one run: same time, same run id, same expiry. */
function eventMaker(context: PlanContext) {
  const at = context.now.toISOString();
  const expiresAt =
    context.eventTtlDays === undefined ? undefined : Math.floor(context.now.getTime() / 1000) + context.eventTtlDays * 86_400;
  return (replicaId: string, version: number, type: EventType, from: unknown, to: unknown): ReplicaEvent => ({
    replica_id: replicaId,
    event_key: eventKey(version, type, context.replicasTable),
    at,
    type,
    from: typeof from === 'string' ? from : null,
    to: typeof to === 'string' ? to : null,
    run_id: context.runId,
    ...(expiresAt === undefined ? {} : { expires_at: expiresAt }),
  });
}

/** A returned row as it will be stored, with what the plan derives from it. */
interface Upsert {
  row: ApiRow;
  before: StoredReplica | undefined;
  fields: Record<string, unknown>;
  hash: string;
  status: string | undefined;
  progress: string | undefined;
  version: number;
  statusChanged: boolean;
  progressChanged: boolean;
  progressChangedAt: string;
  finetuneStatus: unknown;
  finetuneChanged: boolean;
  finetuneChangedAt: string | undefined;
  stuckSince: string | undefined;
  stuckReason: StuckReason | undefined;
}

function upsertOf(row: ApiRow, before: StoredReplica | undefined, at: string, input: PlanContext): Upsert {
  const fields = apiFields(row);
  const status = asString(fields.status);
  const progress = asString(fields.training_progress);
  const progressChanged = before !== undefined && before.training_progress !== progress;
  const progressChangedAt = before === undefined || progressChanged ? at : before.progress_changed_at;
  const finetuneStatus = fields.finetune_status;
  const finetuneChanged = before !== undefined && !sameValue(before.finetune_status, finetuneStatus);
  const finetuneChangedAt = finetuneChangedAtFor(before, finetuneChanged, finetuneStatus, at);
  const trainingStuck = stuckSinceFor(status, progressChangedAt, input.now, input.stuckAfterMs);
  const finetuneStuck = finetuneStuckSince(finetuneStatus, finetuneChangedAt, input.now, input.finetuneStuckAfterMs);
  return {
    row,
    before,
    fields,
    hash: contentHash(fields),
    status,
    progress,
    version: (before?.version ?? 0) + 1,
    statusChanged: before !== undefined && before.status !== status,
    progressChanged,
    progressChangedAt,
    finetuneStatus,
    finetuneChanged,
    finetuneChangedAt,
    // A stalled training wins: the fine-tune cannot move before the training is done.
    stuckSince: trainingStuck ?? finetuneStuck,
    stuckReason: trainingStuck !== undefined ? 'training' : finetuneStuck !== undefined ? 'finetune' : undefined,
  };
}

/**
 * `finetune_status_changed_at`: set when a `finetune_status` is first seen and at every change; a
 * replica that never had one (Phoenix-3/4) never gets it. An item stored before the sync kept it
 * gets it the first time its fine-tune is seen in progress (from then it can become stuck); any
 * other such item is left as it is, so an upgrade rewrites nothing that did not change.
 */
function finetuneChangedAtFor(before: StoredReplica | undefined, changed: boolean, finetuneStatus: unknown, at: string): string | undefined {
  if (before === undefined) return finetuneStatus === undefined ? undefined : at;
  if (changed) return at;
  if (before.finetune_status_changed_at === undefined && finetuneClass(finetuneStatus) === 'in_progress') return at;
  return before.finetune_status_changed_at;
}

/**
 * Two API values alike as stored (a null is left out, so null and absent are the same), compared
 * as the content hash sees them: a map whose keys come back in another order is the same value.
 */
function sameValue(a: unknown, b: unknown): boolean {
  return stableJson(a ?? null) === stableJson(b ?? null);
}

/**
 * Writes for replicas the API returned: any slice of them, so a large walk can be planned and
 * written a few thousand at a time instead of holding every item at once. Each write is checked
 * against DynamoDB's limits here, once: one that breaks a limit is `rejected` (not written, its
 * replica counted as unchanged with its stored flags); every write carries its measured `bytes`.
 */
export function planUpserts(rows: Iterable<ApiRow>, input: PlanContext): { writes: ReplicaWrite[]; counts: PlanCounts; rejected: Rejection[] } {
  const at = input.now.toISOString();
  const counts = emptyCounts();
  const writes: ReplicaWrite[] = [];
  const rejected: Rejection[] = [];
  const event = eventMaker(input);

  for (const row of rows) {
    const before = input.stored.get(row.replica_id);
    const upsert = upsertOf(row, before, at, input);
    const events = eventsFor(upsert, event);
    const changed =
      before === undefined ||
      before.content_hash !== upsert.hash ||
      events.length > 0 ||
      before.finetune_status_changed_at !== upsert.finetuneChangedAt;
    if (!changed) {
      countUpsert(counts, upsert);
      continue;
    }
    const planned = {
      kind: 'put' as const,
      replicaId: row.replica_id,
      item: itemFor(upsert, at),
      ...(before === undefined ? {} : { expectedVersion: before.version }),
      events: events.map((event) => withAlert(event, row)),
    };
    const measured = measureReplicaWrite(planned);
    if (measured.violation !== undefined) {
      rejected.push(measured.violation);
      countUnchanged(counts, before);
      continue;
    }
    countUpsert(counts, upsert);
    writes.push({ ...planned, bytes: measured.bytes });
  }

  return { writes, counts, rejected };
}

/** The history lines a change from `before` to the returned row makes. */
function eventsFor(upsert: Upsert, event: ReturnType<typeof eventMaker>): ReplicaEvent[] {
  const { row, before, status, progress, version } = upsert;
  const id = row.replica_id;
  const events: ReplicaEvent[] = [];
  if (before === undefined) {
    events.push(event(id, version, 'created', null, status));
  } else {
    if (before.deleted_at !== undefined) events.push(event(id, version, 'restored', 'deleted', 'live'));
    if (upsert.statusChanged) events.push(event(id, version, 'status_changed', before.status, status));
    if (upsert.progressChanged) events.push(event(id, version, 'progress_changed', before.training_progress, progress));
    if (upsert.finetuneChanged) events.push(event(id, version, 'finetune_changed', before.finetune_status, upsert.finetuneStatus));
    if (!sameValue(before.replica_name, upsert.fields.replica_name)) events.push(event(id, version, 'renamed', before.replica_name, upsert.fields.replica_name));
  }
  events.push(...stuckEvents(upsert, event));
  return events;
}

/**
 * `stuck` when a replica becomes stuck, `unstuck` when it no longer is; both when it stays stuck
 * for another reason or since another moment (a stalled training that resumed and stalled again,
 * a fine-tune stall after a training one), so the history names every stretch with its own start.
 */
function stuckEvents({ row, before, version, stuckSince, stuckReason }: Upsert, event: ReturnType<typeof eventMaker>): ReplicaEvent[] {
  const wasStuck = before?.stuck_since;
  // Items stored before fine-tunes were watched carry no reason: only training could stall then.
  const wasReason = wasStuck === undefined ? undefined : (before?.stuck_reason ?? 'training');
  if (wasStuck === stuckSince && wasReason === stuckReason) return [];
  const events: ReplicaEvent[] = [];
  if (wasStuck !== undefined) events.push(event(row.replica_id, version, 'unstuck', wasStuck, null));
  if (stuckSince !== undefined) events.push(event(row.replica_id, version, 'stuck', null, stuckSince));
  return events;
}

/** Each returned replica counts in exactly one of created, updated, unchanged, restored. */
function countUpsert(counts: PlanCounts, { before, status, hash, stuckSince, finetuneStatus }: Upsert): void {
  if (stuckSince !== undefined) counts.stuck += 1;
  if (status === 'error') counts.inError += 1;
  if (finetuneClass(finetuneStatus) === 'failed') counts.finetuneFailed += 1;
  if (status === 'error' && (before === undefined || before.status !== 'error')) counts.newlyInError += 1;
  if (before === undefined) counts.created += 1;
  else if (before.deleted_at !== undefined) counts.restored += 1;
  else if (before.content_hash !== hash) counts.updated += 1;
  else counts.unchanged += 1;
}

/** The whole new item: the API fields (none named like a sync attribute: see `apiFields`) plus the sync's own attributes. */
function itemFor(upsert: Upsert, at: string): Record<string, unknown> {
  const { row, before, fields, hash, version, stuckSince, stuckReason, finetuneChangedAt } = upsert;
  const own: Partial<Record<SyncAttribute, unknown>> = {
    first_seen_at: before?.first_seen_at ?? at,
    last_changed_at: at,
    status_changed_at: before === undefined || upsert.statusChanged ? at : before.status_changed_at,
    progress_changed_at: upsert.progressChangedAt,
    content_hash: hash,
    version,
  };
  const percent = progressPercent(upsert.progress);
  if (percent !== undefined) own.training_progress_pct = percent;
  if (finetuneChangedAt !== undefined) own.finetune_status_changed_at = finetuneChangedAt;
  if (stuckSince !== undefined) {
    own.stuck_since = stuckSince;
    own.stuck_reason = stuckReason;
  }
  return { ...fields, replica_id: row.replica_id, ...own };
}

/**
 * Deletions, and the flags of live replicas the API did not return: those confirmed gone are
 * marked deleted (unless the breaker holds them all back); the rest stay as they are.
 */
export function planDeletions(
  seen: { has(replicaId: string): boolean },
  confirmedGone: Set<string> | undefined,
  input: PlanContext,
): { writes: ReplicaWrite[]; counts: PlanCounts; breaker?: Plan['breaker'] } {
  const at = input.now.toISOString();
  const counts = emptyCounts();
  const event = eventMaker(input);
  const gone = confirmedGone ?? new Set<string>();
  let liveInScope = 0;
  const deletions: ReplicaWrite[] = [];
  for (const replica of input.stored.values()) {
    if (replica.deleted_at !== undefined || !inScope(replica, input.scope)) continue;
    liveInScope += 1;
    if (seen.has(replica.replica_id)) continue;
    if (gone.has(replica.replica_id)) {
      const version = replica.version + 1;
      const events = [event(replica.replica_id, version, 'deleted', 'live', 'deleted')];
      if (replica.stuck_since !== undefined) {
        events.push(event(replica.replica_id, version, 'unstuck', replica.stuck_since, null));
      }
      deletions.push({
        kind: 'mark-deleted',
        replicaId: replica.replica_id,
        expectedVersion: replica.version,
        version,
        deletedAt: at,
        events,
        bytes: measureReplicaWrite({ replicaId: replica.replica_id, events }).bytes,
      });
      continue;
    }
    countFlags(counts, replica);
  }

  const tripped = deletions.length > 3 && deletions.length > input.maxDeleteFraction * liveInScope;
  if (tripped) {
    // Held back: those replicas stay live, with whatever flags they had.
    for (const write of deletions) {
      countFlags(counts, input.stored.get(write.replicaId) as StoredReplica);
    }
    return {
      writes: [],
      counts,
      breaker: { wouldDelete: deletions.length, liveInScope, maxDeleteFraction: input.maxDeleteFraction },
    };
  }
  counts.deleted = deletions.length;
  return { writes: deletions, counts };
}

/**
 * `stuck_since` is the moment training progress last moved, set once a `started` replica has not
 * moved for the stuck-after duration: on-call reads it as "no progress since".
 */
export function stuckSinceFor(
  status: string | undefined,
  progressChangedAt: string,
  now: Date,
  stuckAfterMs: number,
): string | undefined {
  if (status !== 'started') return undefined;
  return now.getTime() - Date.parse(progressChangedAt) >= stuckAfterMs ? progressChangedAt : undefined;
}

function inScope(replica: StoredReplica, scope?: ReplicaType): boolean {
  return scope === undefined || replica.replica_type === scope;
}
