/**
 * Hostile answers through the real engine: runSync against DynamoDB Local and the simulator's
 * hostile account over real HTTP. The API key never lands anywhere, ids are kept exactly as given
 * and rejected one row at a time, lookups stay under 8 KB and a failing one defers deletions only,
 * and lying counts and huge bodies are refused without allocating by them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeReplicas, MAX_URL_LENGTH, TavusSimulator, type SimReplica } from '../local/tavus-simulator.js';
import { endlessPages, hostileRow, hugeBody, longId, lyingTotalCount, PADDED_IDS, UNKEYABLE_IDS } from '../local/hostile-account.js';
import { parseSettings, type RawSettings } from '../functions/engine/settings/registry.js';
import { runSync } from '../functions/engine/sync.js';
import type { RunSummary } from '../functions/engine/model/summary.js';
import type { ApiTuning } from '../functions/engine/extract/tavus-api.js';
import { productionParts } from '../functions/engine/wiring.js';
import type { TableNames } from '../functions/engine/contract/tables.js';
import { testDynamoClient } from './support/dynamodb.js';
import { createFreshTables, scanAll } from './support/tables.js';

/** Distinctive, so a leak anywhere is found by a plain substring search. */
const KEY = 'sk_live_HOSTILE_3c9e1f7a2b_never_stored';
const T0 = new Date(Math.floor(Date.now() / 1000) * 1000);
const FAST: ApiTuning = { baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 5, retries: 2, requestTimeoutMs: 10_000 };

/** What each test opened (its simulator, its DynamoDB client), closed after it. */
const opened: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((close) => close()));
});

interface Account {
  sim: TavusSimulator;
  tables: TableNames;
  /** Every log call of every run, one JSON text each. */
  logs: string[];
  sync(raw?: RawSettings): Promise<RunSummary>;
  /** Every item of every table, as JSON text: where a leaked key would be. */
  everything(): Promise<string>;
  items(): Promise<Record<string, unknown>[]>;
}

async function account(replicas: SimReplica[], pageSizeCap = 10): Promise<Account> {
  const sim = new TavusSimulator({ apiKey: KEY, replicas, pageSizeCap });
  const client = testDynamoClient();
  opened.push(async () => {
    await sim.stop();
    client.destroy();
  });
  await sim.start();
  const tables = await createFreshTables(client, 'hx');
  const logs: string[] = [];
  const record = (level: string) => (message: string, fields?: Record<string, unknown>) => void logs.push(JSON.stringify([level, message, fields]));
  const log = { info: record('info'), warn: record('warn'), error: record('error') };
  const documents = productionParts({ client, settings: parseSettings({}), apiKey: KEY }).store.documents;
  const items = () => scanAll(documents, tables.replicas);
  return {
    sim,
    tables,
    logs,
    sync(raw = {}) {
      const settings = parseSettings({ apiUrl: sim.url, table: tables.replicas, runsTable: tables.runs, eventsTable: tables.events, ...raw });
      return runSync(settings, { ...productionParts({ client, settings, apiKey: KEY, tuning: FAST }), log, clock: () => T0 }, { walkBudgetMs: 60_000 });
    },
    async everything() {
      const all = await Promise.all(Object.values(tables).map((table) => scanAll(documents, table)));
      return JSON.stringify(all);
    },
    items,
  };
}

function expectSucceeded(summary: RunSummary): void {
  expect(summary.error, summary.error).toBeUndefined();
  expect(summary.status).toBe('succeeded');
}

/** The contract: every fetched replica counts once in created, updated, unchanged or restored. */
function expectCountsAddUp(summary: RunSummary): void {
  expect(summary.created + summary.updated + summary.unchanged + summary.restored).toBe(summary.fetched);
}

async function expectNoKey(a: Account, summary: RunSummary): Promise<void> {
  expect(JSON.stringify(summary)).not.toContain(KEY);
  expect(a.logs.join('\n')).not.toContain(KEY);
  expect(await a.everything()).not.toContain(KEY);
}

