/**
 * A local stand-in for the Tavus list endpoint under both its names: `GET /v2/replicas` (legacy)
 * and `GET /v2/faces`, one account behind both (face ids are replica ids).
 *
 * It is a real HTTP server rather than a mocked `fetch`, so the sync's actual HTTP client (headers,
 * query encoding, timeouts, retries, concurrency) is exercised end to end. It follows the published
 * reference plus what the contract records about the real API: pages start at 1, the requested
 * `limit` is silently capped, rows carry undocumented fields, and 429/5xx/garbled answers happen.
 * Tests and the benchmark steer it through its public fields (`replicas`, `pageSizeCap`,
 * `latencyMs`, `beforeResponse`), the account methods (`add`, `remove`, `update`,
 * `setFinetuneStatus`) and queued faults (`failNext`).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** One replica as the account stores it; `[field]` lets tests add fields the API may grow. */
export interface SimReplica {
  replica_id: string;
  replica_name: string;
  status: string;
  training_progress: string;
  created_at: string;
  updated_at: string;
  replica_type: string;
  model_name: string;
  error_message: string | null;
  thumbnail_video_url: string | null;
  /** Phoenix-4.5 only: null until the fine-tune applies, then e.g. "queued", "training", "completed", "errored". */
  finetune_status?: string | null;
  [field: string]: unknown;
}

/** `model_name` of a Phoenix-4.5 replica, as the API spells it. */
export const PHOENIX_4_5 = 'phoenix-4.5';

/** What the simulator saw of one request, recorded for assertions. */
export interface SimRequest {
  method: string;
  path: string;
  /** Query parameters as sent (first value of each name). */
  query: Record<string, string>;
  /** The effective page (1 when `page` was omitted); undefined when `page` was invalid. */
  page: number | undefined;
  /**
   * The parsed lookup by id: `replica_ids`, on `/v2/faces` `face_ids` (or its alias `replica_ids`);
   * undefined when absent or empty.
   */
  replicaIds: string[] | undefined;
  hadValidKey: boolean;
  /** Length of the request target (path and query) as sent, in bytes. */
  urlLength: number;
  /** The HTTP status answered; 0 while the request is still open. */
  status: number;
}

/** One list answer before it is serialised. */
export interface SimPage {
  data: Record<string, unknown>[];
  total_count: number;
}

/** A canned failure for the next matching request(s). */
export interface Fault {
  status: number;
  /** Value of the Retry-After header (e.g. "2" or an HTTP date). */
  retryAfter?: string;
  /** Raw response body; defaults to a JSON `{"error": ...}` sentence. */
  body?: string;
  /** Answer `status` with the normal JSON body cut in half (a garbled but complete HTTP response). */
  truncate?: boolean;
  /** How many matching requests get this fault; default 1. */
  times?: number;
  /** Which requests the fault applies to; default all. */
  match?: (req: SimRequest) => boolean;
}

export interface SimulatorOptions {
  apiKey: string;
  replicas?: SimReplica[];
  pageSizeCap?: number;
  latencyMs?: number;
}

/** The two names of the list, and what each calls its type filter and its lookup by id. */
type Endpoint = 'replicas' | 'faces';
const ENDPOINTS: Record<string, Endpoint> = { '/v2/replicas': 'replicas', '/v2/faces': 'faces' };
const TYPE_PARAMETER: Record<Endpoint, string> = { replicas: 'replica_type', faces: 'face_type' };
/** On `/v2/faces` the ids are `face_ids`, with `replica_ids` accepted as the legacy alias. */
const IDS_PARAMETERS: Record<Endpoint, readonly string[]> = { replicas: ['replica_ids'], faces: ['face_ids', 'replica_ids'] };
/** How `/v2/faces` names the fields `/v2/replicas` calls `replica_*`. */
const FACE_NAMES: Record<string, string> = { replica_id: 'face_id', replica_name: 'face_name', replica_type: 'face_type' };
const DEFAULT_LIMIT = 10;
/** Bytes of request target a server accepts (nginx's default large_client_header_buffers is 8 KB). */
export const MAX_URL_LENGTH = 8192;
const DEFAULT_PAGE_SIZE_CAP = 100;

interface QueuedFault {
  fault: Fault;
  remaining: number;
}

