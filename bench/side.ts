/**
 * One side of one scenario: the engine's sync or the naive baseline, against a running simulator
 * and DynamoDB. It measures what only the syncing process can see (wall time, DynamoDB requests,
 * items written, memory); the simulator's side (API requests, requests in flight) is counted by the
 * caller. `bench/run.ts` runs each side in a fresh child process so memory figures do not mix.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoClient } from '../functions/engine/load/dynamo-client.js';
import type { ReplicaWrite } from '../functions/engine/model/write.js';
import { itemSize } from '../functions/engine/plan/item-limits.js';
import { parseSettings } from '../functions/engine/settings/registry.js';
import type { ReplicaStore, RunLedger, WriteOutcome } from '../functions/engine/load/store.js';
import { runSync, type SyncLog } from '../functions/engine/sync.js';
import type { TableNames } from '../functions/engine/contract/tables.js';
import type { ApiTuning } from '../functions/engine/extract/tavus-api.js';
import type { WalkProgress } from '../functions/engine/extract/walk.js';
import { productionParts } from '../functions/engine/wiring.js';
import { naiveSync } from './naive-sync.js';

export interface SideJob {
  side: 'ours' | 'naive';
  apiUrl: string;
  apiKey: string;
  dynamodbEndpoint: string;
  /** Ours uses all three; the naive sync only `replicas`. */
  tables: TableNames;
  /** The walk's time budget for ours: the Lambda timeout less the stack's margin. */
  walkBudgetMs: number;
  api?: ApiTuning;
}

export interface SideMeasure {
  status: string;
  error?: string;
  /** performance.now() around the sync call only: no process start, no module loading. */
  wallMs: number;
  pages: number;
  fetched: number;
  dynamoRequests: number;
  /** Replica items written. */
  itemsWritten: number;
  /** Event items written beside them (ours only): they cost write units too. */
  eventsWritten: number;
  /** Mean size of a written replica item in DynamoDB's measure (names + values), in bytes. */
  meanItemBytes: number;
  retries: number;
  /** The adaptive limit's lowest value, as the retry log reported it (ours only). */
  lowestLimit?: number;
  /** process.resourceUsage().maxRSS of the process that ran the side, in MB. */
  maxRssMb: number;
  /** Resident set size just before the sync started (modules loaded), in MB. */
  startRssMb: number;
  /** The highest heapUsed seen by a 25 ms sampler during the sync, in MB. */
  peakHeapMb: number;
  /** When each phase ended, in ms from the start of the sync (ours only): where the time went. */
  phases?: Phases;
}

export interface Phases {
  lease: number;
  scan: number;
  walk: number;
  /** The plan is made: the writes start. */
  plan: number;
  writes: number;
}

/** When each phase ended, from one start. */
class PhaseClock {
  readonly phases: Phases = { lease: 0, scan: 0, walk: 0, plan: 0, writes: 0 };
  private readonly started = performance.now();

  mark(phase: keyof Phases): void {
    this.phases[phase] = Math.round(performance.now() - this.started);
  }
}

/** Wraps a store: counts what the writes carry (so the cost note can price events and item sizes), and marks phases. */
class CountingStore implements ReplicaStore {
  events = 0;
  items = 0;
  bytes = 0;

  constructor(
    private readonly inner: ReplicaStore,
    private readonly clock: PhaseClock,
  ) {}

  async loadReplicas(): Promise<Awaited<ReturnType<ReplicaStore['loadReplicas']>>> {
    const state = await this.inner.loadReplicas();
    this.clock.mark('scan');
    return state;
  }

  async applyWrites(writes: ReplicaWrite[]): Promise<WriteOutcome> {
    // The first call comes right after the plan; a second one (deletions) extends the writes.
    if (this.clock.phases.plan === 0) this.clock.mark('plan');
    for (const write of writes) {
      this.events += write.events.length;
      if (write.kind === 'put') {
        this.items += 1;
        this.bytes += itemSize(write.item);
      }
    }
    const outcome = await this.inner.applyWrites(writes);
    this.clock.mark('writes');
    return outcome;
  }
}

