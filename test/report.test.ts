/**
 * `npm run query -- report`: the numbers, from tables that four real syncs of the simulator filled
 * over a simulated day, and the pure rules behind them (training cycles, percentiles).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../functions/engine/errors.js';
import { TavusSimulator, type SimReplica } from '../local/tavus-simulator.js';
import type { HistoryEntry } from '../cli/query/history.js';
import { renderReportHtml } from '../cli/query/html.js';
import { computeReport, percentile, trainingCycles, type Report } from '../cli/query/report.js';
import { formatDuration, formatReportText } from '../cli/query/report-text.js';
import { startSyncHarness, type SyncHarness } from './support/sync-harness.js';

const KEY = 'report-test-key-3c8d1f6a';
const T0 = new Date('2025-01-06T09:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (ms: number): Date => new Date(T0.getTime() + ms);

function replica(id: string, name: string, status: string, progress: string, type = 'user'): SimReplica {
  return {
    replica_id: id,
    replica_name: name,
    status,
    training_progress: progress,
    created_at: '2025-01-06T08:00:00.000Z',
    updated_at: '2025-01-06T08:00:00.000Z',
    replica_type: type,
    model_name: 'phoenix-3',
    error_message: status === 'error' ? 'Training failed: no face was detected in the training video.' : null,
    thumbnail_video_url: null,
  };
}

const FAILED_LATER = 'Training failed: the training video is shorter than the required one minute.';

describe('npm run query -- report against synced tables', () => {
  const sim = new TavusSimulator({
    apiKey: KEY,
    pageSizeCap: 4,
    replicas: [
      replica('rpa', 'Anna - Office', 'completed', '100/100'),
      replica('rpb', 'Ben - Studio', 'started', '10/100'),
      replica('rpc', 'Carmen - Podcast', 'started', '5/100'),
      replica('rpd', 'Dev - Kitchen', 'started', '30/100'),
      replica('rpe', 'Elif - Library', 'error', '12/100'),
      replica('rpf', 'Felix - Stock', 'completed', '100/100', 'system'),
      replica('rpg', 'Grace - Outdoor', 'completed', '100/100'),
      replica('rph', 'Hiro - Sales Demo', 'started', '50/100'),
      replica('rpj', 'Jonas - Studio', 'completed', '100/100'),
    ],
  });
  let harness: SyncHarness;
  const dir = mkdtempSync(path.join(tmpdir(), 'report-test-'));

  /**
   * Syncs at T0, +7h, +9h and +20h (stuck after 6h). Ben completes at +7h (7h of training), Ines
   * appears at +7h and completes at +9h (2h), Carmen stalls, moves on and completes at +20h (20h);
   * Dev fails at +20h, a day after Elif was first seen failed; Hiro stops moving at +7h and is
   * stuck by +20h; Grace is deleted and comes back; Jonas is deleted for good.
   */
  beforeAll(async () => {
    harness = await startSyncHarness('r', sim, KEY);
    const sync = (ms: number) => harness.sync(at(ms));
    await sync(0);
    sim.update('rpb', { status: 'completed', training_progress: '100/100' });
    sim.update('rph', { training_progress: '60/100' });
    sim.update('rpd', { training_progress: '40/100' });
    sim.remove('rpg');
    sim.add(replica('rpi', 'Ines - Onboarding', 'started', '20/100'));
    await sync(7 * HOUR);
    sim.update('rpc', { training_progress: '15/100' });
    sim.add(replica('rpg', 'Grace - Outdoor', 'completed', '100/100'));
    sim.update('rpi', { status: 'completed', training_progress: '100/100' });
    await sync(9 * HOUR);
    sim.update('rpc', { status: 'completed', training_progress: '100/100' });
    sim.update('rpd', { status: 'error', error_message: FAILED_LATER });
    sim.remove('rpj');
    await sync(20 * HOUR);
  });

  afterAll(async () => {
    await harness?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const report = (args: string[], now: Date) => harness.query(['report', ...args], { isTerminal: true, now: () => now });

  const json = async (now: Date): Promise<Report> => JSON.parse((await report(['--format', 'json'], now)).out) as Report;

  it('counts live replicas by status and type, and deleted ones apart', async () => {
    const r = await json(at(DAY));
    expect(r.replicas).toEqual({ live: 9, deleted: 1 });
    expect(r.types).toEqual(['user', 'system']);
    expect(r.by_type).toEqual({ user: 8, system: 1 });
    expect(r.by_status).toEqual([
      { status: 'started', total: 1, by_type: { user: 1 } },
      { status: 'completed', total: 6, by_type: { user: 5, system: 1 } },
      { status: 'error', total: 2, by_type: { user: 2 } },
    ]);
  });

  it('lists the replicas stuck now, with how long they have not moved', async () => {
    const r = await json(at(DAY));
    expect(r.stuck).toEqual([
      {
        replica_id: 'rph',
        replica_name: 'Hiro - Sales Demo',
        stuck_reason: 'training',
        training_progress: '60/100',
        finetune_status: '',
        stuck_since: at(7 * HOUR).toISOString(),
        stuck_ms: 17 * HOUR,
      },
    ]);
  });

  it('measures training durations from the history, with the median and the 90th percentile', async () => {
    const r = await json(at(DAY));
    expect(r.training.durations.map((d) => [d.replica_id, d.duration_ms / HOUR])).toEqual([
      ['rpb', 7],
      ['rpi', 2],
      ['rpc', 20],
    ]);
    expect(r.training.count).toBe(3);
    expect(r.training.median_ms).toBe(7 * HOUR);
    expect(r.training.p90_ms).toBeCloseTo(17.4 * HOUR, 0);
  });

  it('counts failures of the last 30 days, new replicas in error included, and leaves older ones out', async () => {
    const r = await json(at(DAY));
    expect(r.failures.since).toBe('2024-12-09T00:00:00.000Z');
    expect(r.failures.count).toBe(2);
    expect(r.failures.events).toEqual([
      { replica_id: 'rpd', replica_name: 'Dev - Kitchen', at: at(20 * HOUR).toISOString(), from: 'started', error_message: FAILED_LATER },
      {
        replica_id: 'rpe',
        replica_name: 'Elif - Library',
        at: T0.toISOString(),
        from: null,
        error_message: 'Training failed: no face was detected in the training video.',
      },
    ]);
    expect(r.failures.by_day).toHaveLength(30);
    expect(r.failures.by_day.filter((d) => d.count > 0)).toEqual([
      { day: '2025-01-06', count: 1 },
      { day: '2025-01-07', count: 1 },
    ]);
    expect(r.failures.by_day.at(-1)!.day).toBe('2025-01-07');

    // Thirty days on, Elif's failure (on 6 January) has left the window; Dev's (on the 7th) has not.
    const later = await json(at(30 * DAY));
    expect(later.failures.since).toBe('2025-01-07T00:00:00.000Z');
    expect(later.failures.events.map((f) => f.replica_id)).toEqual(['rpd']);
  });

  it('prints the same numbers as text for a person', async () => {
    const { code, out } = await report([], at(DAY));
    expect(code).toBe(0);
    expect(out).toContain('Replicas: 9 live, 1 deleted (as of 2025-01-07T09:00:00.000Z)');
    expect(out).toMatch(/\n {2}status\s+user\s+system\s+total\n {2}started\s+1\s+0\s+1\n {2}completed\s+5\s+1\s+6\n {2}error\s+2\s+0\s+2\n {2}total\s+8\s+1\s+9\n/);
    expect(out).toContain('Stuck: 1 (1 in training, 0 in fine-tune)');
    expect(out).toMatch(/rph\s+Hiro - Sales Demo\s+training\s+60\/100\s+2025-01-06T16:00:00.000Z\s+17h 00m/);
    expect(out).toContain('Training durations (3 seen from start to completion): median 7h 00m, 90th percentile 17h 24m');
    expect(out).toContain('Failures in the last 30 days (since 2024-12-09): 2');
    expect(out).toMatch(/2025-01-07T05:00:00.000Z\s+rpd\s+Dev - Kitchen\s+started -> error\s+Training failed: the training video/);
    expect(out).toMatch(/2025-01-06T09:00:00.000Z\s+rpe\s+Elif - Library\s+new, in error\s+Training failed: no face/);
  });

  it('writes a self-contained HTML page with --html that shows the same numbers', async () => {
    const file = path.join(dir, 'report.html');
    const { code, out, err } = await report(['--html', file], at(DAY));
    expect(out).toBe('');
    expect(code).toBe(0);
    expect(err).toBe(`Wrote the report to ${file}.\n`);
    const html = readFileSync(file, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    // Nothing that would make a browser fetch anything: no scripts, links, sources or CSS urls.
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|\shref=|url\(|@import/i);
    expect(html).toContain('data-kpi="Live replicas"><div class="value">9</div>');
    expect(html).toContain('data-kpi="Stuck"><div class="value">1</div>');
    expect(html).toContain('data-kpi="Training, median"><div class="value">7h 00m</div>');
    expect(html).toContain('data-kpi="Failures, 30 days"><div class="value">2</div>');
  });

  it('says so in one sentence, as a failure of the run (exit 1) and not as bad input, when the HTML file cannot be written', async () => {
    const missing = path.join(dir, 'no-such-folder', 'report.html');
    const { code, out, err } = await report(['--html', missing], at(DAY));
    expect(code).toBe(1);
    expect(err).toBe(`The report could not be written to ${missing} (ENOENT): name a file in a folder that exists and you may write to.\n`);
    expect(out).toBe(''); // with --html the page is the report: nothing else is printed
  });

  it('refuses CSV and filters, which belong to the replica list', async () => {
    await expect(report(['--format', 'csv'], at(DAY))).rejects.toThrow(InputError);
    await expect(report(['--stuck'], at(DAY))).rejects.toThrow('--stuck filters the list of replicas, not report: leave it out.');
  });
});

describe('training cycles', () => {
  const entry = (hours: number, type: HistoryEntry['type'], from: string | null, to: string | null): HistoryEntry => ({
    replica_id: 'r1', at: new Date(T0.getTime() + hours * HOUR).toISOString(), type, from, to, run_id: 'run',
  });

  it('start when the replica is first seen training and end at its status change to completed', () => {
    expect(trainingCycles([entry(0, 'created', null, 'started'), entry(3, 'progress_changed', '1/100', '50/100'), entry(5, 'status_changed', 'started', 'completed')]))
      .toEqual([{ started_at: entry(0, 'created', null, null).at, completed_at: entry(5, 'created', null, null).at, duration_ms: 5 * HOUR }]);
  });

  it('are not counted for replicas first seen already completed', () => {
    expect(trainingCycles([entry(0, 'created', null, 'completed'), entry(5, 'status_changed', 'error', 'completed')])).toEqual([]);
  });

  it('run through an error until completion, and a second training counts again', () => {
    const cycles = trainingCycles([
      entry(0, 'created', null, 'started'),
      entry(2, 'status_changed', 'started', 'error'),
      entry(3, 'status_changed', 'error', 'started'),
      entry(4, 'status_changed', 'started', 'completed'),
      entry(10, 'status_changed', 'completed', 'started'),
      entry(11, 'status_changed', 'started', 'completed'),
    ]);
    expect(cycles.map((c) => c.duration_ms / HOUR)).toEqual([4, 1]);
  });
});

describe('percentiles and durations', () => {
  it('interpolate between closest ranks, so the median of an even count is the middle mean', () => {
    expect(percentile([5], 0.9)).toBe(5);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentile([2, 7, 20], 0.5)).toBe(7);
    expect(percentile([2, 7, 20], 0.9)).toBeCloseTo(17.4);
    expect(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9)).toBeCloseTo(91);
  });

  it('read as days and hours, hours and minutes, or minutes', () => {
    expect(formatDuration(2 * DAY + 5 * HOUR + 59_000)).toBe('2d 5h');
    expect(formatDuration(7 * HOUR + 5 * 60_000)).toBe('7h 05m');
    expect(formatDuration(45 * 60_000)).toBe('45m');
  });
});

describe('the report of an odd table', () => {
  const source = { replicasTable: 'tavus-replicas', eventsTable: 'tavus-replica-events', where: 'AWS' };

  it('reports zeros for an empty table instead of failing', () => {
    const report = computeReport([], [], T0);
    expect(report).toMatchObject({ replicas: { live: 0, deleted: 0 }, by_status: [], stuck: [], training: { count: 0 }, failures: { count: 0 } });
    expect(formatReportText(report)).toContain('Training durations: none yet');
    expect(renderReportHtml(report, source)).toContain('No live replicas.');
  });

  it('escapes replica names and messages in the HTML page', () => {
    const replicas = [{ replica_id: 'r1', replica_name: '<script>alert(1)</script>', status: 'error', replica_type: 'user', error_message: 'a & "b"' }];
    const events = [{ replica_id: 'r1', event_key: '0000000001#created', at: T0.toISOString(), type: 'created', from: null, to: 'error', run_id: 'run' }];
    const html = renderReportHtml(computeReport(replicas, events, T0), source);
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('a &amp; &quot;b&quot;');
  });
});
