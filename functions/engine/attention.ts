/**
 * Which events make a replica newly need a person, and what they say about it. Pure: the plan
 * marks its events with `withAlert`, the run derives its `attention` list from the events it
 * actually wrote with `attentionOf`, and a notifier reading the events table's stream sees the same
 * fields on the stored item. One rule, three readers.
 */
import { finetuneClass } from './finetune.js';
import type { ReplicaEvent, ReplicaWrite } from './plan.js';

/**
 * `stuck`: training (or a Phoenix-4.5 fine-tune) stopped moving. `error`: the status turned `error`,
 * or the replica was first seen in error. `finetune_failed`: the fine-tune turned failed, or the
 * replica was first seen with a failed fine-tune (its preview still works: not an error).
 */
export const ALERT_KINDS = ['error', 'finetune_failed', 'stuck'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** API fields an alert event copies from the row, each only when the row holds a string there. */
export const ALERT_SNAPSHOT_FIELDS = ['replica_name', 'status', 'training_progress', 'finetune_status', 'error_message'] as const;
type SnapshotField = (typeof ALERT_SNAPSHOT_FIELDS)[number];

/** What an alert event carries beyond a plain event: why it alerts and the replica at that moment. */
export type AlertFields = { alert_kind: AlertKind; since: string } & Partial<Record<SnapshotField, string>>;

/** One line of the run summary's `attention`: a replica that newly needs a person. */
export interface AttentionEntry {
  replica_id: string;
  replica_name: string | null;
  kind: AlertKind;
  status: string | null;
  training_progress: string | null;
  finetune_status: string | null;
  /** Stuck: the moment progress last moved (`stuck_since`); otherwise when the run saw it. */
  since: string;
  error_message: string | null;
}

/**
 * The alert kind of an event, or undefined for an event no one needs to hear about. `row` is the
 * API row of the change: a `created` event names only the status, so a first sight with a failed
 * fine-tune is read from the row (an error status wins: one alert per event).
 */
export function alertKindOf(event: Pick<ReplicaEvent, 'type' | 'to'>, row: Record<string, unknown> = {}): AlertKind | undefined {
  if (event.type === 'stuck') return 'stuck';
  if ((event.type === 'status_changed' || event.type === 'created') && event.to === 'error') return 'error';
  if (event.type === 'finetune_changed' && finetuneClass(event.to) === 'failed') return 'finetune_failed';
  if (event.type === 'created' && finetuneClass(row.finetune_status) === 'failed') return 'finetune_failed';
  return undefined;
}

/**
 * The event as it is stored: an alert event gains its kind, `since` and a snapshot of `row` (the
 * API row of this change); any other event comes back unchanged.
 */
export function withAlert(event: ReplicaEvent, row: Record<string, unknown>): ReplicaEvent {
  const kind = alertKindOf(event, row);
  if (kind === undefined) return event;
  const snapshot: Partial<Record<SnapshotField, string>> = {};
  for (const field of ALERT_SNAPSHOT_FIELDS) {
    const value = row[field];
    if (typeof value === 'string') snapshot[field] = value;
  }
  // A stuck event's `to` is the stuck_since value; an error or failed fine-tune is dated by the run that saw it.
  const since = kind === 'stuck' && event.to !== null ? event.to : event.at;
  return { ...event, ...snapshot, alert_kind: kind, since };
}

/**
 * The attention entries of the writes that landed: `conflicts` names the replicas whose write lost
 * its condition to another writer, and so wrote no event.
 */
export function attentionOf(writes: Iterable<ReplicaWrite>, conflicts: Iterable<string> = []): AttentionEntry[] {
  const lost = new Set(conflicts);
  const entries: AttentionEntry[] = [];
  for (const write of writes) {
    if (lost.has(write.replicaId)) continue;
    for (const event of write.events) {
      if (event.alert_kind === undefined) continue;
      entries.push({
        replica_id: event.replica_id,
        replica_name: event.replica_name ?? null,
        kind: event.alert_kind,
        status: event.status ?? null,
        training_progress: event.training_progress ?? null,
        finetune_status: event.finetune_status ?? null,
        since: event.since ?? event.at,
        error_message: event.error_message ?? null,
      });
    }
  }
  return entries;
}

/** The summary's order: by kind, then replica id (code-unit order, the same on every machine). */
export function sortAttention(entries: AttentionEntry[]): AttentionEntry[] {
  const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...entries].sort((a, b) => compare(a.kind, b.kind) || compare(a.replica_id, b.replica_id));
}
