/**
 * The deployed artifact itself: the app is synthesized (with bundling, as `cdk deploy` does), the
 * function's bundle is taken from the cloud assembly and run by plain Node in its own process
 * with the environment the template gives it. Its endpoints point at DynamoDB Local, the Tavus
 * simulator and a local Secrets Manager stand-in, through the SDK's own variables.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseSettings, rawSettingsFromEnv } from '../functions/engine/settings/registry.js';
import { runSync } from '../functions/engine/sync.js';
import type { RunSummary } from '../functions/engine/model/summary.js';
import { productionParts } from '../functions/engine/wiring.js';
import type { TableNames } from '../functions/engine/contract/tables.js';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../functions/engine/contract/telemetry.js';
import { makeReplicas, TavusSimulator } from '../local/tavus-simulator.js';
import { LAMBDA_BUNDLE } from '../lib/bundling.js';
import { bundleFile as bundleFileOf } from './support/bundles.js';
import { buildApp } from './support/cdk-app.js';
import { testDynamoClient, uniqueName } from './support/dynamodb.js';
import { startSecretsManagerStub, type SecretsManagerStub } from './support/secrets-manager-stub.js';
import { createFreshTables, scanAll } from './support/tables.js';
import { QUIET_LOG } from './support/quiet-log.js';
import { QUIET_SDK_ENV } from './support/quiet-sdk-env.js';

/** Distinctive, so a leak anywhere is found by a plain substring search. */
const KEY = 'sk-live-BUNDLETEST-4c1d9e77a0b2-never-log-me';
const WRONG_KEY = 'sk-live-WRONGKEY-88d1f0c3-never-log-me-either';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:tavus/api-key-AbC123';
const WRONG_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:tavus/old-key-XyZ789';
const EMPTY_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:tavus/new-key-Emp7y0';
const SCHEDULED_EVENT = { source: 'tavus-replica-sync.schedule', scheduled_time: '2025-01-01T06:00:00Z', execution_id: 'exec-1' };
/** Attributes that record when or in which run something happened: equal only by coincidence. */
const RUN_SPECIFIC = new Set(['first_seen_at', 'last_changed_at', 'status_changed_at', 'progress_changed_at', 'finetune_status_changed_at', 'at', 'since', 'run_id', 'expires_at']);

let outdir: string;
let bundleFile: string;
/** The function's environment as the template sets it (values that are references are left out). */
let deployedEnv: Record<string, string>;
let client: DynamoDBClient;
let documents: DynamoDBDocumentClient;
let secrets: SecretsManagerStub;
let sim: TavusSimulator;

beforeAll(async () => {
  outdir = mkdtempSync(path.join(tmpdir(), 'bundle-test-'));
  // Outside the project: the bundle cannot fall back on the project's node_modules.
  const { app } = buildApp({ outdir });
  const assembly = app.synth();
  const stack = assembly.getStackByName('TavusReplicaSync');
  const [fn] = Object.values(stack.template.Resources as Record<string, { Type: string; Properties: any }>).filter(
    (resource) => resource.Type === 'AWS::Lambda::Function',
  );
  expect(fn!.Properties.Handler).toBe('index.handler');
  bundleFile = bundleFileOf(outdir, 'TavusReplicaSync', fn!);
  deployedEnv = Object.fromEntries(
    Object.entries(fn!.Properties.Environment.Variables as Record<string, unknown>).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );

  client = testDynamoClient();
  documents = DynamoDBDocumentClient.from(client);
  secrets = await startSecretsManagerStub({ [SECRET_ARN]: KEY, [WRONG_SECRET_ARN]: WRONG_KEY, [EMPTY_SECRET_ARN]: undefined });
  sim = new TavusSimulator({ apiKey: KEY, replicas: makeReplicas(120), pageSizeCap: 25 });
  await sim.start();
}, 120_000);

