/**
 * `npm run query -- sql`: one SQL statement (or a prompt of many) over in-memory copies of the
 * sync's tables, each read with a parallel Scan only when the statement names it.
 */
import { readFileSync } from 'node:fs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { InputError } from '../../../functions/engine/errors.js';
import type { TableNames } from '../../../functions/engine/contract/tables.js';
import { savedQuestions, type SavedQuestion } from '../../../analytics/saved-questions.js';
import { TABLE_FLAGS, TABLE_SETTINGS, parseFlags, rawSettingsFromFlags, settingsFrom } from '../../args.js';
import { openDynamo, type OpenedDynamo } from '../../dynamo.js';
import { formatRows, parseFormat, type Column, type Format } from '../format.js';
import type { AnalyticsIo } from './io.js';
import { readTable } from './read-tables.js';
import { tablesNamedIn, type SqlTable } from './referenced-tables.js';
import { SqlSession, type SqlAnswer } from './session.js';

export const SQL_HELP = `Usage: npm run query -- sql "SELECT ..." [--format table|csv|json]
       npm run query -- sql --file PATH          (--file - reads the statement from stdin)
       npm run query -- sql --saved [NAME]       (lists the saved questions, or runs one)
       npm run query -- sql                      (on a terminal: a prompt; load once, ask many)

One SQL statement (DuckDB, in this process) over in-memory copies of the tables:
  replicas        one row per replica item (every attribute is a column; timestamps are ISO text)
  events          one row per history event
  runs            one row per run record
  status_history  view: replica_id, status, valid_from, valid_to (NULL while current)
Only the tables a statement names are read, each with a parallel Scan. The copy is yours to
change; DynamoDB is never written, and files and the network are out of reach.

Output:
  --format table|csv|json    default: table on a terminal, csv when piped; json is one row per line

Where:
  --table NAME               REPLICAS_TABLE        default tavus-replicas
  --events-table NAME        REPLICA_EVENTS_TABLE  default tavus-replica-events
  --runs-table NAME          SYNC_RUNS_TABLE       default tavus-replica-sync-runs
  --endpoint URL             DYNAMODB_ENDPOINT     a DynamoDB endpoint, e.g. DynamoDB Local
  --local                                          the embedded DynamoDB Local with data under .data/

Exit status: 0 answered (even with no rows), 1 DynamoDB failed, 2 bad input (a mistake in the SQL too).`;

const SQL_FLAGS = {
  ...TABLE_FLAGS,
  format: { type: 'string' },
  file: { type: 'string' },
  saved: { type: 'boolean' },
} as const;

/** Widest a table cell gets on a terminal; CSV and JSON are never cut. */
const CELL_WIDTH = 48;

type SqlRequest =
  | { mode: 'list-saved' }
  | { mode: 'statement'; sql: string; format: Format }
  | { mode: 'prompt'; format: Format };

export async function runSql(args: string[], env: NodeJS.ProcessEnv, io: AnalyticsIo): Promise<number> {
  const { values, positionals } = parseFlags(args, SQL_FLAGS, 'query -- sql');
  if (values.help) {
    io.out(`${SQL_HELP}\n`);
    return 0;
  }
  const request = parseRequest(values, positionals, io);
  if (request.mode === 'list-saved') {
    io.out(savedListing(savedQuestions()));
    return 0;
  }
  const tables = settingsFrom(rawSettingsFromFlags(values), env, TABLE_SETTINGS).tables;
  const target = { local: values.local, endpoint: values.endpoint, createTables: values['create-tables'] };
  const session = await SqlSession.open();
  let dynamo: OpenedDynamo | undefined;
  const source = {
    tables,
    /** DynamoDB, opened on the first statement that names a table (SELECT 1 needs none). */
    documents: async (): Promise<{ documents: DynamoDBDocumentClient; where: string }> => {
      dynamo ??= await openDynamo(target, tables, env);
      return { documents: DynamoDBDocumentClient.from(dynamo.client), where: dynamo.description };
    },
  };
  try {
    if (request.mode === 'prompt') return await prompt(session, source, request.format, io);
    const answer = await answerOne(session, source, request.sql);
    io.out(formatAnswer(answer.answer, request.format));
    io.err(`${answer.answer.rows.length} row${answer.answer.rows.length === 1 ? '' : 's'}${answer.read}.\n`);
    return 0;
  } finally {
    session.close();
    await dynamo?.close();
  }
}

