/**
 * cdk-nag's AWS Solutions checks over the stack: nothing left unanswered, and every rule we set
 * aside acknowledged on the one construct it concerns, with the real reason.
 */
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type BuiltApp } from './support/cdk-app.js';

const ACKNOWLEDGED = 'aws:cdk:acknowledged-rules';

let built: BuiltApp;
let withExistingSecret: BuiltApp;
let withAthena: BuiltApp;

beforeAll(() => {
  built = buildApp({ bundle: false });
  withExistingSecret = buildApp({
    bundle: false,
    overrides: { existingSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tavus/api-key-AbC123', alarmEmail: 'ops@example.com' },
  });
  withAthena = buildApp({ bundle: false, overrides: { athena: true } });
}, 300_000); // synths are slow on a loaded machine

/** Every acknowledgment in the stack: rule id -> construct path -> reason. */
function acknowledgments(app: BuiltApp): Array<{ id: string; path: string; reason: string }> {
  return app.stack.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === ACKNOWLEDGED)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({ id, path: construct.node.path, reason }))),
  );
}

describe('cdk-nag AwsSolutionsChecks', () => {
  it('finds no unacknowledged violation, with a created secret or an existing one, and with the Athena side', () => {
    for (const app of [built, withExistingSecret, withAthena]) {
      const report = new AwsSolutionsChecks(app.app).validateScope(app.stack);
      expect(report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`)).toEqual([]);
    }
  });

  it('acknowledges only secret rotation and the dead-letter queue having no queue of its own, each with its reason', () => {
    // The alerts construct's acknowledgments are asserted in test/notifier-stack.test.ts, the Athena side's below.
    const found = acknowledgments(built)
      .filter(({ path }) => !path.startsWith('TavusReplicaSync/Alerts/'))
      .map(({ id, path, reason }) => ({ id: id.replace(/^\w+::/, ''), path, reason }));
    expect(found.map(({ id, path }) => `${id} @ ${path}`).sort()).toEqual([
      'AwsSolutions-SMG4 @ TavusReplicaSync/ApiKeySecret',
      'AwsSolutions-SQS3 @ TavusReplicaSync/DeadLetterQueue',
    ]);
    const reason = (id: string) => found.find((f) => f.id === id)!.reason;
    // Rotation: the key is issued by Tavus, so no rotation Lambda can mint one.
    expect(reason('AwsSolutions-SMG4')).toMatch(/issued by Tavus/);
    expect(reason('AwsSolutions-SMG4')).toMatch(/no rotation function can mint/);
    expect(reason('AwsSolutions-SQS3')).toMatch(/itself the dead-letter queue/);
  });

  it('acknowledges on the Athena side only the buckets\' access logs and the connector role\'s named wildcards, each with its reason', () => {
    const found = acknowledgments(withAthena)
      .filter(({ path }) => path.startsWith('TavusReplicaSync/Athena/'))
      .map(({ id, path, reason }) => ({ id: id.replace(/^\w+::/, ''), path: path.replace('TavusReplicaSync/Athena/', ''), reason }));
    // Logical ids lose their hash: `<ReplicasTable849E4CFC.Arn>` reads `<ReplicasTable.Arn>`.
    const ids = (id: string) => id.replace(/[0-9A-F]{8}\.Arn>/g, '.Arn>');
    expect(found.map(({ id, path }) => `${ids(id)} @ ${path}`).sort()).toEqual([
      'AwsSolutions-IAM5[Resource::*] @ ConnectorRole',
      'AwsSolutions-IAM5[Resource::<AthenaSpillBucket.Arn>/athena-spill/*] @ ConnectorRole',
      'AwsSolutions-IAM5[Resource::<ReplicaEventsTable.Arn>/index/*] @ ConnectorRole',
      'AwsSolutions-IAM5[Resource::<ReplicasTable.Arn>/index/*] @ ConnectorRole',
      'AwsSolutions-IAM5[Resource::<SyncRunsTable.Arn>/index/*] @ ConnectorRole',
      'AwsSolutions-S1 @ ResultsBucket',
      'AwsSolutions-S1 @ SpillBucket',
    ]);
    const reason = (id: string, path: string) => found.find((f) => f.id.startsWith(id) && f.path === path)!.reason;
    expect(reason('AwsSolutions-IAM5[Resource::*]', 'ConnectorRole')).toMatch(/ListTables takes no resource/);
    expect(reason('AwsSolutions-IAM5[Resource::<Replicas', 'ConnectorRole')).toMatch(/indexes of the replicas table/);
    expect(reason('AwsSolutions-S1', 'SpillBucket')).toMatch(/expire after a day/);
    expect(reason('AwsSolutions-S1', 'ResultsBucket')).toMatch(/CloudTrail/);
  });

  it('is registered on the app itself (lib/app.ts, which `cdk synth` runs), so synth stops on a new violation', () => {
    const app = buildApp({ bundle: false });
    // A queue without a dead-letter queue or TLS enforcement: AwsSolutions-SQS3 and SQS4.
    new Queue(app.stack, 'UncheckedQueue');
    expect(() => app.app.synth({ force: true })).toThrow(/AwsSolutions-SQS3[\s\S]*AwsSolutions-SQS4/);
  }, 300_000);
});
