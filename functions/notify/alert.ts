/**
 * An alert as the notifier reads it: one alert event of the events table (the sync writes it with
 * `alert_kind` and a snapshot of the replica), taken from a DynamoDB stream record's new image.
 * Plain data in, plain data out: no SDK, so the tests and the docs generator use it as is.
 */
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';

/** The kinds the sync writes; a kind added later still alerts, listed under its own name. */
export const ALERT_KINDS = ['stuck', 'error', 'finetune_failed'] as const;
export type KnownAlertKind = (typeof ALERT_KINDS)[number];

export interface Alert {
  replica_id: string;
  kind: string;
  /** When the event was written (the event's `at`). */
  at?: string;
  run_id?: string;
  replica_name?: string;
  status?: string;
  training_progress?: string;
  finetune_status?: string;
  error_message?: string;
  /** Since when the replica has been in this state (ISO time). */
  since?: string;
}

const SNAPSHOT_FIELDS = ['at', 'run_id', 'replica_name', 'status', 'training_progress', 'finetune_status', 'error_message', 'since'] as const;

/**
 * The alerts among stream records: inserts whose new image carries `alert_kind`. Anything else
 * (a non-alert event, a TTL removal, a record without an image) is not an alert and is skipped,
 * so a mapping without its filter would still send nothing wrong.
 */
export function alertsFromRecords(records: readonly DynamoDBRecord[]): Alert[] {
  const alerts: Alert[] = [];
  for (const record of records) {
    if (record.eventName !== 'INSERT') continue;
    const image = record.dynamodb?.NewImage;
    const replicaId = text(image?.replica_id);
    const kind = text(image?.alert_kind);
    if (image === undefined || replicaId === undefined || kind === undefined) continue;
    const alert: Alert = { replica_id: replicaId, kind };
    for (const field of SNAPSHOT_FIELDS) {
      const value = text(image[field]);
      if (value !== undefined) alert[field] = value;
    }
    alerts.push(alert);
  }
  return latestPerReplicaAndKind(alerts);
}

/** A replica that alerted twice for the same reason within one batch is one line: the latest. */
function latestPerReplicaAndKind(alerts: Alert[]): Alert[] {
  const latest = new Map<string, Alert>();
  for (const alert of alerts) {
    const key = `${alert.kind}\u0000${alert.replica_id}`;
    const seen = latest.get(key);
    if (seen === undefined || (alert.at ?? '') >= (seen.at ?? '')) latest.set(key, alert);
  }
  return [...latest.values()];
}

/** A string attribute's value; numbers are kept as their text, anything else is absent. */
function text(value: AttributeValue | undefined): string | undefined {
  if (value?.S !== undefined && value.S !== '') return value.S;
  if (value?.N !== undefined) return value.N;
  return undefined;
}
