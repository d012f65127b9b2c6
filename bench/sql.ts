/**
 * `npm run bench -- --sql`: issue 15's speed and size figures on DynamoDB Local. Each command runs
 * as a fresh process (start-up counts on both sides), best of a few tries, against a yardstick: a
 * fresh Node process that makes one plain sequential Scan with the SDK and prints the count.
 *
 *   query sql "SELECT count(*) FROM replicas" over 20,000 replicas       target: within 1.5x
 *   query --format json --all (the plain listing) over the same           target: within 1.5x
 *   peak RSS of query sql loading 100,000 replicas + 200,000 events       target: under 512 MB
 *   start-up: query --help, through npm and without it, beside a bare Node that loads the SDK
 *
 * Tables are filled with BatchWriteItem (items shaped as the sync writes them), the events stream
 * off (DynamoDB Local writes stream records synchronously; the figures here are about reading).
 * Writes bench/results/YYYY-MM-DD-sql-<machine>.{md,json}.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { UpdateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient, dynamoClient } from '../functions/engine/load/dynamo-client.js';
import { createMissingTables } from '../functions/engine/load/table-provisioning.js';
import type { TableNames } from '../functions/engine/contract/tables.js';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { makeReplicas } from '../local/tavus-simulator.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const TRIES = 3;
const SMALL = 20_000;
const LARGE = 100_000;
const EVENTS_PER_REPLICA = 2;
const WRITERS = 8;

interface Timed {
  /** Best wall-clock of the tries, seconds. */
  best: number;
  all: number[];
}

interface SqlBenchReport {
  date: string;
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string; loadStart: number; loadEnd: number };
  replicas: number;
  yardstick: Timed;
  sqlCount: Timed & { ratio: number; met: boolean };
  jsonListing: Timed & { ratio: number; met: boolean };
  startup: { npmHelp: Timed; directHelp: Timed; nodeWithSdk: Timed };
  peakRss: { replicas: number; events: number; mb: number; met: boolean; seconds: number };
}

export async function runSqlBench(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const loadStart = round(loadavg()[0] ?? 0);
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  const dynamo = await startDynamoDbLocal();
  const client = dynamoClient(dynamo.endpoint, {});
  try {
    const small = await filledTables(client, 'small', SMALL, 0, say);
    const where = ['--endpoint', dynamo.endpoint, '--table', small.replicas, '--events-table', small.events, '--runs-table', small.runs];
    const cli = (...args: string[]): string[] => ['bin/run.mjs', 'query', ...args];

    say('yardstick: a plain sequential Scan in a fresh Node');
    const yardstick = await best('node', ['bench/sql-yardstick.mjs', dynamo.endpoint, small.replicas], String(SMALL));
    say('query sql "SELECT count(*) FROM replicas"');
    const sqlCount = await best('node', cli('sql', 'SELECT count(*) AS n FROM replicas', ...where), `n\r\n${SMALL}\r\n`);
    say('query --format json --all');
    const jsonListing = await best('node', cli('--format', 'json', '--all', ...where));
    say('start-up');
    const npmHelp = await best('npm', ['run', '-s', 'query', '--', '--help']);
    const directHelp = await best('node', cli('--help'));
    const nodeWithSdk = await best('node', ['--input-type=module', '-e', "await import('@aws-sdk/client-dynamodb')"]);

    const large = await filledTables(client, 'large', LARGE, LARGE * EVENTS_PER_REPLICA, say);
    say('peak RSS: query sql loading every replica and event');
    const started = Date.now();
    const rss = await run('node', [
      '--import', './bench/max-rss.mjs',
      ...cli('sql', 'SELECT (SELECT count(*) FROM replicas) AS replicas, (SELECT count(*) FROM events) AS events', '--endpoint', dynamo.endpoint, '--table', large.replicas, '--events-table', large.events),
    ]);
    const seconds = (Date.now() - started) / 1000;
    const kb = Number(/max-rss-kb (\d+)/.exec(rss.stderr)?.[1]);
    if (!Number.isFinite(kb) || !rss.stdout.includes(`${LARGE},${LARGE * EVENTS_PER_REPLICA}`)) throw new Error(`The RSS run answered ${rss.stdout} ${rss.stderr}`);

    const ratio = (timed: Timed): number => round(timed.best / yardstick.best);
    const report: SqlBenchReport = {
      date: new Date().toISOString().slice(0, 10),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model.trim() ?? 'unknown', memoryGb: round(totalmem() / 1024 ** 3), node: process.versions.node, loadStart, loadEnd: round(loadavg()[0] ?? 0) },
      replicas: SMALL,
      yardstick,
      sqlCount: { ...sqlCount, ratio: ratio(sqlCount), met: ratio(sqlCount) <= 1.5 },
      jsonListing: { ...jsonListing, ratio: ratio(jsonListing), met: ratio(jsonListing) <= 1.5 },
      startup: { npmHelp, directHelp, nodeWithSdk },
      peakRss: { replicas: LARGE, events: LARGE * EVENTS_PER_REPLICA, mb: Math.round(kb / 1024), met: kb / 1024 < 512, seconds: round(seconds) },
    };
    const text = markdown(report);
    process.stdout.write(`\n${text}\n`);
    mkdirSync(RESULTS, { recursive: true });
    const name = `${report.date}-sql-${report.machine.cpus}cpu`;
    writeFileSync(`${RESULTS}${name}.json`, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(`${RESULTS}${name}.md`, text);
    say(`Wrote bench/results/${name}.{md,json}.`);
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}

/** Fresh tables holding `replicas` replicas and `events` events, shaped as the sync writes them. */
async function filledTables(client: DynamoDBClient, prefix: string, replicas: number, events: number, say: (line: string) => void): Promise<TableNames> {
  const tables = { replicas: `${prefix}-replicas`, events: `${prefix}-events`, runs: `${prefix}-runs` };
  await createMissingTables(client, tables);
  await client.send(new UpdateTableCommand({ TableName: tables.events, StreamSpecification: { StreamEnabled: false } }));
  say(`filling ${tables.replicas} (${replicas}) and ${tables.events} (${events})`);
  const at = new Date().toISOString();
  const rows = makeReplicas(replicas, { seed: 7 });
  const items = rows.map((row) => ({
    ...Object.fromEntries(Object.entries(row).filter(([, value]) => value !== null)),
    first_seen_at: at, last_changed_at: at, status_changed_at: at, progress_changed_at: at,
    content_hash: 'f'.repeat(32), version: 1, training_progress_pct: 100,
  }));
  await writeAll(client, tables.replicas, items);
  const history = rows.slice(0, Math.ceil(events / EVENTS_PER_REPLICA)).flatMap((row) => [
    { replica_id: row.replica_id, event_key: '0000000001#created', at, type: 'created', from: null, to: 'started', run_id: 'bench-run' },
    { replica_id: row.replica_id, event_key: '0000000002#status_changed', at, type: 'status_changed', from: 'started', to: row.status, run_id: 'bench-run' },
  ]);
  await writeAll(client, tables.events, history.slice(0, events));
  return tables;
}

async function writeAll(client: DynamoDBClient, table: string, items: Record<string, unknown>[]): Promise<void> {
  const documents = documentClient(client);
  let next = 0;
  const writer = async (): Promise<void> => {
    while (next < items.length) {
      let batch = items.slice(next, next + 25).map((Item) => ({ PutRequest: { Item } }));
      next += 25;
      while (batch.length > 0) {
        const { UnprocessedItems } = await documents.send(new BatchWriteCommand({ RequestItems: { [table]: batch } }));
        batch = (UnprocessedItems?.[table] ?? []) as typeof batch;
      }
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, writer));
}

/** The best wall-clock of TRIES fresh processes; each must exit 0 (and print `expect`, if given). */
async function best(command: string, args: string[], expect?: string): Promise<Timed> {
  const all: number[] = [];
  for (let attempt = 0; attempt < TRIES; attempt += 1) {
    const started = process.hrtime.bigint();
    const { stdout } = await run(command, args);
    all.push(round(Number(process.hrtime.bigint() - started) / 1e9));
    if (expect !== undefined && !stdout.includes(expect)) throw new Error(`${command} ${args.join(' ')} printed ${stdout.slice(0, 200)}`);
  }
  return { best: Math.min(...all), all };
}

function run(command: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ stdout, stderr }) : reject(new Error(`${command} ${args.slice(0, 6).join(' ')} exited ${code}: ${stderr.slice(0, 300)}`))));
  });
}

