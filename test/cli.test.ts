/**
 * The CLI as a user runs it: a child process, its exit status, stdout and stderr. Against the
 * shared DynamoDB Local and the simulator over real HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeReplicas, TavusSimulator } from '../local/tavus-simulator.js';
import { uniqueName } from './support/dynamodb.js';
import { cli, ROOT, serveSimulator } from './support/run-cli.js';

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
    [['sync'], { TAVUS_API_KEY: API_KEY, STUCK_TRAINING_AFTER: '0h' }, /STUCK_TRAINING_AFTER must be/],
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
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const served = await serveSimulator(['--port', String(port), '--replicas', '12'], { TAVUS_API_KEY: '' });
    try {
      const key = /TAVUS_API_KEY=(\S+)/.exec(served.stdout)?.[1];
      const response = await fetch(`http://127.0.0.1:${port}/v2/replicas?limit=100`, { headers: { 'x-api-key': key ?? '' } });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { total_count: number }).total_count).toBe(12);
      expect(await served.stop()).toBe(0);
    } finally {
      served.kill();
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
