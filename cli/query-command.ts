import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SettingsError, type RawSettings } from '../functions/engine/settings.js';
import type { TableNames } from '../functions/engine/tables.js';
import { TABLE_FLAGS, parseFlags, settingsFrom } from './args.js';
import { openDynamo } from './dynamo.js';
import { parseFilters } from './query/filters.js';
import { EVENT_COLUMNS, REPLICA_CSV_COLUMNS, REPLICA_TABLE_COLUMNS, formatRows, orderReplicaAttributes, parseFormat } from './query/format.js';
import { toHistory } from './query/history.js';
import { renderReportHtml } from './query/html.js';
import { planReplicaRead } from './query/read-plan.js';
import type { Item } from './query/types.js';
import { readEvents, readPlan, readReplica, scanTable } from './query/read.js';
import { computeReport, formatReportText } from './query/report.js';

export const QUERY_HELP = `Usage: npm run query -- [filters] [--format table|csv|json]
       npm run query -- history REPLICA_ID [--format table|csv|json]
       npm run query -- report [--html FILE] [--format table|json]

Reads the replicas table; without filters it lists live replicas, oldest first.

Filters (combine freely):
  --status S                 only this status (started, completed, error, ...)   Query of index by-status
  --type user|system         only this replica type
  --stuck                    only replicas flagged stuck in training             Query of index stuck
  --deleted                  only replicas deleted upstream
  --all                      live and deleted replicas
  --created-after DATE       created at or after DATE (2024-05-01 or 2024-05-01T09:30:00Z)
  --created-before DATE      created before DATE
  --name TEXT                name contains TEXT, ignoring case

Output:
  --format table|csv|json    default: table on a terminal, csv when piped; json is one item per line
  --html FILE                (report) also write the report as a self-contained HTML page

Where:
  --table NAME               REPLICAS_TABLE        default tavus-replicas
  --events-table NAME        REPLICA_EVENTS_TABLE  default tavus-replica-events
  --endpoint URL             DYNAMODB_ENDPOINT     a DynamoDB endpoint, e.g. DynamoDB Local
  --local                                          the embedded DynamoDB Local with data under .data/

Exit status: 0 answered (even with no rows), 1 DynamoDB failed or the replica is unknown, 2 bad input.`;

export const QUERY_FLAGS = {
  ...TABLE_FLAGS,
  status: { type: 'string' },
  type: { type: 'string' },
  stuck: { type: 'boolean' },
  deleted: { type: 'boolean' },
  all: { type: 'boolean' },
  'created-after': { type: 'string' },
  'created-before': { type: 'string' },
  name: { type: 'string' },
  format: { type: 'string' },
  html: { type: 'string' },
} as const;

const FILTER_FLAGS = ['status', 'type', 'stuck', 'deleted', 'all', 'created-after', 'created-before', 'name'] as const;

/** Where a command writes; the tests hand in buffers, the CLI the process's streams. */
export interface QueryIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal: it decides the default format. */
  isTerminal: boolean;
  /** The report's clock. */
  now?: () => Date;
}

/** `npm run query`: lists, histories and the report, read straight from the tables. */
export async function queryCommand(args: string[], env = process.env): Promise<number> {
  // `npm run query | head` closes the pipe early: that is the reader's choice, not a failure.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
  });
  return runQuery(args, env, {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    isTerminal: Boolean(process.stdout.isTTY),
  });
}

