/**
 * The alerts construct in the synthesized template: the events stream, the mapping (filter,
 * batching, retries, bisect, dead-letter queue), the alarm, the topic, the notifier's privileges
 * and the outputs; cdk-nag acknowledgments with their reasons.
 */
import { readFileSync } from 'node:fs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPLICA_EVENTS_TABLE } from '../functions/engine/contract/tables.js';
import { buildApp, type BuiltApp } from './support/cdk-app.js';

type Resource = { Type: string; Properties: Record<string, any> };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

let main: BuiltApp;
let mailed: BuiltApp;

beforeAll(() => {
  main = buildApp({ bundle: false });
  mailed = buildApp({ bundle: false, overrides: { alertsEmail: 'oncall@example.com', replicasTable: 'acme-replicas' } });
}, 180_000);

function all(app: BuiltApp, type: string): Array<[string, Resource]> {
  return Object.entries(app.template.toJSON().Resources as Record<string, Resource>).filter(([, r]) => r.Type === type);
}
function one(app: BuiltApp, type: string, prefix = 'Alerts'): [string, Resource] {
  const found = all(app, type).filter(([id]) => id.startsWith(prefix));
  expect(found, `${prefix} ${type}`).toHaveLength(1);
  return found[0]!;
}
const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });
const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const eventsTableId = (app: BuiltApp) => all(app, 'AWS::DynamoDB::GlobalTable').find(([, r]) => r.Properties.TableName === 'tavus-replica-events')![0];