/** Wraps a ledger to mark when the lease was taken. */
function markingLedger(inner: RunLedger, clock: PhaseClock): RunLedger {
  return {
    acquireLease: async (...args) => {
      const claim = await inner.acquireLease(...args);
      clock.mark('lease');
      return claim;
    },
    releaseLease: (runId) => inner.releaseLease(runId),
    recordRun: (...args) => inner.recordRun(...args),
  };
}

/** Counts every DynamoDB command the client sends (SDK retries of one command count once). */
function countRequests(client: DynamoDBClient): { count: number } {
  const counter = { count: 0 };
  client.middlewareStack.add(
    (next) => (args) => {
      counter.count += 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchRequestCounter' },
  );
  return counter;
}

export async function runSide(job: SideJob): Promise<SideMeasure> {
  const client = dynamoClient(job.dynamodbEndpoint, {});
  const mb = (bytes: number): number => Math.round((bytes / 1_048_576) * 10) / 10;
  const startRssMb = mb(process.memoryUsage.rss());
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 25);
  const started = performance.now();
  try {
    const measured = job.side === 'ours' ? await runOurs(job, client) : await runNaive(job, client);
    const wallMs = Math.round(performance.now() - started);
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    return {
      ...measured,
      wallMs,
      startRssMb,
      peakHeapMb: mb(peakHeap),
      maxRssMb: mb(process.resourceUsage().maxRSS * 1024),
    };
  } finally {
    clearInterval(sampler);
    client.destroy();
  }
}

type Measured = Omit<SideMeasure, 'wallMs' | 'maxRssMb' | 'startRssMb' | 'peakHeapMb'>;

async function runOurs(job: SideJob, client: DynamoDBClient): Promise<Measured> {
  const settings = parseSettings({
    apiUrl: job.apiUrl,
    table: job.tables.replicas,
    runsTable: job.tables.runs,
    eventsTable: job.tables.events,
  });
  const requests = countRequests(client);
  const clock = new PhaseClock();
  const parts = productionParts({ client, settings, apiKey: job.apiKey, tuning: job.api });
  const store = new CountingStore(parts.store, clock);
  let lowestLimit: number | undefined;
  const log: SyncLog = {
    info: () => {},
    warn: (_message, fields) => {
      if (typeof fields?.concurrency === 'number') lowestLimit = Math.min(lowestLimit ?? Infinity, fields.concurrency);
    },
    error: () => {},
  };
  const onProgress = (progress: WalkProgress): void => {
    if (progress.pagesDone >= progress.pagesExpected) clock.mark('walk');
  };
  const summary = await runSync(
    settings,
    { ...parts, store, ledger: markingLedger(parts.ledger, clock), log, onProgress },
    { walkBudgetMs: job.walkBudgetMs },
  );
  return {
    status: summary.status,
    ...(summary.error ? { error: summary.error } : {}),
    pages: summary.pages,
    fetched: summary.fetched,
    dynamoRequests: requests.count,
    itemsWritten: summary.written,
    eventsWritten: store.events,
    meanItemBytes: store.items === 0 ? 0 : Math.round(store.bytes / store.items),
    retries: summary.retries,
    phases: clock.phases,
    ...(lowestLimit === undefined ? {} : { lowestLimit }),
  };
}

async function runNaive(job: SideJob, client: DynamoDBClient): Promise<Measured> {
  try {
    const result = await naiveSync({ apiUrl: job.apiUrl, apiKey: job.apiKey, client, table: job.tables.replicas });
    return { status: 'succeeded', ...result, itemsWritten: result.written, eventsWritten: 0, meanItemBytes: 0, retries: 0 };
  } catch (error) {
    return {
      status: 'failed',
      error: (error as Error).message,
      pages: 0,
      fetched: 0,
      dynamoRequests: 0,
      itemsWritten: 0,
      eventsWritten: 0,
      meanItemBytes: 0,
      retries: 0,
    };
  }
}