function parseRequest(values: ReturnType<typeof parseFlags<typeof SQL_FLAGS>>['values'], positionals: string[], io: AnalyticsIo): SqlRequest {
  const sources = [positionals.length > 0 && 'a statement', values.file !== undefined && '--file', values.saved && '--saved'].filter(Boolean);
  if (sources.length > 1 && !(values.saved && values.file === undefined)) {
    throw new InputError(`${sources.join(' and ')} each give the SQL to run: pass one of them.`);
  }
  if (values.saved) {
    if (positionals.length === 0) return { mode: 'list-saved' };
    if (positionals.length > 1) throw new InputError('--saved runs one question: npm run query -- sql --saved live-by-status.');
    return { mode: 'statement', sql: savedQuestion(positionals[0]!).sql, format: parseFormat(values.format, io.isTerminal) };
  }
  const format = parseFormat(values.format, io.isTerminal);
  if (values.file !== undefined) return { mode: 'statement', sql: readStatementFile(values.file), format };
  if (positionals.length > 0) return { mode: 'statement', sql: positionals.join(' '), format };
  if (io.prompt) return { mode: 'prompt', format };
  throw new InputError('sql needs a statement: npm run query -- sql "SELECT count(*) FROM replicas", or --file PATH, or --saved NAME.');
}

function savedQuestion(name: string): SavedQuestion {
  const questions = savedQuestions();
  const question = questions.find((candidate) => candidate.name === name);
  if (!question) {
    throw new InputError(`No saved question "${name}": npm run query -- sql --saved lists them (${questions.map((q) => q.name).join(', ')}).`);
  }
  return question;
}

/** One a line: the name, then the description. */
export function savedListing(questions: SavedQuestion[]): string {
  const width = Math.max(0, ...questions.map((question) => question.name.length));
  return questions.map((question) => `${question.name.padEnd(width)}  ${question.description}\n`).join('');
}

function readStatementFile(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new InputError(`Cannot read the SQL from ${file === '-' ? 'stdin' : file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): check the path.`);
  }
}

interface TableSource {
  tables: TableNames;
  documents(): Promise<{ documents: DynamoDBDocumentClient; where: string }>;
}

/** Loads the tables `sql` names that the session lacks, then asks it; `read` says what was read. */
async function answerOne(session: SqlSession, source: TableSource, sql: string): Promise<{ answer: SqlAnswer; read: string }> {
  const missing = [...tablesNamedIn(sql)].filter((table) => !session.has(table));
  let read = '';
  if (missing.length > 0) {
    const { documents, where } = await source.documents();
    const data = await Promise.all(missing.map((table) => readTable(documents, source.tables, table)));
    for (const [index, table] of missing.entries()) await session.load(table, data[index]!);
    read = ` (read ${missing.map((table: SqlTable, index) => `${source.tables[table]}: ${data[index]!.rows} items`).join(', ')} on ${where})`;
  }
  await session.lockDown();
  return { answer: await session.ask(sql), read };
}

function formatAnswer(answer: SqlAnswer, format: Format): string {
  const columns: Column[] = answer.columns.map((name) => ({ name, maxWidth: CELL_WIDTH }));
  return formatRows(answer.rows, format, { table: columns, csv: answer.columns.map((name) => ({ name })) });
}

/**
 * The prompt: a statement ends with `;` at a line's end (or an empty line); tables load the first
 * time a statement names them and stay. A mistake prints its message and the prompt goes on.
 */
async function prompt(session: SqlSession, source: TableSource, format: Format, io: AnalyticsIo): Promise<number> {
  io.err('SQL over replicas, events, runs and status_history. End a statement with ; (or an empty line); Ctrl-D or .exit to leave.\n');
  let buffer = '';
  for await (const line of io.prompt!) {
    if (buffer === '' && ['.exit', '.quit', 'exit', 'quit', '\\q'].includes(line.trim())) break;
    buffer += `${line}\n`;
    if (!(line.trim() === '' || line.trimEnd().endsWith(';')) || buffer.trim() === '') {
      if (buffer.trim() === '') buffer = '';
      continue;
    }
    const sql = buffer;
    buffer = '';
    try {
      const { answer, read } = await answerOne(session, source, sql);
      io.out(formatAnswer(answer, format));
      io.err(`${answer.rows.length} row${answer.rows.length === 1 ? '' : 's'}${read}.\n`);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      io.err(`${error.message}\n`);
    }
  }
  return 0;
}
