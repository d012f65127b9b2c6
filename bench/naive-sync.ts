/**
 * The baseline the benchmark measures the engine against: the sync anyone would write first.
 * Pages one by one, and for every replica on a page one awaited PutItem, every run: no read of the
 * table, no diff, no batching, no concurrency. It keeps what the API returned (nulls left out, as
 * the engine does) plus a timestamp, in a table with the engine's schema, so both sides pay for the
 * same indexes.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { apiFields, type ApiRow } from '../functions/engine/model/replica.js';

export interface NaiveSyncOptions {
  apiUrl: string;
  apiKey: string;
  client: DynamoDBClient;
  table: string;
  /** Rows asked for per page; the walk goes on by what comes back. */
  pageSize?: number;
}

export interface NaiveSyncResult {
  pages: number;
  fetched: number;
  /** PutItem calls made: one per replica, whether it changed or not. */
  dynamoRequests: number;
  written: number;
}

export async function naiveSync(options: NaiveSyncOptions): Promise<NaiveSyncResult> {
  const documents = DynamoDBDocumentClient.from(options.client, { marshallOptions: { removeUndefinedValues: true } });
  const pageSize = options.pageSize ?? 100;
  const result: NaiveSyncResult = { pages: 0, fetched: 0, dynamoRequests: 0, written: 0 };
  const syncedAt = new Date().toISOString();
  for (let page = 1; ; page += 1) {
    const url = `${options.apiUrl}/v2/replicas?verbose=true&limit=${pageSize}&page=${page}`;
    const response = await fetch(url, { headers: { 'x-api-key': options.apiKey } });
    if (response.status !== 200) throw new Error(`The naive sync got HTTP ${response.status} for page ${page}.`);
    const body = (await response.json()) as { data: ApiRow[]; total_count: number };
    result.pages += 1;
    for (const row of body.data) {
      await documents.send(new PutCommand({ TableName: options.table, Item: { ...apiFields(row), synced_at: syncedAt } }));
      result.dynamoRequests += 1;
      result.written += 1;
    }
    result.fetched += body.data.length;
    if (body.data.length === 0 || result.fetched >= body.total_count) return result;
  }
}
