/**
 * A SQL statement's tokens, for the two places that read which tables a statement names: the query
 * CLI (which tables to load into DuckDB) and the stack's Athena side (which CTEs a saved question
 * needs). Pure text: comments, string literals and whitespace are told apart from identifiers.
 */

export type SqlToken = { kind: 'word' | 'quoted' | 'other'; text: string; start: number; end: number };

/**
 * The statement's tokens, with comments, string literals and whitespace left out: a table name
 * inside `'...'` or a `-- comment` is not a reference. Quoted identifiers keep their inner text.
 */
export function sqlTokens(sql: string): SqlToken[] {
  const found: SqlToken[] = [];
  let at = 0;
  while (at < sql.length) {
    const rest = sql.slice(at);
    const skip = /^(\s+|--[^\n]*|\/\*[\s\S]*?(\*\/|$))/.exec(rest);
    if (skip) {
      at += skip[0].length;
      continue;
    }
    const literal = /^'(?:[^']|'')*'?/.exec(rest);
    const quoted = /^"((?:[^"]|"")*)"?/.exec(rest);
    // `$` may follow the first character (DuckDB allows it; no saved question uses it).
    const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(rest);
    if (rest.startsWith("'") && literal) {
      found.push({ kind: 'other', text: literal[0], start: at, end: at + literal[0].length });
      at += literal[0].length;
    } else if (rest.startsWith('"') && quoted) {
      found.push({ kind: 'quoted', text: quoted[1]!.replaceAll('""', '"'), start: at, end: at + quoted[0].length });
      at += quoted[0].length;
    } else if (word) {
      found.push({ kind: 'word', text: word[0], start: at, end: at + word[0].length });
      at += word[0].length;
    } else {
      found.push({ kind: 'other', text: sql[at]!, start: at, end: at + 1 });
      at += 1;
    }
  }
  return found;
}

/** An identifier token's name as Trino resolves it: unquoted names are case-insensitive. */
export const trinoName = (token: SqlToken): string | undefined =>
  token.kind === 'word' ? token.text.toLowerCase() : token.kind === 'quoted' ? token.text : undefined;
