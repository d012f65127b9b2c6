/** The replicas and events tables in DynamoDB: the production `ReplicaStore`. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import pRetry from 'p-retry';
import { forEachBounded } from '../bounded.js';
import { documentClient, sendTo } from './dynamo-client.js';
import { describeAwsError, StoreError, TransientError } from '../errors.js';
import { scanSegments } from './parallel-scan.js';
import { MAX_TRANSACTION_BYTES, rejectionOf, type Rejection, type ReplicaWrite } from '../model/write.js';
import type { ReplicaEvent } from '../model/events.js';
import { STORED_REPLICA_PROJECTION, type StoredReplica } from '../model/replica.js';
import type { ReplicaStore, WriteOptions, WriteOutcome } from './store.js';
import type { TableNames } from '../contract/tables.js';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** DynamoDB's limit of actions in one TransactWriteItems call. */
const MAX_TRANSACTION_ACTIONS = 100;
const MAX_WRITE_ATTEMPTS = 6;
/** Scan segments of the state read (the measurement behind 16 is in docs/performance.md). */
const STATE_SEGMENTS = 16;

/**
 * Every DynamoDB read and write of the replicas and events tables, each write conditional on the
 * version it was decided from.
 * @param client the DynamoDB client (see `dynamoClient`)
 * @param tables the table names (replicas and events here)
 * @param writeConcurrency transactions in flight at most
 */
export class DynamoReplicaStore implements ReplicaStore {
  readonly documents: DynamoDBDocumentClient;

  constructor(
    private readonly client: DynamoDBClient,
    readonly tables: TableNames,
    private readonly writeConcurrency = 8,
  ) {
    this.documents = documentClient(client);
  }

  /**
   * The projected state of every stored replica, read with a parallel, consistent Scan: a few
   * hundred bytes an item, whatever the API fields weigh (DynamoDB still bills the whole item read).
   */
  async loadReplicas(): Promise<Map<string, StoredReplica>> {
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
      STATE_SEGMENTS,
      (items) => {
        for (const item of items) state.set(item.replica_id as string, item as unknown as StoredReplica);
      },
      (call) => sendTo(this.client, this.tables.replicas, 'read', call),
    );
    return state;
  }

  /**
   * Writes each replica together with its events in one transaction (up to 100 actions a call,
   * several calls at once), so history and item never disagree and a retried run rewrites the same
   * event keys. A replica whose version moved since it was read is a conflict: it is skipped,
   * never overwritten.
   */
  async applyWrites(writes: ReplicaWrite[], options: WriteOptions = {}): Promise<WriteOutcome> {
    const outcome: WriteOutcome = { written: 0, conflicts: [], rejected: [] };
    await forEachBounded(batches(writes), () => this.writeConcurrency, async (batch) => {
      // Once the run is stopped no new transaction starts; those already sent settle.
      if (options.signal?.aborted) return;
      addOutcome(outcome, await this.writeBatch(batch));
    });
    // One odd row is quarantined; every row refused for no limit it breaks is the table itself
    // (a key schema that is not the stack's): fail the run instead of "succeeding" with nothing stored.
    const unexplained = outcome.rejected.filter((rejection) => rejection.limit === 'refused-by-dynamodb');
    if (writes.length > 1 && unexplained.length === writes.length) {
      throw new StoreError(
        `DynamoDB refused all ${writes.length} writes to the table "${this.tables.replicas}" though each is within its limits, so the table is not the one the sync expects (check its key schema against the stack's): nothing was written.`,
        this.tables.replicas,
        'write',
        'failed',
      );
    }
    return outcome;
  }

  /**
   * One transaction, retried with p-retry while DynamoDB cancels it for reasons that pass: the
   * replicas whose condition failed drop out as conflicts, those refused as invalid as rejections,
   * the rest (cancelled only as bystanders, or by a passing transaction conflict or throttle) go
   * again after a short, growing pause. A request DynamoDB refuses whole is narrowed down.
   */
  private async writeBatch(batch: ReplicaWrite[]): Promise<WriteOutcome> {
    const outcome: WriteOutcome = { written: 0, conflicts: [], rejected: [] };
    let pending = batch;
    let refused: unknown;
    const table = this.tables.replicas;
    try {
      await pRetry(
        async () => {
          try {
            await sendTo(this.client, table, 'write', () =>
              this.documents.send(new TransactWriteCommand({ TransactItems: pending.flatMap((write) => this.actionsFor(write)) })),
            );
          } catch (error) {
            if (isRefusedAsInvalid(error)) {
              refused = error;
              return;
            }
            const reasons = (error as { CancellationReasons?: CancellationReason[] }).CancellationReasons;
            if ((error as Error).name !== 'TransactionCanceledException' || !reasons) throw describeAwsError(error, table, 'write');
            pending = worthRetrying(pending, reasons, outcome, this.tables.events);
            if (pending.length === 0) return;
            // Some replicas of the cancelled transaction are worth another attempt (bystanders, passing conflicts).
            throw new TransientError('A transaction was cancelled for replicas whose condition held.', undefined, undefined, { cause: error });
          }
        },
        { retries: MAX_WRITE_ATTEMPTS - 1, minTimeout: 50, factor: 2, randomize: true, shouldRetry: ({ error }) => error instanceof TransientError },
      );
    } catch (error) {
      throw error instanceof TransientError ? describeAwsError(error.cause, table, 'write') : error;
    }
    if (refused === undefined) return { ...outcome, written: pending.length };
    return addOutcome(outcome, await this.narrowRefused(pending, refused));
  }

  /**
   * DynamoDB refused the whole request (a ValidationException names no item): halve it until the
   * write it refuses stands alone, quarantine that one and write the rest.
   */
  private async narrowRefused(pending: ReplicaWrite[], refused: unknown): Promise<WriteOutcome> {
    if (pending.length === 1) return { written: 0, conflicts: [], rejected: [refusalOf(pending[0] as ReplicaWrite, refused)] };
    const half = Math.ceil(pending.length / 2);
    return addOutcome(await this.writeBatch(pending.slice(0, half)), await this.writeBatch(pending.slice(half)));
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
              UpdateExpression: 'SET deleted_at = :at, last_changed_at = :at, version = :version REMOVE stuck_since, stuck_reason',
              ConditionExpression: 'version = :expected AND attribute_not_exists(deleted_at)',
              ExpressionAttributeValues: {
                ':at': write.deletedAt,
                ':version': write.version,
                ':expected': write.expectedVersion,
              },
            },
          };
    // History is append-only: an event is written only where none is. Its key names the change and
    // the replicas table, so a retry from the same stored state finds its key free again (a
    // transaction writes all or nothing), and the SDK's own retries reuse the request's token.
    const eventActions = write.events.map(
      (event): TransactItem => ({ Put: { TableName: this.tables.events, Item: event, ConditionExpression: 'attribute_not_exists(event_key)' } }),
    );
    return [replicaAction, ...eventActions];
  }
}

