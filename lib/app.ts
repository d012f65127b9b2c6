/**
 * The whole CDK app on an `App`: the stack built from the app's context, and cdk-nag's AWS
 * Solutions checks registered on every synth. bin/app.ts and the tests build the app through it,
 * so the app a test synthesizes is the app `cdk synth` runs.
 */
import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readDeployConfig } from './deploy-config.js';
import { ReplicaSyncStack } from './replica-sync-stack.js';

export const STACK_NAME = 'TavusReplicaSync';

/** Builds the stack from `app`'s context (a bad value throws InputError) and makes synth stop on a cdk-nag finding. */
export function buildReplicaSyncApp(app: App): ReplicaSyncStack {
  const config = readDeployConfig((key) => app.node.tryGetContext(key));
  // Environment-agnostic: synth needs no credentials; deploy targets the CLI's account and region.
  const stack = new ReplicaSyncStack(app, STACK_NAME, { config });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
