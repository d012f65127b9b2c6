import { forEachBounded } from '../bounded.js';
import type { PageRequest, PageSource, ReplicaPage } from './page-source.js';
import type { ApiRow, ReplicaType } from '../model/replica.js';
import type { Rejection } from '../model/write.js';
import { TavusApiError } from '../errors.js';
import { ENVIRONMENT_TERMS, type SettingTerms } from '../settings/terms.js';

export interface WalkProgress {
  pagesDone: number;
  /** From page 1's size and total_count; grows if the list grows during the walk. */
  pagesExpected: number;
  replicasSeen: number;
}

export interface WalkOptions {
  replicaType?: ReplicaType;
  /** What bounds every page request (the run's deadline and retry bookkeeping). */
  request?: PageRequest;
  onProgress?: (progress: WalkProgress) => void;
  /**
   * Whether to keep a row's data; a row not kept still counts as seen. Lets the engine drop rows
   * it already knows are unchanged, so a resync of 100,000 does not hold every row in memory.
   */
  retain?: (row: ApiRow) => boolean;
  /**
   * Why a row's `replica_id` cannot be a key, or undefined when it can. A rejected row is neither
   * kept nor retained, but still counts as seen: one bad id never blocks deletions.
   */
  reject?: (row: ApiRow) => Rejection | undefined;
  /** The most replicas a walk believes or holds: a larger total_count, or more rows, fail the walk. */
  maxReplicas?: number;
  /** How the failure names `maxReplicas`; environment names by default. */
  terms?: SettingTerms;
}

export interface WalkResult {
  /** Every distinct string replica id the walk returned, rejected ones included. */
  seen: Set<string>;
  /**
   * Rows whose `replica_id` is not a string at all, one per distinct JSON text of the id (42 and
   * "42" are two replicas): rejected, and counted as seen beside `seen`.
   */
  nonStringIds: Set<string>;
  /** One rejection per distinct id that cannot be a key, in the order first seen. */
  rejected: Rejection[];
  /** The kept rows by id; a replica on two pages (the list shifted) keeps its later row. */
  rows: Map<string, ApiRow>;
  pages: number;
  /** total_count of the last page answered: the freshest count of the list. */
  finalTotalCount: number;
  /** Every replica the API counts was seen: the distinct rows (rejected ones too) account for the final total_count. */
  accountedFor: boolean;
}

/**
 * Walks every page of the list by what comes back, never by the requested limit: page 1 tells the
 * real page size and total_count; the remaining pages go out concurrently under an adaptive limit;
 * then, while the distinct rows fall short of total_count, the walk goes on one page at a time until
 * a page is empty or brings nothing new. Any failed page fails the walk.
 * @param source the pages (page 1 always goes alone: it sizes the walk)
 * @param limiter page requests in flight at most
 * @returns every id seen, the rows kept, and whether they account for the final total_count
 */
