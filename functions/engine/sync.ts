/**
 * One sync run as a script of named steps: lease -> extract (the walk, with the state read beside
 * it) -> confirm gone -> write upserts in slices -> write deletions -> summary. Each step returns
 * what the next needs; the summary is built once, at the end. Any failure before the writes leaves
 * the table exactly as it was.
 */
import { randomUUID } from 'node:crypto';
import type { PageRequest, PageSource } from './extract/page-source.js';
import { addCounts, deletionCandidates, emptyCounts, isSettled, planDeletions, planUnchanged, planUpserts, subtractCounts, type Plan, type PlanContext, type PlanCounts } from './plan/plan.js';
import { attentionOf, sortAttention } from './plan/attention.js';
import type { AttentionEntry } from './model/events.js';
import type { ApiRow, StoredReplica } from './model/replica.js';
import { ENVIRONMENT_TERMS, type SettingTerms } from './settings/terms.js';
import type { SyncSettings } from './settings/registry.js';
import type { Rejection } from './model/write.js';
import type { RunStatus, RunSummary } from './model/summary.js';
import type { HeldLease, ReplicaStore, RunLedger, WriteOutcome } from './load/store.js';
import { interruptedSentence, throwIfInterrupted, type RunPhase } from './interruption.js';
import { idRejectionOf } from './plan/item-limits.js';
import { TavusApiError } from './errors.js';
import { redactDeep } from './redact.js';
import { recordOf } from './load/run-record.js';
import { AdaptiveLimit, walkReplicas, type WalkProgress, type WalkResult } from './extract/walk.js';

export interface SyncLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface SyncDependencies {
  /** The list to sync from (the Tavus API in production). */
  source: PageSource;
  /** Where the replicas and their events are kept. */
  store: ReplicaStore;
  /** The lease and the run records. */
  ledger: RunLedger;
  log: SyncLog;
  /** Stamps the run's times (see runSync on the two clocks). */
  clock?: () => Date;
  onProgress?: (progress: WalkProgress) => void;
  /** How this edge names a setting in advice (the breaker's override); environment names by default. */
  terms?: SettingTerms;
  /** How this edge words a failure for its user (the CLI offers --create-tables); the message by default. */
  describeError?: (error: unknown) => string;
  /** Aborted to stop the run (Ctrl-C, a Lambda near its timeout): see interruption.ts. */
  signal?: AbortSignal;
  /**
   * Takes the API key out of text (see redact.ts): applied to everything the run logs, records
   * and returns, whatever an answer echoed. `productionParts` supplies it.
   */
  redact?: (text: string) => string;
}

export interface RunOptions {
  /** How long the walk may take, from the start of the run: it then fails without deleting. */
  walkBudgetMs: number;
}

/** Writes and records after the walk get this much beyond the walk budget before a lease expires. */
const LEASE_MARGIN_MS = 10 * 60_000;
/** Replicas planned and written per slice: bounds the items held at once on a large walk. */
const UPSERT_SLICE = 2_000;

/** What a run knows of itself from its start. */
interface Run {
  id: string;
  startedAt: Date;
  startedMs: number;
  /** Repeated API attempts, counted as the source reports them. */
  retries: number;
  /** Alerts of the writes that landed, gathered slice by slice: a run that fails later still lists them. */
  attention: AttentionEntry[];
  /** Where the run is, and the replica items it has written so far: an interrupted run says so. */
  phase: RunPhase;
  written: number;
}

/** What the steps found out, before it becomes the summary. */
interface RunResult {
  status: RunStatus;
  error?: string;
  pages?: number;
  fetched?: number;
  counts?: PlanCounts;
  written?: number;
  rejected?: Rejection[];
  warnings?: string[];
}

