import pRetry, { AbortError } from 'p-retry';
// zod/mini with named imports: the classic `z` namespace put 454 KB of the 748 KB Lambda bundle
// (the benchmark's figure); these few schemas and the English messages take about 20 KB.
import { array, config, int, looseObject, minLength, nonnegative, string, trim } from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import type { ApiRow, ReplicaType } from './replica.js';

/** A page of `/v2/replicas` that passed validation. */
export interface ReplicaPage {
  rows: ApiRow[];
  totalCount: number;
}

export interface RetryInfo {
  /** What failed: an HTTP status, or a network/timeout description. */
  reason: string;
  status?: number;
  attempt: number;
  delayMs: number;
}

export interface TavusApiOptions {
  baseUrl: string;
  apiKey: string;
  /** Rows asked for per page; the API may honour less, so callers walk by what comes back. */
  pageSize?: number;
  /** Abort one HTTP attempt after this long; the attempt is then retried. */
  requestTimeoutMs?: number;
  /** Attempts repeated per request at most, before the request fails the run. */
  retries?: number;
  /** Full-jitter exponential backoff: a random delay in [0, min(maxDelayMs, baseDelayMs·2^n)]. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A Retry-After hint above this is capped: a hostile or buggy header cannot park the run. */
  maxRetryAfterMs?: number;
  /** Epoch ms after which no request starts and no backoff sleeps: the walk's time budget. */
  deadline?: number;
  onRetry?: (info: RetryInfo) => void;
}

/** A request failed for good. `message` is one sentence that says what to do. */
export class TavusApiError extends Error {
  override name = 'TavusApiError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Statuses worth repeating: the server or a proxy says "not now", not "never". */
const RETRYABLE_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

config(en());
const pageSchema = looseObject({
  data: array(looseObject({ replica_id: string().check(trim(), minLength(1)) })),
  total_count: int().check(nonnegative()),
});

/** The Tavus List Replicas endpoint, with retry, timeouts and validation; one instance per run. */
export class TavusApi {
  /** HTTP attempts repeated so far (the summary's `retries`). */
  retries = 0;
  private readonly options: Required<Omit<TavusApiOptions, 'deadline' | 'onRetry'>> &
    Pick<TavusApiOptions, 'deadline' | 'onRetry'>;

  constructor(options: TavusApiOptions) {
    this.options = {
      pageSize: 100,
      requestTimeoutMs: 30_000,
      retries: 6,
      baseDelayMs: 500,
      maxDelayMs: 20_000,
      maxRetryAfterMs: 60_000,
      ...options,
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
    };
  }

  /** One page of the list; `page` starts at 1. */
  listPage(page: number, replicaType?: ReplicaType): Promise<ReplicaPage> {
    const query: Record<string, string> = {
      verbose: 'true',
      limit: String(this.options.pageSize),
      page: String(page),
    };
    if (replicaType) query.replica_type = replicaType;
    return this.request(query, `page ${page}`);
  }

  /**
   * The replicas among `ids` that still exist: a `replica_ids=` lookup per `pageSize` ids, each
   * answer walked by what comes back (the API may cap `limit`), so a missing replica is confirmed
   * gone by id, and an answer that does not add up fails rather than confirms.
   */
  async lookup(ids: string[]): Promise<ApiRow[]> {
    const found = new Map<string, ApiRow>();
    for (let start = 0; start < ids.length; start += this.options.pageSize) {
      const chunk = ids.slice(start, start + this.options.pageSize);
      const what = `the lookup of ${chunk.length} replica id(s)`;
      let matched = 0;
      let totalCount = 0;
      for (let page = 1; ; page += 1) {
        const answer = await this.request(
          { verbose: 'true', limit: String(this.options.pageSize), page: String(page), replica_ids: chunk.join(',') },
          what,
        );
        totalCount = answer.totalCount;
        let fresh = 0;
        for (const row of answer.rows) {
          if (!found.has(row.replica_id)) fresh += 1;
          found.set(row.replica_id, row);
        }
        matched += fresh;
        if (fresh === 0 || matched >= totalCount) break;
      }
      if (matched < totalCount) {
        throw new TavusApiError(
          `${capitalize(what)} reported ${totalCount} matches but returned ${matched}, so deletions cannot be confirmed; nothing was marked deleted, run again later.`,
        );
      }
    }
    return [...found.values()];
  }

