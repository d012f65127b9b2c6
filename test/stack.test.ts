/**
 * The stack's promises, read from the synthesized template: tables from the shared definitions,
 * a secret with nothing of the key in it, the function and its schedule, least privilege, alarms,
 * the dashboard and the outputs. Plus the context checks. Two synths for the whole file.
 */
import { readFileSync } from 'node:fs';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../functions/engine/errors.js';
import { ENVIRONMENT_VARIABLES } from '../functions/engine/settings/registry.js';
import { REPLICA_EVENTS_TABLE, REPLICAS_TABLE, SYNC_RUNS_TABLE, type TableDefinition } from '../functions/engine/contract/tables.js';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../functions/engine/contract/telemetry.js';
import { CONTEXT_DEFAULTS, readDeployConfig } from '../lib/deploy-config.js';
import { DYNAMODB_ACTIONS } from '../functions/engine/contract/dynamodb-actions.js';
import { buildApp, cdkJsonContext, type BuiltApp } from './support/cdk-app.js';

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };

const EXISTING_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tavus/api-key-AbC123';

let main: BuiltApp;
let custom: BuiltApp;

beforeAll(() => {
  main = buildApp({ bundle: false });
  custom = buildApp({
    bundle: false,
    overrides: {
      schedule: 'cron(15 6 ? * MON-FRI *)',
      scheduleTimeZone: 'Europe/Berlin',
      staleAfter: '4d',
      replicaType: 'user',
      stuckAfter: '90m',
      eventTtlDays: 365,
      alarmEmail: 'ops@example.com',
      existingSecretArn: EXISTING_SECRET,
      logRetentionDays: 30,
      reserveConcurrency: false,
      replicasTable: 'acme-replicas',
    },
  });
}, 300_000); // synths are slow on a loaded machine

/**
 * The sync's resources of one type (optionally matching `props`), as [logical id, resource]; the
 * alerts construct's own are asserted in test/notifier-stack.test.ts.
 */
function resources(template: Template, type: string, props?: object): Array<[string, Resource]> {
  return Object.entries(template.findResources(type, props) as Record<string, Resource>).filter(([id]) => !id.startsWith('Alerts'));
}

/** The sync's one resource of a type (the alerts construct's are left out, as in `resources`). */
function only(template: Template, type: string): [string, Resource] {
  const found = resources(template, type);
  expect(found.map(([id]) => id), type).toHaveLength(1);
  return found[0]!;
}

function tableNamed(template: Template, name: string): [string, Resource] {
  const found = resources(template, 'AWS::DynamoDB::GlobalTable', { Properties: { TableName: name } });
  expect(found, name).toHaveLength(1);
  return found[0]!;
}

/** The key schema, indexes and TTL a definition implies, in CloudFormation's words. */
function expectShape(table: Resource, definition: TableDefinition): void {
  const keys = (pk: { name: string }, sk?: { name: string }) => [
    { AttributeName: pk.name, KeyType: 'HASH' },
    ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' }] : []),
  ];
  expect(table.Properties.KeySchema).toEqual(keys(definition.partitionKey, definition.sortKey));
  expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
  const indexes = (table.Properties.GlobalSecondaryIndexes ?? []) as Array<Record<string, unknown>>;
  expect(indexes.map((index) => index.IndexName)).toEqual(definition.globalSecondaryIndexes.map((index) => index.indexName));
  for (const index of definition.globalSecondaryIndexes) {
    const deployed = indexes.find((i) => i.IndexName === index.indexName)!;
    expect(deployed.KeySchema).toEqual(keys(index.partitionKey, index.sortKey));
    expect(deployed.Projection).toEqual({ ProjectionType: 'ALL' });
  }
  const attributeTypes = Object.fromEntries(
    (table.Properties.AttributeDefinitions as Array<{ AttributeName: string; AttributeType: string }>).map((a) => [a.AttributeName, a.AttributeType]),
  );
  for (const key of [definition.partitionKey, definition.sortKey, ...definition.globalSecondaryIndexes.flatMap((i) => [i.partitionKey, i.sortKey])]) {
    if (key) expect(attributeTypes[key.name], key.name).toBe(key.type);
  }
  if (definition.timeToLiveAttribute) {
    expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: definition.timeToLiveAttribute, Enabled: true });
  } else {
    expect(table.Properties.TimeToLiveSpecification).toBeUndefined();
  }
}