describe('the API key', () => {
  it.each([400, 401, 403, 404, 500])('is in no table, summary or log line when a %i body echoes it', async (status) => {
    const a = await account(makeReplicas(5));
    const echo = JSON.stringify({ message: `Invalid access token ${KEY}`, error: `bad key ${KEY}` });
    a.sim.failNext({ status, body: echo, times: 100 });
    const summary = await a.sync();
    expect(summary.status).toBe('failed');
    if (status !== 500) expect(summary.error).toContain('Invalid access token [redacted]');
    await expectNoKey(a, summary);
    // The failed run was recorded: the check above read a run record, not an empty table.
    expect(await a.everything()).toContain(summary.run_id);
  });

  it('is in no item, event, summary or log line when rows echo it, in any field, name or depth', async () => {
    const rows = [
      hostileRow('k-1', { replica_name: `named ${KEY}`, error_message: `Training failed for ${KEY}`, status: 'error' }),
      hostileRow('k-2', { [`field_${KEY}`]: 1, nested: { list: [`${KEY}`, { deeper: KEY }] } }),
      hostileRow('k-3'),
    ];
    const a = await account(rows);
    // A third page of sorts: the key spelled with JSON escapes, which a plain text search misses.
    const escaped = KEY.replace(/_/g, '\\u005f');
    a.sim.shapePage = (page) => JSON.stringify(page).replace('"k-3"', '"k-3","note":"' + escaped + '"');
    const summary = await a.sync();
    expectSucceeded(summary);
    expect(summary.created).toBe(3);
    await expectNoKey(a, summary);
    const items = await a.items();
    expect(items.find((item) => item.replica_id === 'k-1')?.error_message).toBe('Training failed for [redacted]');
    expect(items.find((item) => item.replica_id === 'k-3')?.note).toBe('[redacted]');
  });

  it('is in no warning when the lookup confirming deletions gets it echoed back', async () => {
    const a = await account(makeReplicas(6));
    expectSucceeded(await a.sync());
    a.sim.remove(a.sim.replicas[0]!.replica_id);
    a.sim.failNext({ status: 401, body: JSON.stringify({ message: `Invalid access token ${KEY}` }), match: (r) => r.replicaIds !== undefined });
    const summary = await a.sync();
    expectSucceeded(summary);
    expect(summary.warnings.join(' ')).toMatch(/\[redacted\].*deletions wait for the next run/);
    await expectNoKey(a, summary);
  });
});

describe('lookups by id', () => {
  it('confirm ten 1,900-character ids gone in requests under 8 KB each, and store the renames of the same run', async () => {
    const long = Array.from({ length: 10 }, (_, i) => hostileRow(longId(1900, i)));
    const a = await account([...long, ...makeReplicas(5)]);
    expectSucceeded(await a.sync());
    for (const row of long) a.sim.remove(row.replica_id);
    const renamed = a.sim.replicas[0]!.replica_id;
    a.sim.update(renamed, { replica_name: 'Renamed' });
    a.sim.resetStats();

    const summary = await a.sync({ maxDeleteFraction: '1' });
    expectSucceeded(summary);
    expect(summary).toMatchObject({ deleted: 10, updated: 1 });
    const lookups = a.sim.requests.filter((r) => r.replicaIds !== undefined);
    expect(lookups.length).toBeGreaterThan(1);
    expect(a.sim.requests.every((r) => r.urlLength < MAX_URL_LENGTH && r.status === 200)).toBe(true);
    const items = await a.items();
    expect(items.filter((item) => item.deleted_at !== undefined).map((item) => item.replica_id).sort()).toEqual(long.map((r) => r.replica_id).sort());
    expect(items.find((item) => item.replica_id === renamed)?.replica_name).toBe('Renamed');
  });

  it('that always fail defer the deletions only: renames land, nothing is marked deleted, a warning says why', async () => {
    const a = await account(makeReplicas(30));
    expectSucceeded(await a.sync());
    const gone = a.sim.replicas.slice(0, 2).map((r) => r.replica_id);
    for (const id of gone) a.sim.remove(id);
    const renamed = a.sim.replicas.slice(0, 3).map((r) => r.replica_id);
    for (const id of renamed) a.sim.update(id, { replica_name: `Renamed ${id}` });
    // Every attempt of the run's one lookup: it fails for good.
    a.sim.failNext({ status: 500, times: FAST.retries! + 1, match: (r) => r.replicaIds !== undefined });

    const summary = await a.sync();
    expectSucceeded(summary);
    expect(summary).toMatchObject({ updated: 3, deleted: 0 });
    expectCountsAddUp(summary);
    expect(summary.warnings).toHaveLength(1);
    expect(summary.warnings[0]).toMatch(/^The lookup confirming 2 replica\(s\) missing from the list failed \(.*HTTP 500.*\), so no replica was marked deleted this run; the deletions wait for the next run\.$/);
    const items = await a.items();
    expect(items.filter((item) => item.deleted_at !== undefined)).toEqual([]);
    for (const id of renamed) expect(items.find((item) => item.replica_id === id)?.replica_name).toBe(`Renamed ${id}`);

    // The next run, with the lookup answering again, marks them.
    const next = await a.sync();
    expectSucceeded(next);
    expect(next.deleted).toBe(2);
  });
});

