/**
 * Alert events as the sync writes them (the shape agreed with the attention work): an events-table
 * item with `alert_kind` and a snapshot of the replica. Tests put them in themselves until the
 * sync writes them; the notifier must read them the same either way.
 */
import { BatchWriteCommand, type BatchWriteCommandOutput, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Alert } from '../../functions/notify/alert.js';

export interface AlertEventInput extends Omit<Alert, 'kind'> {
  kind: string;
  /** The event's item version (the sort key's prefix). */
  version?: number;
  type?: string;
}

/** The stored item: key, event fields, then the alert fields (each only when the replica had a value). */
export function alertEventItem(input: AlertEventInput): Record<string, unknown> {
  const { kind, version = 1, type = kind === 'stuck' ? 'stuck' : 'status_changed', ...snapshot } = input;
  return {
    replica_id: input.replica_id,
    event_key: `${String(version).padStart(10, '0')}#${type}`,
    at: input.at ?? '2026-11-29T10:00:00.000Z',
    type,
    from: null,
    to: kind === 'error' ? 'error' : null,
    run_id: input.run_id ?? 'run-alerts-test',
    alert_kind: kind,
    ...Object.fromEntries(Object.entries(snapshot).filter(([name, value]) => typeof value === 'string' && !['at', 'run_id'].includes(name))),
  };
}

/** Writes the items, 25 to a request, retrying what DynamoDB leaves unprocessed. */
export async function putItems(documents: DynamoDBDocumentClient, table: string, items: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let requests: unknown[] | undefined = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (requests && requests.length > 0) {
      const result: BatchWriteCommandOutput = await documents.send(new BatchWriteCommand({ RequestItems: { [table]: requests as never } }));
      requests = result.UnprocessedItems?.[table];
    }
  }
}

/** `count` distinct alerts of mixed kinds, with names, progress, since and error messages. */
export function manyAlerts(count: number, prefix = 'rmany'): AlertEventInput[] {
  const kinds = ['stuck', 'error', 'finetune_failed'];
  return Array.from({ length: count }, (_, i) => ({
    replica_id: `${prefix}${String(i).padStart(4, '0')}`,
    kind: kinds[i % kinds.length]!,
    replica_name: `Replica ${String(i).padStart(4, '0')}`,
    status: i % 3 === 1 ? 'error' : 'started',
    training_progress: `${(i * 7) % 100}/100`,
    ...(i % 3 === 2 ? { finetune_status: 'failed' } : {}),
    ...(i % 3 === 1 ? { error_message: `Training failed for replica ${i}: the video has no visible face.` } : {}),
    since: new Date(Date.UTC(2026, 10, 29, 4, i % 60)).toISOString(),
  }));
}
