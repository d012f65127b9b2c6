/** The reads behind `query`: every page of a plan, one replica's events, a whole table for the report. */
import {
  GetCommand,
  QueryCommand,
  ScanCommand,
  type DynamoDBDocumentClient,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { describeAwsError, StoreError } from '../../functions/engine/errors.js';
import { scanSegments } from '../../functions/engine/parallel-scan.js';
import type { Item, ReadPlan } from './plan.js';

/** Every item the plan matches, following LastEvaluatedKey to the end. */
export async function readPlan(documents: DynamoDBDocumentClient, plan: ReadPlan): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await send(plan.input.TableName as string, () =>
      plan.operation === 'Query'
        ? documents.send(new QueryCommand({ ...plan.input, ExclusiveStartKey: startKey }))
        : documents.send(new ScanCommand({ ...plan.input, ExclusiveStartKey: startKey })),
    );
    for (const item of page.Items ?? []) if (plan.keep(item)) items.push(item);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** One replica's events in sort-key order: oldest item version first. */
export function readEvents(documents: DynamoDBDocumentClient, table: string, replicaId: string): Promise<Item[]> {
  return readPlan(documents, {
    operation: 'Query',
    input: { TableName: table, KeyConditionExpression: 'replica_id = :id', ExpressionAttributeValues: { ':id': replicaId } },
    keep: () => true,
    description: 'a Query of the events table',
  });
}

export async function readReplica(documents: DynamoDBDocumentClient, table: string, replicaId: string): Promise<Item | undefined> {
  const result = await send(table, () => documents.send(new GetCommand({ TableName: table, Key: { replica_id: replicaId } })));
  return result.Item;
}

/** A whole table, read in parallel segments (the report needs every replica and event). */
export async function scanTable(
  documents: DynamoDBDocumentClient,
  input: ScanCommandInput,
  segments = 4,
): Promise<Item[]> {
  const parts: Item[][] = Array.from({ length: segments }, () => []);
  await scanSegments(documents, input, segments, (items, segment) => parts[segment]!.push(...items), (call) =>
    send(input.TableName as string, call),
  );
  return parts.flat();
}

/** DynamoDB failures as one sentence; an index missing from an older table gets its own. */
async function send<T>(table: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const index = /specified index: (\S+)|index[^:]*: (\S+)/i.exec((error as Error).message ?? '');
    if ((error as Error).name === 'ValidationException' && index) {
      throw new StoreError(
        `The table "${table}" has no index ${index[1] ?? index[2]}: deploy the current stack (npx cdk deploy) to add it, or run without the filter that needs it.`,
        table,
        'read',
        'index-missing',
        { cause: error },
      );
    }
    throw describeAwsError(error, table, 'read');
  }
}
