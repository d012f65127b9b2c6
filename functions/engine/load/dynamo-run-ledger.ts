/** The runs table in DynamoDB: the production `RunLedger` (the lease item and one record per run). */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient, sendTo } from './dynamo-client.js';
import type { RunLedger, RunRecord } from './store.js';
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

  async acquireLease(runId: string, now: Date, holdMs: number): Promise<boolean> {
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
        })),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
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

  private leaseId(): string {
    return `lease#${this.tables.replicas}`;
  }

  private send<T>(call: () => Promise<T>): Promise<T> {
    return sendTo(this.client, this.tables.runs, 'write', call);
  }
}
