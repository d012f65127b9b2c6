/** `npm run query -- report`: read both tables, compute the report, print it, or write the page. */
import { writeFile } from 'node:fs/promises';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TableNames } from '../../functions/engine/contract/tables.js';
import type { QueryTarget } from '../../functions/engine/text/query-hint.js';
import { visibleText } from '../../functions/engine/text/visible-text.js';
import type { Format } from './format.js';
import { renderReportHtml } from './html.js';
import { scanTable } from './read.js';
import { computeReport } from './report.js';
import { formatReportText } from './report-text.js';

/** The event types the report reads: starts, completions, failures and fine-tunes. */
const REPORT_EVENT_TYPES = ['created', 'status_changed', 'finetune_changed'];

export interface ReportRequest {
  tables: TableNames;
  /** Where the tables live, as the page's byline says it. */
  where: string;
  format: Format;
  htmlFile?: string;
  /** The tables as `npm run query` flags, for the commands the report prints. */
  target?: QueryTarget;
}

export async function runReport(
  documents: DynamoDBDocumentClient,
  request: ReportRequest,
  io: { out(text: string): void; err(text: string): void; now?: () => Date },
): Promise<number> {
  const { tables } = request;
  const now = io.now?.() ?? new Date();
  const [replicas, events] = await Promise.all([
    scanTable(documents, { TableName: tables.replicas }),
    // Progress events are most of the table and the report needs none of them.
    scanTable(documents, {
      TableName: tables.events,
      FilterExpression: `#type IN (${REPORT_EVENT_TYPES.map((_, i) => `:type${i}`).join(', ')})`,
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: Object.fromEntries(REPORT_EVENT_TYPES.map((type, i) => [`:type${i}`, type])),
    }),
  ]);
  const report = computeReport(replicas, events, now);
  // With --html the page is the report: the terminal gets one line saying where (JSON still prints when asked for).
  if (request.format === 'json') io.out(`${JSON.stringify(report)}\n`);
  else if (request.htmlFile === undefined) io.out(formatReportText(report, request.target));
  if (request.htmlFile === undefined) return 0;

  const html = renderReportHtml(report, { replicasTable: tables.replicas, eventsTable: tables.events, where: request.where, target: request.target });
  try {
    await writeFile(request.htmlFile, html);
  } catch (error) {
    // Not bad input but a failure of this run (a folder gone, a full disk): exit 1, one sentence.
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).name;
    io.err(`The report could not be written to ${visibleText(request.htmlFile)} (${code}): name a file in a folder that exists and you may write to.\n`);
    return 1;
  }
  io.err(`Wrote the report to ${visibleText(request.htmlFile)}.\n`);
  return 0;
}
