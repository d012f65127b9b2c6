/** Helpers for tests that talk to the run-wide DynamoDB Local started in global-setup.ts. */
import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoClient } from '../../functions/engine/load/dynamo-client.js';
import { inject } from 'vitest';

/**
 * A client for the shared DynamoDB Local: the shared client factory for an endpoint, given an empty
 * environment so it takes the dummy credentials and region Local accepts, whatever this shell has.
 */
export function testDynamoClient(): DynamoDBClient {
  return dynamoClient(inject('dynamodbEndpoint'), {});
}

/**
 * A table name no other test shares: test files run in parallel against one `-sharedDb`
 * instance, so fixed names would make them trample each other's data.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}
