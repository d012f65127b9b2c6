/** The Tavus simulator over real HTTP: other tests trust it to behave like the API, so pin that down. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PortInUseError, simulatorCommand } from '../cli/simulator-command.js';
import { InputError } from '../functions/engine/errors.js';
import { makeReplicas, PHOENIX_4_5, TavusSimulator } from '../local/tavus-simulator.js';
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
function get(query: string, key: string | null = KEY, path = '/v2/replicas'): Promise<Response> {
  const headers: Record<string, string> = key === null ? {} : { 'x-api-key': key };
  return fetch(`${sim.url}${path}${query}`, { headers });
}

async function getPage(query: string, path = '/v2/replicas'): Promise<Page> {
  const res = await get(query, KEY, path);
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

const getFaces = (query: string): Promise<Page> => getPage(query, '/v2/faces');

const ids = (page: Page) => page.data.map((row) => row.replica_id);
const faceIds = (page: Page) => page.data.map((row) => row.face_id);

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

describe('/v2/faces', () => {
  const FACE_NAMES: Record<string, string> = { replica_id: 'face_id', replica_name: 'face_name', replica_type: 'face_type' };
  /** The replicas row renamed field by field, in place: what /v2/faces should serve. */
  const asFace = (row: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(row).map(([name, value]) => [FACE_NAMES[name] ?? name, value]));

  it('serves the same account, paged the same, with the replica fields renamed in place', async () => {
    sim.pageSizeCap = 7;
    for (const query of ['?limit=100&page=1', '?limit=100&page=4', '?limit=100&page=2&verbose=true', '?limit=3&page=9']) {
      const [replicas, faces] = [await getPage(query), await getFaces(query)];
      expect(faces.total_count).toBe(replicas.total_count);
      expect(faces.data).toEqual(replicas.data.map(asFace));
      expect(faces.data.map((row) => Object.keys(row))).toEqual(replicas.data.map((row) => Object.keys(asFace(row))));
    }
  });

  it('includes face_type only with verbose=true, and never a replica_* field', async () => {
    const plain = await getFaces('?limit=25');
    const verbose = await getFaces('?limit=25&verbose=true');
    expect(faceIds(verbose)).toEqual(sim.replicas.map((r) => r.replica_id));
    expect(verbose.data.map((row) => row.face_type)).toEqual(sim.replicas.map((r) => r.replica_type));
    expect(plain.data.every((row) => !('face_type' in row))).toBe(true);
    const names = [...plain.data, ...verbose.data].flatMap((row) => Object.keys(row));
    expect(names.filter((name) => name.startsWith('replica_'))).toEqual([]);
  });

  it('filters by face_type and ignores replica_type there, as /v2/replicas ignores face_type', async () => {
    const system = sim.replicas.filter((r) => r.replica_type === 'system').map((r) => r.replica_id);
    const scoped = await getFaces('?face_type=system&limit=100');
    expect(faceIds(scoped)).toEqual(system);
    expect(scoped.total_count).toBe(system.length);
    expect((await getFaces('?replica_type=system&limit=100')).total_count).toBe(25);
    expect((await getPage('?face_type=system&limit=100')).total_count).toBe(25);
  });

  it('looks ids up by face_ids, or by its alias replica_ids, in stored order', async () => {
    const [a, b] = [sim.replicas[3]!.replica_id, sim.replicas[17]!.replica_id];
    for (const parameter of ['face_ids', 'replica_ids']) {
      const page = await getFaces(`?${parameter}=${b},rmissing000,${a}`);
      expect(faceIds(page)).toEqual([a, b]);
      expect(page.total_count).toBe(2);
    }
    expect(sim.requests.map((r) => r.replicaIds)).toEqual([
      [b, 'rmissing000', a],
      [b, 'rmissing000', a],
    ]);
    // face_ids means nothing to the legacy endpoint: the whole list comes back.
    expect((await getPage(`?face_ids=${a}`)).total_count).toBe(25);
  });

  it.each([
    ['?face_type=stock', /face_type/],
    ['?face_ids=a&replica_ids=b', /face_ids.*replica_ids/],
    ['?page=0', /page/],
  ])('answers 400 with an error sentence for %s', async (query, mentions) => {
    const res = await get(query, KEY, '/v2/faces');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(mentions);
  });

  it('checks the key and takes queued faults like /v2/replicas', async () => {
    const denied = await get('', null, '/v2/faces');
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({ message: 'Invalid access token' });
    sim.failNext({ status: 503, match: (req) => req.path === '/v2/faces' });
    expect((await get('')).status).toBe(200);
    expect((await get('', KEY, '/v2/faces')).status).toBe(503);
    expect((await get('', KEY, '/v2/faces')).status).toBe(200);
  });

  it('serves a stored face_* field as stored, beside its replica_* twin (a legacy alias, or a conflicting one)', async () => {
    const [first, second] = sim.replicas;
    sim.update(first!.replica_id, { face_id: first!.replica_id });
    sim.update(second!.replica_id, { face_id: 'rsomeoneelse', face_name: 'Other' });
    const [one, two] = (await getFaces('?limit=2')).data;
    expect(one).toMatchObject({ face_id: first!.replica_id, replica_id: first!.replica_id, face_name: first!.replica_name });
    expect(one).not.toHaveProperty('replica_name');
    expect(two).toMatchObject({ face_id: 'rsomeoneelse', replica_id: second!.replica_id, face_name: 'Other', replica_name: second!.replica_name });
  });
});

