/** The reads behind `query`: every page of a plan, one replica's events, a whole table for the report. */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  paginateQuery,
  type DynamoDBDocumentClient,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { StoreError } from '../../functions/engine/errors.js';
import { sendTo } from '../../functions/engine/load/dynamo-client.js';
import { scanSegments } from '../../functions/engine/load/parallel-scan.js';
import type { ReadPlan } from './read-plan.js';
import type { Item } from './types.js';

/**
 * Every item the plan matches, following LastEvaluatedKey to the end. A Scan reads in parallel
 * segments: DynamoDB answers them at once, so a whole-table listing waits for the slowest segment
 * instead of every page in turn (the caller sorts, so the segments' interleaving does not show).
 */
export async function readPlan(documents: DynamoDBDocumentClient, plan: ReadPlan, segments = 4): Promise<Item[]> {
  const items: Item[] = [];
  const keepFrom = (page: Item[]): void => {
    for (const item of page) if (plan.keep(item)) items.push(item);
  };
  try {
    if (plan.operation === 'Scan') {
      await scanEach(documents, plan.input, keepFrom, segments);
    } else {
      await sendTo(documents, plan.input.TableName as string, 'read', async () => {
        for await (const page of paginateQuery({ client: documents }, plan.input)) keepFrom(page.Items ?? []);
      });
    }
  } catch (error) {
    throw await describeReadError(documents, plan.input, error as StoreError);
  }
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
  return (await sendTo(documents, table, 'read', () => documents.send(new GetCommand({ TableName: table, Key: { replica_id: replicaId } })))).Item;
}

/** A whole table, read in parallel segments (the report needs every replica and event). */
export async function scanTable(
  documents: DynamoDBDocumentClient,
  input: ScanCommandInput,
  segments = 4,
): Promise<Item[]> {
  const parts: Item[][] = Array.from({ length: segments }, () => []);
  await scanEach(documents, input, (items, segment) => parts[segment]!.push(...items), segments);
  return parts.flat();
}

/** A whole table in parallel segments, each page handed to `onItems` as it comes; a failure as one sentence. */
export async function scanEach(
  documents: DynamoDBDocumentClient,
  input: ScanCommandInput,
  onItems: (items: Item[], segment: number) => void,
  segments = 4,
): Promise<void> {
  const send = <T>(call: () => Promise<T>): Promise<T> => sendTo(documents, input.TableName as string, 'read', call);
  await scanSegments(documents, input, segments, onItems, send);
}

/**
 * A failed read as one sentence. DynamoDB answers a read of a missing index with a plain
 * ValidationException, so the table's own description decides whether the index is what is missing.
 */
async function describeReadError(
  documents: DynamoDBDocumentClient,
  input: { TableName?: string; IndexName?: string },
  error: StoreError,
): Promise<StoreError> {
  const table = input.TableName as string;
  const index = input.IndexName;
  if (error.reason === 'refused-as-invalid' && index !== undefined && (await lacksIndex(documents, table, index))) {
    return new StoreError(
      `The table "${table}" has no index ${index}: deploy the current stack (npx cdk deploy) to add it, or run without the filter that needs it.`,
      table,
      'read',
      'index-missing',
      { cause: error.cause },
    );
  }
  return error;
}

async function lacksIndex(documents: DynamoDBDocumentClient, table: string, index: string): Promise<boolean> {
  try {
    const { Table } = await documents.send(new DescribeTableCommand({ TableName: table }));
    return !(Table?.GlobalSecondaryIndexes ?? []).some((gsi) => gsi.IndexName === index);
  } catch {
    // Not allowed to describe the table (or it failed): the original error says more than a guess.
    return false;
  }
}
