/**
 * The analysts' saved questions: one `.sql` file each in analytics/questions/, written in Athena's
 * (Trino's) dialect so the same file runs in `npm run query -- sql --saved NAME` (DuckDB, with the
 * few Trino functions it lacks as macros) and as an Athena named query in the deployed stack. A
 * file opens with a one-line `-- description` comment. Views the questions may use (such as
 * `status_history`) live beside them in analytics/views/, one `CREATE VIEW`-free SELECT each.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export interface SavedQuestion {
  /** The file name without `.sql`: what `--saved NAME` takes. */
  name: string;
  /** The file's opening `-- ` comment line. */
  description: string;
  /** The whole file, comment included. */
  sql: string;
}

const ANALYTICS_DIR = import.meta.dirname;
export const QUESTIONS_DIR = join(ANALYTICS_DIR, 'questions');
export const VIEWS_DIR = join(ANALYTICS_DIR, 'views');

/** Every `.sql` file of `dir`, by name, each with its opening description. */
function sqlFiles(dir: string): SavedQuestion[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      const sql = readFileSync(join(dir, file), 'utf8');
      const first = sql.split('\n', 1)[0] ?? '';
      if (!first.startsWith('-- ')) throw new Error(`${join(dir, file)} must open with a one-line "-- description" comment.`);
      return { name: basename(file, '.sql'), description: first.slice(3).trim(), sql };
    });
}

/** The saved questions, by name. */
export function savedQuestions(): SavedQuestion[] {
  return sqlFiles(QUESTIONS_DIR);
}

/** The views the questions may name (`status_history`), by name: each file is the view's SELECT. */
export function savedViews(): SavedQuestion[] {
  return sqlFiles(VIEWS_DIR);
}
