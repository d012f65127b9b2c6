/**
 * Phoenix-4.5's two phases in the analysts' tools: `--stuck` lists training and fine-tune stalls,
 * `--finetune` filters on `finetune_status`, the report shows fine-tunes running, failed and how
 * long they took, and the history shows `finetune_changed` events.
 *
 * Items and events are put straight into fresh tables, shaped as CONTRACT.md's "Two-phase
 * training" describes, so each case is exact; test/faces-sync.test.ts proves the engine writes them so.
 */
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InputError } from '../functions/engine/errors.js';
import type { TableNames } from '../functions/engine/contract/tables.js';
import { runQuery } from '../cli/query-command.js';
import { finetuneClass, finetuneCycles } from '../cli/query/finetune.js';
import type { HistoryEntry } from '../cli/query/history.js';
import { renderReportHtml } from '../cli/query/html.js';
import type { Report } from '../cli/query/report.js';
import { testDynamoClient } from './support/dynamodb.js';
import { createFreshTables } from './support/tables.js';

const NOW = new Date('2025-03-01T12:00:00.000Z');
const HOUR = 3_600_000;
const ago = (hours: number): string => new Date(NOW.getTime() - hours * HOUR).toISOString();

type Item = Record<string, unknown>;

function replica(id: string, fields: Item): Item {
  return {
    replica_id: id,
    replica_name: `Name of ${id}`,
    replica_type: 'user',
    status: 'completed',
    training_progress: '100/100',
    model_name: 'phoenix-4.5',
    created_at: '2025-02-20T00:00:00.000Z',
    first_seen_at: ago(40),
    version: 3,
    ...fields,
  };
}

/** Stand-ins for what the engine will store (see the file comment). */
const REPLICAS: Item[] = [
  replica('rf-train-stuck', {
    status: 'started', training_progress: '20/100', model_name: 'phoenix-3', created_at: '2025-02-21T00:00:00.000Z',
    stuck_since: ago(10), stuck_reason: 'training',
  }),
  replica('rf-ft-stuck', {
    created_at: '2025-02-22T00:00:00.000Z', finetune_status: 'training', finetune_status_changed_at: ago(20),
    stuck_since: ago(20), stuck_reason: 'finetune',
  }),
  replica('rf-ft-running', { created_at: '2025-02-23T00:00:00.000Z', finetune_status: 'training', finetune_status_changed_at: ago(2) }),
  replica('rf-ft-queued', { created_at: '2025-02-24T00:00:00.000Z', replica_type: 'system', finetune_status: 'queued', finetune_status_changed_at: ago(1) }),
  replica('rf-ft-done', { created_at: '2025-02-25T00:00:00.000Z', finetune_status: 'completed', finetune_status_changed_at: ago(3) }),
  replica('rf-ft-errored', { created_at: '2025-02-26T00:00:00.000Z', finetune_status: 'errored', finetune_status_changed_at: ago(5) }),
  replica('rf-ft-error', { created_at: '2025-02-27T00:00:00.000Z', finetune_status: 'error', finetune_status_changed_at: ago(6) }),
  replica('rf-phoenix3', { created_at: '2025-02-28T00:00:00.000Z', model_name: 'phoenix-3' }),
  replica('rf-null-ft', { created_at: '2025-02-28T01:00:00.000Z', finetune_status: null }),
  replica('rf-ft-gone', { created_at: '2025-02-28T02:00:00.000Z', finetune_status: 'training', finetune_status_changed_at: ago(4), deleted_at: ago(1) }),
];

function event(replicaId: string, version: number, type: string, hoursAgo: number, from: string | null, to: string | null): Item {
  return { replica_id: replicaId, event_key: `${String(version).padStart(10, '0')}#${type}`, at: ago(hoursAgo), type, from, to, run_id: `run-${version}` };
}

