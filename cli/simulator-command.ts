import { makeReplicas, TavusSimulator } from '../local/tavus-simulator.js';
import { attachLiveAccount, LIVE_STORY } from '../local/live-account.js';
import { deepNesting, hostileReplicas } from '../local/hostile-account.js';
import { InputError } from '../functions/engine/errors.js';
import { parsePositiveInteger } from '../functions/engine/settings/parsers.js';
import { parseFlags } from './args.js';

const HELP = `Usage: npm run simulator -- [--replicas N] [--port P] [--page-size-cap N] [--latency-ms N] [--live [--pace N]]

Serves a simulated Tavus account on 127.0.0.1 until Ctrl-C, under both names of the list:
GET /v2/replicas and GET /v2/faces (the same replicas; face ids are replica ids). A tenth of them are
Phoenix-4.5, with a finetune_status. So the sync and the query command can be tried by hand without a
Tavus key. The API key it accepts is TAVUS_API_KEY if set, else "local-simulator-key".

--live     the account lives, the same story every time (local/live-account.ts):
           ${LIVE_STORY.join('\n           ')}
           Sync again every minute or so to watch it (--stuck-after 2m flags the stalls).
--pace N   with --live: N simulated seconds pass each real second (default 1; 60 plays an hour in
           a minute).
--hostile  adds attacker-named replicas (local/hostile-account.ts): control characters, escape
           sequences, formula and shell text, chat markup, sync-owned field names, padded and long
           ids, deep nesting.`;

/** The port is taken: a fact about the machine right now, not a bad flag (exit status 1). */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

/** `npm run simulator`: the test suite's Tavus simulator, served for people. */
export async function simulatorCommand(args: string[], env = process.env): Promise<number> {
  const { values } = parseFlags(
    args,
    {
      replicas: { type: 'string' },
      port: { type: 'string' },
      'page-size-cap': { type: 'string' },
      'latency-ms': { type: 'string' },
      live: { type: 'boolean' },
      pace: { type: 'string' },
      hostile: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    'simulator',
  );
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const count = parsePositiveInteger(values.replicas ?? '250', '--replicas');
  const port = values.port === undefined ? 8787 : parsePositiveInteger(values.port, '--port');
  if (port > 65_535) throw new InputError(`--port must be a TCP port from 1 to 65535, not "${values.port}".`);
  if (values.pace !== undefined && !values.live) throw new InputError('--pace sets the pace of a living account: add --live, or leave --pace out.');
  const pace = values.pace === undefined ? 1 : parsePositiveInteger(values.pace, '--pace');
  const apiKey = env.TAVUS_API_KEY?.trim() || 'local-simulator-key';
  const simulator = new TavusSimulator({
    apiKey,
    replicas: [...makeReplicas(count, { seed: 7 }), ...(values.hostile ? hostileReplicas() : [])],
    pageSizeCap: parsePositiveInteger(values['page-size-cap'] ?? '100', '--page-size-cap'),
    latencyMs: values['latency-ms'] === undefined ? 0 : parsePositiveInteger(values['latency-ms'], '--latency-ms'),
  });
  if (values.live) attachLiveAccount(simulator, { seed: 7, startedAt: new Date(), pace });
  if (values.hostile) simulator.shapePage = deepNesting();
  let url: string;
  try {
    url = await simulator.start(port);
  } catch (error) {
    if ((error as { code?: string }).code === 'EADDRINUSE') {
      throw new PortInUseError(`Port ${port} is already in use: stop what listens there, or pick another with --port.`, {
        cause: error,
      });
    }
    throw error;
  }
  const fromEnv = Boolean(env.TAVUS_API_KEY?.trim());
  process.stdout.write(
    `Simulated Tavus API with ${simulator.replicas.length} replicas${values.hostile ? ' (hostile ones among them)' : ''} at ${url} (/v2/replicas and /v2/faces), accepting ${fromEnv ? 'the key in TAVUS_API_KEY' : `the key ${apiKey}`}.\n` +
      (values.live ? `The account lives (--live, pace ${pace}): trainings progress, finish, stall or fail; fine-tunes run; replicas are renamed, arrive and are deleted.\n` : '') +
      `Try, in another shell${values.live ? ', again every minute or so' : ''}:\n` +
      `  TAVUS_API_KEY=${fromEnv ? '...' : apiKey} npm run sync -- --local --api-url ${url}\n` +
      `Ctrl-C stops it.\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await simulator.stop();
  return 0;
}
