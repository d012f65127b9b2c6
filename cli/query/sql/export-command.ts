/**
 * `npm run query -- export --out DIR [--format parquet|csv]`: the three tables as files for BI
 * tools and spreadsheets, DIR/replicas.parquet, events.parquet, runs.parquet (or .csv: a header,
 * and a UTF-8 byte-order mark so Excel reads names right). Columns as `query sql` shows them.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { InputError } from '../../../functions/engine/errors.js';
import { TABLE_FLAGS, TABLE_SETTINGS, parseFlags, rawSettingsFromFlags, settingsFrom } from '../../args.js';
import { openDynamo } from '../../dynamo.js';
import { formatCsv } from '../format.js';
import type { AnalyticsIo } from './io.js';
import { readTable } from './read-tables.js';
import { SQL_TABLES } from './referenced-tables.js';
import { SqlSession } from './session.js';

export const EXPORT_HELP = `Usage: npm run query -- export --out DIR [--format parquet|csv]

Writes the replicas, events and runs tables (run records only) as DIR/replicas.parquet,
DIR/events.parquet and DIR/runs.parquet, or with --format csv as .csv files (a header row, UTF-8
with a byte-order mark so spreadsheets read names right). Existing files of those names are replaced.

Where: --table, --events-table, --runs-table, --endpoint URL, --local, as for npm run query.

Exit status: 0 written, 1 DynamoDB failed or a file could not be written, 2 bad input.`;

const EXPORT_FLAGS = { ...TABLE_FLAGS, out: { type: 'string' }, format: { type: 'string' } } as const;

export const EXPORT_FORMATS = ['parquet', 'csv'] as const;
type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Rows per CSV write: bounded strings, whatever the table's size. */
const CSV_BATCH = 5_000;

export async function runExport(args: string[], env: NodeJS.ProcessEnv, io: AnalyticsIo): Promise<number> {
  const { values, positionals } = parseFlags(args, EXPORT_FLAGS, 'query -- export');
  if (values.help) {
    io.out(`${EXPORT_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new InputError(`Unexpected argument "${positionals[0]}": export takes --out DIR and --format parquet|csv.`);
  if (!values.out?.trim()) throw new InputError('export needs a folder to write to: npm run query -- export --out exports.');
  const format = (values.format ?? 'parquet') as ExportFormat;
  if (!EXPORT_FORMATS.includes(format)) throw new InputError(`--format for export must be parquet or csv, not "${values.format}".`);
  const dir = path.resolve(values.out);
  const tables = settingsFrom(rawSettingsFromFlags(values), env, TABLE_SETTINGS).tables;

  const dynamo = await openDynamo({ local: values.local, endpoint: values.endpoint, createTables: values['create-tables'] }, tables, env);
  const session = await SqlSession.open();
  try {
    const documents = DynamoDBDocumentClient.from(dynamo.client);
    const data = await Promise.all(SQL_TABLES.map((table) => readTable(documents, tables, table)));
    makeDirectory(dir);
    for (const [index, table] of SQL_TABLES.entries()) {
      await session.load(table, data[index]!);
      const file = path.join(dir, `${table}.${format}`);
      try {
        if (format === 'parquet') await session.runOwn(`COPY ${table} TO ${sqlString(file)} (FORMAT parquet)`);
        else await writeCsv(file, await session.rowsOf(table));
      } catch (error) {
        // Not bad input but a failure of this run (a full disk, a folder made read-only): exit 1.
        io.err(`${file} could not be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message.split('\n', 1)[0]}): choose an --out folder you may write to.\n`);
        return 1;
      }
      io.err(`${data[index]!.rows} rows of ${tables[table]} -> ${path.relative(process.cwd(), file) || file}\n`);
    }
    return 0;
  } finally {
    session.close();
    await dynamo.close();
  }
}

function makeDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new InputError(`Cannot create the folder ${dir} (${(error as NodeJS.ErrnoException).code}): choose another --out.`);
  }
}

/** A string literal for DuckDB: single quotes doubled. */
function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** The rows as CSV behind a UTF-8 byte-order mark, written in batches. */
async function writeCsv(file: string, answer: { columns: string[]; rows: Record<string, unknown>[] }): Promise<void> {
  const columns = answer.columns.map((name) => ({ name }));
  const header = formatCsv([], columns);
  function* chunks(): Generator<string> {
    yield `\uFEFF${header}`;
    for (let start = 0; start < answer.rows.length; start += CSV_BATCH) {
      yield formatCsv(answer.rows.slice(start, start + CSV_BATCH), columns).slice(header.length);
    }
  }
  await pipeline(Readable.from(chunks()), createWriteStream(file));
}
