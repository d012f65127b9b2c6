/**
 * The benchmark's scenarios, in order, each run by the engine and then by the naive baseline on
 * tables of their own: first sync, unchanged resync, 1% changed resync and a resync with injected
 * 429s on the small account, then first sync and resync on the large one. Who runs a side (a child
 * process in `npm run bench`, this process in the smoke test) is the caller's choice.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createMissingTables } from '../functions/engine/load/table-provisioning.js';
import type { TableNames } from '../functions/engine/contract/tables.js';
import { DEFAULTS } from '../functions/engine/settings/registry.js';
import { TavusSimulator, makeReplicas } from '../local/tavus-simulator.js';
import type { SideJob, SideMeasure } from './side.js';

export interface BenchConfig {
  /** Replicas in the small account (10,000 in the full run). */
  small: number;
  /** Replicas in the large account (100,000); omitted: no large scenarios. */
  large?: number;
  /** Replicas synced once by both sides before measuring, to warm DynamoDB Local's JIT; 0: none. */
  warmUp: number;
  latencyMs: number;
  pageSizeCap: number;
  walkBudgetMs: number;
  /** Run the naive baseline on the large account too (it is the slowest part of the run). */
  naiveLarge: boolean;
  /** Runs of ours per unchanged resync: the median wall time is reported (they write nothing). */
  resyncRuns: number;
}

export interface BenchEnvironment {
  /** Creates the tables; the sides open their own clients on `endpoint`. */
  client: DynamoDBClient;
  endpoint: string;
  execute: (job: SideJob) => Promise<SideMeasure>;
  progress?: (line: string) => void;
}

/** A side's own figures plus what the simulator counted while it ran. */
export interface SideResult extends SideMeasure {
  apiRequests: number;
  /** The most requests the simulator had open at once. */
  apiMaxInFlight: number;
  /** Every run's wall time when the side ran more than once; `wallMs` is then their median. */
  wallRunsMs?: number[];
}

export interface ThrottleResult {
  injected429: number;
  /** Requests open at the simulator before the first 429, at most. */
  inFlightBefore: number;
  /** Requests open at the simulator while the first new pages after the last 429 were answered. */
  inFlightAfter: number;
}

export interface ScenarioResult {
  id: string;
  title: string;
  replicas: number;
  /** Replicas changed upstream since the previous run. */
  changed: number;
  /** Replica items this scenario must write. */
  expectedWrites: number;
  /** pages × latency / requests in flight: the least time the API allows for the walk. */
  floorMs: number;
  ours: SideResult;
  naive?: SideResult;
  throttle?: ThrottleResult;
}

export const API_KEY = 'bench-api-key';
const THROTTLED_PAGES = 3;
/** New pages after the 429s whose in-flight counts show the lowered limit. */
const PAGES_AFTER_THROTTLE = 4;

export async function runBench(config: BenchConfig, env: BenchEnvironment): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  if (config.warmUp > 0) {
    env.progress?.(`warm-up: ${config.warmUp} replicas, both sides`);
    await withAccount(config, config.warmUp, async (sim) => {
      const tables = await freshTables(env, 'warmup');
      await side(env, sim, job(config, sim, 'ours', tables.ours));
      await side(env, sim, job(config, sim, 'naive', tables.naive));
    });
  }

  await withAccount(config, config.small, async (sim) => {
    const tables = await freshTables(env, 'small');
    const label = count(config.small);
    const scenario = async (id: string, title: string, changed: number, expectedWrites: number, runs = 1): Promise<void> => {
      env.progress?.(`${title}: ours`);
      const ours = await repeated(runs, () => side(env, sim, job(config, sim, 'ours', tables.ours)));
      env.progress?.(`${title}: naive`);
      const naive = await side(env, sim, job(config, sim, 'naive', tables.naive));
      results.push({ id, title, replicas: config.small, changed, expectedWrites, floorMs: floor(config, ours), ours, naive });
    };
    await scenario('first-small', `first sync of ${label}`, config.small, config.small);
    await scenario('unchanged-small', `unchanged resync of ${label}`, 0, 0, config.resyncRuns);
    const changed = changeOnePercent(sim);
    await scenario('changed-small', `1% changed resync of ${label}`, changed, changed);

    env.progress?.(`resync of ${label} with injected 429s: ours`);
    const { ours, throttle } = await throttledSide(config, env, sim, tables.ours);
    results.push({
      id: 'throttled-small',
      title: `resync of ${label}, ${THROTTLED_PAGES} pages answered 429`,
      replicas: config.small,
      changed: 0,
      expectedWrites: 0,
      floorMs: floor(config, ours),
      ours,
      throttle,
    });
  });

  if (config.large !== undefined) {
    const large = config.large;
    await withAccount(config, large, async (sim) => {
      const tables = await freshTables(env, 'large');
      const label = count(large);
      for (const [id, title, changed, runs] of [
        ['first-large', `first sync of ${label}`, large, 1],
        ['unchanged-large', `unchanged resync of ${label}`, 0, config.resyncRuns],
      ] as const) {
        env.progress?.(`${title}: ours`);
        const ours = await repeated(runs, () => side(env, sim, job(config, sim, 'ours', tables.ours)));
        let naive: SideResult | undefined;
        if (config.naiveLarge) {
          env.progress?.(`${title}: naive`);
          naive = await side(env, sim, job(config, sim, 'naive', tables.naive));
        }
        results.push({ id, title, replicas: large, changed, expectedWrites: changed, floorMs: floor(config, ours), ours, ...(naive ? { naive } : {}) });
      }
    });
  }
  return results;
}

/**
 * Renames every hundredth replica (and moves the training progress of those still training): the
 * 1% a resync must find and write, and nothing else.
 */
