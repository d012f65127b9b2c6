/**
 * Items as a table: every attribute present in any item becomes a column (the union), typed from
 * the values DynamoDB holds there. Strings stay strings (ISO timestamps too: they sort and compare
 * as text, and Athena's DynamoDB connector shows them so); numbers are BIGINT when every value is a
 * whole number, DOUBLE otherwise; booleans BOOLEAN; maps, lists, sets and binary values are JSON
 * text (VARCHAR). A column holding more than one kind is VARCHAR, numbers and booleans as text.
 */

export type ColumnType = 'VARCHAR' | 'BIGINT' | 'DOUBLE' | 'BOOLEAN';

type Kind = 'string' | 'integer' | 'fraction' | 'boolean' | 'json';

interface ColumnBuilder {
  /** The attribute name as stored: the column's name (quoted wherever it is used). */
  name: string;
  kinds: Set<Kind>;
  /** One entry per row; undefined where the item lacks the attribute or holds NULL. */
  values: unknown[];
}

/** A table's rows, column by column, ready for the appender. */
export interface ColumnTable {
  rows: number;
  columns: Array<{ name: string; type: ColumnType; values: unknown[] }>;
}

/** Collects items page by page; `table()` fixes the columns' names and types. */
export class ColumnCollector {
  private rows = 0;
  private readonly columns = new Map<string, ColumnBuilder>();

  /**
   * @param baseColumns columns every table of this kind has even when empty (a question that
   *   names `status` still runs on an empty table), typed by their values when there are some
   */
  constructor(private readonly baseColumns: readonly string[] = []) {
    for (const name of baseColumns) this.columns.set(name, { name, kinds: new Set(), values: [] });
  }

  add(item: Record<string, unknown>): void {
    const row = this.rows;
    this.rows += 1;
    for (const name in item) {
      const value = item[name];
      if (value === null || value === undefined) continue;
      let column = this.columns.get(name);
      if (!column) {
        column = { name, kinds: new Set(), values: [] };
        this.columns.set(name, column);
      }
      column.kinds.add(kindOf(value));
      column.values[row] = value;
    }
  }

  table(): ColumnTable {
    const taken = new Set<string>();
    const columns = [...this.columns.values()].map((column) => {
      const type = typeOf(column.kinds);
      const values = column.values;
      values.length = this.rows;
      return { name: uniqueName(column.name, taken), type, values: type === 'VARCHAR' ? values.map(textOf) : values };
    });
    return { rows: this.rows, columns };
  }
}

function kindOf(value: unknown): Kind {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'integer' : 'fraction';
  if (typeof value === 'boolean') return 'boolean';
  return 'json';
}

function typeOf(kinds: Set<Kind>): ColumnType {
  if (kinds.size === 1 && kinds.has('boolean')) return 'BOOLEAN';
  if (kinds.size === 1 && kinds.has('integer')) return 'BIGINT';
  if ([...kinds].every((kind) => kind === 'integer' || kind === 'fraction') && kinds.size > 0) return 'DOUBLE';
  return 'VARCHAR';
}

/** A value in a VARCHAR column: strings as they are, anything else as JSON (a Set as its array). */
function textOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  return JSON.stringify(value, (_, inner: unknown) => {
    if (inner instanceof Set) return [...inner];
    if (inner instanceof Uint8Array) return Buffer.from(inner).toString('base64');
    return inner;
  });
}

/**
 * DuckDB's identifiers ignore case, so `Status` and `status` would be one column: a later one
 * gets a `_2` (then `_3`, ...) suffix instead of failing the whole table.
 */
function uniqueName(name: string, taken: Set<string>): string {
  let candidate = name;
  for (let n = 2; taken.has(candidate.toLowerCase()); n += 1) candidate = `${name}_${n}`;
  taken.add(candidate.toLowerCase());
  return candidate;
}

/** An identifier in double quotes, safe for any attribute name. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
