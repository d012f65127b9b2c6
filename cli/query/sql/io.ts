/** The streams `query sql` and `query export` write to. */

/** Where `sql` and `export` write: the query command's streams (its `QueryIo` fits). */
export interface AnalyticsIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal: it decides the default format, and whether to prompt. */
  isTerminal: boolean;
  /** Lines typed at the prompt; the CLI reads the terminal, a test hands in its own. */
  prompt?: AsyncIterable<string>;
}
