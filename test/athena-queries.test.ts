/**
 * The saved questions as Athena runs them (lib/athena-queries.ts): each gets a WITH list naming
 * exactly the tables and views it reads, mapped to the connector's catalog, merged with its own
 * WITH list, its comment kept on top. Pure text: no Athena here (docs/analysts.md says so).
 */
import { describe, expect, it } from 'vitest';
import { savedQuestions, savedViews } from '../analytics/saved-questions.js';
import { athenaStatement, qualifiedName, referencedNames } from '../lib/athena-queries.js';

const TABLES = {
  replicas: '"cat"."default"."tavus-replicas"',
  events: '"cat"."default"."tavus-replica-events"',
  runs: '"cat"."default"."tavus-replica-sync-runs"',
};
const HISTORY_VIEW = "-- One row per interval a replica held a status\nSELECT replica_id, \"to\" AS status, \"at\" AS valid_from, NULL AS valid_to\nFROM events\nWHERE \"type\" = 'status_changed'\n-- trailing comment\n;\n";
const NAMES = { tables: TABLES, views: { status_history: HISTORY_VIEW } };
const KNOWN = ['replicas', 'events', 'runs', 'status_history'];

/** The names a wrapped statement defines in its leading WITH list, in order. */
const defined = (sql: string) => [...sql.matchAll(/^(\w+) AS \(/gm)].map((m) => m[1]);

describe('qualifiedName', () => {
  it('quotes each part and doubles a quote inside one', () => {
    expect(qualifiedName('cat', 'default', 'tavus-replicas')).toBe('"cat"."default"."tavus-replicas"');
    expect(qualifiedName('a"b')).toBe('"a""b"');
  });
});

describe('athenaStatement with a condition on a table', () => {
  it('keeps only the rows that meet it, for that table alone', () => {
    const wrapped = athenaStatement('SELECT count(*) FROM runs, replicas', { ...NAMES, where: { runs: "run_id NOT LIKE 'lease#%'" } });
    expect(wrapped).toContain(`runs AS (SELECT * FROM ${TABLES.runs} WHERE run_id NOT LIKE 'lease#%')`);
    expect(wrapped).toContain(`replicas AS (SELECT * FROM ${TABLES.replicas})`);
  });
});

describe('referencedNames', () => {
  it('finds table names wherever a statement reads them, in any case or quoted', () => {
    expect(referencedNames('SELECT * FROM Replicas r JOIN "events" e ON r.replica_id = e.replica_id', KNOWN)).toEqual(new Set(['replicas', 'events']));
    expect(referencedNames('SELECT count(*) FROM runs, status_history', KNOWN)).toEqual(new Set(['runs', 'status_history']));
  });

  it('ignores a name in a string, a comment, an alias being defined, a function call or a longer word', () => {
    const sql = [
      '-- replicas by week, from the events',
      "SELECT /* runs */ count(*) AS replicas, 'events' AS kind, runs_total, status_history_x",
      "FROM other WHERE x = 'it''s replicas'",
    ].join('\n');
    expect(referencedNames(sql, KNOWN)).toEqual(new Set());
    expect(referencedNames('SELECT events(1) FROM t', KNOWN)).toEqual(new Set());
  });
});

describe('athenaStatement', () => {
  it('puts a CTE for each table read, and only those, after the leading comment', () => {
    const question = '-- Failures per week\nSELECT count(*) AS replicas\nFROM events\nWHERE "to" = \'error\'\n';
    const wrapped = athenaStatement(question, NAMES);
    expect(wrapped).toBe(
      `-- Failures per week\nWITH\nevents AS (SELECT * FROM ${TABLES.events})\nSELECT count(*) AS replicas\nFROM events\nWHERE "to" = 'error'\n`,
    );
  });

  it('leaves a statement that reads none of the names as it is', () => {
    expect(athenaStatement('-- Constant\nSELECT 1\n', NAMES)).toBe('-- Constant\nSELECT 1\n');
  });

  it('adds a view with the tables it reads, the tables first, and closes the view on a line of its own', () => {
    const wrapped = athenaStatement('-- Intervals\nSELECT * FROM status_history JOIN replicas USING (replica_id)\n', NAMES);
    expect(defined(wrapped)).toEqual(['replicas', 'events', 'status_history']);
    // A view after a view it reads, whatever order they are known in.
    const chained = { tables: TABLES, views: { late: 'SELECT * FROM early', early: 'SELECT * FROM runs' } };
    expect(defined(athenaStatement('SELECT * FROM late', chained))).toEqual(['runs', 'early', 'late']);
    // The view's trailing comment cannot swallow the closing parenthesis; its `;` is gone.
    expect(wrapped).toContain('WHERE "type" = \'status_changed\'\n-- trailing comment\n)');
    expect(wrapped).not.toContain(';');
  });

  it('merges its CTEs into a question that opens with its own WITH (RECURSIVE too), leaving its own names to it', () => {
    const question = '-- Own CTEs\nWITH weekly AS (SELECT * FROM events), replicas_by_type AS (SELECT replica_type FROM replicas)\nSELECT * FROM weekly\n';
    const wrapped = athenaStatement(question, NAMES);
    expect(wrapped.match(/\bWITH\b/g)).toHaveLength(1);
    expect(wrapped).toBe(
      `-- Own CTEs\nWITH\nreplicas AS (SELECT * FROM ${TABLES.replicas}),\nevents AS (SELECT * FROM ${TABLES.events}), weekly AS (SELECT * FROM events), replicas_by_type AS (SELECT replica_type FROM replicas)\nSELECT * FROM weekly\n`,
    );
    const recursive = athenaStatement('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT * FROM n, runs', NAMES);
    expect(recursive.startsWith(`WITH RECURSIVE\nruns AS (SELECT * FROM ${TABLES.runs}), n(i) AS`)).toBe(true);
    const shadowing = athenaStatement('WITH runs AS (SELECT 1 AS x) SELECT * FROM runs', NAMES);
    expect(shadowing).toBe('WITH runs AS (SELECT 1 AS x) SELECT * FROM runs');
  });

  it('refuses a statement that is only comments, and views that read each other in a circle', () => {
    expect(() => athenaStatement('-- nothing\n', NAMES)).toThrow(/must hold a statement/);
    const circular = { tables: TABLES, views: { a: 'SELECT * FROM b', b: 'SELECT * FROM a' } };
    expect(() => athenaStatement('SELECT * FROM a', circular)).toThrow(/refers to itself/);
  });

  it('gives every saved question a CTE for exactly the names it reads, each defined once', () => {
    const views = Object.fromEntries(savedViews().map((view) => [view.name, view.sql]));
    const names = { tables: TABLES, views };
    const known = [...Object.keys(TABLES), ...Object.keys(views)];
    for (const question of savedQuestions()) {
      const wrapped = athenaStatement(question.sql, names);
      expect(wrapped.split('\n')[0], question.name).toBe(question.sql.split('\n')[0]);
      const cteNames = defined(wrapped).filter((name) => known.includes(name as string));
      expect(new Set(cteNames).size, question.name).toBe(cteNames.length);
      // Every name the question reads, directly or through a view, has its CTE; no other does.
      const reached = new Set(referencedNames(question.sql, known));
      for (const name of [...reached]) if (views[name]) for (const inner of referencedNames(views[name], known)) reached.add(inner);
      expect(new Set(cteNames), question.name).toEqual(reached);
      for (const name of cteNames) {
        if (name! in TABLES) expect(wrapped, question.name).toContain(`${name} AS (SELECT * FROM ${TABLES[name as keyof typeof TABLES]})`);
      }
    }
  });
});
