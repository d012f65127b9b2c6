/** TavusApi and walkReplicas over real HTTP against the simulator: paging, retries, validation, limits. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeReplicas, TavusSimulator, type SimRequest } from '../local/tavus-simulator.js';
import { TavusApiError } from '../functions/engine/errors.js';
import type { SettingTerms } from '../functions/engine/settings/terms.js';
import type { PageRequest, RetryInfo } from '../functions/engine/extract/page-source.js';
import { parseRetryAfter, TavusApi, type TavusApiOptions } from '../functions/engine/extract/tavus-api.js';
import { AdaptiveLimit, walkReplicas } from '../functions/engine/extract/walk.js';

const KEY = 'sk-test-tavus-api';

let sim: TavusSimulator;
let retries: RetryInfo[];

beforeEach(async () => {
  sim = new TavusSimulator({ apiKey: KEY, replicas: makeReplicas(25) });
  await sim.start();
  retries = [];
});

afterEach(async () => {
  await sim.stop();
});

/** Every request of a test is watched as a run watches it: each retry recorded. */
const watch: PageRequest = { onRetry: (info) => retries.push(info) };

/** A client with fast backoff. */
function api(options: Partial<TavusApiOptions> = {}): TavusApi {
  return new TavusApi({
    baseUrl: sim.url,
    apiKey: KEY,
    retries: 3,
    baseDelayMs: 5,
    maxDelayMs: 20,
    maxRetryAfterMs: 1500,
    ...options,
  });
}

/** What the caller got: the rejection of a promise that must reject. */
async function failure(promise: Promise<unknown>): Promise<TavusApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TavusApiError);
  return error as TavusApiError;
}

const onPage = (page: number) => (req: SimRequest) => req.page === page && req.replicaIds === undefined;
const pageRequests = (page: number) => sim.requests.filter(onPage(page));

describe('walking the list', () => {
  it('walks every page by what comes back when the server caps the page size below the limit', async () => {
    sim.pageSizeCap = 7;
    const walk = await walkReplicas(api(), new AdaptiveLimit(2), { request: watch });
    expect(walk.pages).toBe(4);
    expect([...walk.rows.keys()].sort()).toEqual(sim.replicas.map((r) => r.replica_id).sort());
    expect(walk.finalTotalCount).toBe(25);
    expect(walk.accountedFor).toBe(true);
    expect(sim.requests.map((r) => r.query)).toEqual(
      [1, 2, 3, 4].map((page) => ({ verbose: 'true', limit: '100', page: String(page) })),
    );
  });

  it('stores every row as it came, replica_type included', async () => {
    sim.update(sim.replicas[0]!.replica_id, { status: 'training', face_id: 'f-1' });
    const walk = await walkReplicas(api(), new AdaptiveLimit(1), { request: watch });
    for (const replica of sim.replicas) expect(walk.rows.get(replica.replica_id)).toEqual(replica);
  });

  it('asks only for the named replica type', async () => {
    const walk = await walkReplicas(api(), new AdaptiveLimit(1), { request: watch, replicaType: 'system' });
    expect([...walk.rows.values()].every((row) => row.replica_type === 'system')).toBe(true);
    expect(walk.rows.size).toBe(sim.replicas.filter((r) => r.replica_type === 'system').length);
    expect(walk.accountedFor).toBe(true);
    expect(sim.requests.every((r) => r.query.replica_type === 'system')).toBe(true);
  });

  it('counts a row that appears twice once', async () => {
    const [a, b] = sim.replicas;
    sim.failNext({ status: 200, body: JSON.stringify({ data: [a, a, b], total_count: 2 }) });
    const walk = await walkReplicas(api(), new AdaptiveLimit(1), { request: watch });
    expect(walk.rows.size).toBe(2);
    expect(walk.accountedFor).toBe(true);
  });

  it('dedupes the repeated row when the list shifts down mid-walk, and reports the walk incomplete', async () => {
    sim.pageSizeCap = 10;
    const newcomer = makeReplicas(1, { idPrefix: 'n' })[0]!;
    sim.beforeResponse = (req, s) => {
      if (req.page === 2 && !s.replicas.some((r) => r.replica_id === newcomer.replica_id)) s.replicas.unshift({ ...newcomer });
    };
    const walk = await walkReplicas(api(), new AdaptiveLimit(1), { request: watch });
    // Page 2 repeats page 1's last row; the newcomer sits on page 1, already walked.
    expect(walk.rows.size).toBe(25);
    expect(walk.rows.has(newcomer.replica_id)).toBe(false);
    expect(walk.finalTotalCount).toBe(26);
    expect(walk.accountedFor).toBe(false);
  });

  it('stops at an empty page 1 without asking for more', async () => {
    sim.replicas = [];
    const walk = await walkReplicas(api(), new AdaptiveLimit(4), { request: watch });
    expect(walk).toMatchObject({ pages: 1, finalTotalCount: 0, accountedFor: true });
    expect(sim.requests).toHaveLength(1);
  });

  it('reports progress page by page', async () => {
    sim.pageSizeCap = 10;
    const seen: number[] = [];
    await walkReplicas(api(), new AdaptiveLimit(1), {
      request: watch,
      onProgress: (p) => {
        expect(p.pagesExpected).toBe(3);
        seen.push(p.pagesDone);
      },
    });
    expect(seen).toEqual([1, 2, 3]);
  });
});

