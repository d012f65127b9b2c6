/**
 * Builds the CDK app in-process the way `cdk synth` does: the same context (cdk.json, feature flags
 * included) and the same app builder (lib/app.ts, cdk-nag included), so what the tests assert is
 * what deploys.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildReplicaSyncApp } from '../../lib/app.js';
import type { ReplicaSyncStack } from '../../lib/replica-sync-stack.js';

/** The context cdk.json gives every synth. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> };
  return cdkJson.context;
}

export interface BuiltApp {
  app: App;
  stack: ReplicaSyncStack;
  template: Template;
}

/**
 * The app with cdk.json's context plus `overrides` (as `-c key=value` would give). `bundle: false`
 * skips esbuild, for tests that read the template only.
 */
export function buildApp(options: { overrides?: Record<string, unknown>; bundle?: boolean; outdir?: string } = {}): BuiltApp {
  const app = new App({
    outdir: options.outdir,
    context: {
      ...cdkJsonContext(),
      ...(options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {}),
      ...options.overrides,
    },
  });
  const stack = buildReplicaSyncApp(app);
  return { app, stack, template: Template.fromStack(stack) };
}