interface Reply {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/** Validated query parameters of a list request. */
interface ListQuery {
  endpoint: Endpoint;
  page: number;
  limit: number;
  verbose: boolean;
  replicaType: string | undefined;
  replicaIds: string[] | undefined;
}

export class TavusSimulator {
  /** The account, listed in this order. Mutable at any time, also between pages of one walk. */
  replicas: SimReplica[];
  /** The server's own page-size limit: `limit` above it is silently lowered, as the real API may. */
  pageSizeCap: number;
  /** Delay added to every request, so latency-bound behaviour (concurrency, benchmarks) is real. */
  latencyMs: number;
  readonly requests: SimRequest[] = [];
  maxInFlight = 0;
  /** Runs after auth and validation, before the page is computed: the hook to change the account mid-walk. */
  beforeResponse?: (req: SimRequest, sim: TavusSimulator) => void | Promise<void>;
  /**
   * Reshapes each list answer: a page (a lying `total_count`, rows never stored) or a raw body
   * string. Where local/hostile-account.ts plugs in lying counts, endless pages and huge bodies.
   */
  shapePage?: (page: SimPage, req: SimRequest) => SimPage | string;

  readonly #apiKey: string;
  readonly #faults: QueuedFault[] = [];
  #server: Server | undefined;
  #url: string | undefined;
  #inFlight = 0;

  constructor(options: SimulatorOptions) {
    this.#apiKey = options.apiKey;
    // Copies of the rows, so update() on one simulator never leaks into a fixture array shared
    // with another simulator or with the test's expectations.
    this.replicas = (options.replicas ?? []).map((r) => ({ ...r }));
    this.pageSizeCap = options.pageSizeCap ?? DEFAULT_PAGE_SIZE_CAP;
    this.latencyMs = options.latencyMs ?? 0;
  }

  /** Listens on 127.0.0.1 (a free port unless one is given) and resolves the base URL. */
  async start(port = 0): Promise<string> {
    if (this.#url) return this.#url;
    const server = createServer((req, res) => void this.#handle(req, res));
    // Longer than any client's idle-socket reuse window: otherwise a keep-alive socket the server
    // just closed can be picked for the next request and fail with a spurious "socket hang up".
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    this.#url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.#url;
  }

  /** Closes the server, including idle keep-alive and still-open sockets. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    this.#url = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  get url(): string {
    if (!this.#url) throw new Error('The Tavus simulator is not running: call start() first.');
    return this.#url;
  }

  /** Requests open right now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  failNext(fault: Fault): void {
    const remaining = fault.times ?? 1;
    if (!Number.isInteger(remaining) || remaining < 1) {
      throw new Error(`Fault.times must be a positive integer, got ${String(fault.times)}.`);
    }
    this.#faults.push({ fault, remaining });
  }

  resetStats(): void {
    this.requests.length = 0;
    this.maxInFlight = this.#inFlight;
  }

  /** Appends replicas; a duplicate id throws, since the real account never lists one twice. */
  add(...replicas: SimReplica[]): void {
    const known = new Set(this.replicas.map((r) => r.replica_id));
    for (const replica of replicas) {
      if (known.has(replica.replica_id)) {
        throw new Error(`Replica ${replica.replica_id} is already in the simulated account.`);
      }
      known.add(replica.replica_id);
      this.replicas.push({ ...replica });
    }
  }

  /**
   * Removes a replica. Unknown ids are ignored (returns false) so a `beforeResponse` hook that a
   * retried request runs twice does not blow up.
   */
  remove(id: string): boolean {
    const index = this.replicas.findIndex((r) => r.replica_id === id);
    if (index === -1) return false;
    this.replicas.splice(index, 1);
    return true;
  }

  /** Patches a replica in place (its list position is kept); an unknown id throws. */
  update(id: string, patch: Partial<SimReplica>): void {
    const replica = this.replicas.find((r) => r.replica_id === id);
    if (!replica) throw new Error(`Replica ${id} is not in the simulated account.`);
    Object.assign(replica, patch);
  }

  /**
   * Moves a Phoenix-4.5 replica's fine-tune: `null` (not applied yet), an in-progress value
   * ("queued", "training"), or an end ("completed", "errored"). Setting the same value again is how
   * a test stalls it. Only `finetune_status` changes, as the API's `updated_at` is not documented
   * to follow it; `update()` sets anything on any row, Phoenix-3/4 included.
   */
  setFinetuneStatus(id: string, finetuneStatus: string | null): void {
    const replica = this.replicas.find((r) => r.replica_id === id);
    if (!replica) throw new Error(`Replica ${id} is not in the simulated account.`);
    if (replica.model_name !== PHOENIX_4_5) {
      throw new Error(`Replica ${id} is ${replica.model_name}: only ${PHOENIX_4_5} replicas fine-tune (update() sets any field).`);
    }
    replica.finetune_status = finetuneStatus;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record = describeRequest(req, this.#apiKey);
    this.requests.push(record);
    this.#inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight);
    // 'close' fires both after a complete response and when the client goes away early.
    res.once('close', () => {
      this.#inFlight -= 1;
    });

    let reply: Reply;
    try {
      if (this.latencyMs > 0) await delay(this.latencyMs);
      reply = await this.#answer(record);
    } catch (error) {
      // A throwing beforeResponse hook is a test bug: say so loudly instead of hiding it in a 500.
      console.error('Tavus simulator: request handling failed:', error);
      reply = jsonReply(500, { error: `The simulator failed: ${errorMessage(error)}` });
    }
    record.status = reply.status;
    if (res.destroyed) return;
    res.writeHead(reply.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(reply.body),
      ...reply.headers,
    });
    res.end(reply.body);
  }

  /** Faults first (a load balancer answers before the API does), then routing, auth, the page. */
  async #answer(req: SimRequest): Promise<Reply> {
    // As real servers do: a request line over 8 KB is refused before any route sees it.
    if (req.urlLength > MAX_URL_LENGTH) return jsonReply(431, { error: 'Request header fields too large.' });
    const fault = this.#takeFault(req);
    if (fault && !fault.truncate) return faultReply(fault);

    const reply = await this.#route(req);
    if (!fault) return reply;
    const cut = fault.body ?? reply.body;
    return { status: fault.status, body: cut.slice(0, Math.floor(cut.length / 2)), headers: retryAfterHeader(fault) };
  }

  async #route(req: SimRequest): Promise<Reply> {
    const endpoint = ENDPOINTS[req.path];
    if (!endpoint) {
      return jsonReply(404, { error: `No route matches ${req.method} ${req.path}.` });
    }
    if (req.method !== 'GET') {
      return { ...jsonReply(405, { error: `Method ${req.method} is not allowed on ${req.path}.` }), headers: { allow: 'GET' } };
    }
    if (!req.hadValidKey) return jsonReply(401, { message: 'Invalid access token' });

    const parsed = parseListQuery(req.query, endpoint);
    if (typeof parsed === 'string') return jsonReply(400, { error: parsed });

    await this.beforeResponse?.(req, this);
    const page = this.#page(parsed);
    const shaped = this.shapePage ? this.shapePage(page, req) : page;
    return typeof shaped === 'string' ? { status: 200, body: shaped } : jsonReply(200, shaped);
  }