describe('concurrency', () => {
  it('never has more requests in flight than the limit', async () => {
    sim.replicas = makeReplicas(60);
    sim.pageSizeCap = 5;
    sim.latencyMs = 25;
    const walk = await walkReplicas(api(), new AdaptiveLimit(3), { request: watch });
    expect(walk.rows.size).toBe(60);
    expect(sim.maxInFlight).toBe(3);
  });

  it('halves the limit on every push-back, never below 1, and grows it back after successes', async () => {
    const limit = new AdaptiveLimit(8);
    limit.pushBack();
    expect(limit.limit).toBe(4);
    limit.pushBack();
    limit.pushBack();
    limit.pushBack();
    expect(limit.limit).toBe(1);
    await limit.runAll([1, 2, 3, 4, 5, 6], async () => {});
    expect(limit.limit).toBeGreaterThan(1);
    expect(limit.limit).toBeLessThanOrEqual(8);
  });

  it('lowers the requests in flight after a 429', async () => {
    sim.replicas = makeReplicas(60);
    sim.pageSizeCap = 5;
    sim.latencyMs = 20;
    const limit = new AdaptiveLimit(4);
    sim.failNext({ status: 429, match: onPage(2) });
    const client = api();
    let lowest = limit.limit;
    const onRetry = (info: RetryInfo): void => {
      if (info.status === 429) limit.pushBack();
      lowest = Math.min(lowest, limit.limit);
    };
    await walkReplicas(client, limit, { request: { onRetry } });
    expect(lowest).toBe(2);
    expect(client.retries).toBe(1);
  });
});

