/**
 * The deployed product: three tables, the API key's secret, the sync function, its schedule and
 * dead-letter queue, alarms and a dashboard. Configuration arrives checked (lib/deploy-config.ts).
 */
import { CfnOutput, Duration, Stack, TimeZone, Validations, type StackProps } from 'aws-cdk-lib';
import { PolicyStatement, type IRole } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { ContextAttribute, Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke, type ScheduleTargetBaseProps } from 'aws-cdk-lib/aws-scheduler-targets';
import { CfnSecret, Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { putSecretValueCommand } from '../functions/engine/contract/api-key-secret.js';
import type { TableRole } from '../functions/engine/contract/dynamodb-actions.js';
import { Alerts } from './alerts.js';
import { AthenaAnalytics } from './athena.js';
import type { DeployConfig } from './deploy-config.js';
import { SyncMonitoring } from './monitoring.js';
import { SyncFunction } from './sync-function.js';
import { SyncTable } from './sync-table.js';

export interface ReplicaSyncStackProps extends StackProps {
  config: DeployConfig;
}

/** What the schedule sends the function: who called, and the time the run was due. */
export const SCHEDULE_SOURCE = 'tavus-replica-sync.schedule';

export class ReplicaSyncStack extends Stack {
  readonly tables: Record<TableRole, SyncTable>;
  readonly apiKeySecret: ISecret;
  readonly fn: SyncFunction;
  readonly deadLetterQueue: Queue;
  readonly schedule: Schedule;
  readonly monitoring: SyncMonitoring;
  readonly alerts: Alerts;
  /** The analysts' Athena side; only with `-c athena=true`. */
  readonly athena?: AthenaAnalytics;

  constructor(scope: Construct, id: string, props: ReplicaSyncStackProps) {
    super(scope, id, { description: 'Tavus replica sync: a scheduled Lambda keeping a DynamoDB copy of the replicas.', ...props });
    const { config } = props;
    this.tables = this.syncTables(config.settings.tables);
    this.apiKeySecret = config.existingSecretArn
      ? Secret.fromSecretCompleteArn(this, 'ApiKeySecret', config.existingSecretArn)
      : this.emptySecret();
    this.deadLetterQueue = this.failedInvocationsQueue();

    this.fn = new SyncFunction(this, 'SyncFunction', {
      logRetention: config.logRetention,
      reserveConcurrency: config.reserveConcurrency,
      onFailure: new SqsDestination(this.deadLetterQueue),
      environment: config.syncEnvironment,
    });
    for (const table of Object.values(this.tables)) this.fn.bindTable(table);
    this.fn.bindApiKeySecret(this.apiKeySecret);

    this.schedule = this.syncSchedule(config.schedule);
    this.monitoring = new SyncMonitoring(this, 'Monitoring', {
      fn: this.fn,
      deadLetterQueue: this.deadLetterQueue,
      staleAfter: Duration.millis(config.staleAfterMs),
      alarmEmail: config.alarmEmail,
    });
    this.alerts = new Alerts(this, 'Alerts', {
      eventsTable: this.tables.events,
      alarmTopic: this.monitoring.topic,
      logRetention: config.logRetention,
      email: config.alertsEmail,
      replicasTableName: config.settings.tables.replicas,
      eventsTableName: config.settings.tables.events,
      dashboardName: this.monitoring.dashboard.dashboardName,
    });
    if (config.athena) {
      this.athena = new AthenaAnalytics(this, 'Athena', {
        tables: this.tables,
        tableNames: config.settings.tables,
        scanCutoffBytes: config.athena.scanCutoffBytes,
        logRetention: config.logRetention,
      });
    }
    this.outputs();
  }

  /**
   * Replicas and their history hold what the API no longer can (deleted replicas, first sightings,
   * past statuses): they are kept through a mistaken `cdk destroy` and can be restored to any second
   * of the last 35 days. Run records expire by TTL and go with the stack.
   */
  private syncTables(names: Record<TableRole, string>): Record<TableRole, SyncTable> {
    const pointInTimeRecoverySpecification = { pointInTimeRecoveryEnabled: true };
    return {
      replicas: new SyncTable(this, 'ReplicasTable', { role: 'replicas', tableName: names.replicas, keep: true, pointInTimeRecoverySpecification }),
      runs: new SyncTable(this, 'SyncRunsTable', { role: 'runs', tableName: names.runs, keep: false, pointInTimeRecoverySpecification }),
      events: new SyncTable(this, 'ReplicaEventsTable', { role: 'events', tableName: names.events, keep: true, pointInTimeRecoverySpecification }),
    };
  }

  private failedInvocationsQueue(): Queue {
    const queue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the schedule and of the function; a queue behind it would only move the same messages.',
    });
    return queue;
  }

  private syncSchedule(schedule: DeployConfig['schedule']): Schedule {
    return new Schedule(this, 'SyncSchedule', {
      description: 'Runs the Tavus replica sync.',
      schedule: ScheduleExpression.expression(schedule.expression, TimeZone.of(schedule.timeZone)),
      target: new InvokeFunctionOnly(this.fn, {
        input: ScheduleTargetInput.fromObject({
          source: SCHEDULE_SOURCE,
          scheduled_time: ContextAttribute.scheduledTime,
          execution_id: ContextAttribute.executionId,
        }),
        // Delivery retries (throttling, a brief outage); a run that fails is not retried here.
        retryAttempts: 3,
        maxEventAge: Duration.hours(1),
        deadLetterQueue: this.deadLetterQueue,
      }),
    });
  }

  /**
   * A secret with no value at all: nothing of the key is in the template, and no placeholder can
   * be mistaken for a key. The operator puts the key in (see the outputs); until then every run
   * fails with that command in its error.
   */
  private emptySecret(): Secret {
    const secret = new Secret(this, 'ApiKeySecret', {
      description: 'The Tavus API key, as plain text. Set it with aws secretsmanager put-secret-value.',
    });
    // The Secret construct always generates a value; without one CloudFormation creates it empty.
    (secret.node.defaultChild as CfnSecret).addPropertyDeletionOverride('GenerateSecretString');
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'The value is an API key issued by Tavus: no rotation function can mint a new one. Rotate it in the Tavus developer portal, then put the new key into this secret.',
    });
    return secret;
  }

  private outputs(): void {
    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output('ReplicasTableName', this.tables.replicas.tableName, 'The replicas table (npm run query -- --table ...).');
    output('ReplicaEventsTableName', this.tables.events.tableName, 'Each replica\'s change history.');
    output('SyncRunsTableName', this.tables.runs.tableName, 'Run records and the lease.');
    output('ApiKeySecretArn', this.apiKeySecret.secretArn, 'The secret the function reads the Tavus API key from.');
    output('SetApiKeyCommand', putSecretValueCommand(this.apiKeySecret.secretArn), 'Run this once, with TAVUS_API_KEY exported, to store the key.');
    output('SyncFunctionName', this.fn.functionName, 'Run once by hand: aws lambda invoke --function-name <this> out.json');
    output('LogGroupName', this.fn.logGroup.logGroupName, 'The function\'s logs: aws logs tail <this> --since 1h');
    output('AlarmTopicArn', this.monitoring.topic.topicArn, 'Alarm notifications; subscribe more endpoints here.');
    output('DashboardName', this.monitoring.dashboard.dashboardName, 'The CloudWatch dashboard.');
    output(
      'DashboardUrl',
      `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${this.monitoring.dashboard.dashboardName}`,
      'The dashboard in the AWS console.',
    );
    output('DeadLetterQueueUrl', this.deadLetterQueue.queueUrl, 'Failed or undeliverable invocations.');
    if (this.athena) {
      output('AthenaWorkGroupName', this.athena.workGroup.ref, 'The Athena workgroup for the saved questions (choose it in the query editor).');
      output('AthenaCatalogName', this.athena.catalogName, 'The Athena data source over the tables: "<this>"."default"."<table name>".');
      output(
        'AthenaConsoleUrl',
        `https://${this.region}.console.aws.amazon.com/athena/home?region=${this.region}#/query-editor`,
        'The Athena query editor; pick the workgroup, then Saved queries.',
      );
    }
  }
}

/**
 * LambdaInvoke, but the schedule's role may invoke the function itself only: the stock target
 * grants every version and alias too (`function:*`), which this stack never publishes.
 */
class InvokeFunctionOnly extends LambdaInvoke {
  constructor(
    private readonly target: IFunction,
    props: ScheduleTargetBaseProps,
  ) {
    super(target, props);
  }

  protected override addTargetActionToRole(role: IRole): void {
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.target.functionArn] }));
  }
}