const pitr = (table: Resource) => table.Properties.Replicas[0].PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled;

describe('the tables', () => {
  it('deploys exactly three tables, under the configured names', () => {
    expect(resources(main.template, 'AWS::DynamoDB::GlobalTable').map(([, r]) => r.Properties.TableName).sort()).toEqual(
      ['tavus-replica-events', 'tavus-replica-sync-runs', 'tavus-replicas'],
    );
    tableNamed(custom.template, 'acme-replicas');
  });

  it('gives each table the keys, indexes and TTL of its shared definition (the one --create-tables uses)', () => {
    expectShape(tableNamed(main.template, 'tavus-replicas')[1], REPLICAS_TABLE);
    expectShape(tableNamed(main.template, 'tavus-replica-sync-runs')[1], SYNC_RUNS_TABLE);
    expectShape(tableNamed(main.template, 'tavus-replica-events')[1], REPLICA_EVENTS_TABLE);
    // The contract's index, by its contract name.
    main.template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'tavus-replicas',
      GlobalSecondaryIndexes: Match.arrayWith([Match.objectLike({ IndexName: 'by-status' })]),
    });
  });

  it('keeps the replicas and events tables: point-in-time recovery, deletion protection, retained on stack deletion', () => {
    for (const name of ['tavus-replicas', 'tavus-replica-events']) {
      const [, table] = tableNamed(main.template, name);
      expect(pitr(table), name).toBe(true);
      expect(table.Properties.Replicas[0].DeletionProtectionEnabled, name).toBe(true);
      expect(table.DeletionPolicy, name).toBe('Retain');
      expect(table.UpdateReplacePolicy, name).toBe('Retain');
    }
  });

  it('lets the runs table, whose records expire anyway, go with the stack', () => {
    const [, runs] = tableNamed(main.template, 'tavus-replica-sync-runs');
    expect(pitr(runs)).toBe(true);
    expect(runs.DeletionPolicy).toBe('Delete');
  });
});

describe('the API key secret', () => {
  it('is created with no value in the template: no SecretString, no generated placeholder', () => {
    const [, secret] = only(main.template, 'AWS::SecretsManager::Secret');
    expect(secret.Properties).not.toHaveProperty('SecretString');
    expect(secret.Properties).not.toHaveProperty('GenerateSecretString');
  });

  it('is not created when an existing secret is named; the function reads that one', () => {
    expect(resources(custom.template, 'AWS::SecretsManager::Secret')).toHaveLength(0);
    const [, fn] = only(custom.template, 'AWS::Lambda::Function');
    expect(fn.Properties.Environment.Variables.TAVUS_API_KEY_SECRET_ARN).toBe(EXISTING_SECRET);
    const statements = rolePolicyStatements(custom.template, functionRoleId(custom.template));
    expect(statements).toContainEqual({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: EXISTING_SECRET });
  });
});

