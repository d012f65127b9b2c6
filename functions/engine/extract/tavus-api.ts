import { setTimeout as sleep } from 'node:timers/promises';
import pRetry from 'p-retry';
// zod/mini with named imports keeps the Lambda bundle small (figures in docs/performance.md).
import { array, config, int, looseObject, nonnegative } from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { API_RESOURCE_SHAPES, type ApiResourceShape } from './api-resource.js';
import type { ApiResource, ApiRow, ReplicaType } from '../model/replica.js';
import { TavusApiError, TransientError } from '../errors.js';
import { redactDeep, redactor } from '../redact.js';
import { isLoopbackHost } from '../settings/parsers.js';
import { MAX_BODY_BYTES, readCappedBody } from './capped-body.js';
import type { PageRequest, PageSource, ReplicaPage } from './page-source.js';
import { ENVIRONMENT_TERMS, type SettingTerms } from '../settings/terms.js';

export interface TavusApiOptions {
  baseUrl: string;
  apiKey: string;
  /** Which list endpoint: `/v2/replicas` (default) or `/v2/faces`; rows come back under the replica names. */
  apiResource?: ApiResource;
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
  /** How advice names a setting (the API URL, the replica type); environment names by default. */
  terms?: SettingTerms;
}

/** The tuning knobs tests and the benchmark turn; production uses the defaults. */
export type ApiTuning = Partial<Pick<TavusApiOptions, 'requestTimeoutMs' | 'retries' | 'baseDelayMs' | 'maxDelayMs' | 'maxRetryAfterMs' | 'pageSize'>>;

/** Statuses worth repeating: the server or a proxy says "not now", not "never". */
const RETRYABLE_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

config(en());
/** The page as it comes: rows are checked once they are under the canonical names. */
const pageSchema = looseObject({
  data: array(looseObject({})),
  total_count: int().check(nonnegative()),
});
/**
 * The longest lookup URL sent, in bytes: servers commonly refuse a request line over 8 KB (431 or
 * 414). A lookup of one id goes alone whatever its length (an id that is a key is at most 2 KB,
 * 6 KB percent-encoded).
 */
export const MAX_LOOKUP_URL_BYTES = 4096;

/**
 * The Tavus list endpoint (`/v2/replicas`, or `/v2/faces` under its new name) as a `PageSource`,
 * with retry, timeouts and validation; rows come out under the replica names either way.
 * @param options the base URL and key; the rest tunes paging and retry (defaults suit production)
 */
export class TavusApi implements PageSource {
  /** HTTP attempts repeated so far, over every request of this instance. */
  retries = 0;
  private readonly options: Required<TavusApiOptions>;
  /** The endpoint's path, parameter names and row shape. */
  private readonly shape: ApiResourceShape;
  /** Takes the key out of whatever an answer echoes, before anything reads the answer. */
  private readonly redact: (text: string) => string;

  constructor(options: TavusApiOptions) {
    // Guards in p-retry's manner: a zero page size would make `lookup` loop forever.
    for (const name of ['pageSize', 'requestTimeoutMs'] as const) requireNumber(name, options[name], 1);
    for (const name of ['retries', 'baseDelayMs', 'maxDelayMs', 'maxRetryAfterMs'] as const) requireNumber(name, options[name], 0);
    this.options = {
      pageSize: 100,
      requestTimeoutMs: 30_000,
      retries: 6,
      baseDelayMs: 500,
      maxDelayMs: 20_000,
      maxRetryAfterMs: 60_000,
      terms: ENVIRONMENT_TERMS,
      apiResource: 'replicas',
      ...options,
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
    };
    this.shape = API_RESOURCE_SHAPES[this.options.apiResource];
    this.redact = redactor(options.apiKey);
  }

  /** The list endpoint's URL, as a person would look for it (the CLI's "Syncing ..." line names it). */
  get listUrl(): string {
    return `${this.options.baseUrl}${this.shape.listPath}`;
  }