  /** The FIFO-first queued fault whose `match` accepts the request, consuming one use of it. */
  #takeFault(req: SimRequest): Fault | undefined {
    const index = this.#faults.findIndex(({ fault }) => fault.match?.(req) ?? true);
    const queued = this.#faults[index];
    if (!queued) return undefined;
    queued.remaining -= 1;
    if (queued.remaining === 0) this.#faults.splice(index, 1);
    return queued.fault;
  }

  /**
   * One page of the filtered list in stored order. A single pass counts matches and copies only
   * the rows of the requested page, so a walk over 100,000 replicas stays linear per request.
   */
  #page(query: ListQuery): SimPage {
    const size = Math.min(query.limit, this.pageSizeCap);
    const start = (query.page - 1) * size;
    const end = start + size;
    const ids = query.replicaIds ? new Set(query.replicaIds) : undefined;
    const toRow = (r: SimReplica) => renderRow(r, query.verbose, query.endpoint);

    if (!ids && !query.replicaType) {
      return { data: this.replicas.slice(start, end).map(toRow), total_count: this.replicas.length };
    }
    const data: Record<string, unknown>[] = [];
    let total = 0;
    for (const replica of this.replicas) {
      if (query.replicaType && replica.replica_type !== query.replicaType) continue;
      if (ids && !ids.has(replica.replica_id)) continue;
      if (total >= start && total < end) data.push(toRow(replica));
      total += 1;
    }
    return { data, total_count: total };
  }
}

/**
 * Without `verbose=true` the API leaves the type (`replica_type`, `face_type`) out of each row. On
 * `/v2/faces` each `replica_*` field is served under its `face_*` name, in place; a row that already
 * stores that `face_*` field serves both as stored: how a test gives a face a legacy alias, or one
 * that disagrees.
 */
