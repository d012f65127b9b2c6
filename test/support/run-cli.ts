/** The CLI as a user runs it: a child process under tsx, its exit status, stdout and stderr. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The CLI's entry point and the tsx that runs it, for tests that drive the child themselves. */
export const CLI = path.join(ROOT, 'bin', 'replica-sync.ts');
export const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `replica-sync ...args` with `env` over a copy of this process's environment from which every
 * sync setting was removed, so the machine's own settings never steer a test.
 */
export function cli(args: string[], env: Record<string, string | undefined> = {}, cwd = ROOT): Promise<CliRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  for (const name of Object.keys(childEnv)) {
    if (/^(TAVUS_|REPLICAS_TABLE|SYNC_RUNS_TABLE|REPLICA_|DYNAMODB_ENDPOINT|STUCK_|MAX_DELETE|MAX_API|MAX_REPLICAS|RUN_RECORD_TTL|EVENT_TTL)/.test(name)) delete childEnv[name];
  }
  Object.assign(childEnv, env);
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [CLI, ...args], { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `npm run simulator` as a child, once it says it serves: what it printed, and how to stop it. */
export interface ServedSimulator {
  stdout: string;
  /** Sends Ctrl-C's signal and resolves the exit status. */
  stop(): Promise<number | null>;
  /** Kills it if it still runs: for a `finally`, so a failed assertion leaves no server behind. */
  kill(): void;
}

/** Starts `replica-sync simulator ...args` and waits until it prints how to stop it. */
export async function serveSimulator(args: string[], env: NodeJS.ProcessEnv): Promise<ServedSimulator> {
  const child = spawn(TSX, [CLI, 'simulator', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let stdout = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('Ctrl-C')) resolve();
    });
    child.on('close', () => reject(new Error(`the simulator exited early: ${stdout}`)));
  });
  return {
    stdout,
    stop: () => {
      child.kill('SIGINT');
      return exited;
    },
    kill: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}
