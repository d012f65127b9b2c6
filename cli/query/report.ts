/**
 * The analysts' report as a pure function of the stored replicas and events and `now`: counts,
 * stuck replicas, training and fine-tune durations, recent failures. The text and HTML renderings
 * read only this.
 */
import { finetuneClass, finetuneCycles } from './finetune.js';
import { toHistory, type HistoryEntry } from './history.js';
import type { Item } from './types.js';

export const FAILURE_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

export interface Report {
  generated_at: string;
  replicas: { live: number; deleted: number };
  /** Replica types among live replicas, in the order the columns show them. */
  types: string[];
  /** Live replicas by status, each split by type. */
  by_status: Array<{ status: string; total: number; by_type: Record<string, number> }>;
  by_type: Record<string, number>;
  /** Live replicas flagged stuck, in training or in fine-tune, longest stuck first. */
  stuck: Array<{
    replica_id: string;
    replica_name: string;
    stuck_reason: string;
    training_progress: string;
    finetune_status: string;
    stuck_since: string;
    stuck_ms: number;
  }>;
  training: {
    count: number;
    median_ms?: number;
    p90_ms?: number;
    durations: Array<{ replica_id: string; replica_name: string; started_at: string; completed_at: string; duration_ms: number }>;
  };
  /** Phoenix-4.5's second phase, after the preview completed `status`. */
  finetune: {
    /** Live replicas whose fine-tune runs now, running longest first. */
    in_progress: Array<{ replica_id: string; replica_name: string; finetune_status: string; since: string; running_ms: number }>;
    /** Live replicas whose fine-tune failed, most recent first. */
    failed: Array<{ replica_id: string; replica_name: string; finetune_status: string; since: string }>;
    /** Fine-tunes the history shows from start to end, in the order they ended. */
    durations: Array<{ replica_id: string; replica_name: string; started_at: string; finished_at: string; outcome: 'completed' | 'failed'; duration_ms: number }>;
    /** How many of those completed, and their median and 90th percentile. */
    completed: number;
    median_ms?: number;
    p90_ms?: number;
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
  const histories = historiesById(events);
  return {
    generated_at: now.toISOString(),
    replicas: { live: live.length, deleted: replicas.length - live.length },
    ...countByStatus(live),
    stuck: stuckReplicas(live, now),
    training: trainingDurations(histories, byId),
    finetune: finetuneReport(live, histories, byId, now),
    failures: recentFailures(events, byId, now),
  };
}

function countByStatus(live: Item[]): Pick<Report, 'types' | 'by_status' | 'by_type'> {
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
  return {
    types: Object.keys(byType).sort((a, b) => (a === 'user' ? -1 : b === 'user' ? 1 : a.localeCompare(b))),
    by_status: statuses.map((status) => {
      const counts = byStatus.get(status) as Record<string, number>;
      return { status, total: Object.values(counts).reduce((sum, n) => sum + n, 0), by_type: counts };
    }),
    by_type: byType,
  };
}

function stuckReplicas(live: Item[], now: Date): Report['stuck'] {
  return live
    .filter((item) => typeof item.stuck_since === 'string')
    .map((item) => ({
      replica_id: String(item.replica_id),
      replica_name: text(item.replica_name),
      // Items flagged before stuck reasons existed were all training stalls.
      stuck_reason: text(item.stuck_reason) || 'training',
      training_progress: text(item.training_progress),
      finetune_status: text(item.finetune_status),
      stuck_since: item.stuck_since as string,
      stuck_ms: now.getTime() - Date.parse(item.stuck_since as string),
    }))
    .sort((a, b) => a.stuck_since.localeCompare(b.stuck_since));
}

/** Each replica's events, in the order `toHistory` tells them. */
function historiesById(events: Item[]): Map<string, HistoryEntry[]> {
  const stored = new Map<string, Item[]>();
  for (const event of events) {
    const id = String(event.replica_id);
    stored.set(id, [...(stored.get(id) ?? []), event]);
  }
  return new Map([...stored].map(([id, list]) => [id, toHistory(list)]));
}

function trainingDurations(histories: Map<string, HistoryEntry[]>, byId: Map<string, Item>): Report['training'] {
  const durations: Report['training']['durations'] = [];
  for (const [id, history] of histories) {
    for (const cycle of trainingCycles(history)) durations.push({ replica_id: id, replica_name: text(byId.get(id)?.replica_name), ...cycle });
  }
  durations.sort((a, b) => a.completed_at.localeCompare(b.completed_at));
  return { count: durations.length, ...medianAndP90(durations.map((d) => d.duration_ms)), durations };
}

function finetuneReport(live: Item[], histories: Map<string, HistoryEntry[]>, byId: Map<string, Item>, now: Date): Report['finetune'] {
  const durations: Report['finetune']['durations'] = [];
  const openSince = new Map<string, string>();
  for (const [id, history] of histories) {
    const { cycles, runningSince } = finetuneCycles(history);
    for (const cycle of cycles) durations.push({ replica_id: id, replica_name: text(byId.get(id)?.replica_name), ...cycle });
    if (runningSince !== undefined) openSince.set(id, runningSince);
  }
  durations.sort((a, b) => a.finished_at.localeCompare(b.finished_at));
  const completed = durations.filter((d) => d.outcome === 'completed').map((d) => d.duration_ms);
  const entry = (item: Item) => ({ replica_id: String(item.replica_id), replica_name: text(item.replica_name), finetune_status: text(item.finetune_status) });
  // The history knows when a running fine-tune began; without it, when its current value was first seen.
  const since = (item: Item): string => openSince.get(String(item.replica_id)) ?? (text(item.finetune_status_changed_at) || text(item.first_seen_at));
  return {
    in_progress: live
      .filter((item) => finetuneClass(item.finetune_status) === 'in_progress')
      .map((item) => ({ ...entry(item), since: since(item), running_ms: now.getTime() - Date.parse(since(item)) }))
      .sort((a, b) => a.since.localeCompare(b.since)),
    failed: live
      .filter((item) => finetuneClass(item.finetune_status) === 'failed')
      .map((item) => ({ ...entry(item), since: text(item.finetune_status_changed_at) }))
      .sort((a, b) => b.since.localeCompare(a.since)),
    durations,
    completed: completed.length,
    ...medianAndP90(completed),
  };
}

function recentFailures(events: Item[], byId: Map<string, Item>, now: Date): Report['failures'] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const since = new Date(today - (FAILURE_WINDOW_DAYS - 1) * DAY_MS).toISOString();
  const failures = events
    .filter((event) => event.to === 'error' && (event.type === 'created' || event.type === 'status_changed'))
    .filter((event) => String(event.at) >= since && Date.parse(String(event.at)) <= now.getTime())
    .map((event) => ({
      replica_id: String(event.replica_id),
      replica_name: text(byId.get(String(event.replica_id))?.replica_name),
      at: String(event.at),
      from: event.type === 'created' ? null : text(event.from),
      error_message: text(byId.get(String(event.replica_id))?.error_message),
    }))
    .sort((a, b) => b.at.localeCompare(a.at));
  const by_day = Array.from({ length: FAILURE_WINDOW_DAYS }, (_, i) => {
    const day = new Date(Date.parse(since) + i * DAY_MS).toISOString().slice(0, 10);
    return { day, count: failures.filter((failure) => failure.at.startsWith(day)).length };
  });
  return { days: FAILURE_WINDOW_DAYS, since, count: failures.length, by_day, events: failures };
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

function medianAndP90(durations: number[]): { median_ms?: number; p90_ms?: number } {
  const sorted = [...durations].sort((a, b) => a - b);
  return sorted.length === 0 ? {} : { median_ms: percentile(sorted, 0.5), p90_ms: percentile(sorted, 0.9) };
}

/** Linear interpolation between closest ranks (as a spreadsheet's PERCENTILE.INC): p=0.5 is the median. */
export function percentile(sorted: number[], p: number): number {
  const position = (sorted.length - 1) * p;
  const lower = Math.floor(position);
  const low = sorted[lower] as number;
  const high = sorted[Math.min(lower + 1, sorted.length - 1)] as number;
  return low + (high - low) * (position - lower);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