/**
 * One sync run.
 *
 * Two clocks, on purpose: the injected `clock` stamps what the run records (started_at, event
 * times, how long a training has been stuck), so the demo and tests can move it hours ahead;
 * `Date.now()` measures real time (duration_ms, the walk's deadline), which a moved clock must
 * neither stretch nor shrink.
 * @param settings what to sync and how (tables, scope, breaker, stuck-after)
 * @param deps the page source, the store, the ledger, the log, and how this edge words things
 * @param options the walk's time budget
 * @returns the run summary; it never throws for a failed run, the summary says so
 */
export async function runSync(settings: SyncSettings, given: SyncDependencies, options: RunOptions): Promise<RunSummary> {
  const redact = given.redact ?? ((text: string) => text);
  // The boundary: nothing this run logs, records or returns can carry the key.
  const deps: SyncDependencies = { ...given, log: redactingLog(given.log, redact) };
  const clock = deps.clock ?? (() => new Date());
  const run: Run = { id: randomUUID(), startedAt: clock(), startedMs: Date.now(), retries: 0, attention: [], phase: 'start', written: 0 };
  let result: RunResult;
  try {
    throwIfInterrupted(deps.signal);
    const claim = await deps.ledger.acquireLease(run.id, run.startedAt, options.walkBudgetMs + LEASE_MARGIN_MS);
    result = claim.acquired ? await syncUnderLease(settings, deps, options, run, clock) : skipped(settings, claim.held);
  } catch (error) {
    result = { status: 'failed', error: failureSentence(error, deps, run) };
  }
  const summary = redactDeep(summarize(run, result, clock()), redact);
  report(deps.log, summary);
  await deps.ledger.recordRun(recordOf(summary), clock(), settings.runRecordTtlDays).catch((error: unknown) => {
    deps.log.warn('The run record could not be written.', { error: (error as Error).message });
  });
  return summary;
}

function redactingLog(log: SyncLog, redact: (text: string) => string): SyncLog {
  const clean = (fields?: Record<string, unknown>) => (fields === undefined ? undefined : redactDeep({ ...fields }, redact));
  return {
    info: (message, fields) => log.info(redact(message), clean(fields)),
    warn: (message, fields) => log.warn(redact(message), clean(fields)),
    error: (message, fields) => log.error(redact(message), clean(fields)),
  };
}

/** The steps that need the lease; it is released whatever happens. */
async function syncUnderLease(settings: SyncSettings, deps: SyncDependencies, options: RunOptions, run: Run, clock: () => Date): Promise<RunResult> {
  let extracted: Extracted | undefined;
  let confirmed: Confirmed | undefined;
  try {
    run.phase = 'walk';
    extracted = await extract(settings, deps, options, run);
    throwIfInterrupted(deps.signal);
    run.phase = 'confirm';
    confirmed = await confirmGone(deps.source, extracted, settings, extracted.request);
    throwIfInterrupted(deps.signal);
    run.phase = 'writes';
    const context = planContext(settings, extracted.stored, run, clock());
    const upserts = await writeUpserts(deps.store, upsertRows(extracted.walk, confirmed.found), context, run, deps.signal);
    const deletions = planDeletions(seenIn(extracted.walk, confirmed.found), confirmed.gone, context);
    run.phase = 'deletions';
    const written = combined(upserts, await writeDeletions(deps.store, deletions, upserts.conflicts.length, deps.signal));
    return verdict(extracted, confirmed, written.counts, deletions.breaker, written, deps.terms ?? ENVIRONMENT_TERMS);
  } catch (error) {
    return { status: 'failed', error: failureSentence(error, deps, run), pages: extracted?.walk.pages, fetched: fetchedOf(extracted, confirmed), warnings: confirmed?.warnings };
  } finally {
    await deps.ledger.releaseLease(run.id).catch((error: unknown) => {
      deps.log.warn('The lease could not be released; it expires by itself.', { error: (error as Error).message });
    });
  }
}

/** Why the run failed, in the edge's words; an interrupted run says what it left behind. */
function failureSentence(error: unknown, deps: SyncDependencies, run: Run): string {
  if (deps.signal?.aborted) return interruptedSentence(deps.signal, run.phase, run.written);
  return (deps.describeError ?? ((cause: unknown) => (cause as Error).message))(error);
}

