/**
 * `npx cdk synth` as an operator runs it, but with no AWS credentials, no Docker and telemetry off:
 * the app must synthesize offline, bundle with the local esbuild, and pass its own cdk-nag checks.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { QUIET_SDK_ENV } from './support/quiet-sdk-env.js';

const outdirs: string[] = [];

afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

/** The environment minus anything that could supply AWS credentials or a Docker daemon. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(AWS_|CDK_DEFAULT_|DOCKER_)/.test(name)) env[name] = value;
  }
  return {
    ...env,
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    CDK_DOCKER: '/nonexistent/docker',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    ...QUIET_SDK_ENV,
  };
}

function synth(...args: string[]): { status: number | null; stderr: string; outdir: string } {
  const outdir = mkdtempSync(path.join(tmpdir(), 'cdk-synth-'));
  outdirs.push(outdir);
  const result = spawnSync('npx', ['cdk', 'synth', '-q', '--no-notices', '-o', outdir, ...args], {
    cwd: new URL('..', import.meta.url).pathname,
    env: offlineEnv(),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, stderr: result.stderr, outdir };
}

describe('npx cdk synth', () => {
  it('succeeds offline with no credentials and no Docker, bundling the function and passing cdk-nag', () => {
    const { status, stderr, outdir } = synth();
    expect(status, stderr).toBe(0);
    expect(stderr).not.toMatch(/AwsSolutions-|docker/i);
    const template = JSON.parse(readFileSync(path.join(outdir, 'TavusReplicaSync.template.json'), 'utf8')) as { Resources: Record<string, { Type: string }> };
    expect(Object.values(template.Resources).some((r) => r.Type === 'AWS::Lambda::Function')).toBe(true);
    const bundles = readdirSync(outdir)
      .filter((entry) => entry.startsWith('asset.') && statSync(path.join(outdir, entry)).isDirectory())
      .map((entry) => path.join(outdir, entry, 'index.mjs'));
    // The sync function's bundle and the alerts notifier's.
    expect(bundles.filter((file) => statSync(file, { throwIfNoEntry: false })?.isFile())).toHaveLength(2);
  });

  it('stops with one sentence, and no stack trace, on a bad context value', () => {
    const { status, stderr } = synth('-c', 'schedule=every hour');
    expect(status).not.toBe(0);
    expect(stderr).toContain('The context value "schedule" (cdk.json or -c schedule=...) must be an EventBridge Scheduler rate or cron expression');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses an apiUrl that would send the key in clear text, with one sentence', () => {
    const { status, stderr } = synth('-c', 'apiUrl=http://tavusapi.com');
    expect(status).not.toBe(0);
    expect(stderr).toContain('The context value "apiUrl" (cdk.json or -c apiUrl=...) must use https://');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
