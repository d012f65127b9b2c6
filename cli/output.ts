import type { AlertKind, AttentionEntry } from '../functions/engine/model/events.js';
import type { RunSummary } from '../functions/engine/model/summary.js';
import type { SyncLog } from '../functions/engine/sync.js';
import type { WalkProgress } from '../functions/engine/extract/walk.js';
import { textTable } from './text-table.js';

/**
 * Log lines on stderr: `level message {fields}` for people; stdout stays free for the summary
 * (or the one JSON line with --json).
 */
export function stderrLog(redact: (text: string) => string, stream: NodeJS.WriteStream = process.stderr): SyncLog {
  const write = (level: string, message: string, fields?: Record<string, unknown>): void => {
    const detail = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
    clearProgress(stream);
    stream.write(redact(`${level} ${message}${detail}`) + '\n');
  };
  return {
    info: (message, fields) => write('info ', message, fields),
    warn: (message, fields) => write('warn ', message, fields),
    error: (message, fields) => write('error', message, fields),
  };
}

let progressShown = false;

function clearProgress(stream: NodeJS.WriteStream): void {
  if (progressShown && stream.isTTY) stream.write('\r\x1b[2K');
  progressShown = false;
}

/** "pages 3/12, 300 replicas" redrawn in place on a terminal; nothing otherwise. */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr): ((progress: WalkProgress) => void) | undefined {
  if (!stream.isTTY) return undefined;
  return ({ pagesDone, pagesExpected, replicasSeen }) => {
    const width = 24;
    const filled = Math.min(width, Math.round((width * pagesDone) / Math.max(1, pagesExpected)));
    stream.write(`\r\x1b[2Kpages ${pagesDone}/${pagesExpected} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${replicasSeen} replicas`);
    progressShown = true;
  };
}

export function endProgress(stream: NodeJS.WriteStream = process.stderr): void {
  clearProgress(stream);
}

/** The summary as a two-column table for a person. */
export function formatSummary(summary: RunSummary): string {
  const rows: Array<[string, string]> = [
    ['status', summary.status],
    ['run id', summary.run_id],
    ['duration', `${(summary.duration_ms / 1000).toFixed(1)} s`],
    ['pages', String(summary.pages)],
    ['fetched', String(summary.fetched)],
    ['created', String(summary.created)],
    ['updated', String(summary.updated)],
    ['unchanged', String(summary.unchanged)],
    ['restored', String(summary.restored)],
    ['deleted', String(summary.deleted)],
    ['stuck', String(summary.stuck)],
    ['in error', String(summary.in_error)],
    ['rejected', String(summary.rejected)],
    ['written', String(summary.written)],
    ['retries', String(summary.retries)],
  ];
  const lines = textTable(rows, { indent: '  ' });
  if (summary.error) lines.push('', `  ${summary.error}`);
  for (const warning of summary.warnings.slice(0, NOTE_LINES)) lines.push('', `  note: ${warning}`);
  const more = summary.warnings.length - NOTE_LINES;
  if (more > 0) lines.push('', `  ...and ${more} more notes (rejected replicas among them): --json lists them all.`);
  if (summary.attention.length > 0) lines.push('', formatAttention(summary.attention));
  return lines.join('\n');
}

/** Notes (rejected replicas, deferred deletions) printed after the summary; the rest are counted. */
export const NOTE_LINES = 10;

/** Lines listed under "Needs attention"; the rest are counted, and the query commands list them all. */
export const ATTENTION_LINES = 20;

/** The query that lists the replicas of each kind now (there is no fine-tune filter yet). */
const QUERY_FOR_KIND: Record<AlertKind, string | undefined> = {
  error: 'npm run query -- --status error',
  stuck: 'npm run query -- --stuck',
  finetune_failed: undefined,
};

/**
 * "Needs attention": one aligned line per replica (kind, name, id, what is wrong, since when), at
 * most ATTENTION_LINES, then the commands that show more.
 */
export function formatAttention(attention: AttentionEntry[]): string {
  const shown = attention.slice(0, ATTENTION_LINES).map((entry) => [
    entry.kind,
    oneLine(entry.replica_name ?? '(no name)', 40),
    entry.replica_id,
    oneLine(detailOf(entry), 80),
    `since ${entry.since}`,
  ]);
  const widths = shown[0]!.map((_, column) => Math.max(...shown.map((cells) => cells[column]!.length)));
  const lines = [`Needs attention (${attention.length}):`];
  for (const cells of shown) lines.push(`  ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()}`);
  if (attention.length > shown.length) lines.push(`  and ${attention.length - shown.length} more`);
  const kinds = new Set(attention.map((entry) => entry.kind));
  const queries = [...kinds].map((kind) => QUERY_FOR_KIND[kind]).filter((query): query is string => query !== undefined);
  queries.push(`npm run query -- history ${attention[0]!.replica_id}`);
  lines.push('  Show more (with the --local, --endpoint or --table flags given to this sync):');
  for (const query of queries) lines.push(`    ${query}`);
  return lines.join('\n');
}

function detailOf(entry: AttentionEntry): string {
  if (entry.kind === 'error') return entry.error_message ?? `status ${entry.status ?? 'error'}, no error message`;
  if (entry.kind === 'finetune_failed') return `fine-tune ${entry.finetune_status ?? 'failed'}${entry.error_message ? `: ${entry.error_message}` : ''}`;
  return `progress ${entry.training_progress ?? 'unknown'}`;
}

/** API text on one terminal line: control characters (newlines, escapes) as spaces, long text cut. */
function oneLine(text: string, max: number): string {
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
