import type { SettingTerms } from '../functions/engine/errors.js';
import { apiKeyFromEnv, ENVIRONMENT_VARIABLES, type RawSettings } from '../functions/engine/settings.js';
import { runSync } from '../functions/engine/sync.js';
import { productionParts } from '../functions/engine/wiring.js';
import { FLAG_FOR_SETTING, SYNC_FLAGS, parseFlags, settingsFrom } from './args.js';
import { describeForCli, openDynamo } from './dynamo.js';
import { redactor } from '../functions/engine/redact.js';
import { endProgress, formatSummary, progressReporter, stderrLog } from './output.js';

export const SYNC_HELP = `Usage: npm run sync -- [flags]

Runs one sync: walks every page of GET /v2/replicas and brings the replicas table up to date.
The API key comes from TAVUS_API_KEY only.

  --api-url URL               TAVUS_API_URL         default https://tavusapi.com
  --table NAME                REPLICAS_TABLE        default tavus-replicas
  --runs-table NAME           SYNC_RUNS_TABLE       default tavus-replica-sync-runs
  --events-table NAME         REPLICA_EVENTS_TABLE  default tavus-replica-events
  --endpoint URL              DYNAMODB_ENDPOINT     a DynamoDB endpoint, e.g. DynamoDB Local
  --local                                           embedded DynamoDB Local, data under .data/
  --create-tables                                   create missing tables (with --local/--endpoint)
  --replica-type user|system  REPLICA_TYPE          default both; deletions are scoped to it
  --stuck-after DURATION      STUCK_TRAINING_AFTER  default 6h (90s, 30m, 6h, 1d)
  --max-delete-fraction F     MAX_DELETE_FRACTION   default 0.5 (the mass-deletion breaker)
  --json                                            one JSON line on stdout: the run summary

Exit status: 0 succeeded or skipped, 1 failed, 2 bad input.`;

/**
 * Settings named as a shell user sets them: the flag, with the environment variable beside it
 * (both work here); a setting without a flag by its variable alone.
 */
export const CLI_TERMS: SettingTerms = {
  name: (key) => (FLAG_FOR_SETTING[key] ? `${FLAG_FOR_SETTING[key]} / ${ENVIRONMENT_VARIABLES[key]}` : ENVIRONMENT_VARIABLES[key]),
  assign: (key, value) =>
    FLAG_FOR_SETTING[key] ? `${FLAG_FOR_SETTING[key]} ${value} (${ENVIRONMENT_VARIABLES[key]}=${value})` : `${ENVIRONMENT_VARIABLES[key]}=${value}`,
};

/** How long a run from a shell may walk before it gives up (no deletions then). */
const CLI_WALK_BUDGET_MS = 15 * 60_000;

/** `npm run sync`: flags and environment -> the engine -> a summary. Returns the exit code. */
export async function syncCommand(args: string[], env = process.env): Promise<number> {
  const { values } = parseFlags(args, SYNC_FLAGS, 'sync');
  if (values.help) {
    process.stdout.write(`${SYNC_HELP}\n`);
    return 0;
  }
  const fromFlags: RawSettings = {
    apiUrl: values['api-url'],
    table: values.table,
    runsTable: values['runs-table'],
    eventsTable: values['events-table'],
    replicaType: values['replica-type'],
    stuckAfter: values['stuck-after'],
    maxDeleteFraction: values['max-delete-fraction'],
  };
  const settings = settingsFrom(fromFlags, env);
  const apiKey = apiKeyFromEnv(env);
  const redact = redactor(apiKey);
  const log = stderrLog(redact);

  const dynamo = await openDynamo(
    { local: values.local, endpoint: values.endpoint, createTables: values['create-tables'] },
    settings.tables,
    env,
  );
  try {
    if (dynamo.createdTables.length > 0) log.info(`Created tables: ${dynamo.createdTables.join(', ')}.`);
    log.info(`Syncing ${settings.apiUrl}/v2/replicas into ${settings.tables.replicas} on ${dynamo.description}.`);
    const summary = await runSync(
      settings,
      {
        ...productionParts({ client: dynamo.client, settings, apiKey, terms: CLI_TERMS }),
        log,
        onProgress: values.json ? undefined : progressReporter(),
        describeError: describeForCli,
      },
      { walkBudgetMs: CLI_WALK_BUDGET_MS },
    );
    endProgress();
    process.stdout.write(redact(values.json ? JSON.stringify(summary) : formatSummary(summary)) + '\n');
    return summary.status === 'failed' ? 1 : 0;
  } finally {
    await dynamo.close();
  }
}