describe('the function', () => {
  it('runs Node.js 24 on ARM from the ESM bundle, with the memory and timeout the deploy guide states, and reserved concurrency 1', () => {
    const guide = readFileSync(new URL('../docs/deploying.md', import.meta.url), 'utf8');
    const [, memoryMb, minutes] = /\| Lambda function \| Node\.js 24 on ARM, (\d+) MB, (\d+)-minute timeout/.exec(guide) ?? [];
    expect(Number(memoryMb)).toBeGreaterThanOrEqual(1024);
    main.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: Number(memoryMb),
      Timeout: Number(minutes) * 60,
      ReservedConcurrentExecutions: 1,
    });
  });

  it('drops the reservation when reserveConcurrency is false', () => {
    expect(only(custom.template, 'AWS::Lambda::Function')[1].Properties).not.toHaveProperty('ReservedConcurrentExecutions');
  });

  it('logs to its own log group with the configured retention', () => {
    const [groupId, group] = only(main.template, 'AWS::Logs::LogGroup');
    expect(group.Properties.RetentionInDays).toBe(90);
    expect(only(custom.template, 'AWS::Logs::LogGroup')[1].Properties.RetentionInDays).toBe(30);
    const [, fn] = only(main.template, 'AWS::Lambda::Function');
    expect(fn.Properties.LoggingConfig).toEqual({ LogGroup: { Ref: groupId } });
  });

  it('carries the contract settings in its environment, the tables by reference and the secret by ARN', () => {
    const [, fn] = only(main.template, 'AWS::Lambda::Function');
    const env = fn.Properties.Environment.Variables as Record<string, unknown>;
    const ref = (name: string) => ({ Ref: tableNamed(main.template, name)[0] });
    expect(env).toEqual({
      TAVUS_API_URL: 'https://tavusapi.com',
      TAVUS_API_RESOURCE: 'replicas',
      REPLICAS_TABLE: ref('tavus-replicas'),
      SYNC_RUNS_TABLE: ref('tavus-replica-sync-runs'),
      REPLICA_EVENTS_TABLE: ref('tavus-replica-events'),
      STUCK_TRAINING_AFTER: '6h',
      FINETUNE_STUCK_AFTER: '12h',
      MAX_DELETE_FRACTION: '0.5',
      RUN_RECORD_TTL_DAYS: '90',
      MAX_API_CONCURRENCY: '4',
      MAX_REPLICAS: '1000000',
      TAVUS_API_KEY_SECRET_ARN: { Ref: only(main.template, 'AWS::SecretsManager::Secret')[0] },
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
    const customEnv = only(custom.template, 'AWS::Lambda::Function')[1].Properties.Environment.Variables;
    expect(customEnv).toMatchObject({ REPLICA_TYPE: 'user', STUCK_TRAINING_AFTER: '90m', EVENT_TTL_DAYS: '365' });
  });

  it('records a failed invocation in the dead-letter queue and leaves the retry to the next scheduled run', () => {
    const [, config] = only(main.template, 'AWS::Lambda::EventInvokeConfig');
    expect(config.Properties).toMatchObject({
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlqId(main.template), 'Arn'] } } },
    });
  });
});

const dlqId = (template: Template) => only(template, 'AWS::SQS::Queue')[0];

describe('the schedule', () => {
  it('invokes the function hourly (UTC) by EventBridge Scheduler, with retries and the dead-letter queue', () => {
    const [, schedule] = only(main.template, 'AWS::Scheduler::Schedule');
    const [fnId] = only(main.template, 'AWS::Lambda::Function');
    expect(schedule.Properties).toMatchObject({
      ScheduleExpression: 'rate(1 hour)',
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::GetAtt': [fnId, 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqId(main.template), 'Arn'] } },
      },
    });
    expect(JSON.parse(schedule.Properties.Target.Input)).toMatchObject({ source: 'tavus-replica-sync.schedule', scheduled_time: '<aws.scheduler.scheduled-time>' });
  });

  it('takes a cron expression and time zone from context', () => {
    expect(only(custom.template, 'AWS::Scheduler::Schedule')[1].Properties).toMatchObject({
      ScheduleExpression: 'cron(15 6 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
    });
  });

  it('has an encrypted dead-letter queue that refuses plain HTTP', () => {
    const [id, queue] = only(main.template, 'AWS::SQS::Queue');
    expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
    main.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: id }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

// ---- least privilege -------------------------------------------------------------------------

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

function functionRoleId(template: Template): string {
  const [, fn] = only(template, 'AWS::Lambda::Function');
  return fn.Properties.Role['Fn::GetAtt'][0] as string;
}

function rolePolicyStatements(template: Template, roleId: string): Statement[] {
  return resources(template, 'AWS::IAM::Policy')
    .filter(([, policy]) => (policy.Properties.Roles as unknown[]).some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId })))
    .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