describe('ids', () => {
  it('are stored exactly as given: padded and non-breaking ones are distinct replicas, looked up and deleted as such', async () => {
    const a = await account([...PADDED_IDS.map((id) => hostileRow(id)), ...makeReplicas(3)]);
    const first = await a.sync();
    expectSucceeded(first);
    expect(first).toMatchObject({ fetched: 6, created: 6, rejected: 0 });
    const ids = (await a.items()).map((item) => item.replica_id);
    for (const id of PADDED_IDS) expect(ids).toContain(id);

    a.sim.remove(' dup ');
    const second = await a.sync();
    expectSucceeded(second);
    expect(second).toMatchObject({ fetched: 5, unchanged: 5, deleted: 1 });
    const deleted = (await a.items()).filter((item) => item.deleted_at !== undefined).map((item) => item.replica_id);
    expect(deleted).toEqual([' dup ']);
  });

  it('that cannot be a key are rejected one row at a time, named, counted, and still seen so deletions go on', async () => {
    const a = await account(makeReplicas(4), 3);
    expectSucceeded(await a.sync());
    const goneId = a.sim.replicas[0]!.replica_id;
    a.sim.remove(goneId);
    a.sim.add(...UNKEYABLE_IDS.map((id) => hostileRow(id)));
    // A row with no replica_id at all, too.
    const { replica_id: _none, ...idless } = hostileRow('x');
    a.sim.replicas.push(idless as SimReplica);

    const summary = await a.sync();
    expectSucceeded(summary);
    const rejectedCount = UNKEYABLE_IDS.length + 1;
    expect(summary).toMatchObject({ rejected: rejectedCount, fetched: 3 + rejectedCount, unchanged: 3 + rejectedCount, deleted: 1 });
    expectCountsAddUp(summary);
    expect(summary.warnings).toHaveLength(rejectedCount);
    for (const warning of summary.warnings) {
      expect(warning).toMatch(/^Replica ".*" .*cannot be stored in DynamoDB: .*; the sync skips it/s);
      expect(warning.length).toBeLessThan(400); // an id is cut to 64 characters
    }
    expect(summary.warnings.join('\n')).toContain('(id cut to 64 characters)');
    expect(summary.warnings.join('\n')).toMatch(/blank/);
    const items = await a.items();
    expect(items).toHaveLength(4);
    expect(items.find((item) => item.replica_id === goneId)?.deleted_at).toBeDefined();
  });
});

describe('bounds', () => {
  it('stop a walk whose pages bring more rows than the cap, though total_count stays under it', async () => {
    const a = await account([]);
    // Page 1 brings one row and claims 90; every later page brings 50 new rows.
    a.sim.shapePage = (_page, request) => {
      const page = request.page ?? 1;
      const size = page === 1 ? 1 : 50;
      return { data: Array.from({ length: size }, (_, i) => hostileRow(`flood-${page}-${i}`)), total_count: 90 };
    };
    const summary = await a.sync({ maxReplicas: '95' });
    expect(summary.status).toBe('failed');
    expect(summary.error).toBe(
      'The API returned more than 95 distinct replicas and kept going, so the walk stopped and nothing was written; if the account really holds more, raise the cap with MAX_REPLICAS=190.',
    );
    expect(await a.items()).toEqual([]);
  });

  it('refuse a body over 32 MB unread, with one sentence, writing nothing', async () => {
    const a = await account(makeReplicas(3));
    a.sim.shapePage = hugeBody(33 * 1024 * 1024);
    const summary = await a.sync();
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/^The API answered page 1 with a body over 32 MB, which this sync refuses unread; nothing was written\. Check TAVUS_API_URL points at the Tavus API\.$/);
    expect(await a.items()).toEqual([]);
  });

  it('fail the walk at once on a total_count above the cap, naming the setting', async () => {
    const a = await account(makeReplicas(3));
    a.sim.shapePage = lyingTotalCount(1e12);
    const summary = await a.sync();
    expect(summary.status).toBe('failed');
    expect(summary.error).toBe(
      'The API counts 1000000000000 replicas, more than the 1000000 this sync accepts, so the walk stopped and nothing was written; if the account really holds that many, raise the cap with MAX_REPLICAS=1000000000000.',
    );
    expect(a.sim.requests).toHaveLength(1);
  });

  it('never allocate by total_count: a count of 1e12 under a higher cap costs a few pages, not an array', async () => {
    const a = await account(makeReplicas(25));
    a.sim.shapePage = lyingTotalCount(1e12);
    const summary = await a.sync({ maxReplicas: String(1e13) });
    expectSucceeded(summary);
    expect(summary).toMatchObject({ fetched: 25, created: 25, deleted: 0 });
    expect(summary.warnings.join(' ')).toMatch(/the API counts 1000000000000, so no replica was marked deleted/);
    expect(a.sim.requests.length).toBeLessThan(15);
  });

  it('stop pages that never end at the cap', async () => {
    const a = await account([]);
    a.sim.shapePage = endlessPages();
    const summary = await a.sync({ maxReplicas: '95' });
    expect(summary.status).toBe('failed');
    // Whichever comes first: the count lying past the cap, or the rows held passing it.
    expect(summary.error).toMatch(/^The API (counts \d+|returned more than 95 distinct) replicas.*, so the walk stopped and nothing was written; .*MAX_REPLICAS=\d+\.$/);
    expect(a.sim.requests.length).toBeLessThanOrEqual(10 + 4); // ten pages of ten, plus those in flight
    expect(await a.items()).toEqual([]);
  });
});
