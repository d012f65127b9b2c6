/** The report for a terminal: short sections, numbers aligned. */
import { textTable } from '../text-table.js';
import type { Report } from './report.js';

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

export function formatReportText(report: Report): string {
  const sections = [
    [`Replicas: ${report.replicas.live} live, ${report.replicas.deleted} deleted (as of ${report.generated_at})`],
    statusSection(report),
    stuckSection(report),
    trainingSection(report),
    finetuneSection(report),
    failuresSection(report),
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

function stuckSection({ stuck }: Report): string[] {
  const finetune = stuck.filter((s) => s.stuck_reason === 'finetune').length;
  const heading = `Stuck: ${stuck.length} (${stuck.length - finetune} in training, ${finetune} in fine-tune)`;
  if (stuck.length === 0) return [heading];
  return [
    heading,
    ...indented([
      ['replica_id', 'replica_name', 'reason', 'progress', 'no progress since', 'for'],
      ...stuck.map((s) => [s.replica_id, s.replica_name, s.stuck_reason, s.stuck_reason === 'finetune' ? s.finetune_status : s.training_progress, s.stuck_since, formatDuration(s.stuck_ms)]),
    ]),
  ];
}

function trainingSection({ training }: Report): string[] {
  return [
    training.median_ms === undefined
      ? 'Training durations: none yet (the history has no replica seen both training and completed)'
      : `Training durations (${training.count} seen from start to completion): median ${formatDuration(training.median_ms)}, 90th percentile ${formatDuration(training.p90_ms as number)}`,
  ];
}

function finetuneSection({ finetune }: Report): string[] {
  const failedOnes = finetune.durations.length - finetune.completed;
  const lines = [
    `Fine-tunes (Phoenix-4.5): ${finetune.in_progress.length} in progress, ${finetune.failed.length} failed`,
    finetune.median_ms === undefined
      ? '  durations: none yet (the history has no fine-tune seen from start to completion)'
      : `  durations (${finetune.completed} completed${failedOnes > 0 ? `, ${failedOnes} failed` : ''}): median ${formatDuration(finetune.median_ms)}, 90th percentile ${formatDuration(finetune.p90_ms as number)} to completion`,
  ];
  const rows = [
    ...finetune.in_progress.map((f) => [f.replica_id, f.replica_name, f.finetune_status, f.since, formatDuration(f.running_ms)]),
    ...finetune.failed.map((f) => [f.replica_id, f.replica_name, f.finetune_status, f.since, '']),
  ];
  if (rows.length > 0) lines.push(...indented([['replica_id', 'replica_name', 'finetune_status', 'since', 'running'], ...rows]));
  return lines;
}

function failuresSection({ failures }: Report): string[] {
  const heading = `Failures in the last ${failures.days} days (since ${failures.since.slice(0, 10)}): ${failures.count}`;
  if (failures.events.length === 0) return [heading];
  return [
    heading,
    ...indented([
      ['at', 'replica_id', 'replica_name', 'how', 'error_message'],
      ...failures.events.map((f) => [f.at, f.replica_id, f.replica_name, f.from === null ? 'new, in error' : `${f.from} -> error`, f.error_message]),
    ]),
  ];
}
