/**
 * Runs each benchmark side in a fresh Node process: the side's code is bundled once with esbuild
 * (as the Lambda bundle is, so no TypeScript loader sits in the memory figures), then every side
 * forks it, sends the job and waits for the measure.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { LAMBDA_BUNDLE } from '../lib/bundling.js';
import type { SideJob, SideMeasure } from './side.js';

const { bundle, platform, format, mainFields, banner } = LAMBDA_BUNDLE;
/**
 * The stack's bundling (lib/bundling.ts: the createRequire banner, module entry points first) for
 * the Node that runs here, unminified and with every credential provider (the sides sign requests
 * to DynamoDB Local with the local dummy credentials).
 */
export const ESM_NODE_BUNDLE: BuildOptions = { bundle, platform, format, mainFields, banner, target: 'node20', logLevel: 'error' };

export interface ChildRunner {
  execute(job: SideJob): Promise<SideMeasure>;
  /** Kills any side still running and removes the bundle. */
  close(): void;
}

export async function childRunner(sideTimeoutMs: number): Promise<ChildRunner> {
  const dir = mkdtempSync(join(tmpdir(), 'tavus-bench-'));
  const outfile = join(dir, 'side-process.mjs');
  await build({ ...ESM_NODE_BUNDLE, entryPoints: [fileURLToPath(new URL('./side-process.ts', import.meta.url))], outfile });
  const running = new Set<ChildProcess>();

  const execute = (job: SideJob): Promise<SideMeasure> =>
    new Promise((resolve, reject) => {
      const child = fork(outfile, [], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        // Not the parent's flags: they would load tsx's TypeScript loader into the measured process.
        execArgv: [],
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      });
      running.add(child);
      let answer: { measure?: SideMeasure; error?: string } | undefined;
      const timer = setTimeout(() => child.kill('SIGKILL'), sideTimeoutMs);
      child.once('message', (message) => {
        answer = message as typeof answer;
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        running.delete(child);
        if (answer?.measure) resolve(answer.measure);
        else if (answer?.error) reject(new Error(`The ${job.side} side failed: ${answer.error}`));
        else if (signal === 'SIGKILL') reject(new Error(`The ${job.side} side took longer than ${sideTimeoutMs / 1000} s and was stopped.`));
        else reject(new Error(`The ${job.side} side exited (${signal ?? `code ${String(code)}`}) without a result.`));
      });
      child.send(job);
    });

  return {
    execute,
    close() {
      for (const child of running) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
