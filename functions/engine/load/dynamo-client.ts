/**
 * The one home of DynamoDB clients: the client factory the CLI, the Lambda, the benchmark, the
 * tests and the DynamoDB Local launcher share, the document client the engine writes with, and the
 * wrapper that turns a failed call into a `StoreError`.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describeAwsError, lacksRegion, type StoreOperation } from '../errors.js';

/**
 * A DynamoDB client; with an explicit endpoint (DynamoDB Local), dummy credentials and a region
 * are assumed when none are configured, since Local accepts any.
 * @param endpoint a DynamoDB endpoint URL; undefined for AWS (the SDK's own resolution)
 * @param env where configured credentials and region are looked up
 * @param config anything else for the client (a probe's `maxAttempts`, say)
 */
export function dynamoClient(endpoint: string | undefined, env = process.env, config: DynamoDBClientConfig = {}): DynamoDBClient {
  if (!endpoint) return new DynamoDBClient(config);
  const hasCredentials = Boolean(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE);
  return new DynamoDBClient({
    endpoint,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    ...(hasCredentials ? {} : { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    ...config,
  });
}

/** The document client the engine reads and writes with: undefined values left out, as plain maps. */
export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
}

/** Names a caller handles itself: a failed condition is an answer, not a failure. */
const ANSWERS = new Set(['TransactionCanceledException', 'ConditionalCheckFailedException']);

/** Runs one DynamoDB call; a failure other than a failed condition becomes a `StoreError`. */
export async function sendTo<T>(client: Pick<DynamoDBClient, 'config'>, table: string, operation: StoreOperation, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (ANSWERS.has((error as Error)?.name)) throw error;
    const plain = (error as Error)?.name === 'Error';
    throw describeAwsError(error, table, operation, { regionMissing: plain && (await lacksRegion(client)) });
  }
}
