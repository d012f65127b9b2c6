import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  ScanCommand,
  TransactWriteCommand,
  type ScanCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { STORED_REPLICA_PROJECTION, type StoredReplica } from './replica.js';
import type { ReplicaWrite } from './plan.js';
import { tablesByName, type TableDefinition, type TableNames } from './tables.js';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** A DynamoDB failure put as one sentence that says what to do. */
export class StoreError extends Error {
  override name = 'StoreError';
}

export interface WriteOutcome {
  /** Replica items written (events not counted). */
  written: number;
  /** Replicas another writer changed since this run read them: left as that writer left them. */
  conflicts: string[];
}

/** DynamoDB's limit of actions in one TransactWriteItems call. */
const MAX_TRANSACTION_ACTIONS = 100;
/** Well under the 4 MB request limit, measured as JSON text (a fair upper bound of item size). */
const MAX_TRANSACTION_BYTES = 3_000_000;
const MAX_WRITE_ATTEMPTS = 6;

/**
 * Every DynamoDB read and write the sync makes. The sync decides in `plan.ts`; this only carries
 * decisions out, each write conditional on the version it was decided from.
 */
export class ReplicaStore {
  readonly documents: DynamoDBDocumentClient;
  /** DynamoDB requests made, for the benchmark's figures. */
  requests = 0;