/** Every identity policy statement in a template: policies and roles' inline policies. */
function allIdentityStatements(template: Template): Statement[] {
  const inline = resources(template, 'AWS::IAM::Role').flatMap(([, role]) =>
    ((role.Properties.Policies ?? []) as Array<{ PolicyDocument: { Statement: Statement[] } }>).flatMap((p) => p.PolicyDocument.Statement),
  );
  return [...resources(template, 'AWS::IAM::Policy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]), ...inline];
}

const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const getAtt = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('least privilege', () => {
  it('has no wildcard action and no resource "*" (or ending in "*") in any IAM statement', () => {
    for (const template of [main.template, custom.template]) {
      const statements = allIdentityStatements(template);
      expect(statements.length).toBeGreaterThan(0);
      for (const statement of statements) {
        for (const action of asList(statement.Action)) expect(action, JSON.stringify(statement)).not.toContain('*');
        for (const resource of asList(statement.Resource)) {
          const text = JSON.stringify(resource);
          expect(text, JSON.stringify(statement)).not.toBe('"*"');
          expect(text, JSON.stringify(statement)).not.toMatch(/\*"?\]*\]*}*$/);
        }
      }
    }
  });

  it('lets the function use its log group, its three tables (exactly the actions the engine sends, no index), the one secret and the dead-letter queue, and nothing else', () => {
    const template = main.template;
    const statements = rolePolicyStatements(template, functionRoleId(template));
    const grants = new Map<string, Set<string>>();
    for (const statement of statements) {
      expect(statement.Effect).toBe('Allow');
      for (const resource of asList(statement.Resource)) {
        const key = JSON.stringify(resource);
        const actions = grants.get(key) ?? new Set<string>();
        for (const action of asList(statement.Action)) actions.add(action);
        grants.set(key, actions);
      }
    }
    const table = (name: string) => JSON.stringify(getAtt(tableNamed(template, name)[0]));
    const expected = new Map<string, string[]>([
      [JSON.stringify(getAtt(only(template, 'AWS::Logs::LogGroup')[0])), ['logs:CreateLogStream', 'logs:PutLogEvents']],
      // The declared lists, which test/dynamodb-actions.test.ts holds to what real syncs send.
      [table('tavus-replicas'), [...DYNAMODB_ACTIONS.replicas]],
      [table('tavus-replica-sync-runs'), [...DYNAMODB_ACTIONS.runs]],
      [table('tavus-replica-events'), [...DYNAMODB_ACTIONS.events]],
      [JSON.stringify({ Ref: only(template, 'AWS::SecretsManager::Secret')[0] }), ['secretsmanager:GetSecretValue']],
      // Lambda itself sends the failure record to the queue, with the function's role.
      [JSON.stringify(getAtt(dlqId(template))), ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']],
    ]);
    expect(new Map([...grants].map(([resource, actions]) => [resource, [...actions].sort()]))).toEqual(
      new Map([...expected].map(([resource, actions]) => [resource, [...actions].sort()])),
    );
  });

  it('never lets the function delete a replica item, write in batches, or touch an index, whatever the declared lists say', () => {
    const statements = rolePolicyStatements(main.template, functionRoleId(main.template));
    const replicas = JSON.stringify(getAtt(tableNamed(main.template, 'tavus-replicas')[0]));
    const onReplicas = statements.filter((s) => asList(s.Resource).some((r) => JSON.stringify(r) === replicas)).flatMap((s) => asList(s.Action));
    expect(onReplicas).toContain('dynamodb:PutItem');
    for (const forbidden of ['dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:PartiQLDelete']) expect(onReplicas).not.toContain(forbidden);
    const dynamodbResources = statements
      .filter((s) => asList(s.Action).some((a) => a.startsWith('dynamodb:')))
      .flatMap((s) => asList(s.Resource).map((r) => JSON.stringify(r)));
    for (const resource of dynamodbResources) expect(resource).not.toContain('/index/');
    for (const resource of dynamodbResources) expect(resource).not.toContain('/stream/');
  });

  it('gives the function role no managed policies (not even the basic execution role, which may write to any log group)', () => {
    const role = main.template.toJSON().Resources[functionRoleId(main.template)] as Resource;
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
  });

  it('lets the schedule invoke the function itself (no versions or aliases) and write to the dead-letter queue, nothing else', () => {
    const [, schedule] = only(main.template, 'AWS::Scheduler::Schedule');
    const roleId = schedule.Properties.Target.RoleArn['Fn::GetAtt'][0] as string;
    expect(rolePolicyStatements(main.template, roleId)).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: getAtt(only(main.template, 'AWS::Lambda::Function')[0]) },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt(dlqId(main.template)) },
    ]);
  });
});

// ---- alarms, topic, dashboard ----------------------------------------------------------------