export function changeOnePercent(sim: TavusSimulator): number {
  let changed = 0;
  const now = new Date().toISOString();
  sim.replicas.forEach((replica, index) => {
    if (index % 100 !== 50 && !(sim.replicas.length < 100 && index === 0)) return;
    const patch: Record<string, unknown> = { replica_name: `${replica.replica_name} (renamed)`, updated_at: now };
    if (replica.status === 'started') patch.training_progress = '99/100';
    sim.update(replica.replica_id, patch);
    changed += 1;
  });
  return changed;
}

/** The unchanged resync again, with three pages mid-walk answered 429 once each. */
async function throttledSide(
  config: BenchConfig,
  env: BenchEnvironment,
  sim: TavusSimulator,
  tables: TableNames,
): Promise<{ ours: SideResult; throttle: ThrottleResult }> {
  const pages = Math.ceil(sim.replicas.length / config.pageSizeCap);
  const first = Math.max(2, Math.floor(pages / 2));
  const throttled = new Set(Array.from({ length: THROTTLED_PAGES }, (_, index) => first + index));
  let firstThrottleAt: number | undefined;
  let lastThrottleAt = 0;
  for (const page of throttled) {
    sim.failNext({
      status: 429,
      match: (req) => {
        if (req.page !== page || req.replicaIds) return false;
        firstThrottleAt ??= performance.now();
        lastThrottleAt = performance.now();
        return true;
      },
    });
  }
  const answers: Array<{ at: number; page: number; inFlight: number }> = [];
  sim.beforeResponse = (req, current) => {
    answers.push({ at: performance.now(), page: req.page ?? 0, inFlight: current.inFlight });
  };
  try {
    const ours = await side(env, sim, job(config, sim, 'ours', tables));
    const before = answers.filter((answer) => firstThrottleAt === undefined || answer.at < firstThrottleAt);
    const seenBefore = new Set(answers.filter((answer) => answer.at < lastThrottleAt).map((answer) => answer.page));
    const after = answers
      .filter((answer) => answer.at > lastThrottleAt && !seenBefore.has(answer.page) && !throttled.has(answer.page))
      .slice(0, PAGES_AFTER_THROTTLE);
    return {
      ours,
      throttle: {
        injected429: sim.requests.filter((req) => req.status === 429).length,
        inFlightBefore: Math.max(0, ...before.map((answer) => answer.inFlight)),
        inFlightAfter: Math.max(0, ...after.map((answer) => answer.inFlight)),
      },
    };
  } finally {
    sim.beforeResponse = undefined;
  }
}

/**
 * Runs a side `runs` times; the result is the run with the median wall time, with the highest
 * memory figures of all runs, so repetition can only make the memory figures worse.
 */
async function repeated(runs: number, run: () => Promise<SideResult>): Promise<SideResult> {
  const results: SideResult[] = [];
  for (let index = 0; index < runs; index += 1) results.push(await run());
  if (results.length === 1) return results[0] as SideResult;
  const byWall = [...results].sort((a, b) => a.wallMs - b.wallMs);
  const median = byWall[Math.floor((byWall.length - 1) / 2)] as SideResult;
  return {
    ...median,
    wallRunsMs: results.map((result) => result.wallMs),
    maxRssMb: Math.max(...results.map((result) => result.maxRssMb)),
    peakHeapMb: Math.max(...results.map((result) => result.peakHeapMb)),
  };
}

async function side(env: BenchEnvironment, sim: TavusSimulator, sideJob: Omit<SideJob, 'dynamodbEndpoint'>): Promise<SideResult> {
  sim.resetStats();
  const measure = await env.execute({ ...sideJob, dynamodbEndpoint: env.endpoint });
  if (measure.status !== 'succeeded') {
    throw new Error(`The ${sideJob.side} sync failed in the benchmark: ${measure.error ?? measure.status}`);
  }
  return { ...measure, apiRequests: sim.requests.length, apiMaxInFlight: sim.maxInFlight };
}

function job(config: BenchConfig, sim: TavusSimulator, sideName: SideJob['side'], tables: TableNames): Omit<SideJob, 'dynamodbEndpoint'> {
  return { side: sideName, apiUrl: sim.url, apiKey: API_KEY, tables, walkBudgetMs: config.walkBudgetMs };
}

async function withAccount(config: BenchConfig, replicas: number, body: (sim: TavusSimulator) => Promise<void>): Promise<void> {
  const sim = new TavusSimulator({
    apiKey: API_KEY,
    replicas: makeReplicas(replicas),
    pageSizeCap: config.pageSizeCap,
    latencyMs: config.latencyMs,
  });
  await sim.start();
  try {
    await body(sim);
  } finally {
    await sim.stop();
  }
}

let tableSerial = 0;

async function freshTables(env: BenchEnvironment, label: string): Promise<{ ours: TableNames; naive: TableNames }> {
  const stamp = `${Date.now().toString(36)}-${(tableSerial += 1)}`;
  const names = (side: string): TableNames => ({
    replicas: `bench-${label}-${side}-${stamp}-replicas`,
    runs: `bench-${label}-${side}-${stamp}-runs`,
    events: `bench-${label}-${side}-${stamp}-events`,
  });
  const tables = { ours: names('ours'), naive: names('naive') };
  await createMissingTables(env.client, tables.ours);
  await createMissingTables(env.client, tables.naive);
  return tables;
}

function floor(config: BenchConfig, ours: SideMeasure): number {
  return Math.round((ours.pages * config.latencyMs) / DEFAULTS.maxConcurrency);
}

function count(replicas: number): string {
  return replicas.toLocaleString('en-US');
}