export async function walkReplicas(
  source: PageSource,
  limiter: AdaptiveLimit,
  options: WalkOptions,
): Promise<WalkResult> {
  const rows = new Map<string, ApiRow>();
  const seen = new Set<string>();
  const nonStringIds = new Set<string>();
  const rejected: Rejection[] = [];
  const cap = new ReplicaCap(options.maxReplicas ?? Number.MAX_SAFE_INTEGER, options.terms ?? ENVIRONMENT_TERMS);
  const seenCount = (): number => seen.size + nonStringIds.size;
  let pages = 0;
  let finalTotalCount = 0;
  let pagesExpected = 1;
  /** A page came back empty: the list ends before it, so no later page is asked for. */
  let ended = false;

  /** Whether the row's id is new to the walk; a rejected row is recorded, never kept. */
  const sight = (row: ApiRow): boolean => {
    const rejection = options.reject?.(row);
    const id: unknown = row.replica_id;
    const key = typeof id === 'string' ? id : String(JSON.stringify(id));
    const known = typeof id === 'string' ? seen : nonStringIds;
    const fresh = !known.has(key);
    known.add(key);
    if (rejection) {
      if (fresh) rejected.push(rejection);
      rows.delete(key);
    } else if (options.retain === undefined || options.retain(row)) rows.set(key, row);
    else rows.delete(key);
    return fresh;
  };

  const take = (page: ReplicaPage): number => {
    pages += 1;
    cap.checkCount(page.totalCount);
    // Concurrent answers arrive out of order: the count from the latest answer wins.
    finalTotalCount = page.totalCount;
    if (page.rows.length === 0) ended = true;
    let fresh = 0;
    for (const row of page.rows) if (sight(row)) fresh += 1;
    cap.checkHeld(seenCount());
    options.onProgress?.({ pagesDone: pages, pagesExpected: Math.max(pagesExpected, pages), replicasSeen: seenCount() });
    return fresh;
  };

  const list = (page: number): Promise<ReplicaPage> => source.listPage(page, options.replicaType, options.request);
  const first = await list(1);
  const pageSize = first.rows.length;
  if (pageSize > 0 && first.totalCount > pageSize) pagesExpected = Math.ceil(first.totalCount / pageSize);
  take(first);

  if (pageSize > 0 && seenCount() < first.totalCount) {
    // Page numbers are made as they are asked for, never allocated by total_count, and stop once
    // a page comes back empty: a count that lies upward costs one empty page, not millions.
    function* remaining(): Generator<number> {
      for (let page = 2; page <= pagesExpected && !ended; page += 1) yield page;
    }
    await limiter.runAll(remaining(), async (page) => {
      take(await list(page));
    });

    // The list grew during the walk, or the pages shifted: keep going while something new comes.
    let next = pagesExpected + 1;
    while (!ended && seenCount() < finalTotalCount) {
      pagesExpected = Math.max(pagesExpected, next);
      const page = await list(next);
      if (take(page) === 0) break;
      next += 1;
    }
  }

  return { seen, nonStringIds, rejected, rows, pages, finalTotalCount, accountedFor: seenCount() >= finalTotalCount };
}

/** The `maxReplicas` bound: what a walk believes of total_count, and what it holds. */
class ReplicaCap {
  constructor(
    private readonly max: number,
    private readonly terms: SettingTerms,
  ) {}

  /** A count above the cap fails at once: no page is walked on the strength of it. */
  checkCount(totalCount: number): void {
    if (totalCount <= this.max) return;
    throw new TavusApiError(
      `The API counts ${totalCount} replicas, more than the ${this.max} this sync accepts, so the walk stopped and nothing was written; if the account really holds that many, raise the cap with ${this.terms.assign('maxReplicas', String(totalCount))}.`,
    );
  }

  /** Pages that never end (each full of new rows) stop at the cap too. */
  checkHeld(seen: number): void {
    if (seen <= this.max) return;
    throw new TavusApiError(
      `The API returned more than ${this.max} distinct replicas and kept going, so the walk stopped and nothing was written; if the account really holds more, raise the cap with ${this.terms.assign('maxReplicas', String(this.max * 2))}.`,
    );
  }
}

/**
 * A concurrency limit that halves when the API pushes back (429) and grows by one after a run of
 * successes: additive increase, multiplicative decrease, as TCP does, so a rate-limited API sees
 * the load drop at once and recover gently.
 */
export class AdaptiveLimit {
  private current: number;
  private successes = 0;

  constructor(private readonly max: number) {
    if (!(Number.isInteger(max) && max >= 1)) {
      throw new TypeError(`Expected the concurrency limit to be a whole number of at least 1, got ${String(max)}.`);
    }
    this.current = max;
  }

  get limit(): number {
    return this.current;
  }

  /** The API said "too many requests". */
  pushBack(): void {
    this.current = Math.max(1, Math.floor(this.current / 2));
    this.successes = 0;
  }

  private succeeded(): void {
    this.successes += 1;
    if (this.current < this.max && this.successes >= this.current * 2) {
      this.current += 1;
      this.successes = 0;
    }
  }

  /** Runs `work` for every item, at most `limit` at once; the first failure rejects. */
  runAll<T>(items: Iterable<T>, work: (item: T) => Promise<void>): Promise<void> {
    return forEachBounded(items, () => this.current, work, () => this.succeeded());
  }
}
