/**
 * Which of the sync's tables a statement names, found before anything is read, so a question
 * about replicas never scans the events table. The statement's words are matched outside string
 * literals and comments; a column or alias that happens to share a table's name only costs a scan.
 */

export const SQL_TABLES = ['replicas', 'events', 'runs'] as const;
export type SqlTable = (typeof SQL_TABLES)[number];

/** The views over those tables, and the tables each reads. */
export const SQL_VIEWS: Record<string, readonly SqlTable[]> = { status_history: ['events'] };

/** The tables (not views) `sql` names, directly or through a view. */
export function tablesNamedIn(sql: string): Set<SqlTable> {
  const words = new Set(identifiersIn(sql));
  const named = new Set<SqlTable>();
  for (const table of SQL_TABLES) if (words.has(table)) named.add(table);
  for (const [view, tables] of Object.entries(SQL_VIEWS)) if (words.has(view)) for (const table of tables) named.add(table);
  return named;
}

/** Bare and double-quoted identifiers, lower-cased; string literals and comments are skipped. */
function identifiersIn(sql: string): string[] {
  const words: string[] = [];
  const token = /'(?:[^']|'')*'|--[^\n]*|\/\*[\s\S]*?\*\/|"((?:[^"]|"")*)"|([A-Za-z_][A-Za-z0-9_$]*)/g;
  for (const match of sql.matchAll(token)) {
    const quoted = match[1];
    const bare = match[2];
    if (quoted !== undefined) words.push(quoted.replaceAll('""', '"').toLowerCase());
    else if (bare !== undefined) words.push(bare.toLowerCase());
  }
  return words;
}
