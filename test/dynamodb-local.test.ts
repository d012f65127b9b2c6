/** DynamoDB Local lifecycle: the shared test instance, on-disk persistence (`--local`), clean shutdown. */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../functions/engine/load/dynamo-client.js';
import { JavaMissingError, startDynamoDbLocal } from '../local/dynamodb-local.js';
import type { DynamoDbLocal } from '../local/dynamodb-local.js';
import { testDynamoClient, uniqueName } from './support/dynamodb.js';

function clientFor(endpoint: string): DynamoDBClient {
  return dynamoClient(endpoint, {});
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the shared instance from global setup', () => {
  it('answers ListTables', async () => {
    const client = testDynamoClient();
    const result = await client.send(new ListTablesCommand({}));
    expect(Array.isArray(result.TableNames)).toBe(true);
    client.destroy();
  });

  it('accepts TTL settings (used for lease/run records)', async () => {
    const client = testDynamoClient();
    const TableName = uniqueName('ttl');
    await client.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    await client.send(new UpdateTimeToLiveCommand({ TableName, TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true } }));
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe('expires_at');
    client.destroy();
  });
});

describe('a second instance with a dbPath', () => {
  const started: DynamoDbLocal[] = [];
  let dir: string | undefined;

  afterAll(async () => {
    await Promise.all(started.map((db) => db.stop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps tables across a stop and a start, and stop() ends the java process', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ddb-local-'));
    const dbPath = join(dir, 'nested', 'data');

    const first = await startDynamoDbLocal({ dbPath });
    started.push(first);
    const client = clientFor(first.endpoint);
    await client.send(
      new CreateTableCommand({
        TableName: 'kept',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    await client.send(new PutItemCommand({ TableName: 'kept', Item: { id: { S: 'r1' }, name: { S: 'kept across restarts' } } }));
    client.destroy();

    await first.stop();
    expect(isRunning(first.pid)).toBe(false);
    await first.stop(); // idempotent

    const second = await startDynamoDbLocal({ dbPath });
    started.push(second);
    const again = clientFor(second.endpoint);
    expect((await again.send(new ListTablesCommand({}))).TableNames).toEqual(['kept']);
    const item = await again.send(new GetItemCommand({ TableName: 'kept', Key: { id: { S: 'r1' } } }));
    expect(item.Item?.name?.S).toBe('kept across restarts');
    again.destroy();

    await second.stop();
    expect(isRunning(second.pid)).toBe(false);
  });
});

describe('startup failures', () => {
  it('reports why java exited, e.g. a port already in use', async () => {
    // A listener that accepts and never answers: the startup probe must give up on it by itself.
    const sockets = new Set<Socket>();
    const blocker = createServer((socket) => sockets.add(socket));
    await new Promise<void>((done) => blocker.listen(0, '0.0.0.0', () => done()));
    const { port } = blocker.address() as AddressInfo;
    try {
      await expect(startDynamoDbLocal({ port })).rejects.toThrow(/exited during startup.*Address already in use/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((done) => blocker.close(() => done()));
    }
  });

  it('says how to get Java when there is none on PATH', async () => {
    const path = process.env.PATH;
    const empty = await mkdtemp(join(tmpdir(), 'no-java-'));
    process.env.PATH = empty;
    try {
      const failure = startDynamoDbLocal();
      await expect(failure).rejects.toBeInstanceOf(JavaMissingError);
      await expect(failure).rejects.toThrow(/install one .*openjdk-17-jre-headless.*--endpoint/);
    } finally {
      process.env.PATH = path;
      await rm(empty, { recursive: true, force: true });
    }
  });
});
