/**
 * What the handler and the stack must agree on: the metric names the handler emits and the alarms
 * and dashboard read (one list, so a renamed metric can never leave an alarm watching nothing),
 * and the command that sets the key. Plain data: the CDK app imports it too.
 */

export const SERVICE_NAME = 'tavus-replica-sync';
export const METRICS_NAMESPACE = 'TavusReplicaSync';

/** One value each per run (the contract's metrics, plus ReplicasNewlyInError for its alarm). */
export const METRIC = {
  succeeded: 'SyncSucceeded',
  fetched: 'ReplicasFetched',
  written: 'ReplicasWritten',
  markedDeleted: 'ReplicasMarkedDeleted',
  stuck: 'StuckTrainingReplicas',
  inError: 'ReplicasInError',
  newlyInError: 'ReplicasNewlyInError',
  retries: 'ApiRetries',
  durationMs: 'SyncDurationMs',
} as const;

/** The exact command that puts the key into the secret (a stack output, and in the handler's errors). */
export function putSecretValueCommand(secretArn: string): string {
  return `aws secretsmanager put-secret-value --secret-id ${secretArn} --secret-string "$TAVUS_API_KEY"`;
}