  /** One page of the list; `page` starts at 1. */
  listPage(page: number, replicaType?: ReplicaType, request: PageRequest = {}): Promise<ReplicaPage> {
    const query: Record<string, string> = {
      verbose: 'true',
      limit: String(this.options.pageSize),
      page: String(page),
    };
    if (replicaType) query[this.shape.typeParameter] = replicaType;
    return this.request(query, `page ${page}`, request);
  }

  /**
   * The replicas among `ids` that still exist: `replica_ids=` (`face_ids=`) lookups of as many ids
   * as fit in `MAX_LOOKUP_URL_BYTES` of URL (and at most `pageSize`), each answer walked by what
   * comes back (the API may cap `limit`), so a missing replica is confirmed gone by id, and an
   * answer that does not add up fails rather than confirms.
   */
  async lookup(ids: string[], request: PageRequest = {}): Promise<ApiRow[]> {
    const found = new Map<string, ApiRow>();
    for (const chunk of this.lookupChunks(ids)) {
      const what = `the lookup of ${chunk.length} replica id(s)`;
      let matched = 0;
      let totalCount = 0;
      for (let page = 1; ; page += 1) {
        const answer = await this.request(this.lookupQuery(chunk.join(','), page), what, request);
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

  /** `ids` cut into runs whose lookup URL stays within `MAX_LOOKUP_URL_BYTES`, measured encoded. */
  private *lookupChunks(ids: string[]): Generator<string[]> {
    const base = this.lookupUrl('', Number.MAX_SAFE_INTEGER).length;
    let chunk: string[] = [];
    let length = base;
    for (const id of ids) {
      // Each id adds its encoded self and an encoded comma ("%2C").
      const added = new URLSearchParams({ x: id }).toString().length - 2 + (chunk.length > 0 ? 3 : 0);
      if (chunk.length > 0 && (length + added > MAX_LOOKUP_URL_BYTES || chunk.length >= this.options.pageSize)) {
        yield chunk;
        chunk = [];
        length = base;
        // The id now leads its chunk: no comma before it.
        length += added - 3;
      } else {
        length += added;
      }
      chunk.push(id);
    }
    if (chunk.length > 0) yield chunk;
  }

  /** The URL of one lookup request, as `request` builds it (the page number at its longest). */
  private lookupUrl(ids: string, page: number): string {
    return this.urlOf(this.lookupQuery(ids, page));
  }

  private lookupQuery(ids: string, page: number): Record<string, string> {
    return { verbose: 'true', limit: String(this.options.pageSize), page: String(page), [this.shape.idsParameter]: ids };
  }

  private urlOf(query: Record<string, string>): string {
    return `${this.listUrl}?${new URLSearchParams(query)}`;
  }

  private async request(query: Record<string, string>, what: string, request: PageRequest): Promise<ReplicaPage> {
    const url = this.urlOf(query);
    const { deadline, onRetry, signal } = request;
    let attempts = 0;
    return pRetry(
      (attemptNumber) => {
        attempts = attemptNumber;
        this.checkDeadline(what, deadline);
        return this.attempt(url, what, deadline, signal);
      },
      {
        retries: this.options.retries,
        signal,
        shouldRetry: ({ error }) => error instanceof TransientError,
        // p-retry 7 has no per-attempt delay function, so it waits nothing itself (0 ms) and
        // this hook waits instead: it honours Retry-After and uses full jitter, which p-retry's
        // own backoff (factor, randomize in [1, 2)) does not offer.
        minTimeout: 0,
        maxTimeout: 0,
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          if (!(error instanceof TransientError) || retriesLeft === 0) return;
          const delayMs = this.delayFor(error, attemptNumber);
          if (deadline !== undefined && Date.now() + delayMs >= deadline) {
            throw new TavusApiError(
              `The time budget for the walk ran out while retrying ${what} (last failure: ${error.message}); nothing was marked deleted, and the next run starts over.`,
              error.status,
              { cause: error },
            );
          }
          this.retries += 1;
          onRetry?.({ reason: error.message, status: error.status, attempt: attemptNumber, delayMs });
          await sleep(delayMs, undefined, { signal });
        },
      },
    ).catch((error: unknown) => {
      if (error instanceof TransientError) {
        throw new TavusApiError(
          `${capitalize(what)} of ${this.listUrl} kept failing after ${attempts} attempts (last: ${error.message}); the run stopped without marking anything deleted. ${capitalize(this.statusAdvice())} and run again.`,
          error.status,
          { cause: error },
        );
      }
      throw error;
    });
  }

  private async attempt(url: string, what: string, deadline: number | undefined, stop: AbortSignal | undefined): Promise<ReplicaPage> {
    // An attempt never outlives the walk's budget: the budget error then names the real cause.
    const budgetLeft = deadline === undefined ? Infinity : deadline - Date.now();
    const timeoutMs = Math.max(1, Math.min(this.options.requestTimeoutMs, budgetLeft));
    const timeout = AbortSignal.timeout(timeoutMs);
    let response: Response;
    let text: string | undefined;
    try {
      response = await fetch(url, {
        headers: { 'x-api-key': this.options.apiKey, accept: 'application/json' },
        // A redirect would carry x-api-key to whatever host it names: fail on it instead.
        redirect: 'manual',
        signal: stop === undefined ? timeout : AbortSignal.any([timeout, stop]),
      });
      text = await readCappedBody(response, MAX_BODY_BYTES);
    } catch (error) {
      // Stopped from outside: no retry, the run says it was interrupted.
      if (stop?.aborted) throw new TavusApiError(`${capitalize(what)} was cancelled: the run was interrupted.`, undefined, { cause: error });
      if (timeout.aborted) throw new TransientError(`no answer within ${timeoutMs} ms`, undefined, undefined, { cause: error });
      throw this.networkFailure(error);
    }
    if (text === undefined) {
      throw new TavusApiError(
        `The API answered ${what} with a body over ${MAX_BODY_BYTES / 1024 / 1024} MB, which this sync refuses unread; nothing was written. Check ${this.options.terms.name('apiUrl')} points at the Tavus API.`,
        response.status,
      );
    }
    if (RETRYABLE_STATUSES.has(response.status)) {
      throw new TransientError(`HTTP ${response.status}`, response.status, response.headers.get('retry-after'));
    }
    if (response.status !== 200) throw this.fatalStatus(response.status, text, what);
    return this.validate(text, what);
  }

  private validate(text: string, what: string): ReplicaPage {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      // A body cut short is usually a dropped connection: worth another attempt.
      throw new TransientError(`the body of ${what} was not valid JSON (${text.length} bytes)`, undefined, undefined, { cause: error });
    }
    // An answer may echo the key (a proxy quoting the request, a row naming it): it goes here,
    // before any row, reason or sentence is made of the answer. A cheap test first: the key in
    // a JSON string is either there as typed or spelled with escapes.
    if (text.includes(this.options.apiKey) || text.includes('\\')) body = redactDeep(body, this.redact);
    const parsed = pageSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? issue.path.join('.') : 'the body';
      throw this.untrusted(what, `${where}: ${issue?.message ?? 'unexpected shape'}`, parsed.error);
    }
    // The rows as JSON.parse gave them, not zod's copies: a copy made by assignment would turn a
    // field named `__proto__` into the row's prototype (forged fields) and lose it.
    const raws = (body as { data: Array<Record<string, unknown>> }).data;
    const rows = raws.map((raw, index) => this.canonicalRow(raw, `data.${index}`, what));
    return { rows, totalCount: parsed.data.total_count };
  }

