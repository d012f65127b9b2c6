import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import path from 'node:path';
import { startDynamoDbLocal, type DynamoDbLocal } from '../local/dynamodb-local.js';
import { SettingsError, parseUrl } from '../functions/engine/settings.js';
import { createMissingTables } from '../functions/engine/store.js';
import type { TableNames } from '../functions/engine/tables.js';

export interface DynamoTarget {
  local?: boolean;
  endpoint?: string;
  createTables?: boolean;
}

export interface OpenedDynamo {
  client: DynamoDBClient;
  /** Where the tables live, for messages: "AWS", an endpoint URL, or the local data folder. */
  description: string;
  createdTables: string[];
  close(): Promise<void>;
}

/** Where `--local` keeps DynamoDB Local's data, so successive local runs see earlier state. */
export const LOCAL_DATA_DIR = path.resolve('.data', 'dynamodb');

/** Resolves --local / --endpoint / DYNAMODB_ENDPOINT / --create-tables into a client. */
export async function openDynamo(target: DynamoTarget, tables: TableNames, env = process.env): Promise<OpenedDynamo> {
  const endpointText = target.endpoint ?? (env.DYNAMODB_ENDPOINT?.trim() || undefined);
  if (target.local && target.endpoint) {
    throw new SettingsError('--local and --endpoint both say where DynamoDB is: pass one of them.');
  }
  if (target.createTables && !target.local && !endpointText) {
    throw new SettingsError(
      '--create-tables only works with --local or --endpoint: in AWS the tables come from the CDK stack (npx cdk deploy).',
    );
  }
  let local: DynamoDbLocal | undefined;
  let endpoint = endpointText === undefined ? undefined : parseUrl(endpointText, target.endpoint ? '--endpoint' : 'DYNAMODB_ENDPOINT');
  if (target.local) {
    local = await startDynamoDbLocal({ dbPath: LOCAL_DATA_DIR });
    endpoint = local.endpoint;
  }
  const client = dynamoClient(endpoint, env);
  try {
    const createdTables = target.local || target.createTables ? await createMissingTables(client, tables) : [];
    return {
      client,
      description: local ? `DynamoDB Local (data in ${path.relative(process.cwd(), LOCAL_DATA_DIR)})` : (endpoint ?? 'AWS'),
      createdTables,
      close: async () => {
        client.destroy();
        await local?.stop();
      },
    };
  } catch (error) {
    client.destroy();
    await local?.stop();
    throw error;
  }
}

/**
 * A DynamoDB client; with an explicit endpoint (DynamoDB Local), dummy credentials and a region
 * are assumed when none are configured, since Local accepts any.
 */
export function dynamoClient(endpoint: string | undefined, env = process.env): DynamoDBClient {
  if (!endpoint) return new DynamoDBClient({});
  const hasCredentials = Boolean(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE);
  return new DynamoDBClient({
    endpoint,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    ...(hasCredentials ? {} : { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  });
}