function markdown(report: SqlBenchReport): string {
  const s = (timed: Timed): string => `${timed.best.toFixed(2)} s (tries ${timed.all.map((t) => t.toFixed(2)).join(', ')})`;
  const verdict = (met: boolean): string => (met ? 'met' : 'NOT met');
  const m = report.machine;
  return [
    `# query sql benchmark, ${report.date}`,
    '',
    `${m.cpus} CPU ${m.cpuModel}, ${m.memoryGb} GB, Node ${m.node}, load average ${m.loadStart} at start and ${m.loadEnd} at end; DynamoDB Local. Best of ${TRIES} fresh processes each.`,
    '',
    '| measure | figure | against the yardstick | target |',
    '| --- | --- | --- | --- |',
    `| yardstick: plain sequential Scan of ${report.replicas} replicas, fresh Node | ${s(report.yardstick)} | 1.00x | |`,
    `| query sql "SELECT count(*) FROM replicas" | ${s(report.sqlCount)} | ${report.sqlCount.ratio.toFixed(2)}x | within 1.5x: ${verdict(report.sqlCount.met)} |`,
    `| query --format json --all | ${s(report.jsonListing)} | ${report.jsonListing.ratio.toFixed(2)}x | within 1.5x: ${verdict(report.jsonListing.met)} |`,
    `| npm run -s query -- --help | ${s(report.startup.npmHelp)} | | |`,
    `| node bin/run.mjs query --help | ${s(report.startup.directHelp)} | | |`,
    `| bare Node loading @aws-sdk/client-dynamodb | ${s(report.startup.nodeWithSdk)} | | |`,
    `| peak RSS, query sql loading ${report.peakRss.replicas} replicas + ${report.peakRss.events} events | ${report.peakRss.mb} MB in ${report.peakRss.seconds} s | | under 512 MB: ${verdict(report.peakRss.met)} |`,
    '',
    'The query commands run as npm runs them (node bin/run.mjs: the CLI built once by esbuild, rebuilt whenever a source changes); npm itself adds the difference between the two --help lines.',
    '',
  ].join('\n');
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