function alarmNamed(template: Template, suffix: string): Resource {
  const named = { Properties: { AlarmName: `TavusReplicaSync-${suffix}` } };
  const found = [...resources(template, 'AWS::CloudWatch::Alarm', named), ...resources(template, 'AWS::CloudWatch::CompositeAlarm', named)];
  expect(found, suffix).toHaveLength(1);
  return found[0]![1];
}

const topicRef = () => ({ Ref: only(main.template, 'AWS::SNS::Topic')[0] });
const syncMetric = { Namespace: METRICS_NAMESPACE, Dimensions: [{ Name: 'service', Value: SERVICE_NAME }] };

describe('the alarms', () => {
  it('alarm on a training stuck: StuckTrainingReplicas >= 1', () => {
    expect(alarmNamed(main.template, 'training-stuck').Properties).toMatchObject({
      ...syncMetric,
      MetricName: METRIC.stuck,
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      TreatMissingData: 'ignore',
    });
  });

  it('alarm once on a failing sync: a run reporting SyncSucceeded < 1, or a function error (timeouts and crashes included)', () => {
    const runFailed = alarmNamed(main.template, 'run-failed');
    expect(runFailed.Properties).toMatchObject({ ...syncMetric, MetricName: METRIC.succeeded, Statistic: 'Minimum', ComparisonOperator: 'LessThanThreshold', Threshold: 1 });
    const errors = alarmNamed(main.template, 'function-errors');
    expect(errors.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: only(main.template, 'AWS::Lambda::Function')[0] } }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
    });
    const composite = alarmNamed(main.template, 'sync-failing');
    const rule = JSON.stringify(composite.Properties.AlarmRule);
    for (const id of ['MonitoringRunFailed', 'MonitoringFunctionErrors']) expect(rule).toContain(id);
    expect(rule).toContain('ALARM(');
    expect(rule).toContain(' OR ');
    // Only the composite notifies, so one failed run is one message.
    expect(runFailed.Properties.AlarmActions).toBeUndefined();
    expect(errors.Properties.AlarmActions).toBeUndefined();
  });

  it('alarm when no run succeeded within three schedule intervals, counting no data at all as breaching', () => {
    expect(alarmNamed(main.template, 'sync-stale').Properties).toMatchObject({
      ...syncMetric,
      MetricName: METRIC.succeeded,
      Statistic: 'Sum',
      Period: 3 * 3600,
      EvaluationPeriods: 1,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
    expect(alarmNamed(custom.template, 'sync-stale').Properties.Period).toBe(4 * 86_400);
  });

  it('alarm when the dead-letter queue holds a message', () => {
    expect(alarmNamed(main.template, 'dead-letters').Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId(main.template), 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
    });
  });

  it('alarm when replicas newly turned to error: ReplicasNewlyInError >= 1', () => {
    expect(alarmNamed(main.template, 'replicas-newly-in-error').Properties).toMatchObject({
      ...syncMetric,
      MetricName: METRIC.newlyInError,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
    });
  });

  it('alarm when a run skipped replicas DynamoDB cannot store: ReplicasRejected >= 1', () => {
    expect(alarmNamed(main.template, 'replicas-rejected').Properties).toMatchObject({
      ...syncMetric,
      MetricName: METRIC.rejected,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
    });
  });

  it('alarm when a live replica has a failed fine-tune: ReplicasFinetuneFailed >= 1, kept from the last run that counted', () => {
    expect(alarmNamed(main.template, 'finetune-failed').Properties).toMatchObject({
      ...syncMetric,
      MetricName: METRIC.finetuneFailed,
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      TreatMissingData: 'ignore',
    });
  });

  it('send every alarm and its recovery to the topic, each telling the operator where to look', () => {
    const whereToLook: Record<string, string> = {
      'training-stuck': 'npm run query -- --stuck',
      'sync-failing': 'Read the error in the function log',
      'sync-stale': 'Check that the schedule is enabled',
      'dead-letters': 'Read the messages, fix the cause, then purge the queue',
      'replicas-newly-in-error': 'npm run query -- --status error',
      'replicas-rejected': 'warnings',
      'finetune-failed': 'npm run query -- --finetune errored',
    };
    for (const [suffix, pointer] of Object.entries(whereToLook)) {
      const alarm = alarmNamed(main.template, suffix);
      expect(alarm.Properties.AlarmActions, suffix).toEqual([topicRef()]);
      expect(alarm.Properties.OKActions, suffix).toEqual([topicRef()]);
      expect(alarm.Properties.AlarmDescription, suffix).toContain(pointer);
    }
    const notifying = [...resources(main.template, 'AWS::CloudWatch::Alarm'), ...resources(main.template, 'AWS::CloudWatch::CompositeAlarm')].filter(
      ([, alarm]) => alarm.Properties.AlarmActions !== undefined,
    );
    expect(notifying.map(([, alarm]) => String(alarm.Properties.AlarmName).replace('TavusReplicaSync-', '')).sort()).toEqual(Object.keys(whereToLook).sort());
  });
});

