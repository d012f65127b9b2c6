/**
 * The analysts' report as a pure function of the stored replicas and events and `now`: counts,
 * stuck trainings, training durations, recent failures. The text and HTML renderings read only this.
 */
import { toHistory, type HistoryEntry } from './history.js';
import { textTable } from '../text-table.js';
import type { Item } from './types.js';

export const FAILURE_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export interface Report {
  generated_at: string;
  replicas: { live: number; deleted: number };
  /** Replica types among live replicas, in the order the columns show them. */
  types: string[];
  /** Live replicas by status, each split by type. */
  by_status: Array<{ status: string; total: number; by_type: Record<string, number> }>;
  by_type: Record<string, number>;
  /** Live replicas flagged stuck, longest stuck first. */
  stuck: Array<{ replica_id: string; replica_name: string; training_progress: string; stuck_since: string; stuck_ms: number }>;
  training: {
    count: number;
    median_ms?: number;
    p90_ms?: number;
    durations: Array<{ replica_id: string; replica_name: string; started_at: string; completed_at: string; duration_ms: number }>;
  };
  failures: {
    days: number;
    /** Midnight UTC, `days - 1` days before today: the window is whole UTC days, today included. */
    since: string;
    count: number;
    by_day: Array<{ day: string; count: number }>;
    /** Newest first. */
    events: Array<{ replica_id: string; replica_name: string; at: string; from: string | null; error_message: string }>;
  };
}

/** Statuses the API documents come first, in training order; any other status follows, by name. */
const STATUS_ORDER = ['started', 'completed', 'error'];