describe('the alerts path in the template', () => {
  it('gives the events table a stream of new images, from its shared definition', () => {
    expect(REPLICA_EVENTS_TABLE.stream).toBe('NEW_IMAGE');
    const [, table] = all(main, 'AWS::DynamoDB::GlobalTable').find(([, r]) => r.Properties.TableName === 'tavus-replica-events')!;
    expect(table.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
    for (const [, other] of all(main, 'AWS::DynamoDB::GlobalTable').filter(([, r]) => r.Properties.TableName !== 'tavus-replica-events')) {
      expect(other.Properties.StreamSpecification).toBeUndefined();
    }
  });

  it('maps the stream to the notifier: alert inserts only, a minute of batching, bisect, bounded retries, a dead-letter queue', () => {
    const [, mapping] = one(main, 'AWS::Lambda::EventSourceMapping');
    const [fnId] = one(main, 'AWS::Lambda::Function', 'AlertsNotifier');
    const [queueId] = one(main, 'AWS::SQS::Queue');
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: getAtt(eventsTableId(main), 'StreamArn'),
      FunctionName: { Ref: fnId },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 60,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 43_200,
      DestinationConfig: { OnFailure: { Destination: getAtt(queueId) } },
    });
    expect(mapping.Properties.FilterCriteria.Filters.map((f: { Pattern: string }) => JSON.parse(f.Pattern))).toEqual([
      { eventName: ['INSERT'], dynamodb: { NewImage: { alert_kind: { S: [{ exists: true }] } } } },
    ]);
  });

  it('runs the notifier like the sync function: Node.js 24 on ARM, its own log group, the topic and dashboard in its environment', () => {
    const [, fn] = one(main, 'AWS::Lambda::Function', 'AlertsNotifier');
    const [topicId] = one(main, 'AWS::SNS::Topic');
    const [logsId] = one(main, 'AWS::Logs::LogGroup');
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', LoggingConfig: { LogGroup: { Ref: logsId } } });
    expect(fn.Properties.Environment.Variables).toMatchObject({
      ALERTS_TOPIC_ARN: { Ref: topicId },
      DASHBOARD_NAME: { Ref: all(main, 'AWS::CloudWatch::Dashboard')[0]![0] },
      REPLICAS_TABLE: 'tavus-replicas',
      REPLICA_EVENTS_TABLE: 'tavus-replica-events',
    });
    expect(JSON.stringify(fn.Properties.Environment.Variables)).not.toMatch(/SECRET|API_KEY/);
    expect(one(mailed, 'AWS::Lambda::Function', 'AlertsNotifier')[1].Properties.Environment.Variables.REPLICAS_TABLE).toBe('acme-replicas');
  });

  it('lets the notifier publish to the AlertsTopic only, read its stream, write its logs and its dead-letter queue; nothing else', () => {
    const [, fn] = one(main, 'AWS::Lambda::Function', 'AlertsNotifier');
    const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
    const role = main.template.toJSON().Resources[roleId] as Resource;
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.Policies).toBeUndefined();
    const statements = all(main, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
    const grants = statements.map((s) => ({ actions: asList(s.Action).sort(), resource: s.Resource, effect: s.Effect }));
    expect(grants).toEqual(
      expect.arrayContaining([
        { effect: 'Allow', actions: ['sns:Publish'], resource: { Ref: one(main, 'AWS::SNS::Topic')[0] } },
        { effect: 'Allow', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resource: getAtt(one(main, 'AWS::KMS::Key')[0]) },
        {
          effect: 'Allow',
          actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
          resource: getAtt(eventsTableId(main), 'StreamArn'),
        },
        { effect: 'Allow', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resource: getAtt(one(main, 'AWS::Logs::LogGroup')[0]) },
        { effect: 'Allow', actions: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], resource: getAtt(one(main, 'AWS::SQS::Queue')[0]) },
      ]),
    );
    expect(grants).toHaveLength(5);
    // sns:Publish nowhere else: not on the alarm topic, not on "*".
    for (const grant of grants) {
      expect(grant.actions.some((a) => a.includes('*'))).toBe(false);
      expect(JSON.stringify(grant.resource)).not.toMatch(/"\*"|\*"?\]*}*$/);
    }
  });

  it('encrypts the AlertsTopic with its own rotating key, refuses plain HTTP, and mails alertsEmail when set', () => {
    const [keyId, key] = one(main, 'AWS::KMS::Key');
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const [topicId, topic] = one(main, 'AWS::SNS::Topic');
    expect(topic.Properties.KmsMasterKeyId).toEqual(getAtt(keyId));
    const [, policy] = one(main, 'AWS::SNS::TopicPolicy');
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Resource: { Ref: topicId }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]);
    expect(all(main, 'AWS::SNS::Subscription').filter(([id]) => id.startsWith('Alerts'))).toHaveLength(0);
    expect(one(mailed, 'AWS::SNS::Subscription')[1].Properties).toMatchObject({ Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: { Ref: one(mailed, 'AWS::SNS::Topic')[0] } });
  });

  it('keeps failed batches in an encrypted queue that refuses plain HTTP, and alarms the stack\'s alarm topic when one arrives', () => {
    const [queueId, queue] = one(main, 'AWS::SQS::Queue');
    expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
    const [, queuePolicy] = one(main, 'AWS::SQS::QueuePolicy');
    expect(queuePolicy.Properties.PolicyDocument.Statement[0]).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    const [, alarm] = one(main, 'AWS::CloudWatch::Alarm');
    const alarmTopic = { Ref: all(main, 'AWS::SNS::Topic').find(([id]) => id.startsWith('Monitoring'))![0] };
    expect(alarm.Properties).toMatchObject({
      AlarmName: 'TavusReplicaSync-alerts-undelivered',
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: getAtt(queueId, 'QueueName') }],
      Threshold: 1,
      AlarmActions: [alarmTopic],
      OKActions: [alarmTopic],
    });
  });

  it('outputs AlertsTopicArn and the notifier dead-letter queue, both named in the deploy guide with the alarm', () => {
    const outputs = main.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.AlertsTopicArn!.Value).toEqual({ Ref: one(main, 'AWS::SNS::Topic')[0] });
    expect(outputs.NotifierDeadLetterQueueUrl!.Value).toEqual({ Ref: one(main, 'AWS::SQS::Queue')[0] });
    const guide = readFileSync(new URL('../docs/deploying.md', import.meta.url), 'utf8');
    for (const name of ['AlertsTopicArn', 'NotifierDeadLetterQueueUrl', '-alerts-undelivered', '`alertsEmail`']) expect(guide, name).toContain(name);
  });
});

describe('cdk-nag on the alerts construct', () => {
  it('finds nothing unanswered and acknowledges only the dead-letter queue having no queue of its own', () => {
    const report = new AwsSolutionsChecks(main.app).validateScope(main.stack.alerts);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    const acknowledged = main.stack.alerts.node.findAll().flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === 'aws:cdk:acknowledged-rules')
        .flatMap((entry) => Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({ id: id.replace(/^\w+::/, ''), path: construct.node.path, reason }))),
    );
    expect(acknowledged.map(({ id, path }) => `${id} @ ${path}`)).toEqual(['AwsSolutions-SQS3 @ TavusReplicaSync/Alerts/NotifierDeadLetterQueue']);
    expect(acknowledged[0]!.reason).toMatch(/itself the dead-letter queue of the notifier/);
  });
});