/** Stand-ins for the events the engine will write (see the file comment). */
const EVENTS: Item[] = [
  // Queued, then training, then done: 16 hours from the first in-progress value to completed.
  event('rf-ft-done', 1, 'created', 20, null, 'completed'),
  event('rf-ft-done', 2, 'finetune_changed', 19, null, 'queued'),
  event('rf-ft-done', 3, 'finetune_changed', 18, 'queued', 'training'),
  event('rf-ft-done', 4, 'finetune_changed', 3, 'training', 'completed'),
  // Already fine-tuning when first seen: its first change comes from an in-progress value, so the
  // fine-tune is timed from the created event (12 hours ago) to the failure: 7 hours.
  event('rf-ft-errored', 1, 'created', 12, null, 'completed'),
  event('rf-ft-errored', 2, 'finetune_changed', 5, 'training', 'errored'),
  // A fine-tune of 4 hours that completed, then a second one that failed after 4 hours.
  event('rf-ft-error', 1, 'created', 31, null, 'started'),
  event('rf-ft-error', 2, 'status_changed', 30, 'started', 'completed'),
  event('rf-ft-error', 2, 'finetune_changed', 30, null, 'training'),
  event('rf-ft-error', 3, 'finetune_changed', 26, 'training', 'completed'),
  event('rf-ft-error', 4, 'finetune_changed', 10, 'completed', 'training'),
  event('rf-ft-error', 5, 'finetune_changed', 6, 'training', 'error'),
  // Running for 20 hours now (stuck), and for 2 hours.
  event('rf-ft-stuck', 1, 'created', 30, null, 'completed'),
  event('rf-ft-stuck', 2, 'finetune_changed', 20, null, 'training'),
  event('rf-ft-running', 2, 'finetune_changed', 2, null, 'training'),
  // A progress event the report's read leaves out.
  event('rf-train-stuck', 2, 'progress_changed', 10, '10/100', '20/100'),
];

