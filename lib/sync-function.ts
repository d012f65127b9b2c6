/**
 * The sync Lambda with its defaults in one place, and small methods that set an environment
 * variable together with the least-privilege grant for it, so the two can never drift apart.
 */
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, type IDestination } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { DYNAMODB_ACTIONS, type TableRole } from '../functions/engine/contract/dynamodb-actions.js';
import { ENVIRONMENT_VARIABLES } from '../functions/engine/settings/registry.js';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../functions/engine/contract/telemetry.js';
import { LAMBDA_BUNDLE } from './bundling.js';
import type { SyncTable } from './sync-table.js';

const PROJECT_ROOT_URL = new URL('..', import.meta.url);
const PROJECT_ROOT = fileURLToPath(PROJECT_ROOT_URL);

/** Bundle file name: NodejsFunction writes `index.mjs` for an ESM bundle. */
export const BUNDLE_FILE = 'index.mjs';

/**
 * 1024 MB: several times the peak the benchmark measured for 100,000 replicas, and Lambda scales
 * CPU with memory, which the walk's JSON parsing and the plan use (docs/performance.md, "The
 * deployed function").
 */
export const SYNC_FUNCTION_MEMORY_MB = 1024;
/**
 * 15 minutes, Lambda's maximum: a run's length grows with the account and the API's pace, and the
 * walk budget (functions/sync/handler.ts) already stops a walk with margin for the writes; a
 * shorter timeout would only cut that margin.
 */
export const SYNC_FUNCTION_TIMEOUT = Duration.minutes(15);

/** The environment variable that names each table to the function. */
const TABLE_VARIABLE: Record<TableRole, string> = {
  replicas: ENVIRONMENT_VARIABLES.table,
  runs: ENVIRONMENT_VARIABLES.runsTable,
  events: ENVIRONMENT_VARIABLES.eventsTable,
};

export interface SyncFunctionProps {
  logRetention: RetentionDays;
  /** Reserve one concurrent execution, so a second run cannot even start (the lease also prevents it). */
  reserveConcurrency: boolean;
  /** Where an invocation that failed (or waited too long for a turn) is recorded. */
  onFailure: IDestination;
  /** Sync settings as environment variables (TAVUS_API_URL, STUCK_TRAINING_AFTER, ...). */
  environment: Record<string, string>;
}

/** lib/bundling.ts in NodejsFunction's terms: every function of the stack is bundled alike, locally, without Docker. */
const LAMBDA_BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: LAMBDA_BUNDLE.target,
  minify: LAMBDA_BUNDLE.minify,
  sourceMap: LAMBDA_BUNDLE.sourcemap,
  mainFields: LAMBDA_BUNDLE.mainFields,
  banner: LAMBDA_BUNDLE.banner.js,
  bundleAwsSDK: true,
  externalModules: LAMBDA_BUNDLE.external,
  forceDockerBundling: false,
};

/**
 * What every function of the stack shares: Node 24 on ARM, an `handler` export, the bundling
 * above, the project's lock file. `entry` is relative to the project root.
 */
export function lambdaConventions(entry: string): Pick<NodejsFunctionProps, 'entry' | 'handler' | 'projectRoot' | 'depsLockFilePath' | 'runtime' | 'architecture' | 'bundling'> {
  return {
    entry: fileURLToPath(new URL(entry, PROJECT_ROOT_URL)),
    handler: 'handler',
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
    runtime: Runtime.NODEJS_24_X,
    architecture: Architecture.ARM_64,
    bundling: LAMBDA_BUNDLING,
  };
}

/**
 * The sync function:
 * - `NODEJS_24_X` on `ARM_64` (cheaper per GB-second than x86 for the same work);
 * - bundled by the local esbuild (no Docker) with the options of lib/bundling.ts;
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
      ...lambdaConventions('functions/sync/handler.ts'),
      memorySize: SYNC_FUNCTION_MEMORY_MB,
      timeout: SYNC_FUNCTION_TIMEOUT,
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
    });
    logGroup.grantWrite(role);
  }

  /**
   * Names the table to the function in its environment variable and grants it exactly the actions
   * the engine sends to a table of that role (functions/engine/contract/dynamodb-actions.ts), on the table
   * itself: no index, no stream, no table management.
   */
  bindTable(table: SyncTable): void {
    this.addEnvironment(TABLE_VARIABLE[table.role], table.tableName);
    this.addToRolePolicy(new PolicyStatement({ actions: [...DYNAMODB_ACTIONS[table.role]], resources: [table.tableArn] }));
  }

  /** Sets TAVUS_API_KEY_SECRET_ARN and lets the function read that one secret's value. */
  bindApiKeySecret(secret: ISecret): void {
    this.addEnvironment('TAVUS_API_KEY_SECRET_ARN', secret.secretArn);
    this.addToRolePolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }));
  }
}
