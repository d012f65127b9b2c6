/**
 * The Athena side of the stack (`-c athena=true`), read from the synthesized template: absent by
 * default; with the flag, the pinned connector application running with a role that reads exactly
 * the three tables, its catalog, the enforced workgroup, the two locked-down buckets, every saved
 * question as a named query over the deployed table names, and the outputs. Two synths.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { savedQuestions, savedViews } from '../analytics/saved-questions.js';
import { InputError } from '../functions/engine/errors.js';
import { CONNECTOR_APPLICATION_ID, CONNECTOR_VERSION, RESULTS_EXPIRY, SPILL_EXPIRY, SPILL_PREFIX } from '../lib/athena.js';
import { athenaStatement, qualifiedName } from '../lib/athena-queries.js';
import { CONTEXT_DEFAULTS, readDeployConfig } from '../lib/deploy-config.js';
import { buildApp } from './support/cdk-app.js';
import { STATEFUL_TYPES } from './support/stateful-resources.js';

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[]; DeletionPolicy?: string };
type TemplateJson = { Resources: Record<string, Resource>; Outputs?: Record<string, { Value: unknown }>; Transform?: unknown };

let plain: TemplateJson;
let athena: TemplateJson;

beforeAll(() => {
  plain = buildApp({ bundle: false }).template.toJSON() as TemplateJson;
  athena = buildApp({ bundle: false, overrides: { athena: true, athenaScanCutoffMb: 50, replicasTable: 'acme-replicas' } }).template.toJSON() as TemplateJson;
}, 300_000); // synths are slow on a loaded machine

const ofType = (template: TemplateJson, type: string) => Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
const onlyOf = (template: TemplateJson, type: string): [string, Resource] => {
  const found = ofType(template, type);
  expect(found.map(([id]) => id), type).toHaveLength(1);
  return found[0]!;
};
const ATHENA_TYPES = /^AWS::(Athena::|Serverless::|S3::)/;

describe('without -c athena=true (the default)', () => {
  it('is off in cdk.json and the context defaults', () => {
    expect(CONTEXT_DEFAULTS.athena).toBe(false);
    expect(readDeployConfig(() => undefined).athena).toBeUndefined();
  });

  it('has no Athena, Serverless or S3 resource, no SAM transform and no Athena output', () => {
    expect(Object.values(plain.Resources).map((r) => r.Type).filter((type) => ATHENA_TYPES.test(type))).toEqual([]);
    expect(plain.Transform).toBeUndefined();
    expect(Object.keys(plain.Outputs ?? {}).filter((name) => name.startsWith('Athena'))).toEqual([]);
  });

  it('adds only Athena resources when turned on: every resource of the default stack is unchanged', () => {
    // The athena synth also renames the replicas table; undo that to compare the rest.
    const restored = JSON.parse(JSON.stringify(athena.Resources).replaceAll('"acme-replicas"', '"tavus-replicas"')) as TemplateJson['Resources'];
    for (const [id, resource] of Object.entries(plain.Resources)) expect(restored[id], id).toEqual(resource);
    const added = Object.keys(athena.Resources).filter((id) => !(id in plain.Resources));
    expect(added.filter((id) => !id.startsWith('Athena'))).toEqual([]);
  });
});

describe('with -c athena=true', () => {
  it('deploys the AthenaDynamoDBConnector application at the pinned version, with our role and spill bucket', () => {
    const [, app] = onlyOf(athena, 'AWS::Serverless::Application');
    expect(CONNECTOR_VERSION).toMatch(/^\d{4}\.\d+\.\d+$/);
    expect(app.Properties.Location).toEqual({ ApplicationId: CONNECTOR_APPLICATION_ID, SemanticVersion: CONNECTOR_VERSION });
    const [roleId] = ofType(athena, 'AWS::IAM::Role').find(([id]) => id.startsWith('AthenaConnectorRole'))!;
    const [spillId] = ofType(athena, 'AWS::S3::Bucket').find(([id]) => id.startsWith('AthenaSpillBucket'))!;
    expect(app.Properties.Parameters).toEqual({
      AthenaCatalogName: expect.stringMatching(/^[a-z0-9-_]{1,64}$/),
      SpillBucket: { Ref: spillId },
      SpillPrefix: SPILL_PREFIX,
      LambdaRole: { 'Fn::GetAtt': [roleId, 'Arn'] },
    });
    expect(athena.Transform).toBe('AWS::Serverless-2016-10-31');
  });

  it('registers the connector function as a LAMBDA data catalog, after the application', () => {
    const [appId, app] = onlyOf(athena, 'AWS::Serverless::Application');
    const [, catalog] = onlyOf(athena, 'AWS::Athena::DataCatalog');
    expect(catalog.Properties.Type).toBe('LAMBDA');
    const arn = JSON.stringify(catalog.Properties.Parameters.function);
    expect(arn).toContain(`:function:${app.Properties.Parameters.AthenaCatalogName}"`);
    expect(arn).toContain('AWS::Region');
    expect(catalog.DependsOn).toContain(appId);
  });

  it('gives the connector read access to exactly the three tables (and their indexes), and nothing that writes', () => {
    const [roleId] = ofType(athena, 'AWS::IAM::Role').find(([id]) => id.startsWith('AthenaConnectorRole'))!;
    const statements = ofType(athena, 'AWS::IAM::Policy')
      .filter(([, policy]) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref === roleId))
      .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>);
    const actions = statements.flatMap((s) => [s.Action].flat());
    const dynamodb = actions.filter((action) => action.startsWith('dynamodb:')).sort();
    expect(dynamodb).toEqual(['dynamodb:DescribeTable', 'dynamodb:ListTables', 'dynamodb:PartiQLSelect', 'dynamodb:Query', 'dynamodb:Scan']);
    expect(actions.filter((action) => /^glue:|:\*$|^dynamodb:(Put|Update|Delete|BatchWrite|PartiQL(Insert|Update|Delete))/.test(action))).toEqual([]);

    const tableIds = ofType(athena, 'AWS::DynamoDB::GlobalTable').map(([id]) => id).sort();
    const tableRead = statements.find((s) => [s.Action].flat().includes('dynamodb:Scan'))!;
    const readTargets = JSON.stringify(tableRead.Resource);
    for (const id of tableIds) expect(readTargets, id).toContain(`"${id}"`);
    const referenced = [...readTargets.matchAll(/"Fn::GetAtt":\["(\w+)","Arn"\]/g)].map((m) => m[1]);
    expect([...new Set(referenced)].sort()).toEqual(tableIds);
    const [, workGroup] = onlyOf(athena, 'AWS::Athena::WorkGroup');
    const queryState = statements.find((s) => s.Action === 'athena:GetQueryExecution')!;
    expect(JSON.stringify(queryState.Resource)).toContain(`:workgroup/${workGroup.Properties.Name}"`);
    // ListTables alone takes `*`: it has no resource-level permission.
    for (const statement of statements) {
      if (statement.Resource === '*') expect(statement.Action).toBe('dynamodb:ListTables');
    }
  });

  it('runs the workgroup with enforced settings, the scan cutoff from the context, and encrypted results in its bucket', () => {
    const [, workGroup] = onlyOf(athena, 'AWS::Athena::WorkGroup');
    const [resultsId] = ofType(athena, 'AWS::S3::Bucket').find(([id]) => id.startsWith('AthenaResultsBucket'))!;
    const config = workGroup.Properties.WorkGroupConfiguration;
    expect(config.EnforceWorkGroupConfiguration).toBe(true);
    expect(config.BytesScannedCutoffPerQuery).toBe(50_000_000);
    expect(config.ResultConfiguration.EncryptionConfiguration).toEqual({ EncryptionOption: 'SSE_S3' });
    expect(JSON.stringify(config.ResultConfiguration.OutputLocation)).toContain(`{"Ref":"${resultsId}"}`);
    expect(readDeployConfig(() => undefined).athena).toBeUndefined();
    expect(readDeployConfig((key) => ({ athena: true })[key]).athena).toEqual({ scanCutoffBytes: CONTEXT_DEFAULTS.athenaScanCutoffMb * 1_000_000 });
  });

  it('locks down both buckets: public access blocked, TLS only, encrypted, objects expiring (spills after a day)', () => {
    const buckets = ofType(athena, 'AWS::S3::Bucket');
    expect(buckets.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['AthenaResultsBucket', 'AthenaSpillBucket']);
    const policies = ofType(athena, 'AWS::S3::BucketPolicy');
    for (const [id, bucket] of buckets) {
      expect(Object.values(bucket.Properties.PublicAccessBlockConfiguration), id).toEqual([true, true, true, true]);
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm, id).toBe('AES256');
      const days = id.startsWith('AthenaSpill') ? SPILL_EXPIRY.toDays() : RESULTS_EXPIRY.toDays();
      expect(bucket.Properties.LifecycleConfiguration.Rules, id).toContainEqual(expect.objectContaining({ ExpirationInDays: days, Status: 'Enabled' }));
      const policy = policies.find(([, p]) => p.Properties.Bucket.Ref === id)?.[1];
      expect(policy?.Properties.PolicyDocument.Statement, id).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
    expect(SPILL_EXPIRY.toDays()).toBe(1);
  });

  it('saves every question as a named query of the workgroup, over the deployed table names', () => {
    const [workGroupId] = onlyOf(athena, 'AWS::Athena::WorkGroup');
    const [, catalog] = onlyOf(athena, 'AWS::Athena::DataCatalog');
    const catalogName = catalog.Properties.Name as string;
    const queries = ofType(athena, 'AWS::Athena::NamedQuery').map(([, query]) => query.Properties);
    const questions = savedQuestions();
    expect(questions.length).toBeGreaterThan(0);
    expect(queries.map((q) => q.Name).sort()).toEqual(questions.map((q) => q.name).sort());
    const names = {
      tables: {
        replicas: qualifiedName(catalogName, 'default', 'acme-replicas'),
        events: qualifiedName(catalogName, 'default', 'tavus-replica-events'),
        runs: qualifiedName(catalogName, 'default', 'tavus-replica-sync-runs'),
      },
      views: Object.fromEntries(savedViews().map((view) => [view.name, view.sql])),
      // The lease item shares the runs table and is not a run.
      where: { runs: "run_id NOT LIKE 'lease#%'" },
    };
    for (const question of questions) {
      const query = queries.find((q) => q.Name === question.name)!;
      expect(query.WorkGroup, question.name).toEqual({ Ref: workGroupId });
      expect(query.Description, question.name).toBe(question.description);
      expect(query.QueryString, question.name).toBe(athenaStatement(question.sql, names));
    }
    // The renamed replicas table is what the live-by-status question reads.
    expect(queries.find((q) => q.Name === 'live-by-status')!.QueryString).toContain(`"${catalogName}"."default"."acme-replicas"`);
  });

  it('adds nothing the stateful-resource guard holds: a replaced bucket loses spills of a day and results a query makes again', () => {
    const added = Object.entries(athena.Resources).filter(([id]) => id.startsWith('Athena'));
    expect(added.filter(([, resource]) => STATEFUL_TYPES.includes(resource.Type))).toEqual([]);
    // Retained all the same: CloudFormation cannot delete a bucket that still holds objects.
    for (const [id, bucket] of ofType(athena, 'AWS::S3::Bucket')) expect(bucket.DeletionPolicy, id).toBe('Retain');
  });

  it('outputs the workgroup, the catalog and a console link in the stack\'s region', () => {
    const outputs = athena.Outputs!;
    const [workGroupId] = onlyOf(athena, 'AWS::Athena::WorkGroup');
    expect(outputs.AthenaWorkGroupName!.Value).toEqual({ Ref: workGroupId });
    expect(outputs.AthenaCatalogName!.Value).toBe(onlyOf(athena, 'AWS::Athena::DataCatalog')[1].Properties.Name);
    const url = JSON.stringify(outputs.AthenaConsoleUrl!.Value);
    expect(url).toContain('console.aws.amazon.com/athena/home?region=');
    expect(url.match(/"Ref":"AWS::Region"/g)).toHaveLength(2);
  });
});

describe('the athena context keys', () => {
  const rejects = (values: Record<string, unknown>, pattern: RegExp) => {
    expect(() => readDeployConfig((key) => values[key])).toThrow(InputError);
    expect(() => readDeployConfig((key) => values[key])).toThrow(pattern);
  };

  it('refuses a flag that is not true or false, and a cutoff below Athena\'s 10 MB or not whole, naming the key', () => {
    rejects({ athena: 'yes' }, /^The context value "athena" .* true or false, not "yes"\.$/);
    rejects({ athena: true, athenaScanCutoffMb: 5 }, /^The context value "athenaScanCutoffMb" .* at least 10 .*, not "5"\.$/);
    rejects({ athena: true, athenaScanCutoffMb: '1.5' }, /"athenaScanCutoffMb" .* whole number/);
    rejects({ athena: true, athenaScanCutoffMb: 'ten' }, /"athenaScanCutoffMb"/);
  });

  it('reads -c athena=true as given on the command line (a string) and the cutoff in MB', () => {
    expect(readDeployConfig((key) => ({ athena: 'true', athenaScanCutoffMb: '10' })[key]).athena).toEqual({ scanCutoffBytes: 10_000_000 });
    expect(readDeployConfig((key) => ({ athena: 'false', athenaScanCutoffMb: '1' })[key]).athena).toBeUndefined();
  });
});

describe('the guides', () => {
  const analysts = readFileSync(new URL('../docs/analysts.md', import.meta.url), 'utf8');
  const deploying = readFileSync(new URL('../docs/deploying.md', import.meta.url), 'utf8');

  it('name the catalog, workgroup and connector function the stack creates, and the buckets\' expiry', () => {
    const [, catalog] = onlyOf(athena, 'AWS::Athena::DataCatalog');
    const [, workGroup] = onlyOf(athena, 'AWS::Athena::WorkGroup');
    const [, app] = onlyOf(athena, 'AWS::Serverless::Application');
    for (const guide of [analysts, deploying]) {
      expect(guide).toContain(`\`${catalog.Properties.Name}\``);
      expect(guide).toContain(`\`${workGroup.Properties.Name}\``);
      expect(guide).toContain(`\`${app.Properties.Parameters.AthenaCatalogName}\``);
    }
    expect(deploying).toContain(`spills expire after ${SPILL_EXPIRY.toDays()} day, results after ${RESULTS_EXPIRY.toDays()} days`);
    expect(analysts).toContain(`storing results for ${RESULTS_EXPIRY.toDays()} days`);
    for (const output of ['AthenaWorkGroupName', 'AthenaCatalogName', 'AthenaConsoleUrl']) expect(deploying, output).toContain(`\`${output}\``);
  });

  it('say plainly that no Athena query ran here, and no longer carry the hand-written export recipe', () => {
    expect(analysts.replace(/\s+/g, ' ')).toContain('no Athena query was ever made from it');
    expect(analysts).not.toContain('export-table-to-point-in-time');
    expect(analysts).not.toContain('CREATE EXTERNAL TABLE');
  });
});
