/**
 * The DynamoDB IAM actions the engine sends, per table: the deployed function's role grants each
 * table exactly these (lib/sync-function.ts), and test/dynamodb-actions.test.ts records what real
 * syncs send and holds this list to it both ways. Change it together with the DynamoDB store and
 * ledger (load/dynamo-replica-store.ts, load/dynamo-run-ledger.ts).
 *
 * A transaction is authorized item by item: `TransactWriteItems` needs the action of each item it
 * carries (a Put needs PutItem, an Update UpdateItem), whatever its condition. No index is read, so
 * no index gets an action. The replicas table gets no DeleteItem or BatchWriteItem: the sync never
 * deletes a replica item, and IAM enforces it.
 */
import type { TableNames } from './tables.js';

export type TableRole = keyof TableNames;

export const DYNAMODB_ACTIONS = {
  /** The state read (a parallel Scan); items created with Put and marked deleted with Update, in transactions. */
  replicas: ['dynamodb:Scan', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  /** Events, written with Put beside their replica in the same transactions. */
  events: ['dynamodb:PutItem'],
  /** The lease (a conditional Put, released with a conditional Delete) and the run record (a Put). */
  runs: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
} as const satisfies Record<TableRole, readonly `dynamodb:${string}`[]>;