async function putAll(documents: DynamoDBDocumentClient, table: string, items: Item[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    await documents.send(new BatchWriteCommand({ RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
}

describe('two-phase training in npm run query', () => {
  const client = testDynamoClient();
  const documents = DynamoDBDocumentClient.from(client);
  let tables: TableNames;

  beforeAll(async () => {
    tables = await createFreshTables(client, 'f');
    await putAll(documents, tables.replicas, REPLICAS);
    await putAll(documents, tables.events, EVENTS);
  });

  afterAll(() => client.destroy());

  async function query(args: string[], isTerminal = false): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const where = ['--endpoint', inject('dynamodbEndpoint'), '--table', tables.replicas, '--events-table', tables.events];
    const code = await runQuery([...where, ...args], {}, { out: (text) => void (out += text), err: (text) => void (err += text), isTerminal, now: () => NOW });
    return { code, out, err };
  }

  async function ids(args: string[]): Promise<string[]> {
    const { code, out } = await query([...args, '--format', 'json']);
    expect(code).toBe(0);
    return out.trim() === '' ? [] : out.trim().split('\n').map((line) => (JSON.parse(line) as { replica_id: string }).replica_id);
  }

  it('lists training stalls (status started) and fine-tune stalls (status completed) with --stuck, saying which', async () => {
    expect(await ids(['--stuck'])).toEqual(['rf-train-stuck', 'rf-ft-stuck']);
    const { out, err } = await query(['--stuck'], true);
    expect(err).toContain('read with a Scan of index stuck');
    const [header, , training, finetune] = out.split('\n');
    expect(header).toMatch(/\bstuck_since\s+stuck_reason\s+deleted_at$/);
    expect(training).toMatch(/^rf-train-stuck\s.*\sstarted\s+20\/100\s+2025-02-21 00:00\s+2025-03-01 02:00\s+training$/);
    expect(finetune).toMatch(/^rf-ft-stuck\s.*\scompleted\s+100\/100\s+training\s+2025-02-22 00:00\s+2025-02-28 16:00\s+finetune$/);
    const csv = (await query(['--stuck', '--format', 'csv'])).out.split('\r\n');
    expect(csv[0]!.split(',').slice(-3)).toEqual(['finetune_status', 'finetune_status_changed_at', 'stuck_reason']);
    expect(csv[2]!.split(',').slice(-3)).toEqual(['training', ago(20), 'finetune']);
  });

  it('narrows --stuck to one status with a Query of the stuck index', async () => {
    expect(await ids(['--stuck', '--status', 'completed'])).toEqual(['rf-ft-stuck']);
    expect(await ids(['--stuck', '--status', 'started'])).toEqual(['rf-train-stuck']);
    expect((await query(['--stuck', '--status', 'completed'])).err).toContain('read with a Query of index stuck');
  });

  it('filters on a raw finetune_status with --finetune', async () => {
    expect(await ids(['--finetune', 'training'])).toEqual(['rf-ft-stuck', 'rf-ft-running']);
    expect(await ids(['--finetune', 'training', '--all'])).toEqual(['rf-ft-stuck', 'rf-ft-running', 'rf-ft-gone']);
    expect(await ids(['--finetune', 'errored'])).toEqual(['rf-ft-errored']);
    expect(await ids(['--finetune', 'completed'])).toEqual(['rf-ft-done']);
    expect(await ids(['--finetune', 'paused'])).toEqual([]);
  });

  it('takes the classes in-progress (any value but completed or a failure) and failed (errored, error, failed)', async () => {
    expect(await ids(['--finetune', 'in-progress'])).toEqual(['rf-ft-stuck', 'rf-ft-running', 'rf-ft-queued']);
    expect(await ids(['--finetune', 'failed'])).toEqual(['rf-ft-errored', 'rf-ft-error']);
  });

  it('combines --finetune with the other filters', async () => {
    expect(await ids(['--finetune', 'in-progress', '--type', 'system'])).toEqual(['rf-ft-queued']);
    expect(await ids(['--finetune', 'in-progress', '--stuck'])).toEqual(['rf-ft-stuck']);
    expect(await ids(['--finetune', 'failed', '--status', 'completed', '--created-after', '2025-02-27'])).toEqual(['rf-ft-error']);
    expect(await ids(['--finetune', 'in-progress', '--name', 'QUEUED'])).toEqual(['rf-ft-queued']);
    expect((await query(['--finetune', 'failed', '--status', 'completed'])).err).toContain('read with a Query of index by-status');
  });

  it('answers an empty --finetune, or one given to the report, with one sentence', async () => {
    await expect(query(['--finetune', ' '])).rejects.toThrow(InputError);
    await expect(query(['--finetune', ' '])).rejects.toThrow(/^--finetune needs a fine-tune status, like --finetune in-progress/);
    await expect(query(['report', '--finetune', 'failed'])).rejects.toThrow('--finetune filters the list of replicas, not report: leave it out.');
  });

  it('reports fine-tunes running and failed, and how long finished ones took', async () => {
    const report = JSON.parse((await query(['report', '--format', 'json'])).out) as Report;
    expect(report.stuck.map((s) => [s.replica_id, s.stuck_reason, s.stuck_ms / HOUR])).toEqual([
      ['rf-ft-stuck', 'finetune', 20],
      ['rf-train-stuck', 'training', 10],
    ]);
    expect(report.finetune.in_progress).toEqual([
      { replica_id: 'rf-ft-stuck', replica_name: 'Name of rf-ft-stuck', finetune_status: 'training', since: ago(20), running_ms: 20 * HOUR },
      { replica_id: 'rf-ft-running', replica_name: 'Name of rf-ft-running', finetune_status: 'training', since: ago(2), running_ms: 2 * HOUR },
      // No history for this one: timed from when its current value was first seen.
      { replica_id: 'rf-ft-queued', replica_name: 'Name of rf-ft-queued', finetune_status: 'queued', since: ago(1), running_ms: 1 * HOUR },
    ]);
    expect(report.finetune.failed).toEqual([
      { replica_id: 'rf-ft-errored', replica_name: 'Name of rf-ft-errored', finetune_status: 'errored', since: ago(5) },
      { replica_id: 'rf-ft-error', replica_name: 'Name of rf-ft-error', finetune_status: 'error', since: ago(6) },
    ]);
    expect(report.finetune.durations.map((d) => [d.replica_id, d.outcome, d.duration_ms / HOUR])).toEqual([
      ['rf-ft-error', 'completed', 4],
      ['rf-ft-error', 'failed', 4],
      ['rf-ft-errored', 'failed', 7],
      ['rf-ft-done', 'completed', 16],
    ]);
    expect(report.finetune.completed).toBe(2);
    expect(report.finetune.median_ms).toBe(10 * HOUR);
    expect(report.finetune.p90_ms).toBeCloseTo(14.8 * HOUR, 0);
  });

  it('prints the fine-tune section as text and in the HTML page', async () => {
    const { out } = await query(['report'], true);
    expect(out).toContain('Stuck: 2 (1 in training, 1 in fine-tune)');
    expect(out).toMatch(/rf-ft-stuck\s+Name of rf-ft-stuck\s+finetune\s+training\s+2025-02-28T16:00:00.000Z\s+20h 00m/);
    expect(out).toContain('Fine-tunes (Phoenix-4.5): 3 in progress, 2 failed');
    expect(out).toContain('durations (2 completed, 2 failed): median 10h 00m, 90th percentile 14h 48m to completion');
    expect(out).toMatch(/rf-ft-queued\s+Name of rf-ft-queued\s+queued\s+2025-03-01T11:00:00.000Z\s+1h 00m/);
    expect(out).toMatch(/rf-ft-errored\s+Name of rf-ft-errored\s+errored\s+2025-03-01T07:00:00.000Z\n/);

    const report = JSON.parse((await query(['report', '--format', 'json'])).out) as Report;
    const html = renderReportHtml(report, { replicasTable: 'r', eventsTable: 'e', where: 'here' });
    expect(html).toContain('data-kpi="Stuck"><div class="value">2</div>');
    expect(html).toContain('data-kpi="Fine-tunes running"><div class="value">3</div>');
    expect(html).toContain('data-kpi="Fine-tunes failed"><div class="value">2</div>');
    expect(html).toContain('data-kpi="Fine-tune, median"><div class="value">10h 00m</div>');
    expect(html).toContain('<h2>Fine-tunes (3 running, 2 failed)</h2>');
    expect(html).toContain('<td>rf-ft-stuck</td><td class="wrap">Name of rf-ft-stuck</td><td>finetune</td><td>training</td>');
  });

  it('shows finetune_changed events in the history like the others, each after the status change of the same change', async () => {
    const { out } = await query(['history', 'rf-ft-error', '--format', 'json']);
    expect(out.trim().split('\n').map((line) => JSON.parse(line) as unknown)).toEqual([
      { replica_id: 'rf-ft-error', at: ago(31), type: 'created', from: null, to: 'started', run_id: 'run-1' },
      { replica_id: 'rf-ft-error', at: ago(30), type: 'status_changed', from: 'started', to: 'completed', run_id: 'run-2' },
      { replica_id: 'rf-ft-error', at: ago(30), type: 'finetune_changed', from: null, to: 'training', run_id: 'run-2' },
      { replica_id: 'rf-ft-error', at: ago(26), type: 'finetune_changed', from: 'training', to: 'completed', run_id: 'run-3' },
      { replica_id: 'rf-ft-error', at: ago(10), type: 'finetune_changed', from: 'completed', to: 'training', run_id: 'run-4' },
      { replica_id: 'rf-ft-error', at: ago(6), type: 'finetune_changed', from: 'training', to: 'error', run_id: 'run-5' },
    ]);
    const table = (await query(['history', 'rf-ft-done'], true)).out.split('\n');
    expect(table[3]).toMatch(/^2025-02-28 17:00\s+finetune_changed\s+queued\s+run-2$/);
  });
});

describe('fine-tune classes and durations', () => {
  const entry = (hours: number, type: HistoryEntry['type'], from: string | null, to: string | null): HistoryEntry => ({
    replica_id: 'r1', at: new Date(NOW.getTime() + hours * HOUR).toISOString(), type, from, to, run_id: 'run',
  });

  it('classes a finetune_status as the contract does', () => {
    expect([undefined, null, 'completed', 'errored', 'error', 'failed', 'training', 'queued', ''].map(finetuneClass)).toEqual([
      'none', 'none', 'done', 'failed', 'failed', 'failed', 'in_progress', 'in_progress', 'in_progress',
    ]);
  });

  it('add nothing when the history has no fine-tune, or never saw one start', () => {
    expect(finetuneCycles([entry(0, 'created', null, 'completed'), entry(1, 'status_changed', 'completed', 'error')])).toEqual({ cycles: [] });
    // First seen mid fine-tune, but the created event is gone (the events table came later).
    expect(finetuneCycles([entry(5, 'finetune_changed', 'training', 'completed')])).toEqual({ cycles: [] });
  });

  it('start over when the fine-tune is cleared, and report the one still running', () => {
    const { cycles, runningSince } = finetuneCycles([
      entry(0, 'finetune_changed', null, 'training'),
      entry(1, 'finetune_changed', 'training', null),
      entry(2, 'finetune_changed', null, 'queued'),
      entry(3, 'finetune_changed', 'queued', 'training'),
    ]);
    expect(cycles).toEqual([]);
    expect(runningSince).toBe(entry(2, 'created', null, null).at);
  });
});