  /**
   * One row under the canonical names, or the page fails with why. Its `replica_id` is exactly as
   * the API gave it, whatever it is: the engine rejects a row whose id cannot be a key on its own
   * (see `walkReplicas`), so one bad row never fails the page.
   */
  private canonicalRow(raw: Record<string, unknown>, where: string, what: string): ApiRow {
    const canonical = this.shape.canonicalRow(raw);
    if (canonical.reason !== undefined) throw this.untrusted(what, `${where}: ${canonical.reason}`);
    return canonical.row as ApiRow;
  }

  private untrusted(what: string, detail: string, cause?: unknown): TavusApiError {
    return new TavusApiError(
      `The API answered ${what} with data this sync cannot trust (${detail}); nothing was written. Check ${this.options.terms.name('apiUrl')} points at the Tavus API.`,
      undefined,
      cause === undefined ? undefined : { cause },
    );
  }

  private fatalStatus(status: number, text: string, what: string): TavusApiError {
    const detail = errorDetail(text, this.redact);
    const apiUrl = this.options.terms.name('apiUrl');
    const advice: Record<number, string> = {
      401: 'the API key was rejected: set TAVUS_API_KEY (or update the key in the deployed secret) to a valid key',
      403: 'the API key may not list replicas: use a key of the account that owns them',
      404: `the endpoint was not found: check that ${apiUrl} is the Tavus API base URL`,
      400: `the API refused the request: check ${this.options.terms.name('replicaType')} and ${apiUrl}`,
    };
    if (status >= 300 && status < 400) advice[status] = `the API redirected the request: set ${apiUrl} to the URL it names`;
    const todo = advice[status] ?? this.statusAdvice();
    return new TavusApiError(`The API answered ${what} with HTTP ${status}${detail}: ${todo}.`, status);
  }

