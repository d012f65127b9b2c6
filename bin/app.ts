/**
 * The CDK app: reads the context (cdk.json, -c key=value), builds the stack, and runs cdk-nag's
 * AWS Solutions checks on every synth (lib/app.ts). A bad context value stops synth with one sentence.
 */
import { App } from 'aws-cdk-lib';
import { InputError } from '../functions/engine/errors.js';
import { buildReplicaSyncApp } from '../lib/app.js';

try {
  buildReplicaSyncApp(new App());
} catch (error) {
  if (!(error instanceof InputError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(2);
}