describe('fine-tune (Phoenix-4.5)', () => {
  it('serves finetune_status on Phoenix-4.5 rows only, from both endpoints', async () => {
    const phoenix45 = new Set(sim.replicas.filter((r) => r.model_name === PHOENIX_4_5).map((r) => r.replica_id));
    expect(phoenix45.size).toBeGreaterThan(0);
    const rows = [...(await getPage('?limit=25')).data, ...(await getFaces('?limit=25')).data];
    for (const row of rows) {
      const id = String(row.replica_id ?? row.face_id);
      expect('finetune_status' in row, id).toBe(phoenix45.has(id));
    }
  });

  it('stalls, moves and fails a fine-tune through setFinetuneStatus, seen the same on both endpoints', async () => {
    const replica = sim.replicas.find((r) => r.model_name === PHOENIX_4_5 && r.finetune_status === null)!;
    const id = replica.replica_id;
    const before = { ...replica };
    const seen: unknown[] = [];
    for (const step of ['queued', 'queued', 'training', 'errored']) {
      sim.setFinetuneStatus(id, step);
      const [fromReplicas] = (await getPage(`?replica_ids=${id}&verbose=true`)).data;
      const [fromFaces] = (await getFaces(`?face_ids=${id}&verbose=true`)).data;
      expect(fromFaces!.finetune_status).toBe(fromReplicas!.finetune_status);
      seen.push(fromReplicas!.finetune_status);
    }
    expect(seen).toEqual(['queued', 'queued', 'training', 'errored']);
    expect(sim.replicas.find((r) => r.replica_id === id)).toEqual({ ...before, finetune_status: 'errored' });
    sim.setFinetuneStatus(id, null);
    expect((await getPage(`?replica_ids=${id}`)).data[0]!.finetune_status).toBeNull();
  });

  it('refuses a fine-tune on an unknown id or another model, while update() sets any field', () => {
    const phoenix3 = sim.replicas.find((r) => r.model_name === 'phoenix-3')!;
    expect(() => sim.setFinetuneStatus('rmissing000', 'training')).toThrow(/not in the simulated account/);
    expect(() => sim.setFinetuneStatus(phoenix3.replica_id, 'training')).toThrow(/phoenix-3/);
    expect(phoenix3).not.toHaveProperty('finetune_status');
    sim.update(phoenix3.replica_id, { finetune_status: 'training' });
    expect(phoenix3.finetune_status).toBe('training');
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
    for (const path of ['/v2/personas', '/v2/face', '/v2/faces/extra']) {
      const missing = await fetch(`${sim.url}${path}`, { headers: { 'x-api-key': KEY } });
      expect(missing.status).toBe(404);
      expect(await missing.json()).toHaveProperty('error');
    }
    for (const path of ['/v2/replicas', '/v2/faces']) {
      const post = await fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'x-api-key': KEY } });
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET');
    }
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

  it('gives a tenth of the account Phoenix-4.5, with fine-tunes open, done and failed', () => {
    const replicas = makeReplicas(100);
    const phoenix45 = replicas.filter((r) => r.model_name === PHOENIX_4_5);
    expect(phoenix45).toHaveLength(10);
    expect(phoenix45.every((r) => r.replica_type === 'user')).toBe(true);
    expect(phoenix45.filter((r) => r.status !== 'completed').every((r) => r.finetune_status === null)).toBe(true);
    const finetunes = phoenix45.filter((r) => r.status === 'completed').map((r) => r.finetune_status);
    expect(finetunes.sort()).toEqual(['completed', 'completed', 'errored', 'queued', 'training']);
    const others = replicas.filter((r) => r.model_name !== PHOENIX_4_5);
    expect(others.some((r) => 'finetune_status' in r)).toBe(false);
    expect(new Set(others.map((r) => r.model_name))).toEqual(new Set(['phoenix-3', 'phoenix-4']));
  });

  it('filters and looks up correctly in a 100,000-replica account', async () => {
    sim.replicas = makeReplicas(100_000);
    const users = sim.replicas.filter((r) => r.replica_type === 'user');
    const someIds = sim.replicas.filter((_, i) => i % 1000 === 0).map((r) => r.replica_id);
    const page = await getPage(`?replica_type=user&limit=100&page=500&verbose=true`);
    const lookup = await getFaces(`?face_ids=${someIds.join(',')}&limit=100`);
    expect(page.data).toEqual(users.slice(49_900, 50_000));
    expect(page.total_count).toBe(users.length);
    expect(faceIds(lookup)).toEqual(someIds);
  });
});

describe('npm run simulator', () => {
  it('reports a port already in use as a runtime failure, not as bad input', async () => {
    const port = Number(new URL(sim.url).port);
    const failure = await simulatorCommand(['--port', String(port), '--replicas', '3'], {}).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PortInUseError);
    expect(failure).not.toBeInstanceOf(InputError);
    expect((failure as Error).message).toMatch(new RegExp(`^Port ${port} is already in use: .*--port\\.$`));
    expect((failure as Error).cause).toMatchObject({ code: 'EADDRINUSE' });
  });
});