afterAll(async () => {
  await sim?.stop();
  await secrets?.stop();
  client?.destroy();
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

interface Invocation {
  results: Array<{ ok: true; value: RunSummary } | { ok: false; errorType: string; errorMessage: string }>;
  stdout: string;
  stderr: string;
}

/** Runs the bundle in its own Node process, one handler call per event, like one warm container. */
async function invoke(tables: TableNames, secretArn: string, events: unknown[] = [SCHEDULED_EVENT], timeoutMs = 900_000): Promise<Invocation> {
  const resultFile = path.join(outdir, `result-${uniqueName('run')}.json`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    ...deployedEnv,
    TAVUS_API_URL: sim.url,
    REPLICAS_TABLE: tables.replicas,
    SYNC_RUNS_TABLE: tables.runs,
    REPLICA_EVENTS_TABLE: tables.events,
    TAVUS_API_KEY_SECRET_ARN: secretArn,
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodbEndpoint'),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SESSION_TOKEN: 'local',
    AWS_LAMBDA_FUNCTION_NAME: 'TavusReplicaSync-SyncFunction',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
    ...QUIET_SDK_ENV,
    HOST_EVENTS: JSON.stringify(events),
    HOST_RESULT_FILE: resultFile,
    HOST_TIMEOUT_MS: String(timeoutMs),
  };
  const child = spawn(process.execPath, [fileURLPath('./support/lambda-host.mjs'), bundleFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(code, stderr).toBe(0);
  return { results: JSON.parse(readFileSync(resultFile, 'utf8')) as Invocation['results'], stdout, stderr };
}

function fileURLPath(relative: string): string {
  return new URL(relative, import.meta.url).pathname;
}

const freshTables = (): Promise<TableNames> => createFreshTables(client);
const scan = (table: string): Promise<Record<string, unknown>[]> => scanAll(documents, table);

/** A table's items without the attributes that say when or in which run. */
async function comparable(table: string): Promise<Record<string, unknown>[]> {
  return (await scan(table)).map((item) => Object.fromEntries(Object.entries(item).filter(([name]) => !RUN_SPECIFIC.has(name))));
}

/** The EMF documents Powertools wrote to stdout. */
function emf(stdout: string): Array<Record<string, any>> {
  return stdout
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, any>);
}

describe('the synthesized bundle', () => {
  it('is one minified ESM file of at most 400 KB, AWS SDK included, with no CDK code in it', () => {
    const text = readFileSync(bundleFile, 'utf8');
    expect(path.basename(bundleFile)).toBe('index.mjs');
    // Assertions on booleans: a failure must not print 700 KB of bundle.
    // The createRequire banner the SDK's CommonJS parts need (lib/bundling.ts); the runs below prove it works.
    expect(text.startsWith(LAMBDA_BUNDLE.banner.js)).toBe(true);
    expect(text.includes('DynamoDBClient')).toBe(true);
    expect(text.includes('aws-cdk-lib')).toBe(false);
    expect(statSync(bundleFile).size / 1024).toBeLessThanOrEqual(400);
  });

  it("is the size the README states, within 5% (the bundle grows: restate the figure when it moves)", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const stated = Number(/The Lambda bundle is (\d+) KB/.exec(readme)?.[1]);
    const actual = statSync(bundleFile).size / 1024;
    expect(Math.abs(stated - actual) / actual, `README says ${stated} KB, the bundle is ${actual.toFixed(0)} KB`).toBeLessThanOrEqual(0.05);
  });
});

describe('the bundled handler, invoked by a scheduled event', () => {
  it('fills the tables exactly as a sync from the CLI does for the same account', async () => {
    const lambdaTables = await freshTables();
    const { results } = await invoke(lambdaTables, SECRET_ARN);
    const [result] = results;
    expect(result, JSON.stringify(result)).toMatchObject({ ok: true, value: { status: 'succeeded', fetched: 120, created: 120, pages: 5 } });

    const cliTables = await freshTables();
    const settings = parseSettings(
      rawSettingsFromEnv({ ...deployedEnv, TAVUS_API_URL: sim.url, REPLICAS_TABLE: cliTables.replicas, SYNC_RUNS_TABLE: cliTables.runs, REPLICA_EVENTS_TABLE: cliTables.events }),
    );
    const cli = await runSync(settings, { ...productionParts({ client, settings, apiKey: KEY }), log: QUIET_LOG }, { walkBudgetMs: 60_000 });
    expect(cli.status).toBe('succeeded');

    const lambdaReplicas = await comparable(lambdaTables.replicas);
    expect(lambdaReplicas).toHaveLength(120);
    expect(lambdaReplicas).toEqual(await comparable(cliTables.replicas));
    // Event keys end with their replicas table (history is append-only across tables): compare the rest.
    const withoutTable = (events: Record<string, unknown>[], table: string) =>
      events.map((event) => ({ ...event, event_key: String(event.event_key).replace(new RegExp(`#${table}$`), '#TABLE') }));
    const lambdaEvents = withoutTable(await comparable(lambdaTables.events), lambdaTables.replicas);
    expect(lambdaEvents.every((event) => String(event.event_key).endsWith('#TABLE'))).toBe(true);
    expect(lambdaEvents).toEqual(withoutTable(await comparable(cliTables.events), cliTables.replicas));
    const runs = await scan(lambdaTables.runs);
    expect(runs.map((run) => run.run_id)).toEqual([(result as { value: RunSummary }).value.run_id]);
  });

  it('reads the key once per container (cached) and a second run finds nothing to write', async () => {
    const tables = await freshTables();
    const asked = secrets.requests.length;
    const { results, stdout } = await invoke(tables, SECRET_ARN, [SCHEDULED_EVENT, {}]);
    expect(results.map((r) => r.ok && r.value.status)).toEqual(['succeeded', 'succeeded']);
    expect(results[1]).toMatchObject({ value: { unchanged: 120, written: 0 } });
    expect(secrets.requests.slice(asked)).toEqual([SECRET_ARN]);

    // One EMF document per run, in the namespace and dimension the alarms watch, one value each.
    const documentsOut = emf(stdout);
    expect(documentsOut).toHaveLength(2);
    const [first] = documentsOut;
    const directive = first!._aws.CloudWatchMetrics[0];
    expect(directive.Namespace).toBe(METRICS_NAMESPACE);
    expect(directive.Dimensions).toEqual([['service']]);
    expect(first!.service).toBe(SERVICE_NAME);
    expect(directive.Metrics.map((m: { Name: string }) => m.Name).sort()).toEqual(Object.values(METRIC).sort());
    expect(first).toMatchObject({
      [METRIC.succeeded]: 1,
      [METRIC.fetched]: 120,
      [METRIC.written]: 120,
      [METRIC.markedDeleted]: 0,
      [METRIC.stuck]: 0,
      [METRIC.retries]: 0,
    });
    expect(first![METRIC.inError]).toBeGreaterThan(0);
    expect(first![METRIC.newlyInError]).toBe(first![METRIC.inError]);
    expect(documentsOut[1]).toMatchObject({ [METRIC.succeeded]: 1, [METRIC.written]: 0 });
  });

  it('throws on a 401, reports SyncSucceeded 0 without account counts, and never prints either key', async () => {
    const tables = await freshTables();
    const { results, stdout, stderr } = await invoke(tables, WRONG_SECRET_ARN);
    expect(results[0]).toMatchObject({ ok: false, errorType: 'SyncFailed' });
    expect((results[0] as { errorMessage: string }).errorMessage).toMatch(/key|401|access token/i);
    expect(await scan(tables.replicas)).toEqual([]);

    const [metrics] = emf(stdout);
    expect(metrics).toMatchObject({ [METRIC.succeeded]: 0 });
    expect(metrics).not.toHaveProperty(METRIC.stuck);
    expect(metrics).not.toHaveProperty(METRIC.fetched);

    const { stdout: okOut, stderr: okErr } = await invoke(await freshTables(), SECRET_ARN);
    for (const output of [stdout, stderr, okOut, okErr]) {
      expect(output).not.toContain(KEY);
      expect(output).not.toContain(WRONG_KEY);
    }
    // Powertools writes JSON lines (errors on stderr); the failure is one of them, with its sentence.
    const failure = `${stdout}\n${stderr}`.split('\n').find((line) => line.includes('"level":"ERROR"') && line.includes('The sync failed.'));
    expect(failure, stderr).toBeDefined();
    expect(JSON.parse(failure!).error).toMatch(/key|401|access token/i);
  });

  it('stops a walk that cannot finish within the invocation time, fails the run and marks nothing deleted', async () => {
    const tables = await freshTables();
    expect((await invoke(tables, SECRET_ARN)).results[0]).toMatchObject({ ok: true });
    const account = sim.replicas;
    try {
      // Ten replicas gone upstream, and an API so slow that the walk outlasts a 2-second invocation.
      sim.replicas = account.slice(10);
      sim.latencyMs = 800;
      const { results } = await invoke(tables, SECRET_ARN, [SCHEDULED_EVENT], 2_000);
      expect(results[0]).toMatchObject({ ok: false, errorType: 'SyncFailed' });
      // Two seconds is inside the stop margin: the run stops before it starts the walk.
      expect((results[0] as { errorMessage: string }).errorMessage).toMatch(/stopped before the Lambda timeout/);
    } finally {
      sim.replicas = account;
      sim.latencyMs = 0;
    }
    const items = await scan(tables.replicas);
    expect(items).toHaveLength(120);
    expect(items.filter((item) => 'deleted_at' in item)).toEqual([]);
  });

  it('stops 30 s before the Lambda timeout whatever it is doing: lease released, run recorded as stopped', async () => {
    const tables = await freshTables();
    try {
      // 34 s left: the run must stop at 4 s, while the walk (3 s a page, its budget 14 s) goes on.
      sim.latencyMs = 3_000;
      const { results } = await invoke(tables, SECRET_ARN, [SCHEDULED_EVENT], 34_000);
      expect(results[0]).toMatchObject({ ok: false, errorType: 'SyncFailed' });
      expect((results[0] as { errorMessage: string }).errorMessage).toMatch(/interrupted \(stopped before the Lambda timeout\) before writing anything/);
    } finally {
      sim.latencyMs = 0;
    }
    const runs = await scan(tables.runs);
    expect(runs.filter((run) => String(run.run_id).startsWith('lease#'))).toEqual([]);
    expect(runs.filter((run) => run.status === 'failed')).toHaveLength(1);
    expect(await scan(tables.replicas)).toEqual([]);
    // The lease is back: the next invocation runs (not skipped) and completes.
    const next = await invoke(tables, SECRET_ARN);
    expect(next.results[0]).toMatchObject({ ok: true, value: { status: 'succeeded', created: 120 } });
  });

  it('fails a run whose secret has no value yet with the command that sets it', async () => {
    const { results, stdout } = await invoke(await freshTables(), EMPTY_SECRET_ARN);
    expect(results[0]).toMatchObject({ ok: false });
    expect((results[0] as { errorMessage: string }).errorMessage).toContain(
      `aws secretsmanager put-secret-value --secret-id ${EMPTY_SECRET_ARN} --secret-string "$TAVUS_API_KEY"`,
    );
    expect(emf(stdout)[0]).toMatchObject({ [METRIC.succeeded]: 0 });
  });
});
