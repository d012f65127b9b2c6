import { randomUUID } from 'node:crypto';
import { attentionOf, sortAttention, type AttentionEntry } from './attention.js';
import {
  addCounts,
  deletionCandidates,
  emptyCounts,
  isSettled,
  planDeletions,
  planSettled,
  planUpserts,
  type PlanContext,
  type PlanCounts,
} from './plan.js';
import type { ApiRow, StoredReplica } from './replica.js';
import type { SyncSettings } from './settings.js';
import type { ReplicaStore, WriteOutcome } from './store.js';
import { TavusApi } from './tavus-api.js';
import { AdaptiveLimit, walkReplicas, type WalkProgress, type WalkResult } from './walk.js';

export type RunStatus = 'succeeded' | 'failed' | 'skipped';

/** The run summary of the contract, plus a few figures the metrics and the benchmark read. */
export interface RunSummary {
  run_id: string;
  status: RunStatus;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  pages: number;
  fetched: number;
  created: number;
  updated: number;
  unchanged: number;
  restored: number;
  deleted: number;
  stuck: number;
  retries: number;
  /** A human sentence, when not succeeded. */
  error?: string;
  /** Replica items written (created, updated, restored, deleted, or stuck flags changed). */
  written: number;
  /** Live replicas in scope whose status is `error`, and those that turned `error` in this run. */
  in_error: number;
  newly_in_error: number;
  /** One entry per alert event this run wrote (see attention.ts), by kind then replica id. */
  attention: AttentionEntry[];
  /** Something a person should know though the run succeeded (deletions deferred, say). */
  warnings: string[];
}

export interface SyncLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface SyncDependencies {
  store: ReplicaStore;
  apiKey: string;
  log: SyncLog;
  clock?: () => Date;
  onProgress?: (progress: WalkProgress) => void;
}

export interface RunOptions {
  /** How long the walk may take, from the start of the run: it then fails without deleting. */
  walkBudgetMs: number;
  /** Tuning for tests and the benchmark; production uses the defaults. */
  api?: { requestTimeoutMs?: number; retries?: number; baseDelayMs?: number; maxDelayMs?: number; maxRetryAfterMs?: number; pageSize?: number };
}

/** Writes and records after the walk get this much beyond the walk budget before a lease expires. */
const LEASE_MARGIN_MS = 10 * 60_000;

/**
 * One sync run: lease -> walk (and read the table meanwhile) -> confirm deletions by id -> plan ->
 * write -> record. Any failure before the writes leaves the table exactly as it was.
 */
export async function runSync(settings: SyncSettings, deps: SyncDependencies, options: RunOptions): Promise<RunSummary> {
  const clock = deps.clock ?? (() => new Date());
  const started = clock();
  const startedMs = Date.now();
  const summary: RunSummary = {
    run_id: randomUUID(),
    status: 'failed',
    started_at: started.toISOString(),
    finished_at: started.toISOString(),
    duration_ms: 0,
    pages: 0,
    fetched: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    restored: 0,
    deleted: 0,
    stuck: 0,
    retries: 0,
    written: 0,
    in_error: 0,
    newly_in_error: 0,
    attention: [],
    warnings: [],
  };
  const { store, log } = deps;
  const finish = async (): Promise<RunSummary> => {
    summary.attention = sortAttention(summary.attention);
    summary.finished_at = clock().toISOString();
    summary.duration_ms = Date.now() - startedMs;
    try {
      await store.recordRun({ ...summary }, clock(), settings.runRecordTtlDays);
    } catch (error) {
      log.warn('The run record could not be written.', { error: (error as Error).message });
    }
    return summary;
  };

  let leased: boolean;
  try {
    leased = await store.acquireLease(summary.run_id, started, options.walkBudgetMs + LEASE_MARGIN_MS);
  } catch (error) {
    summary.error = (error as Error).message;
    log.error('The sync failed.', { error: summary.error });
    return finish();
  }
  if (!leased) {
    summary.status = 'skipped';
    summary.error = `Another sync of table "${settings.tables.replicas}" holds the lease, so this run did nothing; it expires by itself if that run crashed.`;
    log.info(summary.error);
    return finish();
  }

  const limiter = new AdaptiveLimit(settings.maxConcurrency);
  const api = new TavusApi({
    baseUrl: settings.apiUrl,
    apiKey: deps.apiKey,
    deadline: startedMs + options.walkBudgetMs,
    ...options.api,
    onRetry: (retry) => {
      if (retry.status === 429) limiter.pushBack();
      log.warn('Retrying a Tavus API request.', { ...retry, concurrency: limiter.limit });
    },
  });

  try {
    // The table is read while the walk runs (a Scan is much faster than the walk); once it is in,
    // rows that need nothing are dropped as they arrive and only their ids kept.
    let loaded: Map<string, StoredReplica> | undefined;
    const [walk, stored] = await Promise.all([
      walkReplicas(api, limiter, {
        replicaType: settings.replicaType,
        maxConcurrency: settings.maxConcurrency,
        onProgress: deps.onProgress,
        retain: (row) => loaded === undefined || !isSettled(row, loaded.get(row.replica_id)),
      }),
      store.loadReplicas().then((state) => (loaded = state)),
    ]);
    summary.pages = walk.pages;

    const confirmedGone = await confirmDeletions(api, walk, stored, settings, summary);
    summary.fetched = walk.seen.size;
    summary.retries = api.retries;

    const context: PlanContext = {
      stored,
      scope: settings.replicaType,
      now: clock(),
      stuckAfterMs: settings.stuckAfterMs,
      maxDeleteFraction: settings.maxDeleteFraction,
      runId: summary.run_id,
      eventTtlDays: settings.eventTtlDays,
    };
    const settled = [...walk.seen].filter((id) => !walk.rows.has(id));
    const outcome = await writeUpserts(store, walk.rows, context, summary.attention);
    outcome.counts = addCounts(outcome.counts, planSettled(settled, stored));
    const plan = planDeletions(walk.seen, confirmedGone, context);
    // Deletions go last, and only when every other write landed: a failed run deletes nothing.
    if (outcome.conflicts.length === 0 && plan.writes.length > 0) {
      const deleted = await store.applyWrites(plan.writes);
      plan.counts.deleted = deleted.written;
      outcome.written += deleted.written;
      outcome.conflicts.push(...deleted.conflicts);
    } else {
      plan.counts.deleted = 0;
    }
    applyCounts(summary, addCounts(outcome.counts, plan.counts), outcome.written);

    if (plan.breaker) {
      const { wouldDelete, liveInScope, maxDeleteFraction } = plan.breaker;
      summary.error = `This run would have marked ${wouldDelete} of ${liveInScope} live replicas deleted, more than the breaker allows (max delete fraction ${maxDeleteFraction}), so it marked none; if they really are gone, run once with --max-delete-fraction 1 (MAX_DELETE_FRACTION=1).`;
    } else if (outcome.conflicts.length > 0) {
      summary.error = `${outcome.conflicts.length} replica(s) were changed by another writer during this run and were left as that writer left them (${outcome.conflicts.slice(0, 5).join(', ')}); the next run reconciles them.`;
    } else {
      summary.status = 'succeeded';
    }
  } catch (error) {
    summary.retries = api.retries;
    summary.error = (error as Error).message;
  } finally {
    await store.releaseLease(summary.run_id).catch((error: unknown) => {
      log.warn('The lease could not be released; it expires by itself.', { error: (error as Error).message });
    });
  }

  if (summary.status === 'failed') log.error('The sync failed.', { error: summary.error });
  for (const warning of summary.warnings) log.warn(warning);
  return finish();
}