/** Skipped: says whose lease stands, when it expires, and how to clear one a crashed run left. */
function skipped(settings: SyncSettings, held: HeldLease | undefined): RunResult {
  const table = `table "${settings.tables.replicas}"`;
  if (!held) return { status: 'skipped', error: `Another sync of ${table} holds the lease, so this run did nothing; it expires by itself if that run crashed.` };
  return {
    status: 'skipped',
    error:
      `Another sync of ${table} (run ${held.holder}) holds the lease until ${held.expiresAt.toISOString()}, so this run did nothing; ` +
      `if no other sync is running (that one crashed or was killed), wait until then or delete the lease item (${held.item}).`,
  };
}

interface Extracted {
  walk: WalkResult;
  stored: Map<string, StoredReplica>;
  /**
   * Ids the walk saw but dropped: settled, or rejected as no key (a non-string id by its JSON
   * text). Counted unchanged, with flags from the stored state.
   */
  settled: string[];
  /** What bounds every request of this run. */
  request: PageRequest;
}

/**
 * Walks the list while the table is read (a Scan is much faster than the walk); once the state is
 * in, rows that need nothing are dropped as they arrive and only their ids kept.
 */
async function extract(settings: SyncSettings, deps: SyncDependencies, options: RunOptions, run: Run): Promise<Extracted> {
  const limiter = new AdaptiveLimit(settings.maxConcurrency);
  const request: PageRequest = {
    deadline: run.startedMs + options.walkBudgetMs,
    signal: deps.signal,
    onRetry: (retry) => {
      run.retries += 1;
      if (retry.status === 429) limiter.pushBack();
      deps.log.warn('Retrying a Tavus API request.', { ...retry, concurrency: limiter.limit });
    },
  };
  let loaded: Map<string, StoredReplica> | undefined;
  const [walk, stored] = await Promise.all([
    walkReplicas(deps.source, limiter, {
      replicaType: settings.replicaType,
      request,
      onProgress: deps.onProgress,
      retain: (row) => loaded === undefined || !isSettled(row, loaded.get(row.replica_id)),
      reject: (row) => idRejectionOf(row.replica_id),
      maxReplicas: settings.maxReplicas,
      terms: deps.terms,
    }),
    deps.store.loadReplicas().then((state) => (loaded = state)),
  ]);
  // Rejected ids are among these: a row whose id cannot be a key leaves the table as it was.
  const settled = [...[...walk.seen].filter((id) => !walk.rows.has(id)), ...walk.nonStringIds];
  return { walk, stored, settled, request };
}

interface Confirmed {
  /** Replicas confirmed gone upstream; undefined when this run may delete nothing. */
  gone?: Set<string>;
  /** Replicas in scope the lookup still found (the pages shifted under the walk): they count as seen. */
  found: ApiRow[];
  warnings: string[];
}

/**
 * Only a walk that accounts for the final total_count may delete, and only what a lookup by id no
 * longer finds. A lookup that fails for good defers the deletions alone: the run's upserts still
 * land, and a warning says the deletions wait for the next run.
 */
async function confirmGone(source: PageSource, extracted: Extracted, settings: SyncSettings, request: PageRequest): Promise<Confirmed> {
  const { walk, stored } = extracted;
  if (!walk.accountedFor) {
    const warning = `The walk saw ${walk.seen.size} distinct replicas but the API counts ${walk.finalTotalCount}, so no replica was marked deleted this run; the next run checks again.`;
    return { found: [], warnings: [warning] };
  }
  const candidates = deletionCandidates(stored, walk.seen, settings.replicaType);
  if (candidates.length === 0) return { gone: new Set(), found: [], warnings: [] };
  let answered: ApiRow[];
  try {
    answered = await source.lookup(candidates, request);
  } catch (error) {
    if (!(error instanceof TavusApiError) || request.signal?.aborted) throw error;
    const warning = `The lookup confirming ${candidates.length} replica(s) missing from the list failed (${error.message}), so no replica was marked deleted this run; the deletions wait for the next run.`;
    return { found: [], warnings: [warning] };
  }
  // Only the ids asked for: an answer cannot slip in a row the lookup did not name.
  const asked = new Set(candidates);
  const stillThere = new Set(answered.map((row) => row.replica_id));
  const found = answered.filter((row) => asked.has(row.replica_id) && (settings.replicaType === undefined || row.replica_type === settings.replicaType));
  return { gone: new Set(candidates.filter((id) => !stillThere.has(id))), found, warnings: [] };
}

