/** The Tavus simulator over real HTTP: other tests trust it to behave like the API, so pin that down. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeReplicas, TavusSimulator } from '../local/tavus-simulator.js';
import type { SimReplica } from '../local/tavus-simulator.js';

const KEY = 'test-key';

interface Page {
  data: Record<string, unknown>[];
  total_count: number;
}

let sim: TavusSimulator;

beforeEach(async () => {
  sim = new TavusSimulator({ apiKey: KEY, replicas: makeReplicas(25) });
  await sim.start();
});

afterEach(async () => {
  await sim.stop();
});

/** `key: null` sends no x-api-key header at all. */
function get(query: string, key: string | null = KEY): Promise<Response> {
  const headers: Record<string, string> = key === null ? {} : { 'x-api-key': key };
  return fetch(`${sim.url}/v2/replicas${query}`, { headers });
}

async function getPage(query: string): Promise<Page> {
  const res = await get(query);
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

const ids = (page: Page) => page.data.map((row) => row.replica_id);

describe('auth', () => {
  it('answers 401 with the documented body for a missing or wrong key', async () => {
    for (const key of [null, 'wrong']) {
      const res = await get('', key);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ message: 'Invalid access token' });
    }
    expect(sim.requests.map((r) => r.hadValidKey)).toEqual([false, false]);
  });
});

describe('paging', () => {
  it('defaults to page 1 of 10 rows and reports the total', async () => {
    const page = await getPage('');
    expect(ids(page)).toEqual(sim.replicas.slice(0, 10).map((r) => r.replica_id));
    expect(page.total_count).toBe(25);
    expect(sim.requests[0]?.page).toBe(1);
  });

  it('silently caps the page size and walks slices in stored order', async () => {
    sim.pageSizeCap = 7;
    const pages = [await getPage('?limit=100&page=1'), await getPage('?limit=100&page=4')];
    expect(pages.map((p) => p.data.length)).toEqual([7, 4]);
    expect(ids(pages[1]!)).toEqual(sim.replicas.slice(21).map((r) => r.replica_id));
    expect(pages.every((p) => p.total_count === 25)).toBe(true);
  });

  it('returns an empty page past the end', async () => {
    expect(await getPage('?limit=10&page=9')).toEqual({ data: [], total_count: 25 });
  });
});

describe('rows', () => {
  it('includes replica_type only with verbose=true', async () => {
    const plain = await getPage('?limit=25');
    const verbose = await getPage('?limit=25&verbose=true');
    expect(plain.data.every((row) => !('replica_type' in row))).toBe(true);
    expect(verbose.data).toEqual(sim.replicas);
  });

  it('passes through unknown statuses and extra fields', async () => {
    sim.update(sim.replicas[0]!.replica_id, { status: 'training', face_id: 'f1' });
    const [row] = (await getPage('?limit=1&verbose=true')).data;
    expect(row).toMatchObject({ status: 'training', face_id: 'f1' });
  });
});

describe('filters', () => {
  it('filters by replica_type and counts after the filter', async () => {
    const system = sim.replicas.filter((r) => r.replica_type === 'system');
    const page = await getPage('?replica_type=system&verbose=true&limit=100');
    expect(ids(page)).toEqual(system.map((r) => r.replica_id));
    expect(page.total_count).toBe(system.length);
    expect(page.data.every((row) => row.replica_type === 'system')).toBe(true);
  });

  it('filters by replica_ids in stored order and ignores unknown ids', async () => {
    const [a, b] = [sim.replicas[3]!.replica_id, sim.replicas[17]!.replica_id];
    const page = await getPage(`?replica_ids=${b},rmissing000,${a}`);
    expect(ids(page)).toEqual([a, b]);
    expect(page.total_count).toBe(2);
    expect(sim.requests[0]?.replicaIds).toEqual([b, 'rmissing000', a]);
  });
});

describe('errors', () => {
  it.each([
    ['?page=0', /page/],
    ['?page=abc', /page/],
    ['?limit=-1', /limit/],
    ['?limit=2.5', /limit/],
    ['?replica_type=stock', /replica_type/],
  ])('answers 400 with an error sentence for %s', async (query, mentions) => {
    const res = await get(query);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string };
    expect(body.error).toMatch(mentions);
  });

  it('answers 404 for unknown paths and 405 for other methods', async () => {
    const missing = await fetch(`${sim.url}/v2/faces`, { headers: { 'x-api-key': KEY } });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toHaveProperty('error');
    const post = await fetch(`${sim.url}/v2/replicas`, { method: 'POST', headers: { 'x-api-key': KEY } });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });
});