/**
 * The replicas confirmed gone upstream, or undefined when this run may delete nothing: only a walk
 * that accounts for the final total_count may delete, and only what a lookup by id no longer finds.
 * Replicas the lookup does find (the pages shifted under the walk) join the rows seen.
 */
async function confirmDeletions(
  api: TavusApi,
  walk: WalkResult,
  stored: Map<string, StoredReplica>,
  settings: SyncSettings,
  summary: RunSummary,
): Promise<Set<string> | undefined> {
  if (!walk.accountedFor) {
    summary.warnings.push(
      `The walk saw ${walk.seen.size} distinct replicas but the API counts ${walk.finalTotalCount}, so no replica was marked deleted this run; the next run checks again.`,
    );
    return undefined;
  }
  const candidates = deletionCandidates(stored, walk.seen, settings.replicaType);
  if (candidates.length === 0) return new Set();
  const found = await api.lookup(candidates);
  for (const row of found) {
    if (settings.replicaType === undefined || row.replica_type === settings.replicaType) {
      walk.rows.set(row.replica_id, row);
      walk.seen.add(row.replica_id);
    }
  }
  const stillThere = new Set(found.map((row) => row.replica_id));
  return new Set(candidates.filter((id) => !stillThere.has(id)));
}

/** Replicas planned and written per slice: bounds the items held at once on a large walk. */
const UPSERT_SLICE = 2_000;

/**
 * Plans and writes the returned replicas a slice at a time, letting go of each slice's rows once
 * written: a 100,000-replica first sync never holds every new item beside every row. Each slice's
 * alerts join `attention` as soon as it is written, so a run that fails later still lists them.
 */
async function writeUpserts(
  store: ReplicaStore,
  rows: Map<string, ApiRow>,
  context: PlanContext,
  attention: AttentionEntry[],
): Promise<WriteOutcome & { counts: PlanCounts }> {
  const result = { written: 0, conflicts: [] as string[], counts: emptyCounts() };
  let slice: ApiRow[] = [];
  const flush = async (): Promise<void> => {
    const part = planUpserts(slice, context);
    slice = [];
    const outcome = await store.applyWrites(part.writes);
    attention.push(...attentionOf(part.writes, outcome.conflicts));
    result.written += outcome.written;
    result.conflicts.push(...outcome.conflicts);
    result.counts = addCounts(result.counts, part.counts);
  };
  for (const [id, row] of rows) {
    slice.push(row);
    rows.delete(id);
    if (slice.length >= UPSERT_SLICE) await flush();
  }
  if (slice.length > 0) await flush();
  return result;
}

function applyCounts(summary: RunSummary, counts: PlanCounts, written: number): void {
  Object.assign(summary, {
    created: counts.created,
    updated: counts.updated,
    unchanged: counts.unchanged,
    restored: counts.restored,
    deleted: counts.deleted,
    stuck: counts.stuck,
    in_error: counts.inError,
    newly_in_error: counts.newlyInError,
    written,
  });
}
