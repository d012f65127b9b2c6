/**
 * The saved questions (analytics/questions/*.sql): each runs through `npm run query -- sql --saved
 * NAME` on tables filled by real syncs of the simulator, the clock moved between syncs so the
 * history has trainings, failures, fine-tunes and a deletion to measure, and each answer is
 * checked. The files are also checked for DuckDB-only syntax, since Athena runs them too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { savedQuestions, savedViews } from '../analytics/saved-questions.js';
import { TavusSimulator, type SimReplica } from '../local/tavus-simulator.js';
import { duckdbOnlySyntax } from '../cli/query/sql/trino-dialect.js';
import { startSyncHarness, type SyncHarness } from './support/sync-harness.js';

const KEY = 'saved-questions-key-8c2f61ab';
/** A Monday, so the first week of failures starts with the first sync. */
const T0 = new Date('2025-01-06T09:00:00.000Z');
const HOUR = 3_600_000;
const at = (hours: number): string => new Date(T0.getTime() + hours * HOUR).toISOString();

function replica(id: string, patch: Partial<SimReplica>): SimReplica {
  return {
    replica_id: id,
    replica_name: `Name of ${id}`,
    status: 'started',
    training_progress: '10/100',
    created_at: at(-1),
    updated_at: at(-1),
    replica_type: 'user',
    model_name: 'phoenix-3',
    error_message: null,
    thumbnail_video_url: null,
    ...patch,
  };
}

const done = { status: 'completed', training_progress: '100/100' } as const;

