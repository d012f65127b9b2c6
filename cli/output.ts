import type { RunSummary, SyncLog } from '../functions/engine/sync.js';
import type { WalkProgress } from '../functions/engine/walk.js';
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
    ['written', String(summary.written)],
    ['retries', String(summary.retries)],
  ];
  const lines = textTable(rows, { indent: '  ' });
  if (summary.error) lines.push('', `  ${summary.error}`);
  for (const warning of summary.warnings) lines.push('', `  note: ${warning}`);
  return lines.join('\n');
}
