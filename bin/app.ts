/**
 * The CDK app: reads the context (cdk.json, -c key=value), builds the stack, and runs cdk-nag's
 * AWS Solutions checks on every synth. A bad context value stops synth with one sentence.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SettingsError } from '../functions/engine/settings.js';
import { readDeployConfig } from '../lib/deploy-config.js';
import { ReplicaSyncStack } from '../lib/replica-sync-stack.js';

const app = new App();
try {
  const config = readDeployConfig((key) => app.node.tryGetContext(key));
  // Environment-agnostic: synth needs no credentials; deploy targets the CLI's account and region.
  new ReplicaSyncStack(app, 'TavusReplicaSync', { config });
} catch (error) {
  if (!(error instanceof SettingsError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(2);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
