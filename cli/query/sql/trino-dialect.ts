/**
 * DuckDB syntax Athena (Trino) does not take, looked for in the saved questions and views so each
 * file keeps running in both places. Text in string literals and comments is not syntax.
 */

const DUCKDB_ONLY: Array<{ pattern: RegExp; what: string }> = [
  { pattern: /::/, what: ':: casts (write CAST(x AS type))' },
  { pattern: /\bstrftime\s*\(/i, what: 'strftime (Trino: date_format)' },
  { pattern: /\bstrptime\s*\(/i, what: 'strptime (Trino: date_parse)' },
  { pattern: /\bepoch_ms\s*\(/i, what: 'epoch_ms (Trino: from_unixtime)' },
  { pattern: /\bread_\w+\s*\(/i, what: 'read_* table functions (files are not tables in Athena)' },
  { pattern: /\bilike\b/i, what: 'ILIKE (write lower(x) LIKE ...)' },
  { pattern: /\bqualify\b/i, what: 'QUALIFY (filter a window in a subquery)' },
  { pattern: /->>?/, what: 'JSON arrows (Trino: json_extract_scalar)' },
  { pattern: /\*\s*(exclude|replace)\s*\(/i, what: 'SELECT * EXCLUDE/REPLACE' },
  { pattern: /^\s*from\b/i, what: 'a statement that opens with FROM' },
];

/** What in `sql` is DuckDB-only, one phrase per kind; empty when it is all Trino. */
export function duckdbOnlySyntax(sql: string): string[] {
  const code = sql.replace(/'(?:[^']|'')*'|--[^\n]*|\/\*[\s\S]*?\*\//g, ' ');
  return DUCKDB_ONLY.filter(({ pattern }) => pattern.test(code)).map(({ what }) => what);
}
