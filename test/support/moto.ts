/**
 * moto's server (`moto_server -p PORT`) as the SNS and SQS stand-in: started on a free port for a
 * test file and stopped after it. Where it is not installed the tests that need it skip with the
 * reason, unless REQUIRE_MOTO=1 (as .ci/run sets), which makes its absence a failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export const MOTO_SKIP_REASON = 'moto_server is not on PATH (pip install "moto[server]"); set REQUIRE_MOTO=1 to fail instead of skipping';

/** True when `moto_server` can be run; throws when it cannot and REQUIRE_MOTO=1. */
export function motoAvailable(): boolean {
  const found = spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status === 0;
  if (!found && process.env.REQUIRE_MOTO === '1') throw new Error(`REQUIRE_MOTO=1, but ${MOTO_SKIP_REASON.split(' (')[0]}.`);
  return found;
}

export interface MotoServer {
  url: string;
  stop(): Promise<void>;
}

/** Starts moto_server with `env` added to its environment and waits until it answers. */
export async function startMoto(env: Record<string, string> = {}): Promise<MotoServer> {
  const port = await freePort();
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const url = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  for (const started = Date.now(); Date.now() - started < 120_000; ) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${url}/moto-api/`)).ok) return { url, stop };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await stop();
  throw new Error(`moto_server did not answer on ${url} within 120 s: ${stderr}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('No port.'))));
    });
  });
}
