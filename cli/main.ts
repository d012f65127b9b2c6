import { JavaMissingError } from '../local/dynamodb-local.js';
import { InputError, StoreError } from '../functions/engine/errors.js';
import { describeForCli } from './dynamo.js';
import { redactor } from '../functions/engine/redact.js';
import { visibleText } from '../functions/engine/text/visible-text.js';

/**
 * Each command imported when it runs: a query need not load the sync's API client, the
 * simulator or DuckDB, and start-up is most of a short query's time (docs/performance.md).
 */
const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  sync: async (args) => (await import('./sync-command.js')).syncCommand(args),
  query: async (args) => (await import('./query-command.js')).queryCommand(args),
  demo: async (args) => (await import('./demo.js')).demoCommand(args),
  simulator: async (args) => (await import('./simulator-command.js')).simulatorCommand(args),
};

const USAGE = 'Usage: replica-sync <sync|query|demo|simulator> [flags]; add --help after a command for its flags.';

/** Dispatches to a command and turns expected failures into one sentence and an exit code. */
export async function runCli(argv: string[]): Promise<number> {
  // The SDK prints a support warning on Node 20 for every client; it is noise for a CLI run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [name, ...args] = argv;
  const command = name === undefined ? undefined : COMMANDS[name];
  if (!command) {
    process.stderr.write(`${name === undefined ? 'No command given' : `Unknown command "${name}"`}: ${USAGE}\n`);
    return 2;
  }
  try {
    return await command(args);
  } catch (error) {
    const redact = redactor(process.env.TAVUS_API_KEY);
    // One sentence, one line: API text in a message shows its escapes and breaks escaped.
    const say = (text: string): void => void process.stderr.write(`${visibleText(redact(text))}\n`);
    if (error instanceof InputError) {
      say(error.message);
      return 2;
    }
    if (error instanceof JavaMissingError || error instanceof StoreError || (name === 'simulator' && error instanceof (await import('./simulator-command.js')).PortInUseError)) {
      say(describeForCli(error));
      return 1;
    }
    // A stack trace keeps its lines; each is made visible on its own.
    const trace = redact(`Unexpected failure: ${(error as Error).stack ?? String(error)}`);
    process.stderr.write(`${trace.split('\n').map(visibleText).join('\n')}\n`);
    return 1;
  }
}
