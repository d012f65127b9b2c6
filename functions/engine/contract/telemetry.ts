/**
 * What the sync function and the stack must agree on: the service name and the metric names the
 * handler emits and the alarms and dashboard read (one list, so a renamed metric can never leave an
 * alarm watching nothing). Plain data: the CDK app imports it too.
 */

export const SERVICE_NAME = 'tavus-replica-sync';
export const METRICS_NAMESPACE = 'TavusReplicaSync';

/** One value each per run (the contract's metrics, plus ReplicasNewlyInError for its alarm). StuckTrainingReplicas counts fine-tune stalls too. */
export const METRIC = {
  succeeded: 'SyncSucceeded',
  fetched: 'ReplicasFetched',
  written: 'ReplicasWritten',
  markedDeleted: 'ReplicasMarkedDeleted',
  stuck: 'StuckTrainingReplicas',
  inError: 'ReplicasInError',
  newlyInError: 'ReplicasNewlyInError',
  finetuneFailed: 'ReplicasFinetuneFailed',
  rejected: 'ReplicasRejected',
  retries: 'ApiRetries',
  durationMs: 'SyncDurationMs',
} as const;
