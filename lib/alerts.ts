/**
 * Alerts that name the replica: the events table's stream feeds a small notifier function, which
 * publishes one message per batch of alert events to the AlertsTopic. An outbox, not a side
 * effect: every alert event the sync writes is delivered at least once, even when the run that
 * wrote it failed later, and the sync never waits on SNS. Batches that keep failing are retried,
 * bisected, then recorded in a dead-letter queue whose alarm goes to the stack's alarm topic.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { EventSourceMapping, FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENVIRONMENT_VARIABLES } from '../functions/engine/settings/registry.js';
import { NOTIFIER_ENVIRONMENT, NOTIFIER_SERVICE_NAME } from '../functions/engine/contract/notifier.js';
import { lambdaConventions } from './sync-function.js';


/** The mapping's filter: only inserted events that carry `alert_kind` reach the function. */
export const ALERT_EVENT_FILTER = {
  eventName: FilterRule.isEqual('INSERT'),
  dynamodb: { NewImage: { alert_kind: { S: FilterRule.exists() } } },
};

/** One message per batch: up to a minute of alert events, or this many, whichever comes first. */
export const BATCH_SIZE = 1_000;
export const BATCHING_WINDOW = Duration.seconds(60);
/** A batch is tried this many more times (bisected on each error) before it goes to the queue. */
export const RETRY_ATTEMPTS = 5;
/** An alert older than this is no longer news; the dead-letter queue records it instead. */
export const MAX_RECORD_AGE = Duration.hours(12);

export interface AlertsProps {
  eventsTable: ITableV2;
  /** The stack's alarm topic: the dead-letter alarm notifies it. */
  alarmTopic: ITopic;
  logRetention: RetentionDays;
  /** Mailed every alert when set (context `alertsEmail`). */
  email?: string;
  /** For the names in the message's commands and its dashboard link. */
  replicasTableName: string;
  eventsTableName: string;
  dashboardName: string;
}

export class Alerts extends Construct {
  readonly topic: Topic;
  readonly fn: NodejsFunction;
  readonly deadLetterQueue: Queue;
  readonly undeliveredAlarm: Alarm;

  constructor(scope: Construct, id: string, props: AlertsProps) {
    super(scope, id);
    const streamArn = props.eventsTable.tableStreamArn;
    if (streamArn === undefined) throw new Error('The events table has no stream: its definition (functions/engine/contract/tables.ts) must set stream.');

    const key = new Key(this, 'AlertsTopicKey', {
      description: 'Encrypts the Tavus replica alerts topic.',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    this.topic = new Topic(this, 'AlertsTopic', { displayName: 'Tavus replica alerts', masterKey: key, enforceSSL: true });
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));

    this.deadLetterQueue = new Queue(this, 'NotifierDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the notifier\'s stream mapping; a queue behind it would only move the same records.',
    });

    this.fn = this.notifier(props);
    this.fn.addToRolePolicy(new PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }));
    // Publishing to an encrypted topic needs its key; SNS asks for exactly these two.
    this.fn.addToRolePolicy(new PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] }));
    // What the mapping reads, on this one stream (the AWS guide's policy for a stream consumer).
    this.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
        resources: [streamArn],
      }),
    );

    new EventSourceMapping(this, 'AlertEvents', {
      target: this.fn,
      eventSourceArn: streamArn,
      // Events written while the mapping was being created are still in the stream: deliver them.
      startingPosition: StartingPosition.TRIM_HORIZON,
      filters: [FilterCriteria.filter(ALERT_EVENT_FILTER)],
      batchSize: BATCH_SIZE,
      maxBatchingWindow: BATCHING_WINDOW,
      bisectBatchOnError: true,
      retryAttempts: RETRY_ATTEMPTS,
      maxRecordAge: MAX_RECORD_AGE,
      onFailure: new SqsDlq(this.deadLetterQueue),
    });

    this.undeliveredAlarm = new Alarm(this, 'AlertsUndelivered', {
      alarmName: `${Stack.of(this).stackName}-alerts-undelivered`,
      alarmDescription:
        'Alert events could not be published to the alerts topic after every retry: their batches are in the notifier dead-letter queue (NotifierDeadLetterQueueUrl). Each message names the stream shard and sequence numbers; list the replicas with npm run query -- --stuck and --status error, fix the cause in the notifier log, then purge the queue.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5) }),
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.undeliveredAlarm.addAlarmAction(new SnsAction(props.alarmTopic));
    this.undeliveredAlarm.addOkAction(new SnsAction(props.alarmTopic));

    // At the stack's top level, so their names are exactly these.
    const stack = Stack.of(this);
    new CfnOutput(stack, 'AlertsTopicArn', { value: this.topic.topicArn, description: 'Alerts that name each replica needing a person; subscribe e-mail, chat (AWS Chatbot) or a queue here.' });
    new CfnOutput(stack, 'NotifierDeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl, description: 'Batches of alert events that could not be published.' });
  }

  /** The notifier: the sync function's conventions (runtime, ARM, ESM bundle, own log group and role). */
  private notifier(props: AlertsProps): NodejsFunction {
    const logGroup = new LogGroup(this, 'NotifierLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const role = new Role(this, 'NotifierRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'The Tavus alerts notifier: its log group, the events stream, the alerts topic and its key, its dead-letter queue; nothing else.',
    });
    const fn = new NodejsFunction(this, 'Notifier', {
      description: 'Publishes the Tavus replica alert events of the events table stream to the alerts topic.',
      ...lambdaConventions('functions/notify/handler.ts'),
      // One Publish per batch: little memory, and a minute is ample even for SNS retries.
      memorySize: 256,
      timeout: Duration.minutes(1),
      role,
      logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: NOTIFIER_SERVICE_NAME,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        [NOTIFIER_ENVIRONMENT.topicArn]: this.topic.topicArn,
        [NOTIFIER_ENVIRONMENT.dashboardName]: props.dashboardName,
        // Names only, for the commands in the message: the notifier reads no table.
        [ENVIRONMENT_VARIABLES.table]: props.replicasTableName,
        [ENVIRONMENT_VARIABLES.eventsTable]: props.eventsTableName,
      },
    });
    logGroup.grantWrite(role);
    return fn;
  }
}
