/** Helpers for tests that talk to the run-wide DynamoDB Local started in global-setup.ts. */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';

/** A client for the shared DynamoDB Local, with the dummy credentials it accepts. */
export function testDynamoClient(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: inject('dynamodbEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/**
 * A table name no other test shares: test files run in parallel against one `-sharedDb`
 * instance, so fixed names would make them trample each other's data.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}
