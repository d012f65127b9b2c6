/**
 * Finds `sql` or `export` among `query`'s arguments without loading DuckDB: the query command
 * hands these two over to cli/query/sql/, imported only when asked for, so every other query
 * starts as fast as before.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { TABLE_FLAGS } from '../../args.js';
import type { AnalyticsIo } from './io.js';

export type AnalyticsCommand = 'sql' | 'export';


/**
 * `{ command, args }` with the command word taken out (flags may come before it, as in
 * `query --local sql ...`), or undefined when the first positional argument is neither.
 */
export function analyticsCommandIn(args: string[]): { command: AnalyticsCommand; args: string[] } | undefined {
  // Only the table flags take values before the command word; anything else is parsed later.
  const { tokens } = parseArgs({ args, options: TABLE_FLAGS, strict: false, allowPositionals: true, tokens: true });
  const first = tokens.find((token) => token.kind === 'positional' || token.kind === 'option-terminator');
  if (first?.kind !== 'positional' || (first.value !== 'sql' && first.value !== 'export')) return undefined;
  return { command: first.value, args: args.filter((_, index) => index !== first.index) };
}

/** Runs `query sql` or `query export`, loading DuckDB now. */
export async function runAnalyticsCommand(
  request: { command: AnalyticsCommand; args: string[] },
  env: NodeJS.ProcessEnv,
  io: AnalyticsIo,
): Promise<number> {
  if (request.command === 'sql') {
    const prompt = io.prompt ?? (io.isTerminal && process.stdin.isTTY ? terminalPrompt() : undefined);
    return (await import('./sql-command.js')).runSql(request.args, env, { ...io, prompt });
  }
  return (await import('./export-command.js')).runExport(request.args, env, io);
}

/** Lines typed at `sql> ` on the terminal (the prompt on stderr, so stdout holds only answers). */
async function* terminalPrompt(): AsyncGenerator<string> {
  const lines = createInterface({ input: process.stdin, output: process.stderr, prompt: 'sql> ' });
  try {
    lines.prompt();
    for await (const line of lines) {
      yield line;
      lines.prompt();
    }
  } finally {
    lines.close();
  }
}