  constructor(
    client: DynamoDBClient,
    readonly tables: TableNames,
    private readonly writeConcurrency = 8,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
    });
  }

  /**
   * The projected state of every stored replica, read with a parallel, consistent Scan: a few
   * hundred bytes an item, whatever the API fields weigh (DynamoDB still bills the whole item read).
   * 16 segments: the benchmark's 100,000-replica resync read the table in 1.7 s with 16 against 3.8
   * s with 4; a segment costs one more request, not more read units.
   */
  async loadReplicas(segments = 16): Promise<Map<string, StoredReplica>> {
    const names = Object.fromEntries(STORED_REPLICA_PROJECTION.map((name, index) => [`#a${index}`, name]));
    const state = new Map<string, StoredReplica>();
    await scanSegments(
      this.documents,
      {
        TableName: this.tables.replicas,
        ConsistentRead: true,
        ProjectionExpression: Object.keys(names).join(', '),
        ExpressionAttributeNames: names,
      },
      segments,
      (items) => {
        for (const item of items) state.set(item.replica_id as string, item as unknown as StoredReplica);
      },
      (call) => this.send('read', this.tables.replicas, call),
    );
    return state;
  }

  /**
   * Writes each replica together with its events in one transaction (up to 100 actions a call,
   * several calls at once), so history and item never disagree and a retried run rewrites the same
   * event keys. A replica whose version moved since it was read is a conflict: it is skipped,
   * never overwritten.
   */
  async applyWrites(writes: ReplicaWrite[]): Promise<WriteOutcome> {
    const outcome: WriteOutcome = { written: 0, conflicts: [] };
    const batches = this.batch(writes);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        const batch = batches[next++] as ReplicaWrite[];
        await this.writeBatch(batch, outcome);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.writeConcurrency, batches.length) }, worker));
    return outcome;
  }

  private batch(writes: ReplicaWrite[]): ReplicaWrite[][] {
    const batches: ReplicaWrite[][] = [];
    let current: ReplicaWrite[] = [];
    let actions = 0;
    let bytes = 0;
    for (const write of writes) {
      const writeActions = 1 + write.events.length;
      const writeBytes = JSON.stringify(write).length;
      if (current.length > 0 && (actions + writeActions > MAX_TRANSACTION_ACTIONS || bytes + writeBytes > MAX_TRANSACTION_BYTES)) {
        batches.push(current);
        current = [];
        actions = 0;
        bytes = 0;
      }
      current.push(write);
      actions += writeActions;
      bytes += writeBytes;
    }
    if (current.length > 0) batches.push(current);
    return batches;
  }

  private async writeBatch(batch: ReplicaWrite[], outcome: WriteOutcome): Promise<void> {
    let pending = batch;
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      const actions = pending.flatMap((write) => this.actionsFor(write));
      try {
        await this.send('write', this.tables.replicas, () =>
          this.documents.send(new TransactWriteCommand({ TransactItems: actions })),
        );
        outcome.written += pending.length;
        return;
      } catch (error) {
        const reasons = (error as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons;
        if ((error as Error).name !== 'TransactionCanceledException' || !reasons || attempt >= MAX_WRITE_ATTEMPTS) {
          throw error instanceof StoreError ? error : describeAwsError(error, this.tables.replicas, 'write');
        }
        // Drop the replicas whose condition failed; retry the rest (cancelled only as bystanders,
        // or by a passing transaction conflict or throttle) after a short, growing pause.
        let index = 0;
        const retry: ReplicaWrite[] = [];
        for (const write of pending) {
          if (reasons[index]?.Code === 'ConditionalCheckFailed') outcome.conflicts.push(write.replicaId);
          else retry.push(write);
          index += 1 + write.events.length;
        }
        pending = retry;
        if (pending.length > 0) await sleep(Math.random() * 50 * 2 ** attempt);
      }
    }
  }

  private actionsFor(write: ReplicaWrite): TransactItem[] {
    const table = this.tables.replicas;
    const replicaAction: TransactItem =
      write.kind === 'put'
        ? {
            Put: {
              TableName: table,
              Item: write.item,
              ...(write.expectedVersion === undefined
                ? { ConditionExpression: 'attribute_not_exists(replica_id)' }
                : {
                    ConditionExpression: 'version = :expected',
                    ExpressionAttributeValues: { ':expected': write.expectedVersion },
                  }),
            },
          }
        : {
            Update: {
              TableName: table,
              Key: { replica_id: write.replicaId },
              UpdateExpression: 'SET deleted_at = :at, last_changed_at = :at, version = :version REMOVE stuck_since',
              ConditionExpression: 'version = :expected AND attribute_not_exists(deleted_at)',
              ExpressionAttributeValues: {
                ':at': write.deletedAt,
                ':version': write.version,
                ':expected': write.expectedVersion,
              },
            },
          };
    // Events carry no condition: the key is derived from the change, so rewriting one is harmless.
    const eventActions = write.events.map((event): TransactItem => ({ Put: { TableName: this.tables.events, Item: event } }));
    return [replicaAction, ...eventActions];
  }

  /**
   * Takes the lease that keeps two syncs of one table from running at once. A lease left by a
   * crashed run expires by itself after `holdMs`.
   */
  async acquireLease(runId: string, now: Date, holdMs: number): Promise<boolean> {
    try {
      await this.send('write', this.tables.runs, () =>
        this.documents.send(
          new PutCommand({
            TableName: this.tables.runs,
            Item: {
              run_id: this.leaseId(),
              holder: runId,
              acquired_at: now.toISOString(),
              lease_expires_at: now.getTime() + holdMs,
              // Long after the lease is moot, TTL tidies a lease left by a crashed run.
              expires_at: Math.floor((now.getTime() + holdMs) / 1000) + 86_400,
            },
            ConditionExpression: 'attribute_not_exists(run_id) OR lease_expires_at < :now',
            ExpressionAttributeValues: { ':now': now.getTime() },
          }),
        ),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async releaseLease(runId: string): Promise<void> {
    try {
      await this.send('write', this.tables.runs, () =>
        this.documents.send(
          new DeleteCommand({
            TableName: this.tables.runs,
            Key: { run_id: this.leaseId() },
            ConditionExpression: 'holder = :runId',
            ExpressionAttributeValues: { ':runId': runId },
          }),
        ),
      );
    } catch (error) {
      // Someone took over an expired lease: it is theirs now, so there is nothing to release.
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }

  /** One record per run, expiring after `ttlDays`. */
  async recordRun(record: Record<string, unknown> & { run_id: string }, now: Date, ttlDays: number): Promise<void> {
    await this.send('write', this.tables.runs, () =>
      this.documents.send(
        new PutCommand({
          TableName: this.tables.runs,
          Item: {
            ...record,
            record_type: 'run',
            replicas_table: this.tables.replicas,
            expires_at: Math.floor(now.getTime() / 1000) + ttlDays * 86_400,
          },
        }),
      ),
    );
  }

  private leaseId(): string {
    return `lease#${this.tables.replicas}`;
  }

  private async send<T>(kind: 'read' | 'write', table: string, call: () => Promise<T>): Promise<T> {
    this.requests += 1;
    try {
      return await call();
    } catch (error) {
      if ((error as Error).name === 'TransactionCanceledException' || (error as Error).name === 'ConditionalCheckFailedException') {
        throw error;
      }
      throw describeAwsError(error, table, kind);
    }
  }
}

/**
 * Reads a whole table in parallel segments, handing each page's items to `onItems` as it comes
 * (with its segment), so a caller can keep what it needs instead of every page. `send` wraps each
 * request (counting, error sentences).
 */
export async function scanSegments(
  documents: DynamoDBDocumentClient,
  input: Omit<ScanCommandInput, 'Segment' | 'TotalSegments' | 'ExclusiveStartKey'>,
  segments: number,
  onItems: (items: Record<string, unknown>[], segment: number) => void,
  send: <T>(call: () => Promise<T>) => Promise<T> = (call) => call(),
): Promise<void> {
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await send(() =>
          documents.send(new ScanCommand({ ...input, Segment: segment, TotalSegments: segments, ExclusiveStartKey: startKey })),
        );
        onItems(page.Items ?? [], segment);
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }),
  );
}

