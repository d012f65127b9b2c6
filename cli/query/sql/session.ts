/**
 * The DuckDB side of `query sql` and `query export`: an in-memory database holding copies of the
 * sync's tables, the `status_history` view, the Trino macros, and a lock-down before a person's
 * statement runs (no file or network access, settings frozen), so a statement can change nothing
 * but the copy and read nothing but the tables.
 */
import { DuckDBConnection, DuckDBInstance, DuckDBTypeId, type DuckDBAppender } from '@duckdb/node-api';
import { InputError } from '../../../functions/engine/errors.js';
import { savedViews } from '../../../analytics/saved-questions.js';
import { quoteIdentifier, type ColumnTable } from './columns.js';
import { SQL_VIEWS, type SqlTable } from './referenced-tables.js';
import { TRINO_MACROS } from './trino-functions.js';
import type { Item } from '../types.js';

/** A statement's answer: its column names (made unique) and one object per row. */
export interface SqlAnswer {
  columns: string[];
  rows: Item[];
}

export class SqlSession {
  private readonly loaded = new Set<SqlTable>();
  private locked = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  /** An empty in-memory database with the Trino macros. */
  static async open(): Promise<SqlSession> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    // Athena answers in UTC: weeks and months start at UTC midnight here too, wherever this runs.
    await connection.run("SET TimeZone = 'UTC'");
    for (const macro of TRINO_MACROS) await connection.run(macro);
    return new SqlSession(instance, connection);
  }

  has(table: SqlTable): boolean {
    return this.loaded.has(table);
  }

  /** Creates `table` from collected columns (the Appender: the fastest way in), then the views it completes. */
  async load(table: SqlTable, data: ColumnTable): Promise<void> {
    const columns = data.columns.map((column) => `${quoteIdentifier(column.name)} ${column.type}`);
    await this.connection.run(`CREATE TABLE ${table} (${columns.length > 0 ? columns.join(', ') : '"(no attributes)" VARCHAR'})`);
    const appender = await this.connection.createAppender(table);
    try {
      for (let row = 0; row < data.rows; row += 1) {
        for (const column of data.columns) appendValue(appender, column.type, column.values[row]);
        appender.endRow();
      }
    } finally {
      appender.closeSync();
    }
    this.loaded.add(table);
    await this.createViewsReady();
  }

  /** Views whose tables are all loaded now (status_history once events is). */
  private async createViewsReady(): Promise<void> {
    const sources = new Map(savedViews().map((view) => [view.name, view.sql]));
    for (const [view, tables] of Object.entries(SQL_VIEWS)) {
      const sql = sources.get(view);
      if (sql === undefined || !tables.every((table) => this.loaded.has(table))) continue;
      await this.connection.run(`CREATE OR REPLACE VIEW ${view} AS ${sql}`);
    }
  }

  /**
   * No file or network access from here on (read_csv, COPY ... TO, ATTACH, INSTALL and LOAD are
   * refused), and the settings locked so a statement cannot turn it back on.
   */
  async lockDown(): Promise<void> {
    if (this.locked) return;
    await this.connection.run('SET autoinstall_known_extensions = false');
    await this.connection.run('SET autoload_known_extensions = false');
    await this.connection.run('SET enable_external_access = false');
    await this.connection.run('SET lock_configuration = true');
    this.locked = true;
  }

  /** Runs the session's own statement (export's COPY), before lock-down. */
  async runOwn(sql: string): Promise<void> {
    await this.connection.run(sql);
  }

  /** Every row of a loaded table, for export. */
  async rowsOf(table: SqlTable): Promise<SqlAnswer> {
    return this.answer(`SELECT * FROM ${table}`);
  }

  /** Runs one statement of a person's; a mistake in it is bad input, in DuckDB's words. */
  async ask(sql: string): Promise<SqlAnswer> {
    if (!this.locked) throw new Error('SqlSession.ask before lockDown: a person\'s statement must not reach files or the network.');
    try {
      const statements = await this.connection.extractStatements(sql);
      if (statements.count === 0) throw new InputError('The SQL holds no statement: write one, like SELECT count(*) FROM replicas.');
      if (statements.count > 1) throw new InputError(`The SQL holds ${statements.count} statements: run one at a time.`);
      return await this.answer(sql);
    } catch (error) {
      if (error instanceof InputError) throw error;
      throw new InputError(sqlErrorText(error));
    }
  }

  private async answer(sql: string): Promise<SqlAnswer> {
    const reader = await this.connection.runAndReadAll(sql);
    const columns = uniqueNames(reader.columnNames());
    const numeric = reader.columnTypes().map((type) => NUMBERS_AS_TEXT.has(type.typeId));
    const rows = reader.getRowsJson().map((values) =>
      Object.fromEntries(columns.map((name, index) => [name, numeric[index] ? asNumber(values[index]) : values[index]])),
    );
    return { columns, rows };
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

function appendValue(appender: DuckDBAppender, type: ColumnTable['columns'][number]['type'], value: unknown): void {
  if (value === undefined || value === null) appender.appendNull();
  else if (type === 'VARCHAR') appender.appendVarchar(value as string);
  else if (type === 'BIGINT') appender.appendBigInt(BigInt(value as number));
  else if (type === 'DOUBLE') appender.appendDouble(value as number);
  else appender.appendBoolean(value as boolean);
}

/** Types the JSON reader hands over as text (to keep precision): numbers again when exact. */
const NUMBERS_AS_TEXT = new Set<DuckDBTypeId>([
  DuckDBTypeId.BIGINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT, DuckDBTypeId.DECIMAL,
]);

function asNumber(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const number = Number(value);
  return Number.isFinite(number) && (!Number.isInteger(number) || Number.isSafeInteger(number)) ? number : value;
}

/** `SELECT a.x, b.x` names two columns x: the second becomes x_2, so no value is lost. */
function uniqueNames(names: string[]): string[] {
  const taken = new Set<string>();
  return names.map((name) => {
    let candidate = name;
    for (let n = 2; taken.has(candidate); n += 1) candidate = `${name}_${n}`;
    taken.add(candidate);
    return candidate;
  });
}

/**
 * DuckDB's message in a line or two: its first line (what is wrong) and, when it points into the
 * statement, where. Control characters (the statement may quote hostile text) become spaces.
 */
export function sqlErrorText(error: unknown): string {
  const lines = String((error as Error)?.message ?? error)
    .split('\n')
    .map((line) => line.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').trimEnd())
    .filter((line) => line.trim() !== '');
  // extractStatements wraps the parser's message; the parser's own words are the useful part.
  const first = (lines[0] ?? 'DuckDB refused the statement.').replace(/^Failed to extract statements: /, '').slice(0, 400);
  const where = lines.find((line) => line.startsWith('LINE '));
  return `SQL error: ${first}${where ? `\n${where.slice(0, 200)}` : ''}`;
}
