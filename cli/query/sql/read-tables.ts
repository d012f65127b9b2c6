/** The sync's tables read into columns for DuckDB: each a parallel Scan, the runs table without its lease item. */
import type { DynamoDBDocumentClient, ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import { scanEach } from '../read.js';
import { LEASE_ID_PREFIX, type TableNames } from '../../../functions/engine/contract/tables.js';
import { ColumnCollector, type ColumnTable } from './columns.js';
import type { SqlTable } from './referenced-tables.js';

/** Segments of each Scan: DynamoDB serves them in parallel; a few keep one process busy without throttling a table. */
export const SCAN_SEGMENTS = 4;

/**
 * Columns each table has even when it is empty, typed VARCHAR until values say otherwise: the
 * saved questions name them, and they must run on a table the sync has not filled yet.
 */
const BASE_COLUMNS: Record<SqlTable, readonly string[]> = {
  replicas: [
    'replica_id', 'replica_name', 'status', 'replica_type', 'model_name', 'training_progress', 'created_at', 'updated_at',
    'error_message', 'finetune_status', 'finetune_status_changed_at', 'status_changed_at', 'stuck_since', 'stuck_reason',
    'deleted_at', 'first_seen_at', 'last_changed_at',
  ],
  events: ['replica_id', 'event_key', 'at', 'type', 'from', 'to', 'run_id'],
  runs: ['run_id', 'status', 'started_at', 'finished_at'],
};


/** The Scan of `table` (named `name` in DynamoDB): runs keeps only run records. */
function scanInput(table: SqlTable, name: string): ScanCommandInput {
  if (table !== 'runs') return { TableName: name };
  return {
    TableName: name,
    FilterExpression: 'NOT begins_with(run_id, :lease)',
    ExpressionAttributeValues: { ':lease': LEASE_ID_PREFIX },
  };
}

/** Every item of `table`, as columns. */
export async function readTable(documents: DynamoDBDocumentClient, tables: TableNames, table: SqlTable): Promise<ColumnTable> {
  const collector = new ColumnCollector(BASE_COLUMNS[table]);
  await scanEach(documents, scanInput(table, tables[table]), (items) => {
    for (const item of items) collector.add(item);
  }, SCAN_SEGMENTS);
  return collector.table();
}
