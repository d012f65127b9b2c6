/**
 * Which events make a replica newly need a person, and what they say about it. Pure: the plan
 * marks its events with `withAlert`, the run derives its `attention` list from the events it
 * actually wrote with `attentionOf`, and a notifier reading the events table's stream sees the same
 * fields on the stored item. One rule, three readers.
 */
import { finetuneClass } from '../model/finetune.js';
import { ALERT_SNAPSHOT_FIELDS, type AlertKind, type AttentionEntry, type ReplicaEvent, type SnapshotField } from '../model/events.js';
import type { ReplicaWrite } from '../model/write.js';

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
