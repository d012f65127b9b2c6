/**
 * The Lambda entry of the alerts notifier: a batch of stream records from the events table (the
 * event source mapping passes only inserted alert events), one SNS message for the whole batch.
 * A failed publish throws: Lambda retries the batch, bisecting it, and finally records it in the
 * notifier's dead-letter queue. One message carries the whole batch, so a batch is delivered whole
 * or not at all, and partial batch responses would add nothing. The notifier reads no secret.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { ENVIRONMENT_VARIABLES } from '../engine/settings/registry.js';
import { DEFAULT_TABLE_NAMES } from '../engine/contract/tables.js';
import { alertsFromRecords } from './alert.js';
import type { AlertContext } from './commands.js';
import { logger } from './logger.js';
import { alertMessage, snsMessage } from './message.js';
import { NOTIFIER_ENVIRONMENT } from '../engine/contract/notifier.js';

/** Thrown when the function's own configuration is missing: a deployment fault, not bad data. */
export class NotifierConfigError extends Error {
  override name = 'NotifierConfigError';
}

/** Once per container. The SDK honours AWS_ENDPOINT_URL_SNS. */
const sns = new SNSClient({});

export async function handler(event: DynamoDBStreamEvent, context: Context): Promise<void> {
  logger.addContext(context);
  const topicArn = process.env[NOTIFIER_ENVIRONMENT.topicArn];
  if (!topicArn) {
    throw new NotifierConfigError(`${NOTIFIER_ENVIRONMENT.topicArn} is not set: deploy the notifier with the stack, which sets it to the AlertsTopic.`);
  }
  const records = event.Records ?? [];
  const alerts = alertsFromRecords(records);
  if (alerts.length === 0) {
    logger.info('No alert events in the batch; nothing to send.', { records: records.length });
    return;
  }
  const message = alertMessage(alerts, alertContext(process.env));
  const input = snsMessage(message);
  try {
    const { MessageId } = await sns.send(new PublishCommand({ TopicArn: topicArn, ...input }));
    logger.info('Alert published.', { records: records.length, alerts: alerts.length, kinds: message.kinds, subject: input.Subject, message_id: MessageId });
  } catch (error) {
    logger.error('Publishing the alert failed; Lambda retries the batch.', { error: (error as Error).name, detail: (error as Error).message });
    throw error;
  }
}

/** Region, table names (for the commands in the message only: the notifier reads no table) and dashboard. */
export function alertContext(env: NodeJS.ProcessEnv): AlertContext {
  return {
    region: env.AWS_REGION || 'us-east-1',
    replicasTable: env[ENVIRONMENT_VARIABLES.table] || DEFAULT_TABLE_NAMES.replicas,
    eventsTable: env[ENVIRONMENT_VARIABLES.eventsTable] || DEFAULT_TABLE_NAMES.events,
    dashboardName: env[NOTIFIER_ENVIRONMENT.dashboardName] || undefined,
  };
}