/** Turns the SDK's errors into a sentence an operator can act on. */
export function describeAwsError(error: unknown, table: string, kind: 'read' | 'write' | 'create'): StoreError {
  const name = (error as Error)?.name ?? '';
  const message = (error as Error)?.message ?? String(error);
  if (error instanceof ResourceNotFoundException || /non-existent table|resource not found/i.test(message)) {
    return new StoreError(
      `The DynamoDB table "${table}" does not exist here: deploy the stack (npx cdk deploy), fix the table name, or create the tables locally with --create-tables together with --local or --endpoint.`,
    );
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials|credential/i.test(message)) {
    return new StoreError(
      'No AWS credentials were found: configure them (aws configure, AWS_PROFILE or AWS_ACCESS_KEY_ID), or try it locally with --local.',
    );
  }
  if (/Region is missing/i.test(message)) {
    return new StoreError('No AWS region is configured: set AWS_REGION (for example AWS_REGION=eu-west-1), or use --local.');
  }
  if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException') {
    return new StoreError(`AWS refused to ${kind} the table "${table}" (${name}): use credentials allowed to ${kind} it.`);
  }
  if ((error as { code?: string; cause?: { code?: string } })?.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message)) {
    return new StoreError(`Nothing answers at the DynamoDB endpoint: start DynamoDB Local or fix --endpoint / DYNAMODB_ENDPOINT.`);
  }
  return new StoreError(`DynamoDB failed to ${kind} the table "${table}" (${name || 'error'}: ${message}); run again, and if it persists check the table in the AWS console.`);
}

/** CreateTable input for a definition: the same keys, indexes and billing the CDK stack deploys. */
export function createTableInput(name: string, definition: TableDefinition): CreateTableCommandInput {
  const attributes = new Map<string, AttributeDefinition>();
  const keyAttributes = [
    definition.partitionKey,
    ...(definition.sortKey ? [definition.sortKey] : []),
    ...definition.globalSecondaryIndexes.flatMap((index) => [index.partitionKey, ...(index.sortKey ? [index.sortKey] : [])]),
  ];
  for (const key of keyAttributes) attributes.set(key.name, { AttributeName: key.name, AttributeType: key.type });
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes.values()],
    KeySchema: [
      { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
      ...(definition.sortKey ? [{ AttributeName: definition.sortKey.name, KeyType: 'RANGE' as const }] : []),
    ],
    ...(definition.globalSecondaryIndexes.length > 0
      ? {
          GlobalSecondaryIndexes: definition.globalSecondaryIndexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: [
              { AttributeName: index.partitionKey.name, KeyType: 'HASH' as const },
              ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' as const }] : []),
            ],
            Projection: { ProjectionType: 'ALL' as const },
          })),
        }
      : {}),
    ...(definition.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: definition.stream } } : {}),
  };
}

/** Creates whichever of the three tables is missing; returns the names it created. */
export async function createMissingTables(client: DynamoDBClient, names: TableNames): Promise<string[]> {
  const created: string[] = [];
  for (const { name, definition } of tablesByName(names)) {
    try {
      await client.send(new DescribeTableCommand({ TableName: name }));
      continue;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw describeAwsError(error, name, 'create');
    }
    try {
      await client.send(new CreateTableCommand(createTableInput(name, definition)));
    } catch (error) {
      if (error instanceof ResourceInUseException) continue; // created meanwhile by another process
      throw describeAwsError(error, name, 'create');
    }
    await waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { TableName: name });
    if (definition.timeToLiveAttribute) {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: definition.timeToLiveAttribute, Enabled: true },
        }),
      );
    }
    created.push(name);
  }
  return created;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