export function computeReport(replicas: Item[], events: Item[], now: Date): Report {
  const live = replicas.filter((item) => item.deleted_at === undefined);
  const byId = new Map(replicas.map((item) => [String(item.replica_id), item]));
  const name = (id: string): string => text(byId.get(id)?.replica_name);

  const byType: Record<string, number> = {};
  const byStatus = new Map<string, Record<string, number>>();
  for (const item of live) {
    const type = text(item.replica_type) || '(none)';
    const status = text(item.status) || '(none)';
    byType[type] = (byType[type] ?? 0) + 1;
    const counts = byStatus.get(status) ?? {};
    counts[type] = (counts[type] ?? 0) + 1;
    byStatus.set(status, counts);
  }
  const rank = (status: string): number => (STATUS_ORDER.includes(status) ? STATUS_ORDER.indexOf(status) : STATUS_ORDER.length);
  const statuses = [...byStatus.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const types = Object.keys(byType).sort((a, b) => (a === 'user' ? -1 : b === 'user' ? 1 : a.localeCompare(b)));

  const stuck = live
    .filter((item) => typeof item.stuck_since === 'string')
    .map((item) => ({
      replica_id: String(item.replica_id),
      replica_name: text(item.replica_name),
      training_progress: text(item.training_progress),
      stuck_since: item.stuck_since as string,
      stuck_ms: now.getTime() - Date.parse(item.stuck_since as string),
    }))
    .sort((a, b) => a.stuck_since.localeCompare(b.stuck_since));

  const histories = new Map<string, Item[]>();
  for (const event of events) {
    const id = String(event.replica_id);
    const list = histories.get(id) ?? [];
    list.push(event);
    histories.set(id, list);
  }
  const durations: Report['training']['durations'] = [];
  for (const [id, stored] of histories) {
    for (const cycle of trainingCycles(toHistory(stored))) durations.push({ replica_id: id, replica_name: name(id), ...cycle });
  }
  durations.sort((a, b) => a.completed_at.localeCompare(b.completed_at));
  const sortedMs = durations.map((d) => d.duration_ms).sort((a, b) => a - b);

  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const since = new Date(today - (FAILURE_WINDOW_DAYS - 1) * DAY_MS).toISOString();
  const failures = events
    .filter((event) => event.to === 'error' && (event.type === 'created' || event.type === 'status_changed'))
    .filter((event) => String(event.at) >= since && Date.parse(String(event.at)) <= now.getTime())
    .map((event) => ({
      replica_id: String(event.replica_id),
      replica_name: name(String(event.replica_id)),
      at: String(event.at),
      from: event.type === 'created' ? null : text(event.from),
      error_message: text(byId.get(String(event.replica_id))?.error_message),
    }))
    .sort((a, b) => b.at.localeCompare(a.at));
  const by_day = Array.from({ length: FAILURE_WINDOW_DAYS }, (_, i) => {
    const day = new Date(Date.parse(since) + i * DAY_MS).toISOString().slice(0, 10);
    return { day, count: failures.filter((failure) => failure.at.startsWith(day)).length };
  });

  return {
    generated_at: now.toISOString(),
    replicas: { live: live.length, deleted: replicas.length - live.length },
    types,
    by_status: statuses.map((status) => {
      const counts = byStatus.get(status) as Record<string, number>;
      return { status, total: Object.values(counts).reduce((sum, n) => sum + n, 0), by_type: counts };
    }),
    by_type: byType,
    stuck,
    training: {
      count: durations.length,
      ...(sortedMs.length > 0 ? { median_ms: percentile(sortedMs, 0.5), p90_ms: percentile(sortedMs, 0.9) } : {}),
      durations,
    },
    failures: { days: FAILURE_WINDOW_DAYS, since, count: failures.length, by_day, events: failures },
  };
}

/**
 * Each training the history shows from start to finish: from the first time the sync saw the
 * replica `started` (its `created` event, or a status change to started) to the status change to
 * `completed`. Replicas first seen already completed never show a start, so they add no duration.
 */
export function trainingCycles(history: HistoryEntry[]): Array<{ started_at: string; completed_at: string; duration_ms: number }> {
  const cycles: Array<{ started_at: string; completed_at: string; duration_ms: number }> = [];
  let startedAt: string | undefined;
  for (const entry of history) {
    const becameStarted = (entry.type === 'created' || entry.type === 'status_changed') && entry.to === 'started';
    if (becameStarted && startedAt === undefined) startedAt = entry.at;
    if (entry.type === 'status_changed' && entry.to === 'completed' && startedAt !== undefined) {
      cycles.push({ started_at: startedAt, completed_at: entry.at, duration_ms: Date.parse(entry.at) - Date.parse(startedAt) });
      startedAt = undefined;
    }
  }
  return cycles;
}

/** Linear interpolation between closest ranks (as a spreadsheet's PERCENTILE.INC): p=0.5 is the median. */
export function percentile(sorted: number[], p: number): number {
  const position = (sorted.length - 1) * p;
  const lower = Math.floor(position);
  const low = sorted[lower] as number;
  const high = sorted[Math.min(lower + 1, sorted.length - 1)] as number;
  return low + (high - low) * (position - lower);
}

/** "3d 4h", "7h 12m", "45m": as long as it needs to be, no longer. */
export function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${String(rest).padStart(2, '0')}m`;
  return `${rest}m`;
}

/** The report for a terminal: short sections, numbers aligned. */
export function formatReportText(report: Report): string {
  const out: string[] = [];
  // Counts right-aligned after the first column; text left-aligned.
  const pad = (rows: string[][], counts = false): string[] =>
    textTable(rows, { indent: '  ', rightAligned: (column) => counts && column > 0 });
  out.push(`Replicas: ${report.replicas.live} live, ${report.replicas.deleted} deleted (as of ${report.generated_at})`, '');
  out.push('By status (live)');
  out.push(
    ...pad([
      ['status', ...report.types, 'total'],
      ...report.by_status.map((row) => [row.status, ...report.types.map((type) => String(row.by_type[type] ?? 0)), String(row.total)]),
      ['total', ...report.types.map((type) => String(report.by_type[type] ?? 0)), String(report.replicas.live)],
    ], true),
    '',
  );
  out.push(`Stuck in training: ${report.stuck.length}`);
  if (report.stuck.length > 0) {
    out.push(
      ...pad([
        ['replica_id', 'replica_name', 'progress', 'no progress since', 'for'],
        ...report.stuck.map((s) => [s.replica_id, s.replica_name, s.training_progress, s.stuck_since, formatDuration(s.stuck_ms)]),
      ]),
    );
  }
  out.push('');
  const { training } = report;
  out.push(
    training.median_ms === undefined
      ? 'Training durations: none yet (the history has no replica seen both training and completed)'
      : `Training durations (${training.count} seen from start to completion): median ${formatDuration(training.median_ms)}, 90th percentile ${formatDuration(training.p90_ms as number)}`,
    '',
  );
  const { failures } = report;
  out.push(`Failures in the last ${failures.days} days (since ${failures.since.slice(0, 10)}): ${failures.count}`);
  if (failures.events.length > 0) {
    out.push(
      ...pad([
        ['at', 'replica_id', 'replica_name', 'how', 'error_message'],
        ...failures.events.map((f) => [f.at, f.replica_id, f.replica_name, f.from === null ? 'new, in error' : `${f.from} -> error`, f.error_message]),
      ]),
    );
  }
  return `${out.join('\n')}\n`;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