describe('the alarm topic', () => {
  it('is encrypted with a rotating customer key that CloudWatch may use, and refuses plain HTTP', () => {
    const [keyId, key] = only(main.template, 'AWS::KMS::Key');
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const [, topic] = only(main.template, 'AWS::SNS::Topic');
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    const forCloudWatch = (key.Properties.KeyPolicy.Statement as Array<Record<string, any>>).filter(
      (s) => s.Principal?.Service === 'cloudwatch.amazonaws.com',
    );
    expect(forCloudWatch).toEqual([expect.objectContaining({ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'] })]);
    main.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it("lets CloudWatch use the key only for this stack's alarms in this account: every alarm that notifies matches its SourceArn", () => {
    const [, key] = only(main.template, 'AWS::KMS::Key');
    const [forCloudWatch] = (key.Properties.KeyPolicy.Statement as Array<Record<string, any>>).filter((s) => s.Principal?.Service === 'cloudwatch.amazonaws.com');
    const pattern = JSON.stringify(forCloudWatch?.Condition?.ArnLike?.['aws:SourceArn']);
    expect(pattern).toContain(':alarm:TavusReplicaSync-*');
    const notifying = Object.values({ ...main.template.findResources('AWS::CloudWatch::Alarm'), ...main.template.findResources('AWS::CloudWatch::CompositeAlarm') }).filter(
      (alarm) => alarm.Properties.AlarmActions !== undefined,
    );
    expect(notifying.length).toBeGreaterThan(0);
    for (const alarm of notifying) expect(String(alarm.Properties.AlarmName)).toMatch(/^TavusReplicaSync-/);
  });

  it('mails the alarmEmail address when one is configured, and nobody otherwise', () => {
    expect(resources(main.template, 'AWS::SNS::Subscription')).toHaveLength(0);
    expect(only(custom.template, 'AWS::SNS::Subscription')[1].Properties).toMatchObject({ Protocol: 'email', Endpoint: 'ops@example.com' });
  });
});

describe('the dashboard', () => {
  it('shows runs and outcome, fetched/written/deleted, stuck and in error, retries and duration', () => {
    const [, dashboard] = only(main.template, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const title of ['Runs and outcome', 'Replicas fetched, written, marked deleted', 'Stuck and in error', 'Fine-tunes (Phoenix-4.5)', 'API retries', 'Run duration (ms)']) {
      expect(body, title).toContain(title);
    }
    for (const name of Object.values(METRIC)) expect(body, name).toContain(name);
  });
});

describe('the outputs', () => {
  it('name the tables, the secret with the command that sets the key, the function and its logs, the topic and the dashboard', () => {
    const outputs = main.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const secretRef = { Ref: only(main.template, 'AWS::SecretsManager::Secret')[0] };
    expect(outputs.ReplicasTableName!.Value).toEqual({ Ref: tableNamed(main.template, 'tavus-replicas')[0] });
    expect(outputs.ReplicaEventsTableName!.Value).toEqual({ Ref: tableNamed(main.template, 'tavus-replica-events')[0] });
    expect(outputs.SyncRunsTableName!.Value).toEqual({ Ref: tableNamed(main.template, 'tavus-replica-sync-runs')[0] });
    expect(outputs.ApiKeySecretArn!.Value).toEqual(secretRef);
    expect(outputs.SetApiKeyCommand!.Value).toEqual({
      'Fn::Join': ['', ['aws secretsmanager put-secret-value --secret-id ', secretRef, ' --secret-string "$TAVUS_API_KEY"']],
    });
    expect(outputs.SyncFunctionName!.Value).toEqual({ Ref: only(main.template, 'AWS::Lambda::Function')[0] });
    expect(outputs.LogGroupName!.Value).toEqual({ Ref: only(main.template, 'AWS::Logs::LogGroup')[0] });
    expect(outputs.AlarmTopicArn!.Value).toEqual(topicRef());
    expect(outputs.DashboardName!.Value).toEqual({ Ref: only(main.template, 'AWS::CloudWatch::Dashboard')[0] });
    expect(JSON.stringify(outputs.DashboardUrl!.Value)).toContain('#dashboards:name=');
    expect(outputs.DeadLetterQueueUrl!.Value).toEqual({ Ref: dlqId(main.template) });
    const custom_outputs = custom.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(custom_outputs.SetApiKeyCommand!.Value).toBe(
      `aws secretsmanager put-secret-value --secret-id ${EXISTING_SECRET} --secret-string "$TAVUS_API_KEY"`,
    );
  });
});

// ---- context ---------------------------------------------------------------------------------

describe('the context', () => {
  it('lists in cdk.json every key the app reads, with the documented default', () => {
    const context = cdkJsonContext();
    for (const [key, value] of Object.entries(CONTEXT_DEFAULTS)) expect(context[key], key).toEqual(value);
  });

  const configWith = (values: Record<string, unknown>) => readDeployConfig((key) => values[key]);
  const rejects = (values: Record<string, unknown>, pattern: RegExp) => {
    let caught: unknown;
    try {
      configWith(values);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InputError);
    const message = (caught as Error).message;
    expect(message).toMatch(pattern);
    // One sentence: it names the key and ends with a full stop.
    expect(message.split('. ').length, message).toBe(1);
    expect(message.endsWith('.')).toBe(true);
  };

  it('turns the defaults into the contract environment, and the stale window into three intervals', () => {
    const config = configWith({});
    expect(config.syncEnvironment).toEqual({
      [ENVIRONMENT_VARIABLES.apiUrl]: 'https://tavusapi.com',
      [ENVIRONMENT_VARIABLES.apiResource]: 'replicas',
      [ENVIRONMENT_VARIABLES.stuckAfter]: '6h',
      [ENVIRONMENT_VARIABLES.finetuneStuckAfter]: '12h',
      [ENVIRONMENT_VARIABLES.maxDeleteFraction]: '0.5',
      [ENVIRONMENT_VARIABLES.runRecordTtlDays]: '90',
      [ENVIRONMENT_VARIABLES.maxConcurrency]: '4',
      [ENVIRONMENT_VARIABLES.maxReplicas]: '1000000',
    });
    expect(config.settings.tables).toEqual({ replicas: 'tavus-replicas', runs: 'tavus-replica-sync-runs', events: 'tavus-replica-events' });
    expect(config.staleAfterMs).toBe(3 * 3_600_000);
    expect(configWith({ schedule: 'rate(20 minutes)' }).staleAfterMs).toBe(60 * 60_000);
  });

  it('refuses a bad value with one sentence naming the key', () => {
    rejects({ schedule: 'every hour' }, /^The context value "schedule" .* must be an EventBridge Scheduler rate or cron expression/);
    rejects({ schedule: 'rate(2 hour)' }, /"schedule"/);
    rejects({ scheduleTimeZone: 'Mars/Olympus' }, /"scheduleTimeZone" .* IANA time zone/);
    rejects({ schedule: 'cron(0 6 * * ? *)' }, /"staleAfter" .* must be set when the schedule is a cron expression/);
    rejects({ schedule: 'rate(3 days)' }, /"staleAfter" .* at most 7d/);
    rejects({ staleAfter: '90s' }, /"staleAfter" .* whole minutes/);
    rejects({ stuckAfter: 'six hours' }, /"stuckAfter" .*like 90s, 30m, 6h or 1d/);
    rejects({ maxDeleteFraction: 2 }, /"maxDeleteFraction" .* from 0 to 1/);
    rejects({ replicaType: 'both' }, /"replicaType" .* user or system/);
    rejects({ apiUrl: 'tavusapi.com' }, /"apiUrl" .* http\(s\) URL/);
    rejects({ apiResource: 'face' }, /"apiResource" .* replicas or faces/);
    rejects({ finetuneStuckAfter: 'a day' }, /"finetuneStuckAfter" .*like 90s, 30m, 6h or 1d/);
    // Each kind of bad duration gets the sentence that fits it, with an example.
    rejects({ stuckAfter: '-5m' }, /"stuckAfter" .* must be a positive duration \(like 90s, 30m, 6h or 1d\), not "-5m"/);
    rejects({ stuckAfter: '0s' }, /"stuckAfter" .* must be longer than zero \(like 90s, 30m, 6h or 1d\)/);
    rejects({ stuckAfter: 6 }, /"stuckAfter" .* needs a unit after the number/);
    rejects({ finetuneStuckAfter: '1.5h' }, /"finetuneStuckAfter" .* must be a whole number of its unit .*: write 90m\.$/);
    rejects({ staleAfter: '-1h' }, /"staleAfter" .* must be a positive duration/);
    rejects({ staleAfter: '0m' }, /"staleAfter" .* must be longer than zero/);
    rejects({ replicasTable: 'x' }, /"replicasTable" .* DynamoDB table name/);
    rejects({ alarmEmail: 'ops' }, /"alarmEmail" .* e-mail address/);
    rejects({ existingSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tavus' }, /"existingSecretArn" .* complete ARN/);
    rejects({ logRetentionDays: 42 }, /"logRetentionDays" .* retention periods/);
    rejects({ reserveConcurrency: 'yes' }, /"reserveConcurrency" .* true or false/);
  });
});

describe('the deploy guide (docs/deploying.md)', () => {
  const guide = readFileSync(new URL('../docs/deploying.md', import.meta.url), 'utf8');

  it('names every stack output, and no output the stack does not have', () => {
    const outputs = Object.keys(main.template.toJSON().Outputs as Record<string, unknown>);
    for (const output of outputs) expect(guide, output).toContain(output);
    const mentioned = [...guide.matchAll(/TavusReplicaSync\.(\w+)/g)].map((m) => m[1]);
    for (const name of mentioned) expect(outputs, name).toContain(name);
  });

  it('names every alarm the stack creates', () => {
    const names = [...resources(main.template, 'AWS::CloudWatch::Alarm'), ...resources(main.template, 'AWS::CloudWatch::CompositeAlarm')].map(
      ([, alarm]) => String(alarm.Properties.AlarmName).replace(/^TavusReplicaSync/, ''),
    );
    expect(names).toHaveLength(9);
    for (const name of names) expect(guide, name).toContain(name);
  });

  it('documents every context key with its default', () => {
    for (const [key, value] of Object.entries(CONTEXT_DEFAULTS)) {
      const row = guide.split('\n').find((line) => line.startsWith(`| \`${key}\` |`));
      expect(row, key).toBeDefined();
      if (value !== '') expect(row, key).toContain(`\`${String(value)}\``);
    }
  });
});

describe('every KMS key policy', () => {
  /**
   * The services a key policy may name, and the source each acts for: aws:SourceAccount always,
   * aws:SourceArn where the service sends it. A new service principal fails here until it is added.
   */
  const SOURCE_ARN: Record<string, RegExp> = {
    'cloudwatch.amazonaws.com': /:cloudwatch:.*:alarm:/,
  };

  it('holds every statement for a service principal to this account (aws:SourceAccount) and its source (aws:SourceArn): no confused deputy', () => {
    let checked = 0;
    for (const built of [main, custom]) {
      for (const [id, key] of Object.entries(built.template.findResources('AWS::KMS::Key') as Record<string, Resource>)) {
        for (const statement of key.Properties.KeyPolicy.Statement as Array<Record<string, any>>) {
          const services = [statement.Principal?.Service ?? []].flat() as string[];
          for (const service of services) {
            checked += 1;
            const where = `${id}: ${service}`;
            expect(Object.keys(SOURCE_ARN), where).toContain(service);
            expect(statement.Effect, where).toBe('Allow');
            expect(statement.Condition?.StringEquals?.['aws:SourceAccount'], where).toEqual({ Ref: 'AWS::AccountId' });
            expect(JSON.stringify(statement.Condition?.ArnLike?.['aws:SourceArn']), where).toMatch(SOURCE_ARN[service]!);
            expect(JSON.stringify(statement.Condition?.ArnLike?.['aws:SourceArn']), where).toContain('{"Ref":"AWS::AccountId"}');
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});
