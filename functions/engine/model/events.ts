/**
 * A replica's history, as the events table keeps it, and the alert events among it: the shapes the
 * plan writes, the store carries, the run summary lists and the notifier and the query tools read.
 * Types and names only: the rules that make them live in plan/.
 */

export const EVENT_TYPES = [
  'created',
  'status_changed',
  'progress_changed',
  'deleted',
  'restored',
  'stuck',
  'unstuck',
  'finetune_changed',
  'renamed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One line of a replica's history, as stored in the events table (alert events: see plan/attention.ts). */
export interface ReplicaEvent extends Partial<AlertFields> {
  replica_id: string;
  /**
   * The item version the change produced, the type, then the replicas table (`eventKey` in
   * plan/plan.ts): unique per change and replicas table, and the same when a failed run is retried from
   * the same stored state. Events written before keys named their table end at the type.
   */
  event_key: string;
  at: string;
  type: EventType;
  from: string | null;
  to: string | null;
  run_id: string;
  /** Epoch seconds; only when events are configured to expire. */
  expires_at?: number;
}

/**
 * `stuck`: training (or a Phoenix-4.5 fine-tune) stopped moving. `error`: the status turned `error`,
 * or the replica was first seen in error. `finetune_failed`: the fine-tune turned failed, or the
 * replica was first seen with a failed fine-tune (its preview still works: not an error).
 */
export const ALERT_KINDS = ['error', 'finetune_failed', 'stuck'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** API fields an alert event copies from the row, each only when the row holds a string there. */
export const ALERT_SNAPSHOT_FIELDS = ['replica_name', 'status', 'training_progress', 'finetune_status', 'error_message'] as const;
export type SnapshotField = (typeof ALERT_SNAPSHOT_FIELDS)[number];

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
