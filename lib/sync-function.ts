/**
 * The sync Lambda with its defaults in one place, and small methods that set an environment
 * variable together with the least-privilege grant for it, so the two can never drift apart.
 */
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, type IDestination } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { TableDefinition } from '../functions/engine/tables.js';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../functions/sync/shared-names.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Bundle file name: NodejsFunction writes `index.mjs` for an ESM bundle. */
export const BUNDLE_FILE = 'index.mjs';

/**
 * Memory and timeout. 1024 MB: a run holds the whole account in memory twice over (the walk's rows
 * and the stored state); the benchmark measured 232 MB peak for a 100,000-replica first sync and
 * 262 MB for its resync (docs/performance.md), so this leaves more than 3x headroom;
 * Lambda also scales CPU with memory, and the walk's JSON parsing and the plan are CPU-bound.
 * 15 minutes, Lambda's maximum: a run's length grows with the account and the API's pace
 * (latency, 429 back-off), and the walk budget (see functions/sync/handler.ts) already stops a
 * walk with margin for the writes; a shorter timeout would only cut that margin.
 * The benchmark (npm run bench) measures both for 100,000 replicas.
 */
export const MEMORY_MB = 1024;
export const TIMEOUT = Duration.minutes(15);

/**
 * Credential providers Lambda never reaches: it hands the function its role's credentials in
 * environment variables, which the SDK's default chain reads first. Left out of the bundle, they
 * save about 130 KB of cold start (the SSO, STS and sign-in clients among them).
 */
const UNREACHED_CREDENTIAL_PROVIDERS = [
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/token-providers',
  '@aws-sdk/nested-clients',
  '@smithy/credential-provider-imds',
];

/** DynamoDB data actions the sync may use on its tables; no table management, no streams. */
const TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:ConditionCheckItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];
/** Indexes are only ever read. */
const INDEX_ACTIONS = ['dynamodb:Query', 'dynamodb:Scan'];

export interface SyncFunctionProps {
  logRetention: RetentionDays;
  /** Reserve one concurrent execution, so a second run cannot even start (the lease also prevents it). */
  reserveConcurrency: boolean;
  /** Where an invocation that failed (or waited too long for a turn) is recorded. */
  onFailure: IDestination;
  /** Sync settings as environment variables (TAVUS_API_URL, STUCK_TRAINING_AFTER, ...). */
  environment: Record<string, string>;
}

/**
 * The sync function:
 * - `NODEJS_24_X` on `ARM_64` (cheaper per GB-second than x86 for the same work);
 * - an ESM bundle built by the local esbuild (no Docker), minified, with the AWS SDK inside (a
 *   pinned SDK, not whatever the runtime ships) except the credential providers Lambda never
 *   reaches, `module` entry points first (a smaller bundle), and the `createRequire` banner the
 *   SDK's CommonJS parts need in an ESM bundle;
 * - its own log group with a retention period, and a role that may write only to it;
 * - no retries of a failed invocation: the next scheduled run is the retry, and a retry minutes
 *   later fails the same way on a bad key or a tripped breaker;
 * - Powertools' service name and metric namespace, which the alarms read.
 */
export class SyncFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: SyncFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Our own role instead of the managed AWSLambdaBasicExecutionRole, which may write to every log group.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'The Tavus replica sync: its log group, its tables, its secret; nothing else.',
    });
    super(scope, id, {
      description: 'Syncs the Tavus replicas into DynamoDB (one run per invocation).',
      entry: fileURLToPath(new URL('../functions/sync/handler.ts', import.meta.url)),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: MEMORY_MB,
      timeout: TIMEOUT,
      role,
      logGroup,
      reservedConcurrentExecutions: props.reserveConcurrency ? 1 : undefined,
      retryAttempts: 0,
      // An invocation queued behind a long run (concurrency 1) waits at most this long, then is
      // recorded as failed rather than run late.
      maxEventAge: Duration.hours(1),
      onFailure: props.onFailure,
      environment: {
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: false,
        bundleAwsSDK: true,
        externalModules: UNREACHED_CREDENTIAL_PROVIDERS,
        mainFields: ['module', 'main'],
        banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        forceDockerBundling: false,
      },
    });
    logGroup.grantWrite(role);
  }

  /** Sets `variable` to the table's name and lets the function read and write its items and read its indexes. */
  bindTable(table: ITableV2, definition: TableDefinition, variable: string): void {
    this.addEnvironment(variable, table.tableName);
    this.addToRolePolicy(new PolicyStatement({ actions: TABLE_ACTIONS, resources: [table.tableArn] }));
    if (definition.globalSecondaryIndexes.length > 0) {
      this.addToRolePolicy(
        new PolicyStatement({
          actions: INDEX_ACTIONS,
          resources: definition.globalSecondaryIndexes.map((index) => `${table.tableArn}/index/${index.indexName}`),
        }),
      );
    }
  }

  /** Sets TAVUS_API_KEY_SECRET_ARN and lets the function read that one secret's value. */
  bindApiKeySecret(secret: ISecret): void {
    this.addEnvironment('TAVUS_API_KEY_SECRET_ARN', secret.secretArn);
    this.addToRolePolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }));
  }
}
