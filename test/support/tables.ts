/** Fresh tables for one test, and what a table holds, in an order that does not depend on DynamoDB. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { scanTable } from '../../cli/query/read.js';
import { createMissingTables } from '../../functions/engine/load/table-provisioning.js';
import type { TableNames } from '../../functions/engine/contract/tables.js';
import { uniqueName } from './dynamodb.js';

/** The three tables of a sync, created with unique names (prefix "h" gives h-replicas-1a2b...). */
export async function createFreshTables(client: DynamoDBClient, prefix?: string): Promise<TableNames> {
  const name = (table: string): string => uniqueName(prefix === undefined ? table : `${prefix}-${table}`);
  const tables = { replicas: name('replicas'), runs: name('runs'), events: name('events') };
  await createMissingTables(client, tables);
  return tables;
}

/**
 * Every item of a table (the query command's parallel Scan, with consistent reads), sorted by
 * replica_id (or run_id) then event_key: Scan order is DynamoDB's, and tests compare whole tables.
 */
export async function scanAll(documents: DynamoDBDocumentClient, table: string): Promise<Record<string, unknown>[]> {
  const items = await scanTable(documents, { TableName: table, ConsistentRead: true });
  const key = (item: Record<string, unknown>) => `${String(item.replica_id ?? item.run_id)}|${String(item.event_key ?? '')}`;
  // Code-unit order, not localeCompare: the same on every machine whatever its locale.
  return items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