function planContext(settings: SyncSettings, stored: Map<string, StoredReplica>, run: Run, now: Date): PlanContext {
  return {
    stored,
    scope: settings.replicaType,
    now,
    stuckAfterMs: settings.stuckAfterMs,
    finetuneStuckAfterMs: settings.finetuneStuckAfterMs,
    maxDeleteFraction: settings.maxDeleteFraction,
    runId: run.id,
    eventTtlDays: settings.eventTtlDays,
    replicasTable: settings.tables.replicas,
  };
}

/** The rows to plan: the walk's kept rows, let go of as they are taken, then those the lookup found. */
function* upsertRows(walk: WalkResult, found: ApiRow[]): Generator<ApiRow> {
  for (const [id, row] of walk.rows) {
    walk.rows.delete(id);
    yield row;
  }
  yield* found;
}

function seenIn(walk: WalkResult, found: ApiRow[]): { has(id: string): boolean } {
  const foundIds = new Set(found.map((row) => row.replica_id));
  return { has: (id) => walk.seen.has(id) || foundIds.has(id) };
}

function fetchedOf(extracted: Extracted | undefined, confirmed: Confirmed | undefined): number | undefined {
  return extracted && confirmed ? extracted.walk.seen.size + extracted.walk.nonStringIds.size + confirmed.found.length : undefined;
}

type Written = WriteOutcome & { counts: PlanCounts };

/**
 * Plans and writes the returned replicas a slice at a time: a 100,000-replica first sync never
 * holds every new item beside every row. Settled replicas are counted from the stored state. A
 * write DynamoDB cannot store is rejected by the plan before it is sent (and by the store, should
 * DynamoDB still refuse one); the rest of the slice is written.
 */
async function writeUpserts(store: ReplicaStore, rows: Iterable<ApiRow>, context: PlanContext, run: Run, signal?: AbortSignal): Promise<Written> {
  const result: Written = { written: 0, conflicts: [], rejected: [], counts: emptyCounts() };
  let slice: ApiRow[] = [];
  const flush = async (): Promise<void> => {
    throwIfInterrupted(signal);
    const part = planUpserts(slice, context);
    const outcome = await store.applyWrites(part.writes, { signal });
    run.written += outcome.written;
    throwIfInterrupted(signal);
    run.attention.push(...attentionOf(part.writes, [...outcome.conflicts, ...outcome.rejected.map((rejection) => rejection.replicaId)]));
    result.written += outcome.written;
    result.conflicts.push(...outcome.conflicts);
    result.rejected.push(...part.rejected, ...outcome.rejected);
    result.counts = addCounts(result.counts, outcome.rejected.length === 0 ? part.counts : refused(part.counts, slice, outcome.rejected, context));
    slice = [];
  };
  for (const row of rows) {
    slice.push(row);
    if (slice.length >= UPSERT_SLICE) await flush();
  }
  if (slice.length > 0) await flush();
  return result;
}

/**
 * A slice's counts once DynamoDB refused writes the plan's check let through (rare): those
 * replicas count as unchanged, their stored copies as they were. Only their rows are planned again.
 */