/** The writes in transactions of at most 100 actions and 4 MB each, by the bytes the plan measured. */
function batches(writes: ReplicaWrite[]): ReplicaWrite[][] {
  const result: ReplicaWrite[][] = [];
  let current: ReplicaWrite[] = [];
  let actions = 0;
  let bytes = 0;
  for (const write of writes) {
    const writeActions = 1 + write.events.length;
    const writeBytes = write.bytes;
    if (current.length > 0 && (actions + writeActions > MAX_TRANSACTION_ACTIONS || bytes + writeBytes > MAX_TRANSACTION_BYTES)) {
      result.push(current);
      current = [];
      actions = 0;
      bytes = 0;
    }
    current.push(write);
    actions += writeActions;
    bytes += writeBytes;
  }
  if (current.length > 0) result.push(current);
  return result;
}

interface CancellationReason {
  Code?: string;
  Message?: string;
}

/**
 * The writes of a cancelled transaction worth another attempt; those whose condition failed join
 * `conflicts`, those DynamoDB refused as invalid join `rejected`.
 */
function worthRetrying(pending: ReplicaWrite[], reasons: CancellationReason[], outcome: WriteOutcome, events: string): ReplicaWrite[] {
  let index = 0;
  const retry: ReplicaWrite[] = [];
  for (const write of pending) {
    const own = reasons.slice(index, index + 1 + write.events.length);
    const invalid = own.find((reason) => reason.Code === 'ValidationError');
    const taken = own.findIndex((reason, at) => at > 0 && reason.Code === 'ConditionalCheckFailed');
    if (invalid) outcome.rejected.push(refusalOf(write, invalid));
    else if (own[0]?.Code === 'ConditionalCheckFailed') outcome.conflicts.push(write.replicaId);
    else if (taken > 0) outcome.rejected.push(historyRefusalOf(write, write.events[taken - 1] as ReplicaEvent, events));
    else retry.push(write);
    index += 1 + write.events.length;
  }
  return retry;
}

/** DynamoDB refused the request as invalid: the SDK's ValidationException, bare or wrapped. */
function isRefusedAsInvalid(error: unknown): boolean {
  const cause = (error as { cause?: { name?: string } } | undefined)?.cause;
  return (error as Error | undefined)?.name === 'ValidationException' || (error instanceof StoreError && cause?.name === 'ValidationException');
}

/**
 * The rejection of a write DynamoDB refused though the plan's limit check let it through: in
 * DynamoDB's words.
 */
function refusalOf(write: ReplicaWrite, refusal: unknown): Rejection {
  const said = (refusal as { Message?: string; message?: string }).Message ?? (refusal as Error).message ?? 'no reason given';
  return rejectionOf(write.replicaId, 'refused-by-dynamodb', `it refused the write as invalid (${said})`);
}

/**
 * The rejection of a write whose history event is already in the events table: history is
 * append-only, so the replica is not written (its item and its history stay as they were).
 */
function historyRefusalOf(write: ReplicaWrite, event: ReplicaEvent, events: string): Rejection {
  return rejectionOf(
    write.replicaId,
    'event-exists',
    `its history event "${event.event_key}" is already in the events table "${events}" (the history of an earlier replicas table of the same name?), and history is never rewritten`,
    'until the sync is pointed at a new events table',
  );
}

function addOutcome(into: WriteOutcome, more: WriteOutcome): WriteOutcome {
  into.written += more.written;
  into.conflicts.push(...more.conflicts);
  into.rejected.push(...more.rejected);
  return into;
}