describe('saved questions', () => {
  const sim = new TavusSimulator({
    apiKey: KEY,
    replicas: [
      replica('ra-p3', {}), // trains 10 h
      replica('rb-p3', {}), // trains 30 h
      replica('rc-p4', { model_name: 'phoenix-4' }), // trains 20 h
      replica('rd-stuck', {}), // never moves: stuck in training
      replica('re-err', {}), // fails after 10 h
      replica('rf-45', { model_name: 'phoenix-4.5' }), // trains 10 h, then fine-tunes to completed
      replica('rg-45', { ...done, model_name: 'phoenix-4.5', finetune_status: 'training' }), // fine-tune stuck
      replica('rh-45', { ...done, model_name: 'phoenix-4.5', finetune_status: null }), // fine-tune fails
      replica('ri-gone', { ...done, replica_type: 'system' }), // deleted upstream
      replica('rj-old', { ...done, created_at: '2024-12-15T10:00:00.000Z' }),
    ],
    pageSizeCap: 4,
  });
  let harness: SyncHarness;

  beforeAll(async () => {
    harness = await startSyncHarness('saved', sim, KEY);
    await harness.sync(new Date(at(0)));
    sim.update('ra-p3', done);
    sim.update('re-err', { status: 'error', error_message: 'Training failed.' });
    sim.update('rf-45', { ...done, finetune_status: 'queued' });
    await harness.sync(new Date(at(10)));
    sim.update('rc-p4', done);
    sim.setFinetuneStatus('rh-45', 'training');
    await harness.sync(new Date(at(20)));
    sim.update('rb-p3', done);
    sim.setFinetuneStatus('rf-45', 'training');
    sim.remove('ri-gone');
    await harness.sync(new Date(at(30)));
    // Eight days in: the next week.
    sim.setFinetuneStatus('rf-45', 'completed');
    sim.setFinetuneStatus('rh-45', 'errored');
    await harness.sync(new Date(at(192)));
  }, 120_000);
  afterAll(async () => {
    await harness?.close();
  });

  const ask = async (name: string): Promise<Record<string, unknown>[]> => {
    const { code, out } = await harness.query(['sql', '--saved', name, '--format', 'json']);
    expect(code).toBe(0);
    return out.trim() === '' ? [] : out.trim().split('\n').map((line) => JSON.parse(line));
  };
  const hoursSince = (iso: string, now: number): number => (now - Date.parse(iso)) / HOUR;

  /** Each question's check; a question without one fails the test below. */
  const CHECKS: Record<string, () => Promise<void>> = {
    'live-by-status': async () => {
      expect(await ask('live-by-status')).toEqual([
        { status: 'completed', replica_type: 'user', replicas: 7 },
        { status: 'error', replica_type: 'user', replicas: 1 },
        { status: 'started', replica_type: 'user', replicas: 1 },
      ]);
    },
    'stuck-now': async () => {
      const before = Date.now();
      const rows = await ask('stuck-now');
      const after = Date.now();
      expect(rows.map((row) => [row.replica_id, row.stuck_in, row.progress, row.stuck_since])).toEqual([
        ['rd-stuck', 'training', '10/100', at(0)],
        ['rg-45', 'finetune', 'training', at(0)],
      ]);
      for (const row of rows) {
        expect(row.hours_stuck).toBeGreaterThanOrEqual(Math.floor(hoursSince(at(0), before) * 10) / 10);
        expect(row.hours_stuck).toBeLessThanOrEqual(Math.ceil(hoursSince(at(0), after) * 10) / 10);
      }
    },
    'training-duration-by-model': async () => {
      expect(await ask('training-duration-by-model')).toEqual([
        { model_name: 'phoenix-3', trainings: 2, median_hours: 10, p90_hours: 30 },
        { model_name: 'phoenix-4', trainings: 1, median_hours: 20, p90_hours: 20 },
        { model_name: 'phoenix-4.5', trainings: 1, median_hours: 10, p90_hours: 10 },
      ]);
    },
    'slowest-trainings': async () => {
      const before = Date.now();
      const rows = await ask('slowest-trainings');
      expect(rows.map((row) => [row.replica_id, row.training_progress, row.stuck_since])).toEqual([['rd-stuck', '10/100', at(0)]]);
      expect(rows[0]!.hours_training).toBeGreaterThanOrEqual(Math.floor(hoursSince(at(-1), before)));
    },
    'failures-per-week': async () => {
      expect(await ask('failures-per-week')).toEqual([
        { week: '2025-01-06', training_failures: 1, finetune_failures: 0 },
        { week: '2025-01-13', training_failures: 0, finetune_failures: 1 },
      ]);
    },
    'created-deleted-per-month': async () => {
      expect(await ask('created-deleted-per-month')).toEqual([
        { month: '2024-12', created: 1, deleted: 0 },
        { month: '2025-01', created: 9, deleted: 1 },
      ]);
    },
    'finetune-durations': async () => {
      expect(await ask('finetune-durations')).toEqual([
        { replica_id: 'rf-45', replica_name: 'Name of rf-45', outcome: 'completed', started_at: at(10), ended_at: at(192), hours: 182 },
        { replica_id: 'rh-45', replica_name: 'Name of rh-45', outcome: 'errored', started_at: at(20), ended_at: at(192), hours: 172 },
      ]);
    },
  };

  it('has a checked answer for every saved question, and at least the ones analysts asked for', () => {
    expect(savedQuestions().map((question) => question.name).sort()).toEqual(Object.keys(CHECKS).sort());
  });

  for (const [name, check] of Object.entries(CHECKS)) it(`answers ${name}`, check);

  it('lists the saved questions one a line: name, then description', async () => {
    const { code, out } = await harness.query(['sql', '--saved']);
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines.map((line) => line.split(/\s+/, 1)[0])).toEqual(savedQuestions().map((question) => question.name));
    expect(lines.map((line) => line.replace(/^\S+ +/, ''))).toEqual(savedQuestions().map((question) => question.description));
  });

  it('names an unknown question and lists the known ones', async () => {
    await expect(harness.query(['sql', '--saved', 'nope'])).rejects.toThrow(/No saved question "nope".*live-by-status/);
  });

  it('writes every question and view in Trino\'s dialect: no DuckDB-only syntax', () => {
    for (const file of [...savedQuestions(), ...savedViews()]) expect(duckdbOnlySyntax(file.sql), file.name).toEqual([]);
  });

  it('catches each kind of DuckDB-only syntax it looks for', () => {
    const samples = [
      'SELECT x::INTEGER FROM replicas',
      "SELECT strftime(now(), '%Y')",
      "SELECT strptime(created_at, '%Y')",
      'SELECT epoch_ms(1)',
      "SELECT * FROM read_csv('x')",
      "SELECT * FROM read_parquet('x')",
      "SELECT * FROM replicas WHERE replica_name ILIKE '%a%'",
      'SELECT * FROM replicas QUALIFY row_number() OVER () = 1',
      "SELECT voice->>'language' FROM replicas",
      'SELECT * EXCLUDE (voice) FROM replicas',
      'FROM replicas',
    ];
    for (const sample of samples) expect(duckdbOnlySyntax(sample), sample).not.toEqual([]);
    expect(duckdbOnlySyntax("SELECT '::' AS colons -- strftime\nFROM replicas")).toEqual([]);
  });
});