function refused(counts: PlanCounts, slice: ApiRow[], rejected: Rejection[], context: PlanContext): PlanCounts {
  const ids = new Set(rejected.map((rejection) => rejection.replicaId));
  const planned = planUpserts(slice.filter((row) => ids.has(row.replica_id)), context).counts;
  return addCounts(subtractCounts(counts, planned), planUnchanged(ids, context.stored));
}

/** Deletions go last, and only when every other write landed: a run with a conflict deletes nothing. Returns the deletions' own outcome. */
async function writeDeletions(store: ReplicaStore, plan: Pick<Plan, 'writes' | 'counts'>, upsertConflicts: number, signal?: AbortSignal): Promise<Written> {
  const counts = { ...plan.counts, deleted: 0 };
  if (upsertConflicts > 0 || plan.writes.length === 0) return { written: 0, conflicts: [], rejected: [], counts };
  const deleted = await store.applyWrites(plan.writes, { signal });
  throwIfInterrupted(signal);
  return { ...deleted, counts: { ...counts, deleted: deleted.written } };
}

/** The upserts' and the deletions' outcomes together. */
function combined(upserts: Written, deletions: Written): Written {
  return {
    written: upserts.written + deletions.written,
    conflicts: [...upserts.conflicts, ...deletions.conflicts],
    rejected: [...upserts.rejected, ...deletions.rejected],
    counts: addCounts(upserts.counts, deletions.counts),
  };
}

/** Succeeded, or failed with the sentence that says why (the breaker, conflicts). */
function verdict(
  extracted: Extracted,
  confirmed: Confirmed,
  planned: PlanCounts,
  breaker: Plan['breaker'],
  written: Written,
  terms: SettingTerms,
): RunResult {
  const counts = addCounts(planned, planUnchanged(extracted.settled, extracted.stored));
  const rejected = [...extracted.walk.rejected, ...written.rejected];
  const warnings = [...confirmed.warnings, ...rejected.map((rejection) => rejection.sentence)];
  const result = { pages: extracted.walk.pages, fetched: fetchedOf(extracted, confirmed), counts, written: written.written, rejected, warnings };
  if (breaker) {
    const { wouldDelete, liveInScope, maxDeleteFraction } = breaker;
    const error = `This run would have marked ${wouldDelete} of ${liveInScope} live replicas deleted, more than the breaker allows (max delete fraction ${maxDeleteFraction}), so it marked none; if they really are gone, run once with ${terms.assign('maxDeleteFraction', '1')}.`;
    return { ...result, status: 'failed', error };
  }
  if (written.conflicts.length > 0) {
    const error = `${written.conflicts.length} replica(s) were changed by another writer during this run and were left as that writer left them (${written.conflicts.slice(0, 5).join(', ')}); the next run reconciles them.`;
    return { ...result, status: 'failed', error };
  }
  return { ...result, status: 'succeeded' };
}

function summarize(run: Run, result: RunResult, finishedAt: Date): RunSummary {
  const counts = result.counts ?? emptyCounts();
  return {
    run_id: run.id,
    status: result.status,
    started_at: run.startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
    duration_ms: Date.now() - run.startedMs,
    pages: result.pages ?? 0,
    fetched: result.fetched ?? 0,
    created: counts.created,
    updated: counts.updated,
    unchanged: counts.unchanged,
    restored: counts.restored,
    deleted: counts.deleted,
    stuck: counts.stuck,
    rejected: result.rejected?.length ?? 0,
    retries: run.retries,
    ...(result.error === undefined ? {} : { error: result.error }),
    written: result.written ?? 0,
    in_error: counts.inError,
    newly_in_error: counts.newlyInError,
    finetune_failed: counts.finetuneFailed,
    attention: sortAttention(run.attention),
    warnings: result.warnings ?? [],
  };
}

function report(log: SyncLog, summary: RunSummary): void {
  if (summary.status === 'skipped') log.info(summary.error as string);
  if (summary.status === 'failed') log.error('The sync failed.', { error: summary.error });
  for (const warning of summary.warnings) log.warn(warning);
}