function renderRow(replica: SimReplica, verbose: boolean, endpoint: Endpoint): Record<string, unknown> {
  if (endpoint === 'replicas') {
    if (verbose) return { ...replica };
    const { replica_type: _omitted, ...row } = replica;
    return row;
  }
  const row: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(replica)) {
    const faceName = FACE_NAMES[name];
    const served = faceName === undefined || faceName in replica ? name : faceName;
    if (!verbose && (served === 'face_type' || served === 'replica_type')) continue;
    row[served] = value;
  }
  return row;
}

function describeRequest(req: IncomingMessage, apiKey: string): SimRequest {
  const url = new URL(req.url ?? '/', 'http://simulator.invalid');
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    if (!(name in query)) query[name] = value;
  }
  const page = query.page === undefined ? 1 : parsePositiveInt(query.page);
  const idsParameters = IDS_PARAMETERS[ENDPOINTS[url.pathname] ?? 'replicas'];
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query,
    page,
    replicaIds: parseIdList(idsParameters.map((name) => query[name]).find((value) => value !== undefined)),
    hadValidKey: req.headers['x-api-key'] === apiKey,
    urlLength: Buffer.byteLength(req.url ?? '/'),
    status: 0,
  };
}

/**
 * The validated list query, or the 400 sentence explaining what is wrong with it. Each endpoint
 * reads only its own type filter; the other's, like any unknown parameter, is ignored.
 */
function parseListQuery(query: Record<string, string>, endpoint: Endpoint): ListQuery | string {
  const page = query.page === undefined ? 1 : parsePositiveInt(query.page);
  if (page === undefined) return `The page parameter must be a positive integer, got "${query.page}".`;
  const limit = query.limit === undefined ? DEFAULT_LIMIT : parsePositiveInt(query.limit);
  if (limit === undefined) return `The limit parameter must be a positive integer, got "${query.limit}".`;
  const typeParameter = TYPE_PARAMETER[endpoint];
  const replicaType = query[typeParameter];
  if (replicaType !== undefined && replicaType !== 'user' && replicaType !== 'system') {
    return `The ${typeParameter} parameter must be "user" or "system", got "${replicaType}".`;
  }
  const idsGiven = IDS_PARAMETERS[endpoint].filter((name) => query[name] !== undefined);
  if (idsGiven.length > 1) return `Give ${idsGiven.join(' or its alias ')}, not both.`;
  const replicaIds = parseIdList(idsGiven[0] === undefined ? undefined : query[idsGiven[0]]);
  return { endpoint, page, limit, verbose: query.verbose === 'true', replicaType, replicaIds };
}

