/**
 * A table of the sync, built from its shared definition (functions/engine/contract/tables.ts) and carrying
 * its role, so the function binds a table and its definition as one: a caller cannot pair the
 * replicas table with the runs table's definition or grants.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { TableV2, type TablePropsV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import type { TableRole } from '../functions/engine/contract/dynamodb-actions.js';
import { REPLICA_EVENTS_TABLE, REPLICAS_TABLE, SYNC_RUNS_TABLE, type TableDefinition } from '../functions/engine/contract/tables.js';
import { tableShape, type TableShape } from './table-props.js';

const DEFINITIONS: Record<TableRole, TableDefinition> = {
  replicas: REPLICAS_TABLE,
  events: REPLICA_EVENTS_TABLE,
  runs: SYNC_RUNS_TABLE,
};

export interface SyncTableProps extends Omit<TablePropsV2, keyof TableShape | 'removalPolicy' | 'deletionProtection'> {
  role: TableRole;
  tableName: string;
  /**
   * Kept: deletion protection, and retained when the stack is deleted or the table replaced, for
   * tables that hold what the API no longer can. Otherwise the table goes with the stack.
   */
  keep: boolean;
}

export class SyncTable extends TableV2 {
  readonly role: TableRole;

  constructor(scope: Construct, id: string, { role, tableName, keep, ...extra }: SyncTableProps) {
    const definition = DEFINITIONS[role];
    super(scope, id, {
      ...extra,
      ...tableShape(tableName, definition),
      ...(keep ? { deletionProtection: true, removalPolicy: RemovalPolicy.RETAIN } : { removalPolicy: RemovalPolicy.DESTROY }),
    });
    this.role = role;
  }
}
