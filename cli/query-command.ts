import path from 'node:path';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { InputError, StoreError } from '../functions/engine/errors.js';
import { settingSpec } from '../functions/engine/settings/registry.js';
import type { TableNames } from '../functions/engine/contract/tables.js';
import { TABLE_CLI_FLAGS, TABLE_FLAGS, TABLE_SETTINGS, cliHelpRows, helpLines, npmCommand, optionsOf, parseFlags, rawSettingsFromFlags, settingHelpRows, settingsFrom, tableFlagsGiven, type CliFlag } from './args.js';
import { openDynamo } from './dynamo.js';
import { queryTargetOf } from './output.js';
import { visibleText } from '../functions/engine/text/visible-text.js';
import { parseFilters, type ReplicaFilters } from './query/filters.js';
import { EVENT_COLUMNS, REPLICA_CSV_COLUMNS, REPLICA_TABLE_COLUMNS, formatRows, orderReplicaAttributes, parseFormat, type Format } from './query/format.js';
import { toHistory } from './query/history.js';
import { readEvents, readPlan, readReplica } from './query/read.js';
import { planReplicaRead } from './query/read-plan.js';
import { runReport } from './query/report-command.js';
import { analyticsCommandIn, runAnalyticsCommand } from './query/sql/dispatch.js';
import type { Item } from './query/types.js';

/** The filters of the list, each once: parseArgs reads them from here and --help lists them. */
const QUERY_FILTER_CLI_FLAGS = {
  status: { option: { type: 'string' }, value: 'S', help: 'only this status (started, completed, error, ...); a Query of index by-status' },
  type: { option: { type: 'string' }, value: 'user|system', help: 'only this replica type' },
  stuck: { option: { type: 'boolean' }, help: 'only replicas flagged stuck, in training or in fine-tune (column stuck_reason says which); a Scan of index stuck' },
  finetune: {
    option: { type: 'string' },
    value: 'STATUS',
    help: "only this finetune_status (Phoenix-4.5's second phase): a raw value (training, completed, errored, ...), in-progress (any value but completed or a failure) or failed (errored, error or failed)",
  },
  deleted: { option: { type: 'boolean' }, help: 'only replicas deleted upstream' },
  all: { option: { type: 'boolean' }, help: 'live and deleted replicas' },
  'created-after': { option: { type: 'string' }, value: 'DATE', help: 'created at or after DATE (2024-05-01 or 2024-05-01T09:30:00Z)' },
  'created-before': { option: { type: 'string' }, value: 'DATE', help: 'created before DATE' },
  name: { option: { type: 'string' }, value: 'TEXT', help: 'name contains TEXT, ignoring case' },
} as const satisfies Record<string, CliFlag>;

const QUERY_OUTPUT_CLI_FLAGS = {
  format: { option: { type: 'string' }, value: 'table|csv|json', help: 'default: table on a terminal, csv when piped; json is one item per line' },
  html: { option: { type: 'string' }, value: 'FILE', help: '(report) also write the report as a self-contained HTML page' },
} as const satisfies Record<string, CliFlag>;

export const QUERY_FLAGS = { ...TABLE_FLAGS, ...optionsOf(QUERY_FILTER_CLI_FLAGS), ...optionsOf(QUERY_OUTPUT_CLI_FLAGS) };

const FILTER_FLAGS = Object.keys(QUERY_FILTER_CLI_FLAGS) as (keyof typeof QUERY_FILTER_CLI_FLAGS)[];

/** --help, rendered from the flags above and the registry's table settings, so no flag query takes is missing. */
export const QUERY_HELP = [
  'Usage: npm run query -- [filters] [--format table|csv|json]',
  '       npm run query -- history REPLICA_ID [--format table|csv|json]',
  '       npm run query -- report [--html FILE] [--format table|json]',
  '       npm run query -- sql "SELECT ..."      SQL over the tables (see npm run query -- sql --help)',
  '       npm run query -- export --out DIR      the tables as Parquet or CSV files (see npm run query -- export --help)',
  '',
  'Reads the replicas table; without filters it lists live replicas, oldest first.',
  '',
  'Filters (combine freely):',
  ...helpLines(cliHelpRows(QUERY_FILTER_CLI_FLAGS)),
  '',
  'Output:',
  ...helpLines(cliHelpRows(QUERY_OUTPUT_CLI_FLAGS)),
  '',
  'Where:',
  ...helpLines([...settingHelpRows(TABLE_SETTINGS), ...cliHelpRows(TABLE_CLI_FLAGS)]),
  '',
  'Exit status: 0 answered (even with no rows), 1 DynamoDB failed, the replica is unknown or the',
  'report file could not be written, 2 bad input.',
].join('\n');

