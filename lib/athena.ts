/**
 * The analysts' Athena side (`-c athena=true`): the official Amazon Athena DynamoDB connector from
 * the Serverless Application Repository, registered as a data catalog over the three tables; a
 * workgroup with enforced settings, a per-query scan cutoff and encrypted results; and every saved
 * question (analytics/questions/) as a named query of that workgroup.
 *
 * The connector runs with a role of ours (its `LambdaRole` parameter) that reads exactly the sync's
 * three tables: the application's own role may read every table and Glue database in the account.
 */
import { ArnFormat, type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { CfnDataCatalog, CfnNamedQuery, CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { CfnApplication } from 'aws-cdk-lib/aws-sam';
import { Construct } from 'constructs';
import type { TableRole } from '../functions/engine/contract/dynamodb-actions.js';
import { LEASE_ID_PREFIX } from '../functions/engine/contract/tables.js';
import { savedQuestions, savedViews, type SavedQuestion } from '../analytics/saved-questions.js';
import { athenaStatement, qualifiedName } from './athena-queries.js';
import type { SyncTable } from './sync-table.js';

/** The connector's application in the Serverless Application Repository (published by AWS in us-east-1, deployable in every commercial region). */
export const CONNECTOR_APPLICATION_ID = 'arn:aws:serverlessrepo:us-east-1:292517598671:applications/AthenaDynamoDBConnector';
/**
 * Pinned: a new release changes the function's image, and should arrive by a deliberate commit.
 * 2026.33.1 is the release tagged v2026.33.1 in awslabs/aws-athena-query-federation (August 2026).
 */
export const CONNECTOR_VERSION = '2026.33.1';
/** Where in the spill bucket the connector writes what does not fit in a Lambda response. */
export const SPILL_PREFIX = 'athena-spill';
/** Spilled pages are read once, by the query that wrote them. */
export const SPILL_EXPIRY = Duration.days(1);
/** Query results stay downloadable from the console's history for this long. */
export const RESULTS_EXPIRY = Duration.days(30);
/** The schema the connector shows every DynamoDB table in. */
export const CONNECTOR_SCHEMA = 'default';

export interface AthenaAnalyticsProps {
  tables: Record<TableRole, SyncTable>;
  /** The tables' deployed names (concrete: the stack names its tables), used in the named queries' SQL. */
  tableNames: Record<TableRole, string>;
  /** Athena cancels a query once it has scanned this many bytes. */
  scanCutoffBytes: number;
  logRetention: RetentionDays;
  /** The saved questions and views; the repository's by default. */
  questions?: SavedQuestion[];
  views?: SavedQuestion[];
}

export class AthenaAnalytics extends Construct {
  /** The data catalog's name: what a query names before `"default"."<table>"`. */
  readonly catalogName: string;
  readonly workGroup: CfnWorkGroup;
  readonly spillBucket: Bucket;
  readonly resultsBucket: Bucket;
  readonly namedQueries: CfnNamedQuery[];

  constructor(scope: Construct, id: string, props: AthenaAnalyticsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // Stack names are unique in an account and region; the connector's function name must be lowercase.
    const prefix = stack.stackName.toLowerCase();
    this.catalogName = `${prefix}_dynamodb`;
    const functionName = `${prefix}-athena-dynamodb`;
    const workGroupName = `${stack.stackName}-analysts`;

    this.spillBucket = this.bucket('SpillBucket', SPILL_EXPIRY, 'Pages the connector spills are read once, by the query that wrote them, within seconds; they expire after a day.');
    this.resultsBucket = this.bucket('ResultsBucket', RESULTS_EXPIRY, 'Only Athena writes here, for the workgroup; who ran which query is in CloudTrail (StartQueryExecution) and in the workgroup\'s query history.');

    const logGroup = new LogGroup(this, 'ConnectorLogs', {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = this.connectorRole(props.tables, logGroup, workGroupName);

    const connector = new CfnApplication(this, 'Connector', {
      location: { applicationId: CONNECTOR_APPLICATION_ID, semanticVersion: CONNECTOR_VERSION },
      parameters: {
        AthenaCatalogName: functionName,
        SpillBucket: this.spillBucket.bucketName,
        SpillPrefix: SPILL_PREFIX,
        LambdaRole: role.roleArn,
      },
    });
    // The function must find its role's permissions and its log group in place (the role itself is a GetAtt).
    connector.node.addDependency(role.node.findChild('DefaultPolicy'), logGroup);

    const catalog = new CfnDataCatalog(this, 'Catalog', {
      name: this.catalogName,
      type: 'LAMBDA',
      description: 'The Tavus replica sync tables, through the Amazon Athena DynamoDB connector.',
      parameters: { function: stack.formatArn({ service: 'lambda', resource: 'function', resourceName: functionName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
    });
    catalog.addResourceDependency(connector);

    this.workGroup = new CfnWorkGroup(this, 'WorkGroup', {
      name: workGroupName,
      description: 'Queries over the Tavus replica sync tables; results encrypted, each query capped in bytes scanned.',
      state: 'ENABLED',
      // Deleting the stack deletes the workgroup with its named queries and query history.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        bytesScannedCutoffPerQuery: props.scanCutoffBytes,
        publishCloudWatchMetricsEnabled: true,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${this.resultsBucket.bucketName}/results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });

    const names = {
      tables: Object.fromEntries(
        Object.entries(props.tableNames).map(([role, tableName]) => [role, qualifiedName(this.catalogName, CONNECTOR_SCHEMA, tableName)]),
      ),
      views: Object.fromEntries((props.views ?? savedViews()).map((view) => [view.name, view.sql])),
      // The lease item is not a run: the query CLI's runs table leaves it out too.
      where: { runs: `run_id NOT LIKE '${LEASE_ID_PREFIX}%'` },
    };
    this.namedQueries = (props.questions ?? savedQuestions()).map(
      (question) =>
        new CfnNamedQuery(this, `Question-${question.name}`, {
          name: question.name,
          description: question.description.slice(0, 1024),
          database: CONNECTOR_SCHEMA,
          workGroup: this.workGroup.ref,
          queryString: athenaStatement(question.sql, names),
        }),
    );
    for (const query of this.namedQueries) query.addResourceDependency(catalog);
  }

  /** A bucket of the stack's Athena side: private, TLS only, encrypted, emptied by a lifecycle rule. */
  private bucket(id: string, expiry: Duration, noAccessLogsBecause: string): Bucket {
    const bucket = new Bucket(this, id, {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      lifecycleRules: [{ expiration: expiry, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      // Kept if the stack is deleted or athena turned off: CloudFormation cannot delete a bucket
      // that still holds objects. The lifecycle rule empties it; then delete it by hand.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: `No server access log bucket: ${noAccessLogsBecause}` });
    return bucket;
  }

  /**
   * The connector's role: read the three tables and their indexes, list table names, spill to its
   * prefix, check its own query's state, write its log group. No Glue access: the connector falls
   * back to inferring each table's columns from a few items (see docs/analysts.md).
   */
  private connectorRole(tables: Record<TableRole, SyncTable>, logGroup: LogGroup, workGroupName: string): Role {
    const stack = Stack.of(this);
    const role = new Role(this, 'ConnectorRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'The Athena DynamoDB connector: reads the Tavus replica sync tables, spills to its bucket.',
    });
    const tableArns = Object.values(tables).map((table) => table.tableArn);
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:DescribeTable', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:PartiQLSelect'],
        resources: [...tableArns, ...tableArns.map((arn) => `${arn}/index/*`)],
      }),
    );
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['dynamodb:ListTables'], resources: ['*'] }));
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], resources: [this.spillBucket.arnForObjects(`${SPILL_PREFIX}/*`)] }));
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:ListBucket', 's3:GetBucketLocation'], resources: [this.spillBucket.bucketArn] }));
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['athena:GetQueryExecution'],
        resources: [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: workGroupName })],
      }),
    );
    logGroup.grantWrite(role);
    const acknowledge = (resource: string, reason: string) =>
      Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
    acknowledge('*', 'dynamodb:ListTables takes no resource: it lists table names only, and lets the Athena console list the catalog\'s tables.');
    for (const table of Object.values(tables)) {
      acknowledge(
        `<${stack.getLogicalId(table.node.defaultChild as CfnElement)}.Arn>/index/*`,
        `The indexes of the ${table.role} table: the connector queries one when a filter matches its key; the table's own indexes only.`,
      );
    }
    acknowledge(
      `<${stack.getLogicalId(this.spillBucket.node.defaultChild as CfnElement)}.Arn>/${SPILL_PREFIX}/*`,
      'The connector names a spill object per query and split, under its own prefix of its own bucket.',
    );
    return role;
  }
}
