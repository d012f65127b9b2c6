/**
 * The alerts path for real: an events table with a stream on DynamoDB Local, a real CLI sync into
 * it (its events are not alerts), alert events in the shape the sync writes, the stream read with
 * the streams API and turned into Lambda's event, the mapping's own filter (taken from the
 * template) applied, and the synthesized notifier bundle run by plain Node against moto's SNS. An
 * SQS queue (raw delivery off) and an HTTPS endpoint (the chat subscriber) read what was published.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TableNames } from '../functions/engine/contract/tables.js';
import { makeReplicas, TavusSimulator } from '../local/tavus-simulator.js';
import { alertEventItem, manyAlerts, putItems, type AlertEventInput } from './support/alert-events.js';
import { bundleFile } from './support/bundles.js';
import { buildApp } from './support/cdk-app.js';
import { testDynamoClient } from './support/dynamodb.js';
import { matchesPattern, type Pattern } from './support/event-filter.js';
import { startHttpsSink, type HttpsSink } from './support/https-sink.js';
import { MOTO_SKIP_REASON, motoAvailable, startMoto, type MotoServer } from './support/moto.js';
import { readStream } from './support/streams.js';
import { createFreshTables } from './support/tables.js';
import { QUIET_SDK_ENV } from './support/quiet-sdk-env.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Distinctive, so a leak anywhere is found by a plain substring search. */
const KEY = 'sk-live-NOTIFIERTEST-5e2a71c9-never-in-an-alert';
const REGION = 'us-east-1';
const DASHBOARD = 'TavusReplicaSync-us-east-1';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const moto = motoAvailable();

interface Published {
  Subject: string;
  Message: string;
  MessageAttributes: Record<string, { Type: string; Value: string }>;
}

