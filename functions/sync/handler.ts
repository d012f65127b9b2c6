/**
 * The Lambda entry: settings from the environment, the key from Secrets Manager, one run of the
 * engine, metrics. It returns the run summary and throws when the run failed, so Lambda's Errors
 * metric, the failure destination (the dead-letter queue) and the alarms all see it.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { dynamoClient } from '../engine/load/dynamo-client.js';
import { redactor } from '../engine/redact.js';
import { DEPLOYED_TERMS } from '../engine/settings/terms.js';
import { parseSettings, rawSettingsFromEnv } from '../engine/settings/registry.js';
import { runSync, type SyncLog } from '../engine/sync.js';
import type { RunSummary } from '../engine/model/summary.js';
import { recordOf, type RecordedSummary } from '../engine/load/run-record.js';
import { productionParts } from '../engine/wiring.js';
import { readApiKey } from './api-key.js';
import { METRIC } from '../engine/contract/telemetry.js';
import { logger, metrics } from './powertools.js';

/** What the schedule sends (see lib/replica-sync-stack.ts); `aws lambda invoke` may send `{}`. */
export interface SyncEvent {
  source?: string;
  scheduled_time?: string;
  execution_id?: string;
}

/**
 * Thrown when the engine reports a failed run; the message is the summary's sentence. Named
 * `SyncFailed` on purpose: the name becomes the Lambda's `errorType`, which operators read.
 */
export class SyncFailedError extends Error {
  override name = 'SyncFailed';
}

/** Once per container: warm invocations reuse its connections. The SDK honours AWS_ENDPOINT_URL_DYNAMODB. */
const dynamo = dynamoClient(undefined);

/** Time kept back from the Lambda timeout: the run stops this long before it, whatever its phase. */
export const STOP_MARGIN_MS = 30_000;

export async function handler(event: SyncEvent | undefined, context: Context): Promise<RecordedSummary> {
  logger.addContext(context);
  logger.info('Sync starting.', { trigger: event?.source ?? 'manual', scheduled_time: event?.scheduled_time });
  let summary: RunSummary | undefined;
  let redact = (text: string) => text;
  const stop = stopBeforeTimeout(context);
  try {
    // A bad value names the cdk.json context key an operator sets, and the variable it became.
    const settings = parseSettings(rawSettingsFromEnv(process.env), (key) => `The ${DEPLOYED_TERMS.name(key)}`);
    const apiKey = await readApiKey(process.env.TAVUS_API_KEY_SECRET_ARN);
    redact = redactor(apiKey);
    summary = await runSync(
      settings,
      { ...productionParts({ client: dynamo, settings, apiKey, terms: DEPLOYED_TERMS }), log: powertoolsLog(redact), signal: stop.signal },
      { walkBudgetMs: walkBudgetMs(context.getRemainingTimeInMillis()) },
    );
  } catch (error) {
    // Bad settings or an unreadable secret: no run took place, and that counts as a failed run.
    logger.error('The sync could not run.', { error: (error as Error).message });
    throw error;
  } finally {
    clearTimeout(stop.timer);
    recordMetrics(summary);
    metrics.publishStoredMetrics();
  }
  // The summary carries sentences from the engine: cut the key out should one ever quote it. The
  // log line and return value keep what the run record keeps (thousands in error would bloat them).
  const reported = JSON.parse(redact(JSON.stringify(recordOf(summary)))) as RecordedSummary;
  logger.info('Sync finished.', { summary: reported });
  if (reported.status === 'failed') throw new SyncFailedError(reported.error ?? 'The sync failed.');
  return reported;
}

/**
 * Aborts the run a margin before the invocation would time out, so it releases the lease and
 * records itself instead of being killed holding it.
 */
function stopBeforeTimeout(context: Context): { signal: AbortSignal; timer: NodeJS.Timeout } {
  const controller = new AbortController();
  const stopInMs = Math.max(0, context.getRemainingTimeInMillis() - STOP_MARGIN_MS);
  const timer = setTimeout(() => controller.abort('stopped before the Lambda timeout'), stopInMs);
  return { signal: controller.signal, timer };
}

/**
 * The walk gets the invocation's remaining time minus a margin for all that follows it: the
 * lookups that confirm deletions, the transactional writes (a first sync of 100,000 replicas
 * writes every one of them) and the run record. A walk that runs out fails the run and deletes
 * nothing. The margin is a fifth of the time and at least a minute, but never more than half.
 */
export function walkBudgetMs(remainingMs: number): number {
  const margin = Math.min(Math.max(60_000, remainingMs * 0.2), remainingMs / 2);
  return Math.floor(remainingMs - margin);
}

/**
 * One value each per run. A skipped run counts as succeeded: another sync holds the lease and is
 * keeping the table fresh. Counts of the account (fetched, stuck, in error) are emitted only by a
 * run that finished (fine-tunes failed too): a failed run never counted them, and a zero from it would clear the alarms.
 */
function recordMetrics(summary: RunSummary | undefined): void {
  const count = (name: string, value: number) => metrics.addMetric(name, MetricUnit.Count, value);
  count(METRIC.succeeded, summary !== undefined && summary.status !== 'failed' ? 1 : 0);
  if (summary === undefined) return;
  count(METRIC.written, summary.written);
  count(METRIC.markedDeleted, summary.deleted);
  count(METRIC.retries, summary.retries);
  metrics.addMetric(METRIC.durationMs, MetricUnit.Milliseconds, summary.duration_ms);
  if (summary.status !== 'succeeded') return;
  count(METRIC.fetched, summary.fetched);
  count(METRIC.stuck, summary.stuck);
  count(METRIC.inError, summary.in_error);
  count(METRIC.newlyInError, summary.newly_in_error);
  count(METRIC.finetuneFailed, summary.finetune_failed);
  count(METRIC.rejected, summary.rejected);
}

/** The engine's log calls as Powertools JSON lines, with the key cut out should any text carry it. */
function powertoolsLog(redact: (text: string) => string): SyncLog {
  const clean = (fields?: Record<string, unknown>) =>
    fields === undefined ? {} : (JSON.parse(redact(JSON.stringify(fields))) as Record<string, unknown>);
  return {
    info: (message, fields) => logger.info(redact(message), clean(fields)),
    warn: (message, fields) => logger.warn(redact(message), clean(fields)),
    error: (message, fields) => logger.error(redact(message), clean(fields)),
  };
}
