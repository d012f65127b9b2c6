/**
 * runSync's orchestration over the in-memory store and ledger and a page source built from plain
 * data: fast, and free to stage what a real API and table rarely do on cue (a list that shifts
 * under the walk, another writer between read and write). test/sync.test.ts proves the same
 * promises against DynamoDB Local and the simulator over HTTP.
 */
import { describe, expect, it } from 'vitest';
import { CLI_TERMS } from '../cli/args.js';
import { StoreError } from '../functions/engine/errors.js';
import { DEPLOYED_TERMS, type SettingTerms } from '../functions/engine/settings/terms.js';
import { MemoryReplicaStore, MemoryRunLedger } from './support/memory-store.js';
import type { PageRequest, PageSource, ReplicaPage } from '../functions/engine/extract/page-source.js';
import type { ApiRow } from '../functions/engine/model/replica.js';
import { parseSettings, type SyncSettings } from '../functions/engine/settings/registry.js';
import { runSync, type SyncDependencies } from '../functions/engine/sync.js';
import type { RunSummary } from '../functions/engine/model/summary.js';

const HOUR = 3_600_000;
const T0 = new Date('2026-01-01T00:00:00.000Z');
const at = (hours: number): Date => new Date(T0.getTime() + hours * HOUR);

function replica(id: string, fields: Record<string, unknown> = {}): ApiRow {
  return { replica_id: id, replica_name: `Name ${id}`, status: 'completed', training_progress: '100/100', replica_type: 'user', created_at: '2025-06-01T00:00:00Z', ...fields };
}
const account = (n: number): ApiRow[] => Array.from({ length: n }, (_, i) => replica(`r${String(i).padStart(3, '0')}`));

/** An account as plain data, served a page at a time; `lookup` answers by id from `byId` (the list by default). */
class FakeSource implements PageSource {
  lookups: string[][] = [];
  pagesAsked: number[] = [];
  /** Replaces total_count in every answer (a list that counts more than it returns). */
  totalCount?: number;
  /** What a lookup by id can still find; the listed rows by default. */
  byId?: ApiRow[];
  /** Runs before each page is answered: stage what happens during the walk. */
  beforePage?: (page: number, request: PageRequest) => void;

  constructor(
    public rows: ApiRow[],
    readonly pageSize = 4,
  ) {}

  async listPage(page: number, _type?: unknown, request: PageRequest = {}): Promise<ReplicaPage> {
    this.pagesAsked.push(page);
    this.beforePage?.(page, request);
    const rows = this.rows.slice((page - 1) * this.pageSize, page * this.pageSize);
    return { rows, totalCount: this.totalCount ?? this.rows.length };
  }

  async lookup(ids: string[]): Promise<ApiRow[]> {
    this.lookups.push(ids);
    const wanted = new Set(ids);
    return (this.byId ?? this.rows).filter((row) => wanted.has(row.replica_id));
  }
}

interface World {
  source: FakeSource;
  store: MemoryReplicaStore;
  ledger: MemoryRunLedger;
  settings: SyncSettings;
  logs: string[];
  sync(at?: Date, extra?: Partial<SyncDependencies> & { settings?: Partial<SyncSettings> }): Promise<RunSummary>;
}

function world(rows: ApiRow[]): World {
  const source = new FakeSource(rows);
  const store = new MemoryReplicaStore();
  const ledger = new MemoryRunLedger();
  const settings = parseSettings({ apiUrl: 'https://tavus.test', maxConcurrency: '2' });
  const logs: string[] = [];
  const record = (level: string) => (message: string) => void logs.push(`${level}: ${message}`);
  const log = { info: record('info'), warn: record('warn'), error: record('error') };
  return {
    source,
    store,
    ledger,
    settings,
    logs,
    sync: (when = T0, { settings: overrides, ...extra } = {}) =>
      runSync({ ...settings, ...overrides }, { source, store, ledger, log, clock: () => when, ...extra }, { walkBudgetMs: 60_000 }),
  };
}