  private async request(query: Record<string, string>, what: string): Promise<ReplicaPage> {
    const url = `${this.options.baseUrl}/v2/replicas?${new URLSearchParams(query)}`;
    let attempt = 0;
    return pRetry(
      async () => {
        attempt += 1;
        this.checkDeadline(what);
        return this.attempt(url, what);
      },
      {
        retries: this.options.retries,
        // p-retry waits nothing itself: shouldRetry sleeps, so it can honour Retry-After and
        // use full jitter, which p-retry's own backoff does not offer.
        minTimeout: 0,
        maxTimeout: 0,
        shouldRetry: async ({ error }) => {
          const failure = error as RetryableFailure | Error;
          if (!(failure instanceof RetryableFailure)) return false;
          const delayMs = this.delayFor(failure, attempt);
          if (this.options.deadline !== undefined && Date.now() + delayMs >= this.options.deadline) {
            throw new TavusApiError(
              `The time budget for the walk ran out while retrying ${what} (last failure: ${failure.reason}); nothing was marked deleted, and the next run starts over.`,
              failure.status,
            );
          }
          this.retries += 1;
          this.options.onRetry?.({ reason: failure.reason, status: failure.status, attempt, delayMs });
          await sleep(delayMs);
          return true;
        },
      },
    ).catch((error: unknown) => {
      if (error instanceof RetryableFailure) {
        throw new TavusApiError(
          `${capitalize(what)} of ${this.options.baseUrl}/v2/replicas kept failing after ${attempt} attempts (last: ${error.reason}); the run stopped without marking anything deleted. Check the Tavus status page and run again.`,
          error.status,
        );
      }
      throw error;
    });
  }

  private async attempt(url: string, what: string): Promise<ReplicaPage> {
    // An attempt never outlives the walk's budget: the budget error then names the real cause.
    const budgetLeft = this.options.deadline === undefined ? Infinity : this.options.deadline - Date.now();
    const timeoutMs = Math.max(1, Math.min(this.options.requestTimeoutMs, budgetLeft));
    const timeout = AbortSignal.timeout(timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        headers: { 'x-api-key': this.options.apiKey, accept: 'application/json' },
        // A redirect would carry x-api-key to whatever host it names: fail on it instead.
        redirect: 'manual',
        signal: timeout,
      });
      text = await response.text();
    } catch (error) {
      const reason = timeout.aborted
        ? `no answer within ${timeoutMs} ms`
        : `network error: ${describeNetworkError(error)}`;
      throw new RetryableFailure(reason);
    }
    if (RETRYABLE_STATUSES.has(response.status)) {
      throw new RetryableFailure(`HTTP ${response.status}`, response.status, response.headers.get('retry-after'));
    }
    if (response.status !== 200) throw new AbortError(this.fatalStatus(response.status, text, what));
    return this.validate(text, what);
  }

  private validate(text: string, what: string): ReplicaPage {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      // A body cut short is usually a dropped connection: worth another attempt.
      throw new RetryableFailure(`the body of ${what} was not valid JSON (${text.length} bytes)`);
    }
    const parsed = pageSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? issue.path.join('.') : 'the body';
      throw new AbortError(
        new TavusApiError(
          `The API answered ${what} with data this sync cannot trust (${where}: ${issue?.message ?? 'unexpected shape'}); nothing was written. Check --api-url / TAVUS_API_URL points at the Tavus API.`,
        ),
      );
    }
    return { rows: parsed.data.data as ApiRow[], totalCount: parsed.data.total_count };
  }

  private fatalStatus(status: number, text: string, what: string): TavusApiError {
    const detail = errorDetail(text);
    const advice: Record<number, string> = {
      401: 'the API key was rejected: set TAVUS_API_KEY (or update the key in the deployed secret) to a valid key',
      403: 'the API key may not list replicas: use a key of the account that owns them',
      404: 'the endpoint was not found: check that --api-url / TAVUS_API_URL is the Tavus API base URL',
      400: 'the API refused the request: check --replica-type and --api-url',
    };
    if (status >= 300 && status < 400) advice[status] = 'the API redirected the request: set --api-url / TAVUS_API_URL to the URL it names';
    const todo = advice[status] ?? 'check --api-url / TAVUS_API_URL and the Tavus status page';
    return new TavusApiError(`The API answered ${what} with HTTP ${status}${detail}: ${todo}.`, status);
  }

  private delayFor(failure: RetryableFailure, attempt: number): number {
    const hinted = parseRetryAfter(failure.retryAfter, Date.now());
    if (hinted !== undefined) return Math.min(hinted, this.options.maxRetryAfterMs);
    const ceiling = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(Math.random() * ceiling);
  }

  private checkDeadline(what: string): void {
    if (this.options.deadline !== undefined && Date.now() >= this.options.deadline) {
      throw new AbortError(
        new TavusApiError(
          `The time budget for the walk ran out before ${what}; nothing was marked deleted, and the next run starts over.`,
        ),
      );
    }
  }
}

class RetryableFailure extends Error {
  constructor(
    readonly reason: string,
    readonly status?: number,
    readonly retryAfter?: string | null,
  ) {
    super(reason);
  }
}

/**
 * Retry-After as milliseconds: delta-seconds or an HTTP date. Undefined when absent, unparseable,
 * zero or in the past: "no hint", so the usual backoff applies.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const seconds = Number(text);
    return seconds > 0 ? seconds * 1000 : undefined;
  }
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  const delay = date - now;
  return delay > 0 ? delay : undefined;
}

function errorDetail(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: unknown };
    const detail = body.message ?? body.error;
    if (typeof detail === 'string' && detail) return ` ("${detail.slice(0, 200)}")`;
  } catch {
    // Not JSON: the status says enough.
  }
  return '';
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
