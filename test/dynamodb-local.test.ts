/**
 * DynamoDB Local lifecycle: the shared test instance, on-disk persistence (`--local`), clean
 * shutdown, and no java left behind when its parent dies hard.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

describe('a parent that dies hard', () => {
  it('takes java with it: SIGKILL leaves no DynamoDB Local running, though java is in a process group of its own', async () => {
    const launcher = fileURLToPath(new URL('../local/dynamodb-local.ts', import.meta.url));
    const script = `const { startDynamoDbLocal } = await import(${JSON.stringify(launcher)}); const db = await startDynamoDbLocal(); console.log(db.pid); setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const javaPid = await new Promise<number>((resolve, reject) => {
      parent.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      parent.once('exit', (code) => reject(new Error(`the parent exited first (${String(code)})`)));
    });
    expect(isRunning(javaPid)).toBe(true);
    // Not in the parent's group: a terminal's Ctrl-C to the parent's group does not reach it.
    expect(await processGroupOf(javaPid)).toBe(javaPid);
    parent.kill('SIGKILL');
    for (let waited = 0; isRunning(javaPid) && waited < 30_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(isRunning(javaPid)).toBe(false);
  });
});

/** A process's group id, from /proc/PID/stat (the field after the state and the parent id). */
async function processGroupOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

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
