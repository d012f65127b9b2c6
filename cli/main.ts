import { JavaMissingError } from '../local/dynamodb-local.js';
import { InputError, StoreError } from '../functions/engine/errors.js';
import { demoCommand } from './demo.js';
import { describeForCli } from './dynamo.js';
import { redactor } from '../functions/engine/redact.js';
import { visibleText } from '../functions/engine/text/visible-text.js';
import { queryCommand } from './query-command.js';
import { PortInUseError, simulatorCommand } from './simulator-command.js';
import { syncCommand } from './sync-command.js';

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  sync: syncCommand,
  query: queryCommand,
  demo: demoCommand,
  simulator: simulatorCommand,
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
    if (error instanceof JavaMissingError || error instanceof StoreError || error instanceof PortInUseError) {
      say(describeForCli(error));
      return 1;
    }
    // A stack trace keeps its lines; each is made visible on its own.
    const trace = redact(`Unexpected failure: ${(error as Error).stack ?? String(error)}`);
    process.stderr.write(`${trace.split('\n').map(visibleText).join('\n')}\n`);
    return 1;
  }
}