/** Where a command writes; the tests hand in buffers, the CLI the process's streams. */
export interface QueryIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal: it decides the default format. */
  isTerminal: boolean;
  /** The report's clock. */
  now?: () => Date;
}

/** What one invocation asks for, validated before any table is touched. */
type QueryRequest =
  | { mode: 'list'; format: Format; filters: ReplicaFilters }
  | { mode: 'history'; format: Format; replicaId: string }
  | { mode: 'report'; format: Format; htmlFile?: string };

/** `npm run query`: lists, histories and the report, read straight from the tables. */
export async function queryCommand(args: string[], env = process.env): Promise<number> {
  const stdout = pipeTolerantWriter(process.stdout);
  try {
    return await runQuery(args, env, { out: stdout.write, err: (text) => void process.stderr.write(text), isTerminal: Boolean(process.stdout.isTTY) });
  } finally {
    stdout.release();
  }
}

/**
 * Writes to `stream` until its reader goes away: `npm run query | head` closes the pipe early,
 * which is the reader's choice, not a failure, so the rest is dropped and the command ends as usual.
 */
function pipeTolerantWriter(stream: NodeJS.WriteStream): { write: (text: string) => void; release: () => void } {
  let closed = false;
  const onError = (error: NodeJS.ErrnoException): void => {
    if (error.code !== 'EPIPE') throw error;
    closed = true;
  };
  stream.on('error', onError);
  return {
    write: (text) => void (closed || stream.write(text)),
    // Once closed, the stream is destroyed and emits nothing more; until then, keep listening.
    release: () => void (closed && stream.off('error', onError)),
  };
}

export async function runQuery(args: string[], env: NodeJS.ProcessEnv, io: QueryIo): Promise<number> {
  const analytics = analyticsCommandIn(args);
  if (analytics) return runAnalyticsCommand(analytics, env, io);
  const { values, positionals } = parseFlags(args, QUERY_FLAGS, 'query');
  if (values.help) {
    io.out(`${QUERY_HELP}\n`);
    return 0;
  }
  const request = parseRequest(values, positionals, io.isTerminal);
  const tables = tableNames(values, env);
  const dynamo = await openDynamo({ local: values.local, endpoint: values.endpoint, createTables: values['create-tables'] }, tables, env);
  const documents = DynamoDBDocumentClient.from(dynamo.client);
  try {
    if (request.mode === 'history') return await showHistory(documents, tables, request.replicaId, request.format, io);
    if (request.mode === 'report') return await runReport(documents, { tables, where: dynamo.description, target: queryTargetOf(values, tables, env), ...request }, io);
    return await listReplicas(documents, tables, request, dynamo.description, io);
  } catch (error) {
    if (!(error instanceof StoreError) || error.reason !== 'table-missing') throw error;
    io.err(`${missingTableSentence(error.table, tables, values, dynamo.description)}\n`);
    return 1;
  } finally {
    await dynamo.close();
  }
}

/**
 * A query never creates a table (an empty new one would answer "0 replicas"): it names the one
 * missing, where, and the sync that would create and fill it, with this query's target flags.
 */
function missingTableSentence(table: string, tables: TableNames, values: { local?: boolean; endpoint?: string; [flag: string]: unknown }, where: string): string {
  const key = TABLE_SETTINGS.find((setting) => tables[settingSpec(setting).field.slice('tables.'.length) as keyof TableNames] === table);
  const flag = key === undefined ? '--table' : `--${settingSpec(key).flag?.name ?? 'table'}`;
  const target = values.local ? ['--local'] : values.endpoint !== undefined ? ['--endpoint', values.endpoint, '--create-tables'] : undefined;
  const fix = target
    ? `run a sync into it first (${npmCommand('sync', [...target, ...tableFlagsGiven(values)])})`
    : 'deploy the stack (npx cdk deploy) and let it sync';
  return `The table "${table}" does not exist on ${where}: ${fix}, or name an existing table with ${flag}.`;
}