describe('retrying', () => {
  it('honours Retry-After in seconds', async () => {
    sim.failNext({ status: 429, retryAfter: '1', match: onPage(1) });
    await api({ maxRetryAfterMs: 60 }).listPage(1, undefined, watch);
    // Capped at 60 ms from 1000 ms; the plain backoff would have waited 5 ms at most.
    expect(retries).toEqual([{ reason: 'HTTP 429', status: 429, attempt: 1, delayMs: 60 }]);
    expect(pageRequests(1).map((r) => r.status)).toEqual([429, 200]);
  });

  it('honours Retry-After as an HTTP date', async () => {
    sim.failNext({ status: 503, retryAfter: new Date(Date.now() + 30_000).toUTCString(), match: onPage(1) });
    await api({ maxRetryAfterMs: 60 }).listPage(1, undefined, watch);
    expect(retries.map((r) => r.delayMs)).toEqual([60]);
  });

  it('treats Retry-After 0 or a past date as no hint', async () => {
    sim.failNext({ status: 429, retryAfter: '0' });
    sim.failNext({ status: 429, retryAfter: new Date(Date.now() - 60_000).toUTCString() });
    const client = api({ maxRetryAfterMs: 60 });
    await client.listPage(1, undefined, watch);
    expect(retries).toHaveLength(2);
    // Full jitter under base 5 ms doubling: at most 5 then 10.
    expect(retries[0]!.delayMs).toBeLessThanOrEqual(5);
    expect(retries[1]!.delayMs).toBeLessThanOrEqual(10);
  });

  it('parses Retry-After as seconds or a date, and nothing else', () => {
    const now = Date.parse('2025-03-01T12:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('Sat, 01 Mar 2025 12:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('0', now)).toBeUndefined();
    expect(parseRetryAfter('Sat, 01 Mar 2025 11:59:00 GMT', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-3', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('retries 5xx blips and counts each retry', async () => {
    for (const status of [500, 502, 503, 504]) sim.failNext({ status });
    const client = api({ retries: 4 });
    const page = await client.listPage(1, undefined, watch);
    expect(page.rows).toHaveLength(25);
    expect(client.retries).toBe(4);
    expect(retries.map((r) => r.status)).toEqual([500, 502, 503, 504]);
  });

  it('fails a page that keeps failing after the configured retries, with a sentence', async () => {
    sim.failNext({ status: 503, times: 100, match: onPage(2) });
    sim.pageSizeCap = 10;
    const client = api({ retries: 2 });
    const error = await failure(walkReplicas(client, new AdaptiveLimit(1), { request: watch }));
    expect(error.message).toMatch(/^Page 2 of .* kept failing after 3 attempts \(last: HTTP 503\).*run again\.$/);
    expect(pageRequests(2)).toHaveLength(3);
    expect(client.retries).toBe(2);
  });

  it('retries truncated JSON and then succeeds', async () => {
    sim.failNext({ status: 200, truncate: true });
    const client = api();
    expect((await client.listPage(1, undefined, watch)).rows).toHaveLength(25);
    expect(client.retries).toBe(1);
    expect(retries[0]!.reason).toMatch(/not valid JSON/);
  });

  it('fails when the JSON stays truncated', async () => {
    sim.failNext({ status: 200, truncate: true, times: 100 });
    const error = await failure(api({ retries: 2 }).listPage(1, undefined, watch));
    expect(error.message).toMatch(/kept failing after 3 attempts.*not valid JSON/);
    expect(sim.requests).toHaveLength(3);
  });

  it('retries network errors, then fails with a sentence naming the URL', async () => {
    // Accepts, then drops every connection: a network error that may pass, so it is retried.
    const dropping = createServer();
    dropping.on('connection', (socket) => socket.destroy());
    await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(dropping.address() as AddressInfo).port}`;
    try {
      const client = new TavusApi({ baseUrl, apiKey: KEY, retries: 2, baseDelayMs: 1, maxDelayMs: 2 });
      const error = await failure(client.listPage(1, undefined, watch));
      expect(error.message).toMatch(/kept failing after 3 attempts \(last: network error: /);
      expect(error.message).toContain(`${baseUrl}/v2/replicas`);
      // The URL is this machine: Tavus's status page would send the user the wrong way.
      expect(error.message).not.toMatch(/status page/i);
      expect(client.retries).toBe(2);
    } finally {
      await new Promise((resolve) => dropping.close(resolve));
    }
  });

  it('says at once that nothing listens at a loopback URL, naming it, without retrying', async () => {
    const client = api({ retries: 2 });
    const url = sim.url;
    await sim.stop();
    const error = await failure(client.listPage(1, undefined, watch));
    expect(error.message).toMatch(/^Nothing is listening at http:\/\/127\.0\.0\.1:\d+ \(connection refused\): /);
    expect(error.message).toContain(url);
    expect(error.message).not.toMatch(/status page/i);
    expect(client.retries).toBe(0);
  });

  it('names the URL when DNS does not know its host, without retrying', async () => {
    // .invalid never resolves (RFC 6761).
    const client = new TavusApi({ baseUrl: 'https://no-such-host.invalid', apiKey: KEY, retries: 2, baseDelayMs: 1 });
    const error = await failure(client.listPage(1, undefined, watch));
    expect(error.message).toBe(
      'The host of https://no-such-host.invalid was not found (DNS answered ENOTFOUND): check TAVUS_API_URL for a typo, and that this machine can resolve names.',
    );
    expect(client.retries).toBe(0);
  });

  it('retries an attempt that outlives the per-request timeout', async () => {
    sim.latencyMs = 300;
    const client = api({ requestTimeoutMs: 50 });
    const onRetry = (info: RetryInfo): void => {
      retries.push(info);
      sim.latencyMs = 0;
    };
    expect((await client.listPage(1, undefined, { onRetry })).rows).toHaveLength(25);
    expect(retries.map((r) => r.reason)).toEqual(['no answer within 50 ms']);
  });

  it('stops the walk when the time budget runs out', async () => {
    sim.pageSizeCap = 5;
    sim.latencyMs = 40;
    const error = await failure(walkReplicas(api(), new AdaptiveLimit(1), { request: { deadline: Date.now() + 100 } }));
    expect(error.message).toMatch(/time budget/);
    expect(error.message).toMatch(/nothing was marked deleted/);
    expect(sim.requests.length).toBeLessThan(5);
  });
});

describe('failing fast', () => {
  it('fails on 401 after exactly one request, saying to set TAVUS_API_KEY', async () => {
    const client = new TavusApi({ baseUrl: sim.url, apiKey: 'sk-wrong-key', retries: 3, baseDelayMs: 5 });
    const error = await failure(client.listPage(1, undefined, watch));
    expect(error.status).toBe(401);
    expect(error.message).toContain('TAVUS_API_KEY');
    expect(error.message).toContain('Invalid access token');
    expect(error.message).not.toContain('sk-wrong-key');
    expect(sim.requests).toHaveLength(1);
    expect(client.retries).toBe(0);
  });

  it.each([
    [400, /REPLICA_TYPE and TAVUS_API_URL/],
    [403, /key/],
    [404, /TAVUS_API_URL/],
  ])('fails on %i without retrying, saying what to check', async (status, advice) => {
    sim.failNext({ status, body: JSON.stringify({ error: 'nope' }) });
    const client = api();
    const error = await failure(client.listPage(1, undefined, watch));
    expect(error.status).toBe(status);
    expect(error.message).toMatch(advice);
    expect(error.message).toContain(`HTTP ${status}`);
    expect(sim.requests).toHaveLength(1);
    expect(client.retries).toBe(0);
  });

  it('fails on a wrong base path (the real 404 of the simulator)', async () => {
    const client = new TavusApi({ baseUrl: `${sim.url}/v9`, apiKey: KEY, retries: 3 });
    const error = await failure(client.listPage(1, undefined, watch));
    expect(error.status).toBe(404);
    expect(sim.requests).toHaveLength(1);
  });

  it('does not follow a redirect, which would hand the key to the host it names', async () => {
    const keysSeen: unknown[] = [];
    const listen = async (handler: Parameters<typeof createServer>[1]): Promise<Server> => {
      const server = createServer(handler);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    };
    const elsewhere = await listen((req, res) => {
      keysSeen.push(req.headers['x-api-key']);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":[],"total_count":0}');
    });
    const redirecting = await listen((_req, res) => {
      // localhost vs 127.0.0.1: another origin.
      res.writeHead(302, { location: `http://localhost:${(elsewhere.address() as AddressInfo).port}/v2/replicas` }).end();
    });
    try {
      const client = new TavusApi({ baseUrl: `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}`, apiKey: KEY, retries: 1 });
      const error = await failure(client.listPage(1, undefined, watch));
      expect(error.status).toBe(302);
      expect(keysSeen).toEqual([]);
    } finally {
      redirecting.closeAllConnections();
      elsewhere.closeAllConnections();
      await Promise.all([redirecting, elsewhere].map((s) => new Promise((resolve) => s.close(resolve))));
    }
  });

  it.each([
    ['total_count is missing', { data: [{ replica_id: 'a' }] }],
    ['total_count is not an integer', { data: [{ replica_id: 'a' }], total_count: '1' }],
    ['data is not an array', { data: { replica_id: 'a' }, total_count: 1 }],
    ['the body is an array', [{ replica_id: 'a' }]],
  ])('fails without retrying when %s', async (_, body) => {
    sim.failNext({ status: 200, body: JSON.stringify(body) });
    const client = api();
    const error = await failure(client.listPage(1, undefined, watch));
    expect(error.message).toMatch(/cannot trust/);
    expect(sim.requests).toHaveLength(1);
    expect(client.retries).toBe(0);
  });

  it('passes every id through exactly as given, those that cannot be a key too: the engine rejects them row by row', async () => {
    const rows = [{ replica_id: ' dup ' }, { replica_id: 'dup\u00a0' }, { replica_name: 'x' }, { replica_id: '' }, { replica_id: '   ' }, { replica_id: 7 }];
    sim.failNext({ status: 200, body: JSON.stringify({ data: rows, total_count: rows.length }) });
    expect((await api().listPage(1, undefined, watch)).rows).toEqual(rows);
  });

  it('passes nulls, unknown fields and unknown statuses through', async () => {
    const rows = [{ replica_id: 'a', status: 'ready', thumbnail_video_url: null, brand_new: { x: 1 } }];
    sim.failNext({ status: 200, body: JSON.stringify({ data: rows, total_count: 1 }) });
    expect((await api().listPage(1, undefined, watch)).rows).toEqual(rows);
  });
});

