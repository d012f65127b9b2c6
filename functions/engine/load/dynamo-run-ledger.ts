/** The runs table in DynamoDB: the production `RunLedger` (the lease item and one record per run). */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient, sendTo } from './dynamo-client.js';
import type { HeldLease, LeaseClaim, RunLedger, RunRecord } from './store.js';
import type { TableNames } from '../contract/tables.js';

/**
 * The lease and the run records, in the runs table; the lease is per replicas table.
 * @param client the DynamoDB client (see `dynamoClient`)
 * @param tables the table names (runs, and replicas for the lease's key)
 */
export class DynamoRunLedger implements RunLedger {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    private readonly client: DynamoDBClient,
    readonly tables: TableNames,
  ) {
    this.documents = documentClient(client);
  }

  async acquireLease(runId: string, now: Date, holdMs: number): Promise<LeaseClaim> {
    try {
      await this.send(() =>
        this.documents.send(new PutCommand({
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
          // The lease that stands, in the refusal itself: no read (and no read permission) needed.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        })),
      );
      return { acquired: true };
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return { acquired: false, held: this.heldLease(error) };
      throw error;
    }
  }

  /** The lease item a refusal returned (raw attribute values: the document client does not convert errors). */
  private heldLease(refusal: unknown): HeldLease | undefined {
    const item = (refusal as { Item?: Record<string, { S?: string; N?: string }> }).Item;
    const expiresAt = Number(item?.lease_expires_at?.N);
    if (!item || !Number.isFinite(expiresAt)) return undefined;
    return {
      holder: item.holder?.S ?? 'unknown',
      expiresAt: new Date(expiresAt),
      item: this.leaseItem(),
    };
  }

  private leaseItem(): string {
    return `run_id "${this.leaseId()}" in the table "${this.tables.runs}"`;
  }

  async releaseLease(runId: string): Promise<void> {
    try {
      await this.send(() =>
        this.documents.send(new DeleteCommand({
          TableName: this.tables.runs,
          Key: { run_id: this.leaseId() },
          ConditionExpression: 'holder = :runId',
          ExpressionAttributeValues: { ':runId': runId },
        })),
      );
    } catch (error) {
      // Someone took over an expired lease: it is theirs now, so there is nothing to release.
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }

  /**
   * Deletes the lease whoever holds it: for a person who knows no other sync of the table runs
   * (the holder crashed). Returns the lease it removed, if there was one.
   */
  async clearLease(): Promise<HeldLease | undefined> {
    const { Attributes } = await this.send(() =>
      this.documents.send(new DeleteCommand({ TableName: this.tables.runs, Key: { run_id: this.leaseId() }, ReturnValues: 'ALL_OLD' })),
    );
    if (!Attributes) return undefined;
    return { holder: String(Attributes.holder), expiresAt: new Date(Number(Attributes.lease_expires_at)), item: this.leaseItem() };
  }

  async recordRun(record: RunRecord, now: Date, ttlDays: number): Promise<void> {
    await this.send(() =>
      this.documents.send(new PutCommand({
        TableName: this.tables.runs,
        Item: {
          ...record,
          record_type: 'run',
          replicas_table: this.tables.replicas,
          expires_at: Math.floor(now.getTime() / 1000) + ttlDays * 86_400,
        },
      })),
    );
  }

  /** The lease item's key: one lease per replicas table. */
  private leaseId(): string {
    return `lease#${this.tables.replicas}`;
  }

  private send<T>(call: () => Promise<T>): Promise<T> {
    return sendTo(this.client, this.tables.runs, 'write', call);
  }
}
