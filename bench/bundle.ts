/**
 * The Lambda bundle's size and module initialisation time. The bundle is the one `cdk synth`
 * builds (the deployed artifact itself). Init time is the median of several `import()`s, each in
 * a fresh node process.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { BundleInfo } from './report.js';

const run = promisify(execFile);
const INIT_RUNS = 5;
/** Only the deployed function's bundle names the secret's variable. */
const HANDLER_MARK = 'TAVUS_API_KEY_SECRET_ARN';

export async function measureBundle(projectRoot: string): Promise<BundleInfo> {
  const dir = mkdtempSync(join(tmpdir(), 'tavus-bench-bundle-'));
  try {
    const { file, source } = await synthesized(projectRoot, dir);
    const bytes = statSync(file).size;
    const gzipBytes = gzipSync(readFileSync(file)).length;
    const initRunsMs: number[] = [];
    for (let index = 0; index < INIT_RUNS; index += 1) initRunsMs.push(await importTime(file));
    const sorted = [...initRunsMs].sort((a, b) => a - b);
    return { source, file: file.replace(dir, '<tmp>'), bytes, gzipBytes, initMs: sorted[Math.floor(sorted.length / 2)] as number, initRunsMs };
  } catch (error) {
    return { source: 'none', file: '', bytes: 0, gzipBytes: 0, initMs: 0, initRunsMs: [], error: (error as Error).message.split('\n')[0] ?? 'unknown error' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `npx cdk synth -q` into a scratch folder (cdk.out stays as it was), then the function's asset. */
async function synthesized(projectRoot: string, dir: string): Promise<{ file: string; source: string }> {
  const out = join(dir, 'cdk.out');
  await run('npx', ['cdk', 'synth', '-q', '--output', out], {
    cwd: projectRoot,
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
    timeout: 180_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const bundles = readdirSync(out)
    .filter((name) => name.startsWith('asset.'))
    .map((name) => join(out, name, 'index.mjs'))
    .filter((file) => existsSync(file) && readFileSync(file, 'utf8').includes(HANDLER_MARK));
  const [file] = bundles;
  if (!file || bundles.length > 1) throw new Error(`cdk synth produced ${bundles.length} asset(s) with the handler's bundle; expected one.`);
  return { file, source: '`npx cdk synth -q` (NodejsFunction asset index.mjs)' };
}

/** Milliseconds to import() the bundle in a fresh node, with a Lambda-like environment. */
async function importTime(file: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(performance.now() - t);`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      AWS_LAMBDA_FUNCTION_NAME: 'tavus-replica-sync-bench',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_SERVICE_NAME: 'tavus-replica-sync',
      TAVUS_API_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench',
    },
    timeout: 30_000,
  });
  return Math.round(Number(stdout.trim().split('\n').at(-1)) * 10) / 10;
}
