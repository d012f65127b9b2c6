/**
 * The simulator's hostile account (local/hostile-account.ts) over real HTTP: other tests trust it
 * to serve every hostile value exactly, and to lie the way it says.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_URL_LENGTH, TavusSimulator } from '../local/tavus-simulator.js';
import {
  BIDI_CONTROLS,
  C0_CONTROLS,
  C1_CONTROLS,
  deepNesting,
  endlessPages,
  FORMULA_LEADS,
  HOSTILE_TEXTS,
  hostileReplicas,
  hugeBody,
  lyingTotalCount,
  PADDED_IDS,
  SYNC_OWNED_NAMES,
} from '../local/hostile-account.js';
import { SYNC_ATTRIBUTES } from '../functions/engine/model/replica.js';
import { startSimulatorProcess } from './support/simulator-process.js';

const KEY = 'hostile-sim-key';
let sim: TavusSimulator;

beforeEach(async () => {
  sim = new TavusSimulator({ apiKey: KEY, replicas: hostileReplicas(), pageSizeCap: 100_000 });
  await sim.start();
});
afterEach(() => sim.stop());

async function get(query: string): Promise<Response> {
  return fetch(`${sim.url}/v2/replicas?${query}`, { headers: { 'x-api-key': KEY } });
}

async function everyRow(): Promise<Record<string, unknown>[]> {
  const body = (await (await get(`limit=100000&verbose=true`)).json()) as { data: Record<string, unknown>[] };
  return body.data;
}

describe('the hostile lists', () => {
  it('hold every member of each class', () => {
    expect(C0_CONTROLS).toHaveLength(33); // U+0000..U+001F and DEL
    expect(C1_CONTROLS).toHaveLength(32);
    expect(BIDI_CONTROLS).toEqual(expect.arrayContaining(['\u202e', '\u2066', '\u2069', '\u200f']));
    expect(FORMULA_LEADS).toEqual(['=', '+', '-', '@', '\t', '\r']);
    expect([...SYNC_OWNED_NAMES].sort()).toEqual([...SYNC_ATTRIBUTES].sort());
  });
});

describe('the hostile account', () => {
  it('serves every hostile text exactly, as name and error message', async () => {
    const rows = await everyRow();
    const names = new Set(rows.map((row) => row.replica_name));
    for (const text of HOSTILE_TEXTS) expect(names.has(text), JSON.stringify(text)).toBe(true);
  });

  it('serves a row carrying every sync-owned name as an API field, and one nested 5,000 levels deep', async () => {
    sim.shapePage = deepNesting();
    const rows = await everyRow();
    const poisoned = rows.find((row) => row.replica_id === 'h-poisoned')!;
    for (const name of SYNC_OWNED_NAMES) expect(poisoned, name).toHaveProperty(name);
    let depth = 0;
    for (let node = rows.find((row) => row.replica_id === 'h-deep')!.deep as { a?: unknown }; typeof node === 'object'; node = node.a as { a?: unknown }) depth += 1;
    expect(depth).toBe(5000);
  });

  it('keeps padded ids distinct and looks each up exactly as sent', async () => {
    const rows = await everyRow();
    for (const id of PADDED_IDS) expect(rows.filter((row) => row.replica_id === id)).toHaveLength(1);
    const body = (await (await get(new URLSearchParams({ replica_ids: ' dup ' }).toString())).json()) as { data: { replica_id: string }[] };
    expect(body.data.map((row) => row.replica_id)).toEqual([' dup ']);
  });

  it('answers 431 to a URL over 8 KB, as real servers do, and serves one just under', async () => {
    const base = `${sim.url}/v2/replicas?replica_ids=`;
    const pathLength = base.length - sim.url.length;
    const under = await fetch(base + 'x'.repeat(MAX_URL_LENGTH - pathLength), { headers: { 'x-api-key': KEY } });
    expect(under.status).toBe(200);
    const over = await fetch(base + 'x'.repeat(MAX_URL_LENGTH - pathLength + 1), { headers: { 'x-api-key': KEY } });
    expect(over.status).toBe(431);
  });
});

describe('lying answers', () => {
  it('claim a total_count the account does not hold', async () => {
    sim.shapePage = lyingTotalCount(1e12);
    const body = (await (await get('page=1')).json()) as { total_count: number; data: unknown[] };
    expect(body.total_count).toBe(1e12);
    expect(body.data).toHaveLength(10);
  });

  it('bring new rows on every page and always claim one page more', async () => {
    sim.shapePage = endlessPages();
    const pages = await Promise.all([1, 500].map(async (page) => (await (await get(`page=${page}&limit=10`)).json()) as { total_count: number; data: { replica_id: string }[] }));
    expect(pages.map((page) => page.total_count)).toEqual([20, 5010]);
    expect(pages[1]!.data.map((row) => row.replica_id)).toContain('endless-500-9');
  });

  it('answer a body as large as asked', async () => {
    sim.shapePage = hugeBody(2 * 1024 * 1024);
    const text = await (await get('page=1')).text();
    expect(text.length).toBeGreaterThan(2 * 1024 * 1024);
    expect(() => JSON.parse(text)).not.toThrow();
  });
});

describe('npm run simulator -- --hostile', () => {
  it('serves the hostile account beside the sample one', async () => {
    const served = await startSimulatorProcess(['--replicas', '5', '--hostile', '--page-size-cap', '100000']);
    try {
      expect(served.stdout).toContain(`with ${5 + hostileReplicas().length} replicas (hostile ones among them)`);
      const res = await fetch(`${served.url}/v2/replicas?limit=100000`, { headers: { 'x-api-key': served.key } });
      const body = (await res.json()) as { data: { replica_name: string; deep?: unknown }[] };
      expect(body.data.map((row) => row.replica_name)).toContain('<!channel>');
      expect(typeof body.data.find((row) => row.deep !== undefined)?.deep).toBe('object');
      expect(await served.interrupt()).toBe(0);
    } finally {
      served.kill();
    }
  });
});
