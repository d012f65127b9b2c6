import { API_RESOURCE_SHAPES } from '../functions/engine/extract/api-resource.js';
import { apiKeyFromEnv } from '../functions/engine/settings/registry.js';
import { InputError } from '../functions/engine/errors.js';
import { runSync } from '../functions/engine/sync.js';
import { productionParts } from '../functions/engine/wiring.js';
import { CLI_TERMS, SYNC_FLAGS, helpLines, npmCommand, parseFlags, rawSettingsFromFlags, settingsFrom, syncHelpRows, tableFlagsGiven } from './args.js';
import { describeForCli, openDynamo } from './dynamo.js';
import { redactor } from '../functions/engine/redact.js';
import { endProgress, formatSummary, progressReporter, queryTargetOf, stderrLog } from './output.js';
import { INTERRUPTED_EXIT_CODE, stopOnSignals } from './interrupt.js';

/** --help, rendered from the settings registry and the CLI's own flags. */
export const SYNC_HELP = [
  'Usage: npm run sync -- [flags]',
  '',
  'Runs one sync: walks every page of GET /v2/replicas (or /v2/faces) and brings the replicas table up to date.',
  'The API key comes from TAVUS_API_KEY only. A flag overrides its environment variable.',
  '',
  ...helpLines(syncHelpRows()),
  '',
  'Exit status: 0 succeeded or skipped, 1 failed, 2 bad input, 130 stopped by Ctrl-C or SIGTERM.',
].join('\n');

/** How long a run from a shell may walk before it gives up (no deletions then). */
const CLI_WALK_BUDGET_MS = 15 * 60_000;

/** `npm run sync`: flags and environment -> the engine -> a summary. Returns the exit code. */
export async function syncCommand(args: string[], env = process.env): Promise<number> {
  const { values, positionals } = parseFlags(args, SYNC_FLAGS, 'sync');
  if (values.help) {
    process.stdout.write(`${SYNC_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) {
    throw new InputError(`Unexpected argument "${positionals[0]}": sync takes only flags, each value right after its flag (see npm run sync -- --help).`);
  }
  const stop = stopOnSignals((line) => void process.stderr.write(`\n${line}\n`));
  try {
    return await syncOnce(values, env, stop.signal);
  } finally {
    stop.dispose();
  }
}

type SyncValues = ReturnType<typeof parseFlags<typeof SYNC_FLAGS>>['values'];

/** One run, stopped early when `signal` is aborted (exit status 130 then). */
async function syncOnce(values: SyncValues, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<number> {
  const settings = settingsFrom(rawSettingsFromFlags(values), env);
  const apiKey = apiKeyFromEnv(env);
  const redact = redactor(apiKey);
  const log = stderrLog(redact);

  const dynamo = await openDynamo(
    // --local is a sandbox of its own: the sync creates what it needs there.
    { local: values.local, endpoint: values.endpoint, createTables: values['create-tables'] || values.local },
    settings.tables,
    env,
  );
  try {
    if (dynamo.createdTables.length > 0) log.info(`Created tables: ${dynamo.createdTables.join(', ')}.`);
    const parts = productionParts({ client: dynamo.client, settings, apiKey, terms: CLI_TERMS });
    if (values['release-lease']) {
      const cleared = await parts.ledger.clearLease();
      log.info(cleared ? `Deleted the lease of run ${cleared.holder} (it would have expired at ${cleared.expiresAt.toISOString()}).` : 'No lease was held.');
    }
    log.info(`Syncing ${settings.apiUrl}${API_RESOURCE_SHAPES[settings.apiResource].listPath} into ${settings.tables.replicas} on ${dynamo.description}.`);
    const summary = await runSync(
      settings,
      {
        ...parts,
        log,
        onProgress: values.json ? undefined : progressReporter(),
        describeError: describeForCli,
        signal,
      },
      { walkBudgetMs: CLI_WALK_BUDGET_MS },
    );
    endProgress();
    process.stdout.write(redact(values.json ? JSON.stringify(summary) : formatSummary(summary, queryTargetOf(values, settings.tables, env))) + '\n');
    if (summary.status === 'skipped') log.info(`To delete that lease now: ${releaseLeaseCommand(values)}`);
    if (signal.aborted) return INTERRUPTED_EXIT_CODE;
    return summary.status === 'failed' ? 1 : 0;
  } finally {
    await dynamo.close();
  }
}

/**
 * The command that deletes the lease and syncs, with the flags that chose where this run went
 * (settings from the environment stay in the environment, so it works as printed in this shell).
 */
function releaseLeaseCommand(values: SyncValues): string {
  const target = values.local ? ['--local'] : values.endpoint === undefined ? [] : ['--endpoint', values.endpoint];
  return npmCommand('sync', [...target, ...tableFlagsGiven(values), '--release-lease']);
}
