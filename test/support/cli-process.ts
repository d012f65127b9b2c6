/** The CLI as a user runs it: a child process, its exit status, stdout and stderr. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(ROOT, 'bin', 'replica-sync.ts');
export const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `replica-sync ARGS` with the settings' variables of this process cleared, then `env` set. */
export function cli(args: string[], env: Record<string, string | undefined> = {}, cwd = ROOT): Promise<CliRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
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
