/**
 * The CLI as a user runs it: a child process, its exit status, stdout and stderr. Against the
 * shared DynamoDB Local and the simulator over real HTTP.
 */
import { spawn } from 'node:child_process';
import { cli, CLI, ROOT, TSX } from './support/cli-process.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeReplicas, TavusSimulator } from '../local/tavus-simulator.js';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../functions/engine/load/dynamo-client.js';
import { testDynamoClient, uniqueName } from './support/dynamodb.js';
import { startSimulatorProcess } from './support/simulator-process.js';
import { QUERY_FLAGS } from '../cli/query-command.js';

const API_KEY = 'cli-test-key-7f3a9c1e5b';

const SUMMARY_FIELDS = [
  'run_id', 'status', 'started_at', 'finished_at', 'duration_ms', 'pages', 'fetched', 'created',
  'updated', 'unchanged', 'restored', 'deleted', 'stuck', 'retries',
];

describe('replica-sync CLI', () => {
  const simulator = new TavusSimulator({ apiKey: API_KEY, replicas: makeReplicas(60, { seed: 3 }), pageSizeCap: 20 });
  let apiUrl = '';
  const endpoint = inject('dynamodbEndpoint');
  const tables = (): string[] => [
    '--table', uniqueName('cli-replicas'), '--runs-table', uniqueName('cli-runs'), '--events-table', uniqueName('cli-events'),
  ];

  beforeAll(async () => {
    apiUrl = await simulator.start();
  });
  afterAll(async () => {
    await simulator.stop();
  });

  it('prints exactly one JSON line, the run summary, with --json, and exits 0 on success', async () => {
    const run = await cli(['sync', '--json', '--api-url', apiUrl, '--endpoint', endpoint, '--create-tables', ...tables()], {
      TAVUS_API_KEY: API_KEY,
    });
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]!) as Record<string, unknown>;
    for (const field of SUMMARY_FIELDS) expect(summary).toHaveProperty(field);
    expect(summary).toMatchObject({ status: 'succeeded', fetched: 60, created: 60, pages: 3 });
    expect(summary).not.toHaveProperty('error');
  });

  it('a skipped run says when the lease it met expires and prints the command that deletes it; that command runs', async () => {
    const names = tables();
    const target = ['--endpoint', endpoint, ...names];
    const env = { TAVUS_API_KEY: API_KEY, TAVUS_API_URL: apiUrl };
    expect((await cli(['sync', '--json', '--create-tables', ...target], env)).code).toBe(0);
    // A lease as a crashed run leaves it: held for another 25 minutes.
    const expiresAt = Date.now() + 25 * 60_000;
    const client = testDynamoClient();
    await documentClient(client).send(
      new PutCommand({ TableName: names[3], Item: { run_id: `lease#${names[1]}`, holder: 'crashed-run', lease_expires_at: expiresAt } }),
    );
    client.destroy();

    const skipped = await cli(['sync', '--json', ...target], env);
    expect(skipped.code, skipped.stderr).toBe(0);
    const summary = JSON.parse(skipped.stdout) as { status: string; error: string };
    expect(summary.status).toBe('skipped');
    expect(summary.error).toContain(`until ${new Date(expiresAt).toISOString()}`);
    expect(summary.error).toContain('wait until then or delete the lease item');
    const command = `npm run sync -- ${target.join(' ')} --release-lease`;
    expect(skipped.stderr).toContain(`To delete that lease now: ${command}`);

    const released = await cli(['sync', '--json', ...command.split(' ').slice(4)], env);
    expect(released.code, released.stderr).toBe(0);
    expect(released.stderr).toContain(`Deleted the lease of run crashed-run (it would have expired at ${new Date(expiresAt).toISOString()})`);
    expect(JSON.parse(released.stdout)).toMatchObject({ status: 'succeeded' });
  });

  it('reads the same settings from environment variables', async () => {
    const run = await cli(['sync', '--json', '--create-tables'], {
      TAVUS_API_KEY: API_KEY,
      TAVUS_API_URL: apiUrl,
      DYNAMODB_ENDPOINT: endpoint,
      REPLICAS_TABLE: uniqueName('cli-env-replicas'),
      SYNC_RUNS_TABLE: uniqueName('cli-env-runs'),
      REPLICA_EVENTS_TABLE: uniqueName('cli-env-events'),
      REPLICA_TYPE: 'system',
    });
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as { fetched: number };
    expect(summary.fetched).toBe(simulator.replicas.filter((replica) => replica.replica_type === 'system').length);
  });

  it('prints a summary table for people, and never the API key anywhere', async () => {
    const run = await cli(['sync', '--api-url', apiUrl, '--endpoint', endpoint, '--create-tables', ...tables()], {
      TAVUS_API_KEY: API_KEY,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/status\s+succeeded/);
    expect(run.stdout).toMatch(/created\s+60/);
    expect(run.stdout + run.stderr).not.toContain(API_KEY);
  });

  describe('on an account with replicas in error', () => {
    const failed = makeReplicas(23, { seed: 5 }).map((replica, i) => ({
      ...replica,
      status: 'error',
      error_message: `Training failed (${i}): the audio was too quiet.`,
    }));
    const ids = failed.map((replica) => replica.replica_id).sort();
    const account = new TavusSimulator({ apiKey: API_KEY, replicas: failed, pageSizeCap: 20 });
    let url = '';
    beforeAll(async () => {
      url = await account.start();
    });
    afterAll(async () => {
      await account.stop();
    });

    it('prints who needs attention under the summary table, at most 20, and the query that shows more', async () => {
      const run = await cli(['sync', '--api-url', url, '--endpoint', endpoint, '--create-tables', ...tables()], { TAVUS_API_KEY: API_KEY });
      expect(run.code).toBe(0);
      const start = run.stdout.indexOf('Needs attention (23):');
      expect(start).toBeGreaterThan(run.stdout.indexOf('in error'));
      const block = run.stdout.slice(start);
      const lines = block.split('\n').filter((line) => line.startsWith('  error '));
      expect(lines).toHaveLength(20);
      lines.forEach((line, i) => {
        const replica = failed.find((r) => r.replica_id === ids[i])!;
        for (const part of [replica.replica_name, replica.replica_id, replica.error_message, 'since ']) expect(line).toContain(part);
      });
      expect(block).toContain('and 3 more');
      expect(block).toContain('npm run query -- --status error');
      expect(block).toContain(`npm run query -- history ${ids[0]}`);
    });

    it('carries them as `attention` in the --json summary, by id within a kind', async () => {
      const run = await cli(['sync', '--json', '--api-url', url, '--endpoint', endpoint, '--create-tables', ...tables()], { TAVUS_API_KEY: API_KEY });
      expect(run.code).toBe(0);
      const summary = JSON.parse(run.stdout) as { attention: Array<Record<string, unknown>>; started_at: string };
      expect(summary.attention.map((entry) => entry.replica_id)).toEqual(ids);
      const first = failed.find((r) => r.replica_id === ids[0])!;
      expect(summary.attention[0]).toEqual({
        replica_id: first.replica_id,
        replica_name: first.replica_name,
        kind: 'error',
        status: 'error',
        training_progress: first.training_progress,
        finetune_status: null,
        since: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        error_message: first.error_message,
      });
    });
  });

  it('exits 1 with status failed and a sentence about the key when the API rejects it', async () => {
    const run = await cli(['sync', '--json', '--api-url', apiUrl, '--endpoint', endpoint, '--create-tables', ...tables()], {
      TAVUS_API_KEY: 'wrong-key-0000',
    });
    expect(run.code).toBe(1);
    const summary = JSON.parse(run.stdout) as { status: string; error: string; retries: number };
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/TAVUS_API_KEY/);
    expect(summary.retries).toBe(0);
    expect(run.stdout + run.stderr).not.toContain('wrong-key-0000');
  });

  it.each([
    [['sync'], {}, /TAVUS_API_KEY is not set/],
    [['sync', '--stuck-after', '6 hours'], { TAVUS_API_KEY: API_KEY }, /--stuck-after must be a whole number followed by s, m, h or d/],
    [['sync'], { TAVUS_API_KEY: API_KEY, STUCK_TRAINING_AFTER: '0h' }, /^STUCK_TRAINING_AFTER must be longer than zero \(like 90s, 30m, 6h or 1d\), not "0h"\./],
    // Each kind of bad duration, from a flag and from a variable: the sentence that fits it.
    [['sync', '--stuck-after', '-5m'], { TAVUS_API_KEY: API_KEY }, /^--stuck-after must be a positive duration \(like 90s, 30m, 6h or 1d\), not "-5m"/],
    [['sync', '--finetune-stuck-after', '-1'], { TAVUS_API_KEY: API_KEY }, /^--finetune-stuck-after must be a positive duration/],
    [['sync', '--stuck-after', '0s'], { TAVUS_API_KEY: API_KEY }, /^--stuck-after must be longer than zero \(like 90s, 30m, 6h or 1d\), not "0s"\./],
    [['sync', '--stuck-after', '6'], { TAVUS_API_KEY: API_KEY }, /^--stuck-after needs a unit after the number/],
    [['sync', '--stuck-after', '1.5h'], { TAVUS_API_KEY: API_KEY }, /^--stuck-after must be a whole number of its unit .*: write 90m\./],
    [['sync', '--stuck-after', '99999999999999999999d'], { TAVUS_API_KEY: API_KEY }, /^--stuck-after must be at most \d+d/],
    [['sync', '--stuck-after='], { TAVUS_API_KEY: API_KEY }, /^--stuck-after needs a duration, like 90s/],
    [['sync'], { TAVUS_API_KEY: API_KEY, STUCK_TRAINING_AFTER: '-5m' }, /^STUCK_TRAINING_AFTER must be a positive duration/],
    [['sync'], { TAVUS_API_KEY: API_KEY, FINETUNE_STUCK_AFTER: '2.5d' }, /^FINETUNE_STUCK_AFTER must be a whole number of its unit .*: write 60h\./],
    [['sync', '--max-delete-fraction', '2'], { TAVUS_API_KEY: API_KEY }, /--max-delete-fraction must be a number from 0 to 1/],
    [['sync', '--replica-type', 'stock'], { TAVUS_API_KEY: API_KEY }, /--replica-type must be user or system/],
    [['sync', '--api-url', 'tavusapi.com'], { TAVUS_API_KEY: API_KEY }, /--api-url must be an http\(s\) URL/],
    [['sync', '--api-url', 'http://tavusapi.com'], { TAVUS_API_KEY: API_KEY }, /--api-url must use https:\/\//],
    [['sync'], { TAVUS_API_KEY: API_KEY, TAVUS_API_URL: 'http://tavusapi.com' }, /TAVUS_API_URL must use https:\/\//],
    [['sync'], { TAVUS_API_KEY: API_KEY, MAX_API_CONCURRENCY: '0' }, /MAX_API_CONCURRENCY must be a whole number of at least 1/],
    [['sync', '--bogus'], { TAVUS_API_KEY: API_KEY }, /Unknown flag --bogus/],
    [['sync', '--table'], { TAVUS_API_KEY: API_KEY }, /--table needs a value/],
    [['sync', '--json=yes'], { TAVUS_API_KEY: API_KEY }, /--json takes no value/],
    [['sync', '--api-key', 'abc'], {}, /read only from the TAVUS_API_KEY environment variable/],
    [['sync', '--create-tables'], { TAVUS_API_KEY: API_KEY }, /--create-tables only works with --local or --endpoint/],
    [['sync', '--local', '--endpoint', 'http://127.0.0.1:1'], { TAVUS_API_KEY: API_KEY }, /pass one of them/],
    [['sync', 'now'], { TAVUS_API_KEY: API_KEY }, /^Unexpected argument "now": sync takes only flags/],
    [['sync', '--json', '--replica-type', 'user', 'extra'], { TAVUS_API_KEY: API_KEY }, /^Unexpected argument "extra": sync takes only flags/],
    [['frobnicate'], {}, /Unknown command "frobnicate"/],
    [['simulator', '--replicas', 'many'], {}, /--replicas must be a whole number/],
  ])('rejects bad input %j with one sentence and exit 2', async (args, env, sentence) => {
    const run = await cli(args, env as Record<string, string>);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(sentence);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stdout).toBe('');
  });

  it('prints --help listing every flag, and exits 0', async () => {
    const run = await cli(['sync', '--help']);
    expect(run.code).toBe(0);
    for (const flag of ['--api-url', '--table', '--runs-table', '--events-table', '--endpoint', '--local', '--create-tables', '--replica-type', '--stuck-after', '--max-delete-fraction', '--json', '--help']) {
      expect(run.stdout).toContain(`  ${flag}`);
    }
    for (const variable of ['TAVUS_API_URL', 'RUN_RECORD_TTL_DAYS', 'EVENT_TTL_DAYS', 'MAX_API_CONCURRENCY']) expect(run.stdout).toContain(variable);
  });

  it('prints query --help listing every flag query accepts, and its sql and export subcommands', async () => {
    const run = await cli(['query', '--help']);
    expect(run.code).toBe(0);
    // From the parser's own options: a flag added to QUERY_FLAGS without a help line fails here.
    for (const flag of Object.keys(QUERY_FLAGS)) expect(run.stdout, flag).toMatch(new RegExp(`^  --${flag}\\b`, 'm'));
    for (const subcommand of ['history', 'report', 'sql', 'export']) expect(run.stdout).toContain(`npm run query -- ${subcommand}`);
  });

  it('answers queries over what a sync wrote: replicas in error as CSV, history as JSON lines', async () => {
    const names = tables();
    const sync = await cli(['sync', '--json', '--api-url', apiUrl, '--endpoint', endpoint, '--create-tables', ...names], {
      TAVUS_API_KEY: API_KEY,
    });
    expect(sync.code).toBe(0);
    const [, replicasTable, , , , eventsTable] = names;
    const listed = await cli(['query', '--endpoint', endpoint, '--table', replicasTable!, '--events-table', eventsTable!, '--status', 'error', '--format', 'csv']);
    expect(listed.code).toBe(0);
    const rows = listed.stdout.trim().split('\n');
    const inError = simulator.replicas.filter((replica) => replica.status === 'error');
    expect(rows).toHaveLength(1 + inError.length);
    expect(rows[0]).toMatch(/^replica_id,/);
    const id = inError[0]!.replica_id;
    const history = await cli(['query', 'history', id, '--endpoint', endpoint, '--table', replicasTable!, '--events-table', eventsTable!, '--format', 'json']);
    expect(history.code).toBe(0);
    expect(JSON.parse(history.stdout.trim().split('\n')[0]!)).toMatchObject({ replica_id: id, type: 'created', to: 'error' });
  });

  it.each([
    ['a list', [], ['--table']],
    ['a history', ['history', 'r1'], ['--events-table']],
    ['the report', ['report'], ['--table', '--events-table']], // it reads both at once: either may be named
  ])('query of %s on a table that does not exist: exit 1, one sentence naming it and the sync that makes it, and no table created', async (_what, args, flags) => {
    const names = tables();
    const run = await cli(['query', ...args, '--endpoint', endpoint, ...names]);
    expect(run.code, run.stderr).toBe(1);
    const flag = flags.find((candidate) => run.stderr.includes(`"${names[names.indexOf(candidate) + 1]}"`)) ?? flags[0]!;
    const table = names[names.indexOf(flag) + 1];
    expect(run.stderr).toBe(
      `The table "${table}" does not exist on ${endpoint}: run a sync into it first (npm run sync -- --endpoint ${endpoint} --create-tables ${names.join(' ')}), or name an existing table with ${flag}.\n`,
    );
    expect(run.stdout).toBe('');
    const client = testDynamoClient();
    const listed = await client.send(new ListTablesCommand({}));
    client.destroy();
    for (const name of names.filter((_, index) => index % 2 === 1)) expect(listed.TableNames).not.toContain(name);
  });

  it('rejects a bad query filter with one sentence and exit 2', async () => {
    const run = await cli(['query', '--endpoint', endpoint, '--created-after', 'last tuesday']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--created-after/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('runs the demo: two syncs that show a creation, an update, a deletion and a stalled training', async () => {
    const run = await cli(['demo']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/created\s+240/);
    expect(run.stdout).toMatch(/deleted\s+1\n/);
    expect(run.stdout).toMatch(/stuck\s+1\n/);
    for (const type of ['created', 'deleted', 'stuck', 'status_changed']) expect(run.stdout).toContain(type);
  });

  it('serves the simulator for people until Ctrl-C, with the key it prints', async () => {
    const simulator = await startSimulatorProcess(['--replicas', '12']);
    try {
      const response = await fetch(`${simulator.url}/v2/replicas?limit=100`, { headers: { 'x-api-key': simulator.key } });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { total_count: number }).total_count).toBe(12);
      expect(await simulator.interrupt()).toBe(0);
    } finally {
      // A failed assertion must not leave the server running after the suite.
      simulator.kill();
    }
  });

  it('with --local keeps its data under .data/ so a second run sees the first', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'replica-sync-local-'));
    try {
      const env = { TAVUS_API_KEY: API_KEY, TAVUS_API_URL: apiUrl };
      const first = await cli(['sync', '--local', '--json'], env, cwd);
      expect(first.code).toBe(0);
      expect(JSON.parse(first.stdout)).toMatchObject({ created: 60 });
      const second = await cli(['sync', '--local', '--json'], env, cwd);
      expect(second.code).toBe(0);
      expect(JSON.parse(second.stdout)).toMatchObject({ created: 0, unchanged: 60, written: 0 });
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
