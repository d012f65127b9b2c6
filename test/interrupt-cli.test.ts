/**
 * Ctrl-C gives the lease back: the CLI as a user runs it (`tsx bin/replica-sync.ts sync`, in
 * its own process group, as a terminal would signal it) is sent SIGINT mid-walk and mid-writes.
 * It exits 130 within 5 s of the signal, records the run as failed and interrupted, releases the
 * lease (an immediate next sync runs and completes), and loses nothing: every stored replica has
 * exactly the history its version says. A second Ctrl-C exits at once. With `--local`, the
 * embedded DynamoDB Local outlives the terminal's Ctrl-C until the lease is back, then goes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { documentClient } from '../functions/engine/load/dynamo-client.js';
import { makeReplicas, TavusSimulator } from '../local/tavus-simulator.js';
import { testDynamoClient, uniqueName } from './support/dynamodb.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** tsx's loader by absolute URL, so the CLI can run from any directory (`--local` keeps data under the cwd). */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const KEY = 'interrupt-test-key-4c2e';
/** The promise is 5 s from the signal to the exit; asserted as a bound. */
const EXIT_BOUND_MS = 5_000;

interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Epoch ms at exit. */
  at: number;
}

/**
 * `node --import tsx bin/replica-sync.ts sync ...` (what `npm run sync` runs), detached: a process
 * group of its own, as a shell job. One process: tsx's own CLI would put a parent in front that
 * SIGKILLs the sync if it does not acknowledge a signal within 30 ms. Not through npm: npm
 * re-raises a signal it received on itself, so its own status is "killed by SIGINT" (which a shell
 * shows as 130 too) rather than the CLI's exit status this test reads.
 */
function startCli(args: string[], cwd = ROOT): { child: ChildProcess; exited: Promise<Exited>; stderr: () => string } {
  const env: NodeJS.ProcessEnv = { ...process.env, TAVUS_API_KEY: KEY };
  const child = spawn(process.execPath, ['--import', TSX, path.join(ROOT, 'bin/replica-sync.ts'), 'sync', ...args], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Exited>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, at: Date.now() }));
  });
  return { child, exited, stderr: () => stderr };
}

