/**
 * The report for a terminal: short sections, numbers aligned, every value through the one
 * sanitiser (the text table's), long lists cut to REPORT_LIST_LINES with "and N more" and the
 * quoted command that lists them all.
 */
import { flagWords, listQueryHint, type QueryTarget } from '../../functions/engine/text/query-hint.js';
import { textTable } from '../text-table.js';
import type { Report } from './report.js';

/** Rows listed per section in the text report; the rest are counted, and a command lists them. */
export const REPORT_LIST_LINES = 20;

/** The filters that list a section's replicas in full (npm run query). */
export const SECTION_FILTERS = {
  stuck: ['--stuck'],
  finetuneRunning: flagWords('--finetune', 'in-progress'),
  finetuneFailed: flagWords('--finetune', 'failed'),
  failures: ['--status', 'error'],
} as const;

/** The first `limit` items and the line that accounts for the rest (none when nothing is cut). */
export function capped<T>(items: readonly T[], limit: number, filters: readonly string[], target: QueryTarget, what = ''): { shown: T[]; more?: string } {
  if (items.length <= limit) return { shown: [...items] };
  return { shown: items.slice(0, limit), more: `and ${items.length - limit} more${what}: ${listQueryHint(filters, target)}` };
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

/** `target`: the tables the report read, as the flags its "and N more" commands carry. */
export function formatReportText(report: Report, target: QueryTarget = {}): string {
  const sections = [
    [`Replicas: ${report.replicas.live} live, ${report.replicas.deleted} deleted (as of ${report.generated_at})`],
    statusSection(report),
    stuckSection(report, target),
    trainingSection(report),
    finetuneSection(report, target),
    failuresSection(report, target),
  ];
  return `${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}

/** A table set inside a section; counts right-aligned after the first column. */
function indented(rows: string[][], counts = false): string[] {
  return textTable(rows, { indent: '  ', rightAligned: (column) => counts && column > 0 });
}

function statusSection(report: Report): string[] {
  return [
    'By status (live)',
    ...indented([
      ['status', ...report.types, 'total'],
      ...report.by_status.map((row) => [row.status, ...report.types.map((type) => String(row.by_type[type] ?? 0)), String(row.total)]),
      ['total', ...report.types.map((type) => String(report.by_type[type] ?? 0)), String(report.replicas.live)],
    ], true),
  ];
}

function stuckSection({ stuck }: Report, target: QueryTarget): string[] {
  const finetune = stuck.filter((s) => s.stuck_reason === 'finetune').length;
  const heading = `Stuck: ${stuck.length} (${stuck.length - finetune} in training, ${finetune} in fine-tune)`;
  if (stuck.length === 0) return [heading];
  const { shown, more } = capped(stuck, REPORT_LIST_LINES, SECTION_FILTERS.stuck, target);
  return [
    heading,
    ...indented([
      ['replica_id', 'replica_name', 'reason', 'progress', 'no progress since', 'for'],
      ...shown.map((s) => [s.replica_id, s.replica_name, s.stuck_reason, s.stuck_reason === 'finetune' ? s.finetune_status : s.training_progress, s.stuck_since, formatDuration(s.stuck_ms)]),
    ]),
    ...moreLine(more),
  ];
}

function moreLine(more: string | undefined): string[] {
  return more === undefined ? [] : [`  ${more}`];
}

function trainingSection({ training }: Report): string[] {
  return [
    training.median_ms === undefined
      ? 'Training durations: none yet (the history has no replica seen both training and completed)'
      : `Training durations (${training.count} seen from start to completion): median ${formatDuration(training.median_ms)}, 90th percentile ${formatDuration(training.p90_ms as number)}`,
  ];
}

function finetuneSection({ finetune }: Report, target: QueryTarget): string[] {
  const failedOnes = finetune.durations.length - finetune.completed;
  const lines = [
    `Fine-tunes (Phoenix-4.5): ${finetune.in_progress.length} in progress, ${finetune.failed.length} failed`,
    finetune.median_ms === undefined
      ? '  durations: none yet (the history has no fine-tune seen from start to completion)'
      : `  durations (${finetune.completed} completed${failedOnes > 0 ? `, ${failedOnes} failed` : ''}): median ${formatDuration(finetune.median_ms)}, 90th percentile ${formatDuration(finetune.p90_ms as number)} to completion`,
  ];
  const running = capped(finetune.in_progress, REPORT_LIST_LINES, SECTION_FILTERS.finetuneRunning, target, ' running');
  const failed = capped(finetune.failed, REPORT_LIST_LINES, SECTION_FILTERS.finetuneFailed, target, ' failed');
  const rows = [
    ...running.shown.map((f) => [f.replica_id, f.replica_name, f.finetune_status, f.since, formatDuration(f.running_ms)]),
    ...failed.shown.map((f) => [f.replica_id, f.replica_name, f.finetune_status, f.since, '']),
  ];
  if (rows.length > 0) lines.push(...indented([['replica_id', 'replica_name', 'finetune_status', 'since', 'running'], ...rows]));
  lines.push(...moreLine(running.more), ...moreLine(failed.more));
  return lines;
}

function failuresSection({ failures }: Report, target: QueryTarget): string[] {
  const heading = `Failures in the last ${failures.days} days (since ${failures.since.slice(0, 10)}): ${failures.count}`;
  if (failures.events.length === 0) return [heading];
  const { shown, more } = capped(failures.events, REPORT_LIST_LINES, SECTION_FILTERS.failures, target);
  return [
    heading,
    ...indented([
      ['at', 'replica_id', 'replica_name', 'how', 'error_message'],
      ...shown.map((f) => [f.at, f.replica_id, f.replica_name, f.from === null ? 'new, in error' : `${f.from} -> error`, f.error_message]),
    ]),
    ...moreLine(more),
  ];
}