describe('faults', () => {
  it('answers 429 with Retry-After, then serves normally', async () => {
    sim.failNext({ status: 429, retryAfter: '2' });
    const limited = await get('');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(await limited.json()).toHaveProperty('error');
    expect((await get('')).status).toBe(200);
  });

  it('applies a fault `times` times, before auth, and only to matching requests', async () => {
    sim.failNext({ status: 503, times: 2, match: (req) => req.page === 2 });
    expect((await get('?page=1')).status).toBe(200);
    expect((await get('?page=2', 'wrong')).status).toBe(503);
    expect((await get('?page=2')).status).toBe(503);
    expect((await get('?page=2')).status).toBe(200);
    expect(sim.requests.map((r) => r.status)).toEqual([200, 503, 503, 200]);
  });

  it('consumes queued faults in FIFO order', async () => {
    sim.failNext({ status: 502 });
    sim.failNext({ status: 500, body: 'upstream exploded' });
    expect((await get('')).status).toBe(502);
    const second = await get('');
    expect(second.status).toBe(500);
    expect(await second.text()).toBe('upstream exploded');
  });

  it('can answer 200 with truncated JSON', async () => {
    sim.failNext({ status: 200, truncate: true });
    const res = await get('?limit=5');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.startsWith('{"data":[')).toBe(true);
    expect(() => JSON.parse(text)).toThrow();
  });
});

describe('hooks and stats', () => {
  it('lets beforeResponse change the account between pages', async () => {
    const gone = sim.replicas[0]!.replica_id;
    sim.beforeResponse = (req, s) => {
      if (req.page === 2) s.remove(gone);
    };
    const first = await getPage('?page=1&limit=10');
    const second = await getPage('?page=2&limit=10');
    expect(first.total_count).toBe(25);
    expect(second.total_count).toBe(24);
    // The removal shifted every later row up one place: the walk skips the row at position 10.
    expect(ids(second)[0]).toBe(sim.replicas[10]!.replica_id);
    expect([...ids(first), ...ids(second)]).toContain(gone);
  });

  it('records the highest number of concurrent requests', async () => {
    sim.latencyMs = 50;
    await Promise.all([1, 2, 3, 4].map((page) => getPage(`?page=${page}`)));
    expect(sim.maxInFlight).toBe(4);
    expect(sim.inFlight).toBe(0);
    sim.resetStats();
    expect(sim.maxInFlight).toBe(0);
    expect(sim.requests).toHaveLength(0);
    await getPage('');
    await getPage('?page=2');
    expect(sim.maxInFlight).toBe(1);
  });

  it('delays every request by latencyMs', async () => {
    sim.latencyMs = 25;
    const started = performance.now();
    for (let i = 0; i < 4; i += 1) await getPage('');
    expect(performance.now() - started).toBeGreaterThanOrEqual(4 * 24);
  });
});

describe('makeReplicas', () => {
  it('is deterministic and varies with the seed', () => {
    expect(makeReplicas(50, { seed: 7 })).toEqual(makeReplicas(50, { seed: 7 }));
    expect(makeReplicas(50, { seed: 7 })).not.toEqual(makeReplicas(50, { seed: 8 }));
  });

  it('produces unique, well-formed ids even for large accounts', () => {
    const replicas = makeReplicas(100_000);
    const unique = new Set(replicas.map((r) => r.replica_id));
    expect(unique.size).toBe(100_000);
    expect(replicas.every((r) => /^r[0-9a-f]{9}$/.test(r.replica_id))).toBe(true);
    expect(makeReplicas(3, { idPrefix: 'x' }).every((r) => r.replica_id.startsWith('x'))).toBe(true);
  });

  it('mixes kinds realistically', () => {
    const replicas = makeReplicas(100);
    const count = (pred: (r: SimReplica) => boolean) => replicas.filter(pred).length;
    expect(count((r) => r.replica_type === 'system')).toBe(10);
    expect(count((r) => r.status === 'started' && /^\d+\/100$/.test(r.training_progress) && r.training_progress !== '100/100')).toBe(5);
    expect(count((r) => r.status === 'error' && typeof r.error_message === 'string')).toBeGreaterThan(0);
    expect(count((r) => r.status !== 'error' && r.error_message !== null)).toBe(0);
    expect(count((r) => r.thumbnail_video_url === null)).toBeGreaterThan(0);
    const times = replicas.map((r) => Date.parse(r.created_at));
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(replicas.every((r) => r.updated_at >= r.created_at)).toBe(true);
  });

  it('serves a 100,000-replica account quickly', async () => {
    sim.replicas = makeReplicas(100_000);
    const someIds = sim.replicas.filter((_, i) => i % 1000 === 0).map((r) => r.replica_id);
    const started = performance.now();
    const page = await getPage(`?replica_type=user&limit=100&page=500&verbose=true`);
    const lookup = await getPage(`?replica_ids=${someIds.join(',')}&limit=100`);
    expect(page.data).toHaveLength(100);
    expect(lookup.total_count).toBe(100);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