const liveIds = (store: MemoryReplicaStore): string[] =>
  [...store.items.values()].filter((item) => item.deleted_at === undefined).map((item) => item.replica_id as string).sort();

function expectSucceeded(summary: RunSummary): void {
  expect(summary.error, summary.error).toBeUndefined();
  expect(summary.status).toBe('succeeded');
  expect(summary.created + summary.updated + summary.unchanged + summary.restored).toBe(summary.fetched);
}

describe('runSync over the in-memory store', () => {
  it('creates every replica on a first sync, records the run once and gives the lease back', async () => {
    const w = world(account(10));
    const summary = await w.sync();
    expectSucceeded(summary);
    expect(summary).toMatchObject({ pages: 3, fetched: 10, created: 10, written: 10, deleted: 0, retries: 0, warnings: [] });
    expect(liveIds(w.store)).toHaveLength(10);
    expect(w.store.events.size).toBe(10);
    expect(w.ledger.records).toEqual([expect.objectContaining({ run_id: summary.run_id, status: 'succeeded', fetched: 10 })]);
    expect(w.ledger.lease).toBeUndefined();
  });

  it('writes nothing on a resync of an unchanged account', async () => {
    const w = world(account(10));
    await w.sync();
    const before = structuredClone([...w.store.items]);
    const summary = await w.sync(at(1));
    expectSucceeded(summary);
    expect(summary).toMatchObject({ fetched: 10, unchanged: 10, written: 0 });
    expect([...w.store.items]).toEqual(before);
  });

  it('counts the retries its page source reports', async () => {
    const w = world(account(10));
    w.source.beforePage = (page, request) => {
      if (page === 2) request.onRetry?.({ reason: 'HTTP 429', status: 429, attempt: 1, delayMs: 0 });
    };
    expect((await w.sync()).retries).toBe(1);
  });

  it('marks deleted only what the lookup by id no longer finds', async () => {
    const w = world(account(10));
    await w.sync();
    w.source.rows = w.source.rows.filter((row) => row.replica_id !== 'r003');
    const summary = await w.sync(at(1));
    expectSucceeded(summary);
    expect(summary).toMatchObject({ fetched: 9, deleted: 1, written: 1 });
    expect(w.source.lookups).toEqual([['r003']]);
    expect(w.store.items.get('r003')).toMatchObject({ deleted_at: at(1).toISOString() });
  });

  it('keeps and updates replicas the lookup still finds when the pages shifted under the walk', async () => {
    const w = world(account(10));
    await w.sync();
    // The walk misses r004 and r005 (a shift), yet both still exist; r005 was even renamed.
    const everything = account(10).map((row) => (row.replica_id === 'r005' ? { ...row, replica_name: 'Renamed' } : row));
    w.source.byId = everything;
    w.source.rows = everything.filter((row) => row.replica_id !== 'r004' && row.replica_id !== 'r005');
    w.source.totalCount = 8;
    const summary = await w.sync(at(1));
    expectSucceeded(summary);
    expect(summary).toMatchObject({ fetched: 10, unchanged: 9, updated: 1, deleted: 0, written: 1 });
    expect(liveIds(w.store)).toHaveLength(10);
    expect(w.store.items.get('r005')).toMatchObject({ replica_name: 'Renamed' });
  });

  it('marks nothing deleted, and says so, when the walk does not account for total_count', async () => {
    const w = world(account(10));
    await w.sync();
    w.source.rows = w.source.rows.slice(0, 6);
    w.source.totalCount = 10;
    const summary = await w.sync(at(1));
    expectSucceeded(summary);
    expect(summary.deleted).toBe(0);
    expect(summary.warnings).toEqual([expect.stringMatching(/saw 6 distinct replicas but the API counts 10/)]);
    expect(w.source.lookups).toEqual([]);
    expect(liveIds(w.store)).toHaveLength(10);
    expect(w.logs).toContain(`warn: ${summary.warnings[0]}`);
  });

  it.each<[string, SettingTerms | undefined, string]>([
    ['the environment (the default)', undefined, 'run once with MAX_DELETE_FRACTION=1.'],
    ['the CLI', CLI_TERMS, 'run once with --max-delete-fraction 1.'],
    ['the deployed function', DEPLOYED_TERMS, 'run once with -c maxDeleteFraction=1 (or MAX_DELETE_FRACTION=1 on the function).'],
  ])('trips the breaker, marks none, and names the override in the terms of %s', async (_edge, terms, override) => {
    const w = world(account(10));
    await w.sync();
    const before = structuredClone([...w.store.items]);
    w.source.rows = w.source.rows.slice(6);
    const summary = await w.sync(at(1), terms === undefined ? {} : { terms });
    expect(summary).toMatchObject({ status: 'failed', deleted: 0, written: 0 });
    expect(summary.error).toMatch(/would have marked 6 of 10 live replicas deleted/);
    expect(summary.error?.endsWith(override)).toBe(true);
    expect([...w.store.items]).toEqual(before);
  });

  it('leaves a replica another writer changed as that writer left it, fails, and deletes nothing', async () => {
    const w = world(account(10));
    await w.sync();
    w.source.rows = w.source.rows
      .filter((row) => row.replica_id !== 'r009')
      .map((row) => (row.replica_id === 'r001' || row.replica_id === 'r002' ? { ...row, status: 'error' } : row));
    // Another writer bumps r001 after this run read the table, while the walk is under way.
    w.source.beforePage = (page) => {
      if (page === 3) w.store.items.set('r001', { ...w.store.items.get('r001'), replica_name: 'Theirs', version: 7 });
    };
    const summary = await w.sync(at(1));
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/^1 replica\(s\) were changed by another writer during this run .*\(r001\)/);
    expect(summary).toMatchObject({ written: 1, deleted: 0 });
    expect(w.store.items.get('r001')).toMatchObject({ replica_name: 'Theirs', version: 7, status: 'completed' });
    expect(w.store.items.get('r002')).toMatchObject({ status: 'error' });
    expect(w.store.items.get('r009')).not.toHaveProperty('deleted_at');
  });

  it('skips a run while another holds the lease: no request, no write, and the lease left alone', async () => {
    const w = world(account(10));
    await w.ledger.acquireLease('another-run', T0, HOUR);
    const summary = await w.sync();
    expect(summary).toMatchObject({ status: 'skipped', fetched: 0, written: 0 });
    expect(summary.error).toMatch(/holds the lease/);
    expect(w.source.pagesAsked).toEqual([]);
    expect(w.store.items.size).toBe(0);
    expect(w.ledger.lease?.holder).toBe('another-run');
    expect(w.ledger.records.map((record) => record.status)).toEqual(['skipped']);
  });

  it('fails a run whose walk fails, writing nothing, releasing the lease and recording the run', async () => {
    const w = world(account(10));
    w.source.beforePage = (page) => {
      if (page === 2) throw new Error('page 2 failed for good');
    };
    const summary = await w.sync();
    expect(summary).toMatchObject({ status: 'failed', error: 'page 2 failed for good', written: 0 });
    expect(w.store.items.size).toBe(0);
    expect(w.ledger.lease).toBeUndefined();
    expect(w.ledger.records).toHaveLength(1);
    expect(w.logs).toContain('error: The sync failed.');
  });

  it('puts a failure in the words its edge chooses', async () => {
    const w = world(account(3));
    w.store.loadReplicas = () => Promise.reject(new StoreError('The table is gone.', 'tavus-replicas', 'read', 'table-missing'));
    const describeError = (error: unknown): string =>
      error instanceof StoreError && error.reason === 'table-missing' ? `Create "${error.table}" first.` : String(error);
    const summary = await w.sync(T0, { describeError });
    expect(summary).toMatchObject({ status: 'failed', error: 'Create "tavus-replicas" first.' });
  });
});
