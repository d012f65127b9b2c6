/**
 * What watches the sync: alarms that mail an SNS topic, and a dashboard. Every metric name comes
 * from functions/engine/contract/telemetry.ts, the list the handler emits.
 */
import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmRule,
  AlarmState,
  AlarmStatusWidget,
  ComparisonOperator,
  CompositeAlarm,
  Dashboard,
  GraphWidget,
  Metric,
  TextWidget,
  TreatMissingData,
  type IAlarm,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../functions/engine/contract/telemetry.js';

export interface SyncMonitoringProps {
  fn: IFunction;
  deadLetterQueue: IQueue;
  /** No successful run for this long raises the stale alarm. */
  staleAfter: Duration;
  alarmEmail?: string;
}

/**
 * Alarms that follow runs look at 5-minute periods and ignore periods without a run: they keep
 * their state until the next run reports, so a stuck training alarms once and clears when a run
 * finds it moving, however far apart the runs are.
 */
const RUN_PERIOD = Duration.minutes(5);
const HOURLY = Duration.hours(1);

/** One value a run reported (functions/engine/contract/telemetry.ts), as CloudWatch reads it. */
function runMetric(metricName: string, statistic: string, period = RUN_PERIOD): Metric {
  return new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: SERVICE_NAME }, statistic, period });
}

/** What one alarm watches. Every alarm here fires on one period's value against 1. */
interface AlarmSpec {
  /** The alarm's name after the stack name: `<stack>-<suffix>` (docs/deploying.md lists them). */
  suffix: string;
  /** What it means and what to do: an operator reads it in the notification. */
  description: string;
  metric: IMetric;
  /** `atLeastOne`: the value is 1 or more; `belowOne`: the value is under 1. */
  fires: 'atLeastOne' | 'belowOne';
  missingData: TreatMissingData;
}

export type SyncAlarmName = 'trainingStuck' | 'syncFailing' | 'syncStale' | 'deadLetters' | 'newlyInError' | 'replicasRejected' | 'finetuneFailed';

export class SyncMonitoring extends Construct {
  readonly topic: Topic;
  readonly dashboard: Dashboard;
  /** Every alarm that notifies the topic, by purpose. */
  readonly alarms: Record<SyncAlarmName, IAlarm>;

