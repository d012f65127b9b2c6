/**
 * Which of the sync's tables a statement names, found before anything is read, so a question
 * about replicas never scans the events table. The statement's words are matched outside string
 * literals and comments; a column or alias that happens to share a table's name only costs a scan.
 */
import { savedViews } from '../../../analytics/saved-questions.js';
import { sqlTokens } from '../../../analytics/sql-tokens.js';

export const SQL_TABLES = ['replicas', 'events', 'runs'] as const;
export type SqlTable = (typeof SQL_TABLES)[number];

/** The tables among a statement's words, without looking through views. */
function tablesAmong(words: ReadonlySet<string>): SqlTable[] {
  return SQL_TABLES.filter((table) => words.has(table));
}

/** The views over those tables (analytics/views/), and the tables each reads, read off its SQL. */
export const SQL_VIEWS: Record<string, readonly SqlTable[]> = Object.fromEntries(savedViews().map((view) => [view.name, tablesAmong(new Set(identifiersIn(view.sql)))]));

/** The tables (not views) `sql` names, directly or through a view. */
export function tablesNamedIn(sql: string): Set<SqlTable> {
  const words = new Set(identifiersIn(sql));
  const named = new Set<SqlTable>(tablesAmong(words));
  for (const [view, tables] of Object.entries(SQL_VIEWS)) if (words.has(view)) for (const table of tables) named.add(table);
  return named;
}

/**
 * Bare and double-quoted identifiers, lower-cased (DuckDB resolves even quoted names without
 * regard to case); string literals and comments are skipped.
 */
function identifiersIn(sql: string): string[] {
  return sqlTokens(sql).flatMap((token) => (token.kind === 'other' ? [] : [token.text.toLowerCase()]));
}