function parsePositiveInt(value: string): number | undefined {
  if (!/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * `replica_ids=a,b` → ['a','b'], each id exactly as sent (ids may carry spaces); an empty list is
 * treated as no filter rather than "match nothing".
 */
function parseIdList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const ids = value.split(',').filter((id) => id.length > 0);
  return ids.length > 0 ? ids : undefined;
}

function faultReply(fault: Fault): Reply {
  const body = fault.body ?? JSON.stringify({ error: `Simulated failure: HTTP ${fault.status}.` });
  return { status: fault.status, body, headers: retryAfterHeader(fault) };
}

function retryAfterHeader(fault: Fault): Record<string, string> | undefined {
  return fault.retryAfter === undefined ? undefined : { 'retry-after': fault.retryAfter };
}

function jsonReply(status: number, payload: unknown): Reply {
  return { status, body: JSON.stringify(payload) };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------
// Deterministic sample accounts
// ---------------------------------------------------------------------------------------------

const DEFAULT_START = new Date('2024-01-01T00:00:00.000Z');
const HALF_BITS = 2 ** 18; // ids are 36-bit numbers (9 hex digits), multiplied in 18-bit halves
const ID_MULTIPLIER = 0x9e3779b97; // odd, so x ↦ x·M mod 2^36 is a bijection: ids never collide
const FIRST_NAMES = ['Anna', 'Ben', 'Carmen', 'Dev', 'Elif', 'Felix', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Kemi', 'Luca'];
const SETTINGS = ['Office', 'Studio', 'Outdoor', 'Podcast', 'Kitchen', 'Library', 'Sales Demo', 'Onboarding'];
type Kind = 'system' | 'started' | 'error' | 'completed';
const TRAINING_ERRORS = [
  'Training failed: no face was detected in the training video.',
  'Training failed: the training video is shorter than the required one minute.',
  'Training failed: the consent statement could not be verified.',
];
/** The fine-tunes of completed Phoenix-4.5 replicas, in turn; the first one keeps small accounts free of open ones. */
const FINETUNE_CYCLE = ['completed', 'training', 'queued', 'errored', 'completed'];

/**
 * A deterministic account of `count` replicas (same arguments → same rows), oldest first.
 *
 * The mix is positional so small accounts still contain every kind: index % 10 == 9 is a system
 * (stock) replica, % 20 == 4 is still training (`started`, "37/100"-style progress), % 33 == 16
 * failed (`error` with an `error_message`); the rest are completed user replicas. User replicas at
 * index % 10 == 4 (a tenth of the account) are Phoenix-4.5 and carry `finetune_status`: null while
 * `started` or `error`, else by turns (index 14, 34, 54, ...) completed, training, queued, errored,
 * completed. Names, timing, progress, missing thumbnails and the other models (phoenix-3 or
 * phoenix-4) vary through a seeded PRNG.
 */
export function makeReplicas(
  count: number,
  options: { start?: Date; idPrefix?: string; seed?: number } = {},
): SimReplica[] {
  const seed = options.seed ?? 1;
  const prefix = options.idPrefix ?? 'r';
  const random = mulberry32(seed);
  const idOffset = Math.floor(mulberry32(seed ^ 0x5bd1e995)() * 2 ** 32);
  let createdMs = (options.start ?? DEFAULT_START).getTime();

  const replicas: SimReplica[] = [];
  for (let i = 0; i < count; i += 1) {
    createdMs += 60_000 + Math.floor(random() * 6 * 3_600_000); // 1 min to 6 h apart
    const kind: Kind = i % 10 === 9 ? 'system' : i % 20 === 4 ? 'started' : i % 33 === 16 ? 'error' : 'completed';
    const id = `${prefix}${scrambleId(i + idOffset).toString(16).padStart(9, '0')}`;
    const name = `${pick(FIRST_NAMES, random)} - ${pick(SETTINGS, random)}`;
    const updatedMs = createdMs + Math.floor(random() * 3 * 3_600_000);
    const drawnModel = kind === 'system' || random() < 0.8 ? 'phoenix-3' : 'phoenix-4';
    const phoenix45 = kind !== 'system' && i % 10 === 4;
    const trained = kind === 'system' || kind === 'completed';
    const progress = trained ? '100/100' : `${1 + Math.floor(random() * 98)}/100`;
    const hasThumbnail = trained && (kind === 'system' || random() >= 0.1);
    // One object literal, fields in the API's order: cheaper than spreading a shared base (see
    // docs/performance.md).
    const replica: SimReplica = {
      replica_id: id,
      replica_name: kind === 'system' ? `${name} (Stock)` : name,
      thumbnail_video_url: hasThumbnail ? `https://cdn.replica.tavus.io/thumbnails/${id}.mp4` : null,
      training_progress: progress,
      status: kind === 'system' ? 'completed' : kind,
      created_at: new Date(createdMs).toISOString(),
      updated_at: new Date(updatedMs).toISOString(),
      replica_type: kind === 'system' ? 'system' : 'user',
      model_name: phoenix45 ? PHOENIX_4_5 : drawnModel,
      error_message: kind === 'error' ? pick(TRAINING_ERRORS, random) : null,
    };
    if (phoenix45) replica.finetune_status = kind === 'completed' ? FINETUNE_CYCLE[Math.floor(i / 20) % FINETUNE_CYCLE.length]! : null;
    replicas.push(replica);
  }
  return replicas;
}

/**
 * x·M mod 2^36 without BigInt (too slow for large accounts; see docs/performance.md): split both
 * factors into 18-bit halves so every partial product stays exact in a double.
 */
function scrambleId(x: number): number {
  const [xh, xl] = [Math.floor(x / HALF_BITS) % HALF_BITS, x % HALF_BITS];
  const [mh, ml] = [Math.floor(ID_MULTIPLIER / HALF_BITS), ID_MULTIPLIER % HALF_BITS];
  const cross = (xh * ml + xl * mh) % HALF_BITS;
  return (xl * ml + cross * HALF_BITS) % (HALF_BITS * HALF_BITS);
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** A tiny seeded PRNG: deterministic fixtures without a dependency (local/live-account.ts draws from it too). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
