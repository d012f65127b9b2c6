/**
 * The CLI's promises against hostile answers, as a user runs it (a child process) against the
 * shared DynamoDB Local and the simulator over real HTTP.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeReplicas, TavusSimulator } from '../local/tavus-simulator.js';
import { hostileRow } from '../local/hostile-account.js';
import { uniqueName } from './support/dynamodb.js';
import { cli } from './support/cli-process.js';

const KEY = 'sk_cli_HOSTILE_51d0c2e8_do_not_print';
const endpoint = inject('dynamodbEndpoint');
const tables = (): string[] => ['--table', uniqueName('hc-replicas'), '--runs-table', uniqueName('hc-runs'), '--events-table', uniqueName('hc-events')];

describe('sync against hostile answers', () => {
  const echoing = [hostileRow('echo-1', { replica_name: `Name ${KEY}`, error_message: `failed for ${KEY}`, status: 'error' }), ...makeReplicas(12)];
  const sim = new TavusSimulator({ apiKey: KEY, replicas: echoing, pageSizeCap: 5 });
  let apiUrl = '';
  beforeAll(async () => {
    apiUrl = await sim.start();
  });
  afterAll(() => sim.stop());

  it('prints no key in --json output or on stderr, whatever the rows and a 401 body echo', async () => {
    const where = tables();
    const first = await cli(['sync', '--json', '--api-url', apiUrl, '--endpoint', endpoint, '--create-tables', ...where], { TAVUS_API_KEY: KEY });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout + first.stderr).not.toContain(KEY);

    sim.failNext({ status: 401, body: JSON.stringify({ message: `Invalid access token ${KEY}` }) });
    const second = await cli(['sync', '--json', '--api-url', apiUrl, '--endpoint', endpoint, ...where], { TAVUS_API_KEY: KEY });
    expect(second.code).toBe(1);
    const summary = JSON.parse(second.stdout) as { status: string; error: string };
    expect(summary.status).toBe('failed');
    expect(summary.error).toContain('Invalid access token [redacted]');
    expect(second.stdout + second.stderr).not.toContain(KEY);
  });

  it('fails the walk at once on a total_count above --max-replicas, naming the flag', async () => {
    sim.resetStats();
    const run = await cli(['sync', '--json', '--max-replicas', '5', '--api-url', apiUrl, '--endpoint', endpoint, '--create-tables', ...tables()], {
      TAVUS_API_KEY: KEY,
    });
    expect(run.code).toBe(1);
    const summary = JSON.parse(run.stdout) as { error: string };
    expect(summary.error).toBe(
      'The API counts 13 replicas, more than the 5 this sync accepts, so the walk stopped and nothing was written; if the account really holds that many, raise the cap with --max-replicas 13.',
    );
    expect(sim.requests.filter((r) => r.path === '/v2/replicas')).toHaveLength(1);
  });

  it.each([
    [['--max-replicas', '0'], {}, /^--max-replicas must be a whole number of at least 1, not "0"\./m],
    [[], { MAX_REPLICAS: 'lots' }, /^MAX_REPLICAS must be a whole number of at least 1, not "lots"\./m],
  ])('refuses a bad cap %j as bad input (exit 2)', async (args, env, message) => {
    const run = await cli(['sync', ...args, '--api-url', apiUrl, '--endpoint', endpoint, ...tables()], { TAVUS_API_KEY: KEY, ...env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});

describe('an unreachable API URL', () => {
  it('gets a sentence naming the URL, not the Tavus status page, when nothing listens on this machine', async () => {
    // A port that was free a moment ago: nothing listens there now.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const url = `http://127.0.0.1:${port}`;
    const run = await cli(['sync', '--api-url', url, '--endpoint', endpoint, '--create-tables', ...tables()], { TAVUS_API_KEY: KEY });
    expect(run.code).toBe(1);
    const output = run.stdout + run.stderr;
    expect(output).toContain(`Nothing is listening at ${url} (connection refused)`);
    expect(output).not.toMatch(/status page/i);
  });
});