  /** Where to look when the API fails oddly: not Tavus's status page when the URL is this machine. */
  private statusAdvice(): string {
    const apiUrl = this.options.terms.name('apiUrl');
    return this.isLocal() ? `check what serves ${this.options.baseUrl} (${apiUrl})` : `check ${apiUrl} and the Tavus status page`;
  }

  private isLocal(): boolean {
    return isLoopbackHost(new URL(this.options.baseUrl).hostname);
  }

  /**
   * A request that got no answer. Nothing listening on this machine, or a host DNS does not know,
   * is a fact about the URL that no retry mends: one sentence naming it. Anything else (a reset,
   * a refused connection far away) may pass, and is retried.
   */
  private networkFailure(error: unknown): TransientError | TavusApiError {
    const code = networkCode(error);
    const apiUrl = this.options.terms.name('apiUrl');
    if (code === 'ECONNREFUSED' && this.isLocal()) {
      return new TavusApiError(
        `Nothing is listening at ${this.options.baseUrl} (connection refused): start the API you meant to serve there (npm run simulator serves a simulated one), or set ${apiUrl} to the Tavus API.`,
        undefined,
        { cause: error },
      );
    }
    if (code === 'ENOTFOUND') {
      return new TavusApiError(
        `The host of ${this.options.baseUrl} was not found (DNS answered ENOTFOUND): check ${apiUrl} for a typo, and that this machine can resolve names.`,
        undefined,
        { cause: error },
      );
    }
    return new TransientError(`network error: ${code ?? describeNetworkError(error)}`, undefined, undefined, { cause: error });
  }

  private delayFor(failure: TransientError, attempt: number): number {
    const hinted = parseRetryAfter(failure.retryAfter, Date.now());
    if (hinted !== undefined) return Math.min(hinted, this.options.maxRetryAfterMs);
    const ceiling = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(Math.random() * ceiling);
  }

  private checkDeadline(what: string, deadline: number | undefined): void {
    if (deadline !== undefined && Date.now() >= deadline) {
      throw new TavusApiError(`The time budget for the walk ran out before ${what}; nothing was marked deleted, and the next run starts over.`);
    }
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

/** The answer's own words (`message` or `error`), the key taken out before they are cut. */
function errorDetail(text: string, redact: (text: string) => string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: unknown };
    const detail = body.message ?? body.error;
    if (typeof detail === 'string' && detail) return ` ("${redact(detail).slice(0, 200)}")`;
  } catch {
    // Not JSON: the status says enough.
  }
  return '';
}

function networkCode(error: unknown): string | undefined {
  return (error as { cause?: { code?: string } }).cause?.code;
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A p-retry-style guard: a bad option fails at construction, not as a hang later. */
function requireNumber(name: string, value: number | undefined, min: number): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= min)) {
    throw new TypeError(`Expected \`${name}\` to be a whole number of at least ${min}, got ${String(value)}.`);
  }
}
