import { forEachBounded } from '../bounded.js';
import type { PageRequest, PageSource, ReplicaPage } from './page-source.js';
import type { ApiRow, ReplicaType } from '../model/replica.js';

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
}

export interface WalkResult {
  /** Every distinct replica id the walk returned. */
  seen: Set<string>;
  /** The kept rows by id; a replica on two pages (the list shifted) keeps its later row. */
  rows: Map<string, ApiRow>;
  pages: number;
  /** total_count of the last page answered: the freshest count of the list. */
  finalTotalCount: number;
  /** Every replica the API counts was seen: the distinct rows account for the final total_count. */
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
  let pages = 0;
  let finalTotalCount = 0;
  let pagesExpected = 1;

  const take = (page: ReplicaPage): number => {
    pages += 1;
    // Concurrent answers arrive out of order: the count from the latest answer wins.
    finalTotalCount = page.totalCount;
    let fresh = 0;
    for (const row of page.rows) {
      if (!seen.has(row.replica_id)) fresh += 1;
      seen.add(row.replica_id);
      if (options.retain === undefined || options.retain(row)) rows.set(row.replica_id, row);
      else rows.delete(row.replica_id);
    }
    options.onProgress?.({ pagesDone: pages, pagesExpected: Math.max(pagesExpected, pages), replicasSeen: seen.size });
    return fresh;
  };

  const list = (page: number): Promise<ReplicaPage> => source.listPage(page, options.replicaType, options.request);
  const first = await list(1);
  const pageSize = first.rows.length;
  if (pageSize > 0 && first.totalCount > pageSize) pagesExpected = Math.ceil(first.totalCount / pageSize);
  take(first);

  if (pageSize > 0 && seen.size < first.totalCount) {
    const remaining = Array.from({ length: pagesExpected - 1 }, (_, index) => index + 2);
    await limiter.runAll(remaining, async (page) => {
      take(await list(page));
    });

    // The list grew during the walk, or the pages shifted: keep going while something new comes.
    let next = pagesExpected + 1;
    while (seen.size < finalTotalCount) {
      pagesExpected = Math.max(pagesExpected, next);
      const page = await list(next);
      if (take(page) === 0) break;
      next += 1;
    }
  }

  return { seen, rows, pages, finalTotalCount, accountedFor: seen.size >= finalTotalCount };
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
  runAll<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
    return forEachBounded(items, () => this.current, work, () => this.succeeded());
  }
}