export async function runQuery(args: string[], env: NodeJS.ProcessEnv, io: QueryIo): Promise<number> {
  const { values, positionals } = parseFlags(args, QUERY_FLAGS, 'query');
  if (values.help) {
    io.out(`${QUERY_HELP}\n`);
    return 0;
  }
  const [first, ...rest] = positionals;
  const mode = first === undefined ? 'list' : first === 'history' || first === 'report' ? first : undefined;
  if (mode === undefined) {
    throw new SettingsError(`Unexpected argument "${first}": query takes filters as flags, or history REPLICA_ID, or report (see npm run query -- --help).`);
  }
  const filterFlags = FILTER_FLAGS.filter((flag) => values[flag] !== undefined).map((flag) => `--${flag}`);
  if (mode !== 'list' && filterFlags.length > 0) {
    const many = filterFlags.length > 1;
    throw new SettingsError(`${filterFlags.join(', ')} ${many ? 'filter' : 'filters'} the list of replicas, not ${mode}: leave ${many ? 'them' : 'it'} out.`);
  }
  if (values.html !== undefined && mode !== 'report') {
    throw new SettingsError(`--html belongs to the report: npm run query -- report --html ${values.html}.`);
  }
  if (mode === 'history' && rest.length !== 1) {
    throw new SettingsError('history needs exactly one replica id: npm run query -- history r783537ef5.');
  }
  if (mode === 'report' && rest.length > 0) {
    throw new SettingsError(`report takes no arguments, but got "${rest.join(' ')}": see npm run query -- --help.`);
  }
  if (mode === 'report' && values.format === 'csv') {
    throw new SettingsError('The report prints as table (text) or json; for CSV, list the replicas with npm run query -- --format csv.');
  }
  const format = parseFormat(values.format, io.isTerminal);
  const filters = mode === 'list' ? parseFilters(values) : undefined;
  const htmlFile = values.html === undefined ? undefined : parseHtmlPath(values.html);
  const tables = tableNames(values, env);

  const dynamo = await openDynamo({ local: values.local, endpoint: values.endpoint, createTables: values['create-tables'] }, tables, env);
  const documents = DynamoDBDocumentClient.from(dynamo.client);
  try {
    if (mode === 'history') return await history(documents, tables, rest[0] as string, format, io);
    if (mode === 'report') {
      const now = io.now?.() ?? new Date();
      const [replicas, events] = await Promise.all([
        scanTable(documents, { TableName: tables.replicas }),
        scanTable(documents, {
          TableName: tables.events,
          // The report reads starts, completions and failures; progress events are most of the table.
          FilterExpression: '#type IN (:created, :status_changed)',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: { ':created': 'created', ':status_changed': 'status_changed' },
        }),
      ]);
      const report = computeReport(replicas, events, now);
      io.out(format === 'json' ? `${JSON.stringify(report)}\n` : formatReportText(report));
      if (htmlFile) {
        const html = renderReportHtml(report, { replicasTable: tables.replicas, eventsTable: tables.events, where: dynamo.description });
        await writeFile(htmlFile, html).catch((error: NodeJS.ErrnoException) => {
          throw new SettingsError(`The report could not be written to ${htmlFile} (${error.code ?? error.message}): name a file in a folder that exists and you may write to.`);
        });
        io.err(`Wrote the report to ${htmlFile}.\n`);
      }
      return 0;
    }
    const plan = planReplicaRead(filters!, tables.replicas);
    const items = await readPlan(documents, plan);
    items.sort(byCreatedAt);
    io.out(formatRows(items.map(orderReplicaAttributes), format, { table: REPLICA_TABLE_COLUMNS, csv: REPLICA_CSV_COLUMNS }));
    io.err(`${items.length} replica${items.length === 1 ? '' : 's'} from ${tables.replicas} on ${dynamo.description}, read with ${plan.description}.\n`);
    return 0;
  } finally {
    await dynamo.close();
  }
}

async function history(
  documents: DynamoDBDocumentClient,
  tables: TableNames,
  replicaId: string,
  format: ReturnType<typeof parseFormat>,
  io: QueryIo,
): Promise<number> {
  const entries = toHistory(await readEvents(documents, tables.events, replicaId));
  if (entries.length === 0) {
    const replica = await readReplica(documents, tables.replicas, replicaId);
    io.err(
      replica
        ? `Replica ${replicaId} has no recorded history in ${tables.events}: it was last changed before the events table existed.\n`
        : `No replica ${replicaId} in ${tables.replicas}: check the id (npm run query -- --all --name TEXT finds one by name).\n`,
    );
    return replica ? 0 : 1;
  }
  io.out(formatRows(entries as unknown as Item[], format, { table: EVENT_COLUMNS.slice(1), csv: EVENT_COLUMNS }));
  return 0;
}

/** Only the table names: a query needs no API key or sync tuning, and must not fail over them. */
function tableNames(values: { table?: string; 'runs-table'?: string; 'events-table'?: string }, env: NodeJS.ProcessEnv): TableNames {
  const fromFlags: RawSettings = { table: values.table, runsTable: values['runs-table'], eventsTable: values['events-table'] };
  return settingsFrom(fromFlags, env, ['table', 'runsTable', 'eventsTable']).tables;
}

function parseHtmlPath(file: string): string {
  if (!file.trim() || file.startsWith('-')) {
    throw new SettingsError('--html needs a file name to write the page to, like --html report.html.');
  }
  return path.resolve(file);
}

/** Oldest first, as the API lists them; ties (and items without created_at) by id, so output is stable. */
function byCreatedAt(a: Item, b: Item): number {
  const key = (item: Item): string => `${typeof item.created_at === 'string' ? item.created_at : ''}\u0000${String(item.replica_id)}`;
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}