function parseRequest(values: ReturnType<typeof parseFlags<typeof QUERY_FLAGS>>['values'], positionals: string[], isTerminal: boolean): QueryRequest {
  const [first, ...rest] = positionals;
  const mode = first === undefined ? 'list' : first === 'history' || first === 'report' ? first : undefined;
  if (mode === undefined) {
    throw new InputError(`Unexpected argument "${first}": query takes filters as flags, or history REPLICA_ID, or report (see npm run query -- --help).`);
  }
  const filterFlags = FILTER_FLAGS.filter((flag) => values[flag] !== undefined).map((flag) => `--${flag}`);
  if (mode !== 'list' && filterFlags.length > 0) {
    const many = filterFlags.length > 1;
    throw new InputError(`${filterFlags.join(', ')} ${many ? 'filter' : 'filters'} the list of replicas, not ${mode}: leave ${many ? 'them' : 'it'} out.`);
  }
  if (values.html !== undefined && mode !== 'report') {
    throw new InputError(`--html belongs to the report: npm run query -- report --html ${values.html}.`);
  }
  if (mode === 'history' && rest.length !== 1) {
    throw new InputError('history needs exactly one replica id: npm run query -- history r783537ef5.');
  }
  if (mode === 'report' && rest.length > 0) {
    throw new InputError(`report takes no arguments, but got "${rest.join(' ')}": see npm run query -- --help.`);
  }
  if (mode === 'report' && values.format === 'csv') {
    throw new InputError('The report prints as table (text) or json; for CSV, list the replicas with npm run query -- --format csv.');
  }
  const format = parseFormat(values.format, isTerminal);
  if (mode === 'history') return { mode, format, replicaId: rest[0] as string };
  if (mode === 'report') return { mode, format, ...(values.html === undefined ? {} : { htmlFile: parseHtmlPath(values.html) }) };
  return { mode, format, filters: parseFilters(values) };
}

async function listReplicas(
  documents: DynamoDBDocumentClient,
  tables: TableNames,
  request: { format: Format; filters: ReplicaFilters },
  where: string,
  io: QueryIo,
): Promise<number> {
  const plan = planReplicaRead(request.filters, tables.replicas);
  const items = sortedByCreatedAt(await readPlan(documents, plan));
  io.out(formatRows(items.map(orderReplicaAttributes), request.format, { table: REPLICA_TABLE_COLUMNS, csv: REPLICA_CSV_COLUMNS }));
  io.err(`${items.length} replica${items.length === 1 ? '' : 's'} from ${tables.replicas} on ${where}, read with ${plan.description}.\n`);
  return 0;
}

async function showHistory(documents: DynamoDBDocumentClient, tables: TableNames, replicaId: string, format: Format, io: QueryIo): Promise<number> {
  const entries = toHistory(await readEvents(documents, tables.events, replicaId), tables.replicas);
  if (entries.length === 0) {
    const replica = await readReplica(documents, tables.replicas, replicaId);
    io.err(
      replica
        ? `Replica ${visibleText(replicaId)} has no recorded history in ${tables.events}: it was last changed before the events table existed.\n`
        : `No replica ${visibleText(replicaId)} in ${tables.replicas}: check the id (npm run query -- --all --name TEXT finds one by name).\n`,
    );
    return replica ? 0 : 1;
  }
  io.out(formatRows(entries as unknown as Item[], format, { table: EVENT_COLUMNS.slice(1), csv: EVENT_COLUMNS }));
  return 0;
}

/** Only the table names: a query needs no API key or sync tuning, and must not fail over them. */
function tableNames(values: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv): TableNames {
  return settingsFrom(rawSettingsFromFlags(values), env, TABLE_SETTINGS).tables;
}

function parseHtmlPath(file: string): string {
  if (!file.trim() || file.startsWith('-')) {
    throw new InputError('--html needs a file name to write the page to, like --html report.html.');
  }
  return path.resolve(file);
}

/**
 * Oldest first, as the API lists them; ties (and items without created_at) by id, so output is
 * stable. Each item's key is made once, not at every comparison.
 */
function sortedByCreatedAt(items: Item[]): Item[] {
  const keyed = items.map((item) => ({ item, key: `${typeof item.created_at === 'string' ? item.created_at : ''}\u0000${String(item.replica_id)}` }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map(({ item }) => item);
}
