/**
 * The saved questions as Athena runs them. A question names the tables by their bare names
 * (`replicas`, `events`, `runs`) and the views by theirs (`status_history`), as `query sql` shows
 * them; Athena reaches the same tables through the connector's catalog. So each question is given
 * a WITH list that maps every name it uses to the catalog's table (or to the view's SELECT), merged
 * with the question's own WITH list if it has one. Pure text work: the stack calls it at synth.
 */
import { sqlTokens as tokens, trinoName as nameOf } from '../analytics/sql-tokens.js';

/** What a bare name stands for in Athena: a catalog table, or a view's SELECT over other names. */
export interface AthenaNames {
  /** Bare table name -> fully qualified Athena name, e.g. `replicas` -> `"catalog"."default"."tavus-replicas"`. */
  tables: Record<string, string>;
  /** Bare view name -> the view's SELECT (analytics/views/NAME.sql), which may name tables and other views. */
  views: Record<string, string>;
  /** Bare table name -> a condition its rows must meet (the runs table holds the lease beside the runs). */
  where?: Record<string, string>;
}

/** `"catalog"."schema"."table"`, each part quoted as Trino quotes identifiers (a `"` doubled). */
export function qualifiedName(...parts: string[]): string {
  return parts.map((part) => `"${part.replaceAll('"', '""')}"`).join('.');
}

/**
 * The known names a statement refers to. A name right after `AS` is an alias being defined
 * (`count(*) AS replicas`), and a name followed by `(` is a function: neither reads a table.
 */
export function referencedNames(sql: string, known: Iterable<string>): Set<string> {
  const names = new Set(known);
  const list = tokens(sql);
  const used = new Set<string>();
  list.forEach((token, index) => {
    const name = nameOf(token);
    if (name === undefined || !names.has(name)) return;
    const before = list[index - 1];
    const after = list[index + 1];
    if (before?.kind === 'word' && before.text.toLowerCase() === 'as') return;
    if (after?.text === '(') return;
    used.add(name);
  });
  return used;
}

/** Where the statement proper begins (after leading comments), and whether it opens with its own WITH list. */
function statementStart(sql: string): { start: number; withList?: { afterKeyword: number; ownNames: Set<string> } } {
  const list = tokens(sql);
  const first = list[0];
  if (first === undefined) throw new Error('A saved question must hold a statement, not only comments.');
  if (first.kind !== 'word' || first.text.toLowerCase() !== 'with') return { start: first.start };
  let index = 1;
  if (list[index]?.kind === 'word' && list[index]!.text.toLowerCase() === 'recursive') index += 1;
  // The question's own CTE names: the identifier before each top-level `AS (`.
  const ownNames = new Set<string>();
  let depth = 0;
  for (let i = index; i < list.length; i += 1) {
    const text = list[i]!.text;
    if (text === '(') depth += 1;
    else if (text === ')') depth -= 1;
    else if (depth === 0 && list[i]!.kind === 'word' && text.toLowerCase() === 'as' && list[i + 1]?.text === '(') {
      const name = nameOf(list[i - 1]!);
      if (name !== undefined) ownNames.add(name);
    } else if (depth === 0 && list[i]!.kind === 'word' && /^(select|values|table)$/i.test(text)) break;
  }
  return { start: first.start, withList: { afterKeyword: list[index - 1]!.end, ownNames } };
}

/** A view's SELECT as a CTE body: leading/trailing space and a trailing `;` go. */
const body = (sql: string): string => sql.trim().replace(/;\s*$/, '').trimEnd();

/**
 * The question as Athena runs it: the CTEs for every table and view it names (and every one those
 * views name, views after the tables they read), ahead of its own WITH list if it has one. Its
 * leading comment lines stay on top. A name the question defines itself is left to it.
 */
export function athenaStatement(question: string, names: AthenaNames): string {
  const known = [...Object.keys(names.tables), ...Object.keys(names.views)];
  const { start, withList } = statementStart(question);
  const statement = question.slice(start);
  const own = withList?.ownNames ?? new Set<string>();

  // Every name reached from the question, through views, depth first so a view follows what it reads.
  const ordered: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string) => {
    if (ordered.includes(name) || own.has(name)) return;
    if (visiting.has(name)) throw new Error(`The view ${name} refers to itself through other views; a view must read tables or other views only.`);
    visiting.add(name);
    const view = names.views[name];
    if (view !== undefined) for (const inner of referencedNames(view, known)) if (inner !== name) visit(inner);
    visiting.delete(name);
    ordered.push(name);
  };
  const used = referencedNames(statement, known);
  for (const name of known) if (used.has(name)) visit(name);

  const ctes = ordered.map((name) => {
    const view = names.views[name];
    return view !== undefined ? `${name} AS (\n${body(view)}\n)` : `${name} AS (SELECT * FROM ${names.tables[name]}${names.where?.[name] ? ` WHERE ${names.where[name]}` : ''})`;
  });
  const head = question.slice(0, start);
  if (ctes.length === 0) return question;
  if (withList === undefined) return `${head}WITH\n${ctes.join(',\n')}\n${statement}`;
  const afterKeyword = withList.afterKeyword;
  return `${question.slice(0, afterKeyword)}\n${ctes.join(',\n')},${question.slice(afterKeyword)}`;
}
