/** `npm run simulator` as a user runs it: a child process on a random port, up once it prints its banner. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'bin', 'replica-sync.ts');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

export interface SimulatorProcess {
  /** Where it listens, e.g. http://127.0.0.1:31234. */
  url: string;
  /** Its banner, up to "Ctrl-C stops it." */
  stdout: string;
  /** The key the banner says it accepts. */
  key: string;
  /** Ctrl-C: resolves the exit status. */
  interrupt(): Promise<number | null>;
  /** Ends it if it still runs, whatever a test left: call in `finally`. */
  kill(): void;
}

/** Starts `simulator` with `args` (a port is added) and the environment's TAVUS_API_KEY cleared. */
export async function startSimulatorProcess(args: string[]): Promise<SimulatorProcess> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(TSX, [CLI, 'simulator', '--port', String(port), ...args], {
    cwd: ROOT,
    env: { ...process.env, TAVUS_API_KEY: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const kill = () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  };
  let stdout = '';
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('Ctrl-C')) resolve();
      });
      child.on('close', () => reject(new Error(`the simulator exited early: ${stdout}`)));
    });
  } catch (error) {
    kill();
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    stdout,
    key: /TAVUS_API_KEY=(\S+)/.exec(stdout)?.[1] ?? '',
    interrupt: async () => {
      child.kill('SIGINT');
      return exited;
    },
    kill,
  };
}
