/**
 * The three tables as plain data: the one source of truth for their keys, indexes and TTL.
 * `lib/` turns these into CDK props and `table-provisioning.ts` into CreateTable input, so the tables a laptop
 * creates with `--create-tables` are the tables `cdk deploy` creates. No aws-cdk-lib here: this
 * file ships in the Lambda bundle.
 */

export interface KeyAttribute {
  name: string;
  type: 'S' | 'N';
}

/** Every index projects the whole item: analysts read items from indexes, not just keys. */
export interface IndexDefinition {
  indexName: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
}

export interface TableDefinition {
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  globalSecondaryIndexes: IndexDefinition[];
  /** Attribute holding an epoch-seconds expiry; DynamoDB deletes the item some time after it. */
  timeToLiveAttribute?: string;
  /** A DynamoDB stream of each written item's new image, read by the alerts notifier. */
  stream?: 'NEW_IMAGE';
}

/** GSI on `status` + `created_at`: "replicas in error created this week" is one Query. */
export const BY_STATUS_INDEX = 'by-status';

/**
 * Sparse GSI on `status` + `stuck_since`: only stuck replicas carry `stuck_since`, and only while
 * their status is `started`, so `status = started` on this index lists exactly the stuck ones.
 */
export const STUCK_INDEX = 'stuck';

export const REPLICAS_TABLE: TableDefinition = {
  partitionKey: { name: 'replica_id', type: 'S' },
  globalSecondaryIndexes: [
    {
      indexName: BY_STATUS_INDEX,
      partitionKey: { name: 'status', type: 'S' },
      sortKey: { name: 'created_at', type: 'S' },
    },
    {
      indexName: STUCK_INDEX,
      partitionKey: { name: 'status', type: 'S' },
      sortKey: { name: 'stuck_since', type: 'S' },
    },
  ],
};

/** Run records (one per run, expiring) and the per-table lease item share this table. */
export const SYNC_RUNS_TABLE: TableDefinition = {
  partitionKey: { name: 'run_id', type: 'S' },
  globalSecondaryIndexes: [],
  timeToLiveAttribute: 'expires_at',
};

/** A replica's change events, oldest first within its partition. */
export const REPLICA_EVENTS_TABLE: TableDefinition = {
  partitionKey: { name: 'replica_id', type: 'S' },
  sortKey: { name: 'event_key', type: 'S' },
  globalSecondaryIndexes: [],
  timeToLiveAttribute: 'expires_at',
  // The outbox of alerts: the notifier consumes new alert events from this stream.
  stream: 'NEW_IMAGE',
};

/**
 * The lease shares the runs table with the run records: its `run_id` is this prefix and the
 * replicas table's name. Readers of run records (query sql, Athena) leave it out: it is not a run.
 */
export const LEASE_ID_PREFIX = 'lease#';

export const DEFAULT_TABLE_NAMES = {
  replicas: 'tavus-replicas',
  runs: 'tavus-replica-sync-runs',
  events: 'tavus-replica-events',
} as const;

export interface TableNames {
  replicas: string;
  runs: string;
  events: string;
}

/** Pairs each definition with the name it is deployed under. */
export function tablesByName(names: TableNames): Array<{ name: string; definition: TableDefinition }> {
  return [
    { name: names.replicas, definition: REPLICAS_TABLE },
    { name: names.runs, definition: SYNC_RUNS_TABLE },
    { name: names.events, definition: REPLICA_EVENTS_TABLE },
  ];
}