/** The signal a terminal sends on Ctrl-C: to the whole foreground process group. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): number {
  process.kill(-(child.pid as number), signal);
  return Date.now();
}

/** The programs whose command line mentions `text` (Linux's /proc): java and its watchdog, by data folder. */
async function processesMentioning(text: string): Promise<string[]> {
  const programs: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const commandLine = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (commandLine.includes(text)) programs.push(commandLine.split('\0')[0] as string);
  }
  return programs;
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('Ctrl-C during a CLI sync', () => {
  const endpoint = inject('dynamodbEndpoint');
  const client = testDynamoClient();
  const documents = documentClient(client);
  const sims: TavusSimulator[] = [];

  afterAll(async () => {
    await Promise.all(sims.map((sim) => sim.stop()));
    client.destroy();
  });

  /** Fresh table names, the flags that name them, and what the tables hold. */
  function tablesFor(prefix: string) {
    const tables = { replicas: uniqueName(`${prefix}-replicas`), runs: uniqueName(`${prefix}-runs`), events: uniqueName(`${prefix}-events`) };
    const flags = ['--endpoint', endpoint, '--create-tables', '--table', tables.replicas, '--runs-table', tables.runs, '--events-table', tables.events, '--json'];
    const scan = async (table: string) => {
      const items: Array<Record<string, unknown>> = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await documents.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      return items;
    };
    const count = async (table: string) => {
      try {
        return (await scan(table)).length;
      } catch {
        return 0; // not created yet
      }
    };
    return { tables, flags, scan, count };
  }

  async function startSim(replicas: number, options: { latencyMs?: number; pageSizeCap?: number }): Promise<TavusSimulator> {
    const sim = new TavusSimulator({ apiKey: KEY, replicas: makeReplicas(replicas, { seed: 17 }), ...options });
    sims.push(sim);
    await sim.start();
    return sim;
  }

  /** The promise after an interrupted run: exit 130 in time, recorded, lease back, nothing lost. */
  async function expectGracefulStop(run: Exited, signalledAt: number, t: ReturnType<typeof tablesFor>, sim: TavusSimulator, phase: RegExp, signal: NodeJS.Signals = 'SIGINT') {
    expect(run.code, run.stderr).toBe(130);
    expect(run.at - signalledAt).toBeLessThan(EXIT_BOUND_MS);
    const summary = JSON.parse(run.stdout) as { status: string; error: string; run_id: string };
    expect(summary.status).toBe('failed');
    expect(summary.error).toContain(`interrupted (${signal})`);
    expect(summary.error).toMatch(phase);
    const record = (await documents.send(new GetCommand({ TableName: t.tables.runs, Key: { run_id: summary.run_id } }))).Item;
    expect(record).toMatchObject({ status: 'failed', error: summary.error });
    await expectConsistent(t);

    sim.latencyMs = 0; // the next run need not be slow
    const next = startCli([...t.flags, '--api-url', sim.url]);
    const after = await next.exited;
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ status: 'succeeded', fetched: sim.replicas.length });
    expect(await t.count(t.tables.replicas)).toBe(sim.replicas.length);
    await expectConsistent(t);
  }

  /** Every stored replica has exactly one event per version it went through (first syncs: one `created`). */
  async function expectConsistent(t: ReturnType<typeof tablesFor>) {
    const items = await t.scan(t.tables.replicas);
    const events = await t.scan(t.tables.events);
    const byReplica = new Map<string, string[]>();
    for (const event of events) byReplica.set(event.replica_id as string, [...(byReplica.get(event.replica_id as string) ?? []), event.type as string]);
    for (const item of items) {
      expect(item.version).toBe(1);
      expect(byReplica.get(item.replica_id as string), item.replica_id as string).toEqual(['created']);
    }
    expect(byReplica.size).toBe(items.length);
  }

  it.each(['SIGINT', 'SIGTERM'] as const)('mid-walk, %s: exits 130 in time, records the run as interrupted, gives the lease back, loses nothing', async (signal) => {
    const sim = await startSim(300, { latencyMs: 400, pageSizeCap: 5 });
    const t = tablesFor('int-walk');
    const run = startCli([...t.flags, '--api-url', sim.url]);
    await until(() => sim.requests.length >= 4, 'the walk to start');
    const signalledAt = signalGroup(run.child, signal);
    const exited = await run.exited;
    expect(await t.count(t.tables.replicas)).toBe(0);
    await expectGracefulStop(exited, signalledAt, t, sim, /before writing anything/, signal);
  }, 120_000);

  it('mid-writes: exits 130 in time, each replica written whole with its history, the rest written by the next run', async () => {
    const sim = await startSim(8_000, { pageSizeCap: 100 });
    const t = tablesFor('int-writes');
    const run = startCli([...t.flags, '--api-url', sim.url]);
    await until(async () => (await t.count(t.tables.replicas)) > 0, 'the writes to start');
    const signalledAt = signalGroup(run.child, 'SIGINT');
    const exited = await run.exited;
    const written = await t.count(t.tables.replicas);
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(sim.replicas.length);
    await expectGracefulStop(exited, signalledAt, t, sim, /while writing/);
  }, 180_000);

  describe('a second Ctrl-C', () => {
    // An endpoint that accepts connections and never answers: the first stop cannot finish.
    let silent: Server;
    const sockets: Socket[] = [];
    beforeAll(async () => {
      silent = createServer((socket) => void sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it('exits at once with 130 while the first is still stopping', async () => {
      const sim = await startSim(10, {});
      const port = (silent.address() as { port: number }).port;
      const run = startCli(['--endpoint', `http://127.0.0.1:${port}`, '--table', uniqueName('int-twice'), '--api-url', sim.url]);
      await until(() => sockets.length > 0, 'the CLI to reach DynamoDB');
      signalGroup(run.child, 'SIGINT');
      await until(() => run.stderr().includes('stopping the sync'), 'the first signal to be taken');
      await new Promise((resolve) => setTimeout(resolve, 700));
      const secondAt = signalGroup(run.child, 'SIGINT');
      const exited = await run.exited;
      expect(exited.code, exited.stderr).toBe(130);
      expect(exited.at - secondAt).toBeLessThan(EXIT_BOUND_MS);
      expect(exited.stderr).toMatch(/quitting at once/);
      expect(exited.stdout).toBe('');
    }, 60_000);
  });

  describe('with --local', () => {
    let cwd: string;
    beforeAll(async () => {
      cwd = await mkdtemp(path.join(tmpdir(), 'int-local-'));
    });
    afterAll(async () => {
      await rm(cwd, { recursive: true, force: true });
    });

    it('Ctrl-C mid-walk: DynamoDB Local outlives the signal, the lease comes back, the next --local run is not skipped, no java is left', async () => {
      const sim = await startSim(300, { latencyMs: 400, pageSizeCap: 5 });
      const dataDir = path.join(cwd, '.data');
      const run = startCli(['--local', '--json', '--api-url', sim.url], cwd);
      await until(() => sim.requests.length >= 4, 'the walk to start');
      expect(await processesMentioning(dataDir)).toContain('java');
      signalGroup(run.child, 'SIGINT');
      const stopped = await run.exited;
      expect(stopped.code, stopped.stderr).toBe(130);
      const summary = JSON.parse(stopped.stdout) as { status: string; error: string };
      expect(summary).toMatchObject({ status: 'failed' });
      expect(summary.error).toContain('interrupted (SIGINT)');
      expect(stopped.stderr).not.toMatch(/lease could not be released|run record could not be written/);
      expect(await processesMentioning(dataDir)).toEqual([]);

      sim.latencyMs = 0;
      const next = await startCli(['--local', '--json', '--api-url', sim.url], cwd).exited;
      expect(next.code, next.stderr).toBe(0);
      expect(JSON.parse(next.stdout)).toMatchObject({ status: 'succeeded', fetched: sim.replicas.length });
      expect(await processesMentioning(dataDir)).toEqual([]);
    }, 180_000);
  });
});