describe.skipIf(!moto)(moto ? 'the notifier bundle, fed from the events stream' : `the notifier bundle (skipped: ${MOTO_SKIP_REASON})`, () => {
  let outdir: string;
  let notifierBundle: string;
  let filter: Pattern;
  let server: MotoServer;
  let sink: HttpsSink;
  let sim: TavusSimulator;
  let client: DynamoDBClient;
  let documents: DynamoDBDocumentClient;
  let sns: SNSClient;
  let sqs: SQSClient;
  let topicArn: string;
  let allQueue: string;
  let finetuneQueue: string;

  beforeAll(async () => {
    outdir = mkdtempSync(path.join(tmpdir(), 'notifier-test-'));
    const { app } = buildApp({ outdir });
    const stack = app.synth().getStackByName('TavusReplicaSync');
    const resources = Object.entries(stack.template.Resources as Record<string, { Type: string; Properties: any }>);
    const [, fn] = resources.find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('AlertsNotifier'))!;
    notifierBundle = bundleFile(outdir, 'TavusReplicaSync', fn);
    const [, mapping] = resources.find(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping')!;
    filter = JSON.parse(mapping.Properties.FilterCriteria.Filters[0].Pattern) as Pattern;

    sink = await startHttpsSink();
    server = await startMoto({ REQUESTS_CA_BUNDLE: sink.caFile });
    sns = new SNSClient({ endpoint: server.url, region: REGION, credentials });
    sqs = new SQSClient({ endpoint: server.url, region: REGION, credentials });
    topicArn = (await sns.send(new CreateTopicCommand({ Name: 'alerts' }))).TopicArn!;
    allQueue = await subscribedQueue('all-alerts');
    // What the deploy guide tells a subscriber who wants fine-tune failures only.
    finetuneQueue = await subscribedQueue('finetune-alerts', JSON.stringify({ kinds: ['finetune_failed'] }));
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'https', Endpoint: sink.url }));

    client = testDynamoClient();
    documents = DynamoDBDocumentClient.from(client);
    sim = new TavusSimulator({ apiKey: KEY, replicas: makeReplicas(40, { seed: 11 }), pageSizeCap: 20 });
    await sim.start();
  }, 180_000);

  afterAll(async () => {
    await sim?.stop();
    await server?.stop();
    await sink?.stop();
    sns?.destroy();
    sqs?.destroy();
    client?.destroy();
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  async function subscribedQueue(name: string, filterPolicy?: string): Promise<string> {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: Attributes!.QueueArn,
        Attributes: { RawMessageDelivery: 'false', ...(filterPolicy ? { FilterPolicy: filterPolicy } : {}) },
      }),
    );
    return url;
  }

  /** Everything in a queue now (moto delivers during Publish). */
  async function drain(queueUrl: string): Promise<Published[]> {
    const messages: Published[] = [];
    for (;;) {
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      if (!Messages?.length) return messages;
      messages.push(...Messages.map((message) => JSON.parse(message.Body!) as Published));
      // Received messages stay invisible for the default 30 s: the next receive sees the rest.
    }
  }

  /** The CLI as a user runs it, with its own --create-tables, into the given tables. */
  function cliSync(tables: TableNames): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const args = ['sync', '--endpoint', inject('dynamodbEndpoint'), '--create-tables', '--api-url', sim.url, '--json'];
    args.push('--table', tables.replicas, '--runs-table', tables.runs, '--events-table', tables.events);
    return run(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [path.join(ROOT, 'bin', 'replica-sync.ts'), ...args], {
      TAVUS_API_KEY: KEY,
      ...QUIET_SDK_ENV,
    });
  }

  /** The bundle in its own Node process, one handler call per event, as Lambda would call it. */
  async function invoke(tables: TableNames, events: DynamoDBStreamEvent[]) {
    const resultFile = path.join(outdir, `result-${Date.now()}-${Math.random().toString(16).slice(2)}.json`);
    const eventsFile = `${resultFile}.events.json`;
    writeFileSync(eventsFile, JSON.stringify(events));
    const { code, stdout, stderr } = await run(process.execPath, [path.join(ROOT, 'test', 'support', 'lambda-host.mjs'), notifierBundle], {
      ALERTS_TOPIC_ARN: topicArn,
      DASHBOARD_NAME: DASHBOARD,
      REPLICAS_TABLE: tables.replicas,
      REPLICA_EVENTS_TABLE: tables.events,
      // In the environment, so a leak would show; the notifier has no reason to read it.
      TAVUS_API_KEY: KEY,
      AWS_ENDPOINT_URL_SNS: server.url,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_LAMBDA_FUNCTION_NAME: 'TavusReplicaSync-Notifier',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      ...QUIET_SDK_ENV,
      HOST_EVENTS_FILE: eventsFile,
      HOST_RESULT_FILE: resultFile,
      HOST_TIMEOUT_MS: '60000',
    });
    expect(code, stderr).toBe(0);
    return { results: JSON.parse(readFileSync(resultFile, 'utf8')) as Array<{ ok: boolean }>, stdout, stderr };
  }

  const alertKind = (record: DynamoDBRecord) => record.dynamodb?.NewImage?.alert_kind?.S;

  it('after a CLI sync, publishes one message per batch naming exactly the alert events, for e-mail, chat and queues alike', async () => {
    const tables = await createFreshTables(client, 'notify');
    const sync = await cliSync(tables);
    expect(sync.code, sync.stderr).toBe(0);
    expect(JSON.parse(sync.stdout)).toMatchObject({ status: 'succeeded', fetched: 40 });

    const written: AlertEventInput[] = [
      { replica_id: 'rstuck0001', kind: 'stuck', replica_name: 'Studio intro', status: 'started', training_progress: '40/100', since: '2026-11-29T04:00:00.000Z' },
      { replica_id: 'rerror0002', kind: 'error', replica_name: 'Sales <!channel> `pitch`', status: 'error', error_message: 'Video too short:\nneeds 1 minute', since: '2026-11-29T09:55:00.000Z' },
      { replica_id: 'rfine00003', kind: 'finetune_failed', replica_name: 'Phoenix demo', status: 'completed', finetune_status: 'errored', since: '2026-11-29T08:30:00.000Z' },
    ];
    await putItems(documents, tables.events, written.map(alertEventItem));

    const stream = await readStream(client, tables.events);
    const passed = stream.Records.filter((record) => matchesPattern(filter, record));
    // The sync's own events are in the stream (one `created` each, those first seen in error
    // alerting), then the alerts written here; the filter passes every alert insert and nothing else.
    expect(stream.Records).toHaveLength(40 + written.length);
    expect(stream.Records.filter((record) => alertKind(record) === undefined).length).toBeGreaterThan(0);
    expect(passed.map((record) => record.dynamodb?.SequenceNumber)).toEqual(
      stream.Records.filter((record) => record.eventName === 'INSERT' && alertKind(record) !== undefined).map((record) => record.dynamodb?.SequenceNumber),
    );
    expect(typeof passed[0]?.dynamodb?.ApproximateCreationDateTime).toBe('number');
    const alerts = passed.map((record) => record.dynamodb!.NewImage!);
    expect(alerts.map((image) => image.replica_id?.S)).toEqual(expect.arrayContaining(written.map((alert) => alert.replica_id)));

    // The filtered batch, and the whole stream as if the filter were missing: the same message.
    const { results, stdout, stderr } = await invoke(tables, [{ Records: passed }, stream]);
    expect(results.map((result) => result.ok)).toEqual([true, true]);
    const [message, unfiltered, ...rest] = await drain(allQueue);
    expect(rest).toEqual([]);
    expect(unfiltered!.Message).toBe(message!.Message);

    const kinds = [...new Set(['stuck', 'error', 'finetune_failed'].filter((kind) => alerts.some((image) => image.alert_kind?.S === kind)))];
    expect(message!.MessageAttributes.kinds).toEqual({ Type: 'String.Array', Value: JSON.stringify(kinds) });
    const count = (kind: string) => alerts.filter((image) => image.alert_kind?.S === kind).length;
    if (alerts.length === written.length) {
      expect(message!.Subject).toBe('Tavus: 1 replica stuck, 1 failed, 1 fine-tune failed');
    } else {
      // The sync writes alert events of its own (once the attention work is in): they count too.
      expect(message!.Subject).toMatch(new RegExp(`^Tavus: ${count('stuck')} replicas? stuck`));
    }
    const text = message!.Message;
    for (const image of alerts.slice(0, 20)) expect(text).toContain(`(${image.replica_id!.S})`);
    expect(text).toContain('- Studio intro (rstuck0001): stuck since 2026-11-29 04:00 UTC\n    status started, progress 40/100\n');
    expect(text).toContain('    error message: Video too short: needs 1 minute\n');
    expect(text).toContain(`AWS_REGION=${REGION} npm run query -- --stuck --table ${tables.replicas} --events-table ${tables.events}\n`);
    expect(text).toContain(`AWS_REGION=${REGION} npm run query -- --status error --table ${tables.replicas} --events-table ${tables.events}\n`);
    expect(text).toContain(`AWS_REGION=${REGION} npm run query -- --finetune errored --table ${tables.replicas} --events-table ${tables.events}\n`);
    expect(text).toContain(`Dashboard: https://${REGION}.console.aws.amazon.com/cloudwatch/home?region=${REGION}#dashboards:name=${DASHBOARD}\n`);

    // The chat subscriber got the custom notification, not the text.
    expect(sink.bodies).toHaveLength(2);
    const chat = JSON.parse((JSON.parse(sink.bodies[0]!) as { Message: string }).Message);
    expect(chat).toMatchObject({ version: '1.0', source: 'custom', content: { textType: 'client-markdown' }, metadata: { eventType: 'TavusReplicaAlert' } });
    expect(chat.content.title).toBe(`:rotating_light: ${message!.Subject}`);
    expect(chat.content.description).toContain('`Studio intro` `rstuck0001`: *stuck* since `2026-11-29 04:00 UTC` (`status started, progress 40/100`)');
    expect(chat.content.description).toContain('`Sales &lt;!channel&gt; \u02cbpitch\u02cb` `rerror0002`');
    expect(chat.content.description).not.toContain('<!channel>');
    expect(chat.content.nextSteps).toContain(`\`AWS_REGION=${REGION} npm run query -- --stuck --table ${tables.replicas} --events-table ${tables.events}\``);

    // A subscriber filtering on kinds gets only the messages with that kind.
    const finetuneOnly = await drain(finetuneQueue);
    expect(finetuneOnly.map((m) => m.Subject)).toEqual(kinds.includes('finetune_failed') ? [message!.Subject, message!.Subject] : []);

    for (const output of [JSON.stringify(message), ...sink.bodies, stdout, stderr, sync.stderr]) expect(output).not.toContain(KEY);
    expect(stdout).toContain('Alert published.');
  });

  it('sends one summarising message for hundreds of alerts: 20 listed by name, then "and N more"', async () => {
    const tables = await createFreshTables(client, 'notify-many');
    await putItems(documents, tables.events, manyAlerts(230).map(alertEventItem));
    const stream = await readStream(client, tables.events);
    const passed = stream.Records.filter((record) => matchesPattern(filter, record));
    expect(passed).toHaveLength(230);

    const { results, stdout, stderr } = await invoke(tables, [{ Records: passed }]);
    expect(results.map((result) => result.ok)).toEqual([true]);
    const messages = await drain(allQueue);
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message!.Subject).toBe('Tavus: 77 replicas stuck, 77 failed, 76 fine-tunes failed');
    expect(message!.MessageAttributes.kinds!.Value).toBe('["stuck","error","finetune_failed"]');
    const text = message!.Message;
    expect(text.split('\n').filter((line) => line.startsWith('- '))).toHaveLength(20);
    expect(text).toContain('and 210 more (230 in all): the commands below list them.\n');
    const chat = JSON.parse((JSON.parse(sink.bodies.at(-1)!) as { Message: string }).Message);
    expect(chat.content.description).toContain('_and 210 more (230 in all): the commands below list them._');
    expect(chat.content.description.length).toBeLessThanOrEqual(8_000);
    for (const output of [JSON.stringify(message), String(sink.bodies.at(-1)), stdout, stderr]) expect(output).not.toContain(KEY);
  });
});

function run(command: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
