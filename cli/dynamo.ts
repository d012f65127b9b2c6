import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import path from 'node:path';
import { startDynamoDbLocal, type DynamoDbLocal } from '../local/dynamodb-local.js';
import { dynamoClient } from '../functions/engine/load/dynamo-client.js';
import { InputError, StoreError } from '../functions/engine/errors.js';
import { parseUrl } from '../functions/engine/settings/parsers.js';
import { createMissingTables } from '../functions/engine/load/table-provisioning.js';
import type { TableNames } from '../functions/engine/contract/tables.js';

export interface DynamoTarget {
  local?: boolean;
  endpoint?: string;
  /** Create missing tables (sync does with --local too; a query never does unless asked). */
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
    throw new InputError('--local and --endpoint both say where DynamoDB is: pass one of them.');
  }
  if (target.createTables && !target.local && !endpointText) {
    throw new InputError(
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
    const createdTables = target.createTables ? await createMissingTables(client, tables) : [];
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
 * A failure in the CLI's words: where DynamoDB lives is the user's choice here, so a missing table,
 * credentials, region or endpoint gets the flags that fix it. Anything else keeps its message.
 */
export function describeForCli(error: unknown): string {
  if (!(error instanceof StoreError)) return (error as Error).message;
  switch (error.reason) {
    case 'table-missing':
      return `The DynamoDB table "${error.table}" does not exist here: deploy the stack (npx cdk deploy), fix the table name, or create the tables locally with --create-tables together with --local or --endpoint.`;
    case 'no-credentials':
      return 'No AWS credentials were found: configure them (aws configure, AWS_PROFILE or AWS_ACCESS_KEY_ID), or try it locally with --local.';
    case 'no-region':
      return 'No AWS region is configured: set AWS_REGION (for example AWS_REGION=eu-west-1), or use --local.';
    case 'unreachable':
      return 'Nothing answers at the DynamoDB endpoint: start DynamoDB Local or fix --endpoint / DYNAMODB_ENDPOINT.';
    default:
      return error.message;
  }
}
