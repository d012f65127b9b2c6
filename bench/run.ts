/**
 * `npm run bench`: the engine against the naive sync on the Tavus simulator and DynamoDB Local,
 * each side in a fresh process; then the Lambda bundle. Prints the comparison and the targets,
 * writes bench/results/latest.json and the dated record bench/results/YYYY-MM-DD-<machine>.{md,json}.
 *
 *   npm run bench                   the full run (10,000 and 100,000 replicas), 7 to 8 minutes
 *   npm run bench -- --quick        10,000 only, no bundle: about a minute, no dated record
 *   npm run bench -- --sql          query sql, the JSON listing and start-up against a plain Scan (bench/sql.ts)
 *
 * The run stops by itself: every side has a time limit and so has the whole run.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { dynamoClient } from '../functions/engine/load/dynamo-client.js';
import { DEFAULTS } from '../functions/engine/settings/registry.js';
import { readDeployConfig } from '../lib/deploy-config.js';
import { SYNC_FUNCTION_MEMORY_MB, SYNC_FUNCTION_TIMEOUT } from '../lib/sync-function.js';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { measureBundle } from './bundle.js';
import { childRunner } from './child.js';
import { costModel, evaluateTargets, formatCost, formatTable, formatTargets, markdownRecord, type BenchReport, type LambdaLimits, type MachineInfo } from './report.js';
import { runBench, type BenchConfig } from './scenarios.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
/** The whole run stops after this, whatever it is doing. */
const RUN_LIMIT_MS = 25 * 60_000;
const SIDE_LIMIT_MS = 8 * 60_000;
/** Before each side, DynamoDB Local may finish what the previous side left it (GC, compaction). */
const QUIET_CPU_FRACTION = 0.1;
const QUIET_LIMIT_MS = 15_000;

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean', default: false }, sql: { type: 'boolean', default: false } } });
if (flags.sql) {
  await (await import('./sql.js')).runSqlBench();
  process.exit();
}
const started = Date.now();
const loadStart = round(loadavg()[0] ?? 0);
const lambda = lambdaLimits();
const config: BenchConfig = {
  small: 10_000,
  ...(flags.quick ? {} : { large: 100_000 }),
  warmUp: 1_000,
  latencyMs: 25,
  pageSizeCap: 100,
  // The deployed walk budget: the timeout less the handler's margin (a fifth, at least a minute).
  walkBudgetMs: Math.floor(lambda.timeoutMs * 0.8),
  naiveLarge: true,
  resyncRuns: 5,
};

const dynamo = await startDynamoDbLocal();
const client = dynamoClient(dynamo.endpoint, {});
const runner = await childRunner(SIDE_LIMIT_MS);
const cleanUp = async (): Promise<void> => {
  runner.close();
  client.destroy();
  await dynamo.stop();
};
const limit = setTimeout(() => {
  process.stderr.write(`The benchmark ran longer than ${RUN_LIMIT_MS / 60_000} minutes and was stopped.\n`);
  void cleanUp().finally(() => process.exit(1));
}, RUN_LIMIT_MS);

try {
  const scenarios = await runBench(config, {
    client,
    endpoint: dynamo.endpoint,
    execute: async (job) => {
      await quiet(dynamo.pid);
      return runner.execute(job);
    },
    progress: (line) => process.stderr.write(`[${Math.round((Date.now() - started) / 1000)} s] ${line}\n`),
  });
  await cleanUp();
  const bundle = flags.quick ? undefined : (process.stderr.write('Lambda bundle: size and init time\n'), await measureBundle(ROOT));

  const machine: MachineInfo = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: round(totalmem() / 1024 ** 3),
    node: process.versions.node,
    platform: `${process.platform} ${process.arch}`,
    loadStart,
    loadEnd: round(loadavg()[0] ?? 0),
  };
  const partial = {
    date: new Date().toISOString().slice(0, 10),
    machine,
    config: { small: config.small, large: config.large, latencyMs: config.latencyMs, pageSizeCap: config.pageSizeCap, maxInFlight: DEFAULTS.maxConcurrency, resyncRuns: config.resyncRuns },
    lambda,
    scenarios,
    ...(bundle ? { bundle } : {}),
    totalSeconds: (Date.now() - started) / 1000,
  };
  const report: BenchReport = { ...partial, targets: evaluateTargets(partial), cost: costModel(scenarios, lambda.runsPerMonth, config.pageSizeCap) };

  process.stdout.write(`\n${formatTable(report)}\n\n${formatTargets(report.targets)}\n\n`);
  if (bundle) process.stdout.write(bundle.error ? `Bundle not measured: ${bundle.error}\n\n` : `Bundle: ${Math.round(bundle.bytes / 1024)} KB (${bundle.source}), init median ${bundle.initMs} ms\n\n`);
  process.stdout.write(`Cost, ${lambda.runsPerMonth} runs a month:\n${formatCost(report)}\n`);

  mkdirSync(RESULTS, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(`${RESULTS}latest.json`, json);
  if (!flags.quick) {
    const name = `${report.date}-${machineSlug(machine)}`;
    writeFileSync(`${RESULTS}${name}.json`, json);
    writeFileSync(`${RESULTS}${name}.md`, markdownRecord(report));
    process.stdout.write(`\nWrote bench/results/latest.json and bench/results/${name}.{md,json}.\n`);
  }
} catch (error) {
  process.stderr.write(`The benchmark failed: ${(error as Error).message}\n`);
  await cleanUp();
  process.exitCode = 1;
} finally {
  clearTimeout(limit);
}

/** The stack's timeout and memory, and how often the schedule runs it (cdk.json, read as synth reads it). */
function lambdaLimits(): LambdaLimits {
  const cdk = JSON.parse(readFileSync(`${ROOT}cdk.json`, 'utf8')) as { context?: Record<string, unknown> };
  const { schedule } = readDeployConfig((key) => cdk.context?.[key]);
  // A month is 730 hours; a cron schedule is counted as hourly.
  const hours = (schedule.intervalMs ?? 3_600_000) / 3_600_000;
  return {
    schedule: schedule.expression,
    runsPerMonth: Math.round(730 / hours),
    timeoutMs: SYNC_FUNCTION_TIMEOUT.toMilliseconds(),
    memoryMb: SYNC_FUNCTION_MEMORY_MB,
    source: 'SYNC_FUNCTION_TIMEOUT and SYNC_FUNCTION_MEMORY_MB in lib/sync-function.ts',
  };
}

/** Waits until DynamoDB Local's java process uses under a tenth of a core (Linux /proc only). */
async function quiet(pid: number): Promise<void> {
  const cpuMs = (): number | undefined => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      return undefined;
    }
  };
  const deadline = Date.now() + QUIET_LIMIT_MS;
  while (Date.now() < deadline) {
    const before = cpuMs();
    if (before === undefined) return;
    await sleep(250);
    if ((cpuMs() ?? 0) - before <= 250 * QUIET_CPU_FRACTION) return;
  }
}

function machineSlug(machine: MachineInfo): string {
  const model = machine.cpuModel.toLowerCase().replace(/\(r\)|\(tm\)|cpu|processor|@.*$/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return `${machine.cpus}cpu-${model}`;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
