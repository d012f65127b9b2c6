import type { AlertKind, AttentionEntry } from '../functions/engine/model/events.js';
import type { RunSummary } from '../functions/engine/model/summary.js';
import type { SyncLog } from '../functions/engine/sync.js';
import type { WalkProgress } from '../functions/engine/extract/walk.js';
import type { TableNames } from '../functions/engine/contract/tables.js';
import { historyQueryHint, listQueryHint, type QueryTarget } from '../functions/engine/text/query-hint.js';
import { visibleText } from '../functions/engine/text/visible-text.js';
import { fitWidth, textTable } from './text-table.js';

/**
 * Log lines on stderr: `level message {fields}` for people; stdout stays free for the summary
 * (or the one JSON line with --json). Each line goes through the one sanitiser, so a rejected id
 * or an API message can neither forge a line nor send the terminal an escape sequence.
 */
export function stderrLog(redact: (text: string) => string, stream: NodeJS.WriteStream = process.stderr): SyncLog {
  const write = (level: string, message: string, fields?: Record<string, unknown>): void => {
    const detail = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
    clearProgress(stream);
    stream.write(visibleText(redact(`${level} ${message}${detail}`)) + '\n');
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

/**
 * Where the run's tables were, as `npm run query` flags: what the commands printed for pasting
 * carry, so they read the same tables (`--local`, `--endpoint`, `--table`, `--events-table`).
 */
export function queryTargetOf(where: { local?: boolean; endpoint?: string }, tables: TableNames, env: NodeJS.ProcessEnv = process.env): QueryTarget {
  const endpoint = where.endpoint ?? (env.DYNAMODB_ENDPOINT?.trim() || undefined);
  return { local: where.local, endpoint: where.local ? undefined : endpoint, replicasTable: tables.replicas, eventsTable: tables.events };
}

/**
 * The summary as a two-column table for a person, then its error and notes, then "Needs
 * attention" with the commands (for `target`'s tables) that list more.
 */
export function formatSummary(summary: RunSummary, target: QueryTarget = {}): string {
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
    ['finetune_failed', String(summary.finetune_failed)],
    ['rejected', String(summary.rejected)],
    ['written', String(summary.written)],
    ['retries', String(summary.retries)],
  ];
  const lines = textTable(rows, { indent: '  ' });
  if (summary.error) lines.push('', `  ${visibleText(summary.error)}`);
  for (const warning of summary.warnings.slice(0, NOTE_LINES)) lines.push('', `  note: ${visibleText(warning)}`);
  const more = summary.warnings.length - NOTE_LINES;
  if (more > 0) lines.push('', `  ...and ${more} more notes (rejected replicas among them): --json lists them all.`);
  if (summary.attention.length > 0) lines.push('', formatAttention(summary.attention, target));
  return lines.join('\n');
}

/** Notes (rejected replicas, deferred deletions) printed after the summary; the rest are counted. */
export const NOTE_LINES = 10;

/** Lines listed under "Needs attention"; the rest are counted, and the query commands list them all. */
export const ATTENTION_LINES = 20;

/** The filters that list the replicas of each kind now. */
const FILTERS_FOR_KIND: Record<AlertKind, string[]> = {
  error: ['--status', 'error'],
  stuck: ['--stuck'],
  finetune_failed: ['--finetune', 'failed'],
};

/**
 * "Needs attention (5): 3 error, 2 stuck": one aligned line per replica (kind, name, id, what is
 * wrong, since when), at most ATTENTION_LINES, then the commands that show more, for `target`.
 */
export function formatAttention(attention: AttentionEntry[], target: QueryTarget = {}): string {
  const counts = new Map<AlertKind, number>();
  for (const entry of attention) counts.set(entry.kind, (counts.get(entry.kind) ?? 0) + 1);
  const shown = attention.slice(0, ATTENTION_LINES).map((entry) => [
    entry.kind,
    fitWidth(entry.replica_name ?? '(no name)', 40),
    entry.replica_id,
    fitWidth(detailOf(entry), 80),
    `since ${entry.since}`,
  ]);
  const lines = [`Needs attention (${attention.length}): ${[...counts].map(([kind, count]) => `${count} ${kind}`).join(', ')}`];
  lines.push(...textTable(shown, { indent: '  ' }));
  if (attention.length > shown.length) lines.push(`  and ${attention.length - shown.length} more`);
  const queries = [...counts.keys()].map((kind) => listQueryHint(FILTERS_FOR_KIND[kind], target));
  queries.push(historyQueryHint(attention[0]!.replica_id, target));
  lines.push('  Show more:');
  for (const query of queries) lines.push(`    ${query}`);
  return lines.join('\n');
}

function detailOf(entry: AttentionEntry): string {
  if (entry.kind === 'error') return entry.error_message ?? `status ${entry.status ?? 'error'}, no error message`;
  if (entry.kind === 'finetune_failed') return `fine-tune ${entry.finetune_status ?? 'failed'}${entry.error_message ? `: ${entry.error_message}` : ''}`;
  return `progress ${entry.training_progress ?? 'unknown'}`;
}