  constructor(scope: Construct, id: string, props: SyncMonitoringProps) {
    super(scope, id);
    this.topic = this.alarmTopic(props.alarmEmail);
    const runFailed = this.alarm('RunFailed', {
      suffix: 'run-failed',
      description: 'A sync run reported failure (SyncSucceeded 0). Its log line "The sync failed." says why and what to do.',
      metric: runMetric(METRIC.succeeded, 'Minimum'),
      fires: 'belowOne',
      missingData: TreatMissingData.IGNORE,
    });
    const functionErrors = this.alarm('FunctionErrors', {
      suffix: 'function-errors',
      description: 'The sync function ended in an error, including a timeout or a crash that reported no metrics. See its log group.',
      metric: props.fn.metricErrors({ statistic: 'Sum', period: RUN_PERIOD }),
      fires: 'atLeastOne',
      missingData: TreatMissingData.IGNORE,
    });
    this.alarms = {
      trainingStuck: this.alarm('TrainingStuck', {
        suffix: 'training-stuck',
        description:
          'A replica has been training (status started) without progress for longer than the stuck-after duration, or its Phoenix-4.5 fine-tune (finetune_status) has not changed for longer than the fine-tune stuck-after duration. Find it with: npm run query -- --stuck (the stuck_reason column says which). Check it in the Tavus dashboard; the alarm clears when a run no longer finds a stuck replica.',
        metric: runMetric(METRIC.stuck, 'Maximum'),
        fires: 'atLeastOne',
        missingData: TreatMissingData.IGNORE,
      }),
      syncFailing: this.eitherFails('SyncFailing', runFailed, functionErrors),
      syncStale: this.alarm('SyncStale', {
        suffix: 'sync-stale',
        description: `No sync run succeeded in the last ${props.staleAfter.toHumanString()}: the table is going stale. Check that the schedule is enabled, the dead-letter queue, and the function log.`,
        metric: runMetric(METRIC.succeeded, 'Sum', props.staleAfter),
        fires: 'belowOne',
        // No runs at all is exactly what this alarm is for.
        missingData: TreatMissingData.BREACHING,
      }),
      deadLetters: this.alarm('DeadLetters', {
        suffix: 'dead-letters',
        description:
          'The dead-letter queue holds messages: a scheduled invocation could not be delivered, or an invocation failed or waited too long behind another run. Read the messages, fix the cause, then purge the queue.',
        metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: RUN_PERIOD }),
        fires: 'atLeastOne',
        missingData: TreatMissingData.NOT_BREACHING,
      }),
      newlyInError: this.alarm('NewlyInError', {
        suffix: 'replicas-newly-in-error',
        description:
          'A run found replicas that turned to status error since the previous run. List them with: npm run query -- --status error. Their error_message says why training failed.',
        metric: runMetric(METRIC.newlyInError, 'Maximum'),
        fires: 'atLeastOne',
        missingData: TreatMissingData.IGNORE,
      }),
      replicasRejected: this.alarm('ReplicasRejected', {
        suffix: 'replicas-rejected',
        description:
          'A run skipped replicas DynamoDB cannot store (over 400 KB, a number out of range, a key too long, nesting too deep). The run log\'s warnings name each replica and the limit; their stored copies stay as they were until Tavus returns rows that fit.',
        metric: runMetric(METRIC.rejected, 'Maximum'),
        fires: 'atLeastOne',
        missingData: TreatMissingData.IGNORE,
      }),
      finetuneFailed: this.alarm('FinetuneFailed', {
        suffix: 'finetune-failed',
        description:
          'A live Phoenix-4.5 replica has a failed fine-tune (finetune_status errored, error or failed): its preview still works, the full-quality model never came. List them with: npm run query -- --finetune errored (and failed, error). Retrain the replica in Tavus or delete it; the alarm clears when a run no longer finds one.',
        metric: runMetric(METRIC.finetuneFailed, 'Maximum'),
        fires: 'atLeastOne',
        missingData: TreatMissingData.IGNORE,
      }),
    };
    const action = new SnsAction(this.topic);
    for (const alarm of Object.values(this.alarms) as Array<Alarm | CompositeAlarm>) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    this.dashboard = this.buildDashboard(props, [...Object.values(this.alarms), runFailed, functionErrors]);
  }

  private alarm(id: string, spec: AlarmSpec): Alarm {
    return new Alarm(this, id, {
      alarmName: `${Stack.of(this).stackName}-${spec.suffix}`,
      alarmDescription: spec.description,
      metric: spec.metric,
      comparisonOperator:
        spec.fires === 'atLeastOne' ? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD : ComparisonOperator.LESS_THAN_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: spec.missingData,
    });
  }

  /** One notification for a failed run, whichever of the two signals saw it. */
  private eitherFails(id: string, runFailed: IAlarm, functionErrors: IAlarm): CompositeAlarm {
    return new CompositeAlarm(this, id, {
      compositeAlarmName: `${Stack.of(this).stackName}-sync-failing`,
      alarmDescription:
        'The last sync run failed: it reported failure or the function errored. The run changed nothing it could not finish and deleted nothing. Read the error in the function log (the "error" field), fix it (often the API key: see docs/deploying.md), then run once by hand.',
      alarmRule: AlarmRule.anyOf(AlarmRule.fromAlarm(runFailed, AlarmState.ALARM), AlarmRule.fromAlarm(functionErrors, AlarmState.ALARM)),
    });
  }

  /** CloudWatch can publish to an encrypted topic only with a customer-managed key it may use. */
  private alarmTopic(alarmEmail: string | undefined): Topic {
    const key = new Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the Tavus replica sync alarm topic.',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'], // in a key policy, "*" is this key
        // Only for this stack's alarms (every alarm name starts with the stack's name), never for
        // another account's: CloudWatch says on whose behalf it asks (no confused deputy).
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:${Stack.of(this).stackName}-*` },
        },
      }),
    );
    const topic = new Topic(this, 'AlarmTopic', { displayName: 'Tavus replica sync alarms', masterKey: key, enforceSSL: true });
    if (alarmEmail) topic.addSubscription(new EmailSubscription(alarmEmail));
    return topic;
  }

  private buildDashboard({ fn, deadLetterQueue }: SyncMonitoringProps, alarms: IAlarm[]): Dashboard {
    const dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${Stack.of(this).stackName}-${Aws.REGION}`,
      defaultInterval: Duration.days(7),
    });
    const graph = (title: string, left: IMetric[], width = 8) => new GraphWidget({ title, left, width, height: 6, period: HOURLY });
    const hourly = (metricName: string, statistic: string, label: string) => runMetric(metricName, statistic, HOURLY).with({ label });
    dashboard.addWidgets(
      new TextWidget({
        markdown:
          '**Tavus replica sync.** One point per run (hourly buckets). Runs that fail or are skipped report no replica counts. What each alarm means and what to do: docs/deploying.md.',
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms, width: 24, height: 3 }));
    dashboard.addWidgets(
      graph('Runs and outcome', [
        hourly(METRIC.succeeded, 'SampleCount', 'runs'),
        hourly(METRIC.succeeded, 'Sum', 'succeeded (or skipped)'),
        fn.metricErrors({ statistic: 'Sum', period: HOURLY, label: 'function errors' }),
        deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: HOURLY, label: 'dead letters' }),
      ]),
      graph('Replicas fetched, written, marked deleted', [
        hourly(METRIC.fetched, 'Maximum', 'fetched'),
        hourly(METRIC.written, 'Sum', 'written'),
        hourly(METRIC.markedDeleted, 'Sum', 'marked deleted'),
      ]),
      graph('Stuck and in error', [
        hourly(METRIC.stuck, 'Maximum', 'stuck (training or fine-tune)'),
        hourly(METRIC.inError, 'Maximum', 'in error'),
        hourly(METRIC.newlyInError, 'Maximum', 'newly in error'),
        hourly(METRIC.rejected, 'Maximum', 'rejected'),
      ]),
    );
    dashboard.addWidgets(
      graph('Fine-tunes (Phoenix-4.5)', [
        hourly(METRIC.finetuneFailed, 'Maximum', 'fine-tune failed'),
        hourly(METRIC.stuck, 'Maximum', 'stuck (training or fine-tune)'),
      ]),
      graph('API retries', [hourly(METRIC.retries, 'Sum', 'HTTP attempts repeated')]),
      graph(
        'Run duration (ms)',
        [hourly(METRIC.durationMs, 'Maximum', 'sync (max)'), fn.metricDuration({ statistic: 'Maximum', period: HOURLY, label: 'Lambda (max)' })],
      ),
    );
    return dashboard;
  }
}
