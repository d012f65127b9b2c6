/**
 * What watches the sync: alarms that mail an SNS topic, and a dashboard. Every metric name comes
 * from functions/sync/shared-names.ts, the list the handler emits.
 */
import { Duration, RemovalPolicy, Stack, Aws } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmRule,
  AlarmStatusWidget,
  AlarmState,
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
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../functions/sync/shared-names.js';

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

export class SyncMonitoring extends Construct {
  readonly topic: Topic;
  readonly dashboard: Dashboard;
  /** Every alarm that notifies the topic, by purpose. */
  readonly alarms: Record<'trainingStuck' | 'syncFailing' | 'syncStale' | 'deadLetters' | 'newlyInError', IAlarm>;

  constructor(scope: Construct, id: string, props: SyncMonitoringProps) {
    super(scope, id);
    const prefix = Stack.of(this).stackName;

    // CloudWatch can publish to an encrypted topic only with a customer-managed key it may use.
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
      }),
    );
    this.topic = new Topic(this, 'AlarmTopic', {
      displayName: 'Tavus replica sync alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    const run = (metricName: string, statistic: string, period = RUN_PERIOD): Metric =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: SERVICE_NAME }, statistic, period });

    const trainingStuck = new Alarm(this, 'TrainingStuck', {
      alarmName: `${prefix}-training-stuck`,
      alarmDescription:
        'A replica has been training (status started) without progress for longer than the stuck-after duration. Find it with: npm run query -- --stuck. Check it in the Tavus dashboard; the alarm clears when a run no longer finds a stuck replica.',
      metric: run(METRIC.stuck, 'Maximum'),
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.IGNORE,
    });

    const runFailed = new Alarm(this, 'RunFailed', {
      alarmName: `${prefix}-run-failed`,
      alarmDescription: 'A sync run reported failure (SyncSucceeded 0). Its log line "The sync failed." says why and what to do.',
      metric: run(METRIC.succeeded, 'Minimum'),
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.IGNORE,
    });
    const functionErrors = new Alarm(this, 'FunctionErrors', {
      alarmName: `${prefix}-function-errors`,
      alarmDescription:
        'The sync function ended in an error, including a timeout or a crash that reported no metrics. See its log group.',
      metric: props.fn.metricErrors({ statistic: 'Sum', period: RUN_PERIOD }),
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.IGNORE,
    });
    // One notification for a failed run, whichever of the two signals saw it.
    const syncFailing = new CompositeAlarm(this, 'SyncFailing', {
      compositeAlarmName: `${prefix}-sync-failing`,
      alarmDescription:
        'The last sync run failed: it reported failure or the function errored. The run changed nothing it could not finish and deleted nothing. Read the error in the function log (the "error" field), fix it (often the API key: see docs/deploying.md), then run once by hand.',
      alarmRule: AlarmRule.anyOf(
        AlarmRule.fromAlarm(runFailed, AlarmState.ALARM),
        AlarmRule.fromAlarm(functionErrors, AlarmState.ALARM),
      ),
    });

    const syncStale = new Alarm(this, 'SyncStale', {
      alarmName: `${prefix}-sync-stale`,
      alarmDescription: `No sync run succeeded in the last ${props.staleAfter.toHumanString()}: the table is going stale. Check that the schedule is enabled, the dead-letter queue, and the function log.`,
      metric: run(METRIC.succeeded, 'Sum', props.staleAfter),
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 1,
      // No runs at all is exactly what this alarm is for.
      treatMissingData: TreatMissingData.BREACHING,
    });

    const deadLetters = new Alarm(this, 'DeadLetters', {
      alarmName: `${prefix}-dead-letters`,
      alarmDescription:
        'The dead-letter queue holds messages: a scheduled invocation could not be delivered, or an invocation failed or waited too long behind another run. Read the messages, fix the cause, then purge the queue.',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: RUN_PERIOD }),
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    const newlyInError = new Alarm(this, 'NewlyInError', {
      alarmName: `${prefix}-replicas-newly-in-error`,
      alarmDescription:
        'A run found replicas that turned to status error since the previous run. List them with: npm run query -- --status error. Their error_message says why training failed.',
      metric: run(METRIC.newlyInError, 'Maximum'),
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.IGNORE,
    });

    this.alarms = { trainingStuck, syncFailing, syncStale, deadLetters, newlyInError };
    const action = new SnsAction(this.topic);
    for (const alarm of Object.values(this.alarms) as Array<Alarm | CompositeAlarm>) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${prefix}-${Aws.REGION}`,
      defaultInterval: Duration.days(7),
    });
    const hourly = Duration.hours(1);
    const graph = (title: string, left: IMetric[], width = 8) => new GraphWidget({ title, left, width, height: 6, period: hourly });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          '**Tavus replica sync.** One point per run (hourly buckets). Runs that fail or are skipped report no replica counts. What each alarm means and what to do: docs/deploying.md.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: [...Object.values(this.alarms), runFailed, functionErrors], width: 24, height: 3 }),
    );
    this.dashboard.addWidgets(
      graph('Runs and outcome', [
        run(METRIC.succeeded, 'SampleCount', hourly).with({ label: 'runs' }),
        run(METRIC.succeeded, 'Sum', hourly).with({ label: 'succeeded (or skipped)' }),
        props.fn.metricErrors({ statistic: 'Sum', period: hourly, label: 'function errors' }),
        props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: hourly, label: 'dead letters' }),
      ]),
      graph('Replicas fetched, written, marked deleted', [
        run(METRIC.fetched, 'Maximum', hourly).with({ label: 'fetched' }),
        run(METRIC.written, 'Sum', hourly).with({ label: 'written' }),
        run(METRIC.markedDeleted, 'Sum', hourly).with({ label: 'marked deleted' }),
      ]),
      graph('Stuck and in error', [
        run(METRIC.stuck, 'Maximum', hourly).with({ label: 'stuck in training' }),
        run(METRIC.inError, 'Maximum', hourly).with({ label: 'in error' }),
        run(METRIC.newlyInError, 'Maximum', hourly).with({ label: 'newly in error' }),
      ]),
    );
    this.dashboard.addWidgets(
      graph('API retries', [run(METRIC.retries, 'Sum', hourly).with({ label: 'HTTP attempts repeated' })], 12),
      graph(
        'Run duration (ms)',
        [
          run(METRIC.durationMs, 'Maximum', hourly).with({ label: 'sync (max)' }),
          props.fn.metricDuration({ statistic: 'Maximum', period: hourly, label: 'Lambda (max)' }),
        ],
        12,
      ),
    );
  }
}