describe('lookup by id', () => {
  it('asks in chunks of the page size and returns the replicas that still exist', async () => {
    const ids = sim.replicas.slice(0, 7).map((r) => r.replica_id);
    const found = await api({ pageSize: 3 }).lookup([...ids, 'gone-1', 'gone-2'], watch);
    expect(found.map((r) => r.replica_id).sort()).toEqual([...ids].sort());
    const lookups = sim.requests.filter((r) => r.replicaIds !== undefined);
    expect(lookups.map((r) => r.replicaIds)).toEqual([ids.slice(0, 3), ids.slice(3, 6), [ids[6], 'gone-1', 'gone-2']]);
    expect(lookups.every((r) => r.query.verbose === 'true' && r.query.limit === '3' && r.page === 1)).toBe(true);
  });

  it('finds every replica that still exists even when the server caps the page size below the chunk', async () => {
    sim.pageSizeCap = 4;
    const ids = sim.replicas.slice(0, 10).map((r) => r.replica_id);
    const found = await api({ pageSize: 100 }).lookup(ids, watch);
    expect(found.map((r) => r.replica_id).sort()).toEqual([...ids].sort());
  });
});

describe('the edge in its advice', () => {
  it('names the API URL and the replica type as the terms it is given say', async () => {
    const terms: SettingTerms = { name: (key) => `<${key}>`, assign: (key, value) => `<${key}=${value}>` };
    sim.failNext({ status: 400, body: JSON.stringify({ error: 'nope' }) });
    const error = await failure(api({ terms }).listPage(1, undefined, watch));
    expect(error.message).toContain('check <replicaType> and <apiUrl>');
    expect(error.message).not.toMatch(/TAVUS_API_URL|REPLICA_TYPE/);
  });
});

describe('options', () => {
  it.each([
    [{ pageSize: 0 }, /pageSize/],
    [{ pageSize: 2.5 }, /pageSize/],
    [{ requestTimeoutMs: 0 }, /requestTimeoutMs/],
    [{ retries: -1 }, /retries/],
    [{ baseDelayMs: Number.NaN }, /baseDelayMs/],
  ] as Array<[Partial<TavusApiOptions>, RegExp]>)('refuses %o at construction, naming the option', (options, name) => {
    expect(() => api(options)).toThrow(TypeError);
    expect(() => api(options)).toThrow(name);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a concurrency limit of %s', (max) => {
    expect(() => new AdaptiveLimit(max)).toThrow(TypeError);
  });
});
