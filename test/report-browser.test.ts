/**
 * The HTML report in a real headless browser (Debian's chromium, driven by playwright-core): it
 * renders the same numbers as the JSON report, fetches nothing, raises no errors and fits the
 * window. Data from twenty real syncs of the simulator over ten simulated days.
 *
 * Without /usr/bin/chromium the tests skip and say why, unless REQUIRE_BROWSER is set (CI sets it),
 * in which case they fail. Set REPORT_SCREENSHOT_DIR to keep the screenshots.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { parseSettings } from '../functions/engine/settings/registry.js';
import { createMissingTables } from '../functions/engine/load/table-provisioning.js';
import { productionParts } from '../functions/engine/wiring.js';
import { runSync } from '../functions/engine/sync.js';
import { makeReplicas, TavusSimulator } from '../local/tavus-simulator.js';
import { runQuery } from '../cli/query-command.js';
import type { Report } from '../cli/query/report.js';
import { formatDuration } from '../cli/query/report-text.js';
import { testDynamoClient, uniqueName } from './support/dynamodb.js';
import { QUIET_LOG } from './support/quiet-log.js';

const CHROMIUM = '/usr/bin/chromium';
const HAS_BROWSER = existsSync(CHROMIUM);
const REQUIRED = Boolean(process.env.REQUIRE_BROWSER);
const SKIP_REASON = `${CHROMIUM} is not installed (apt-get install chromium to run these; CI sets REQUIRE_BROWSER=1 so they cannot skip there)`;

const KEY = 'browser-test-key-91e4b7d2';
const T0 = new Date('2025-01-06T09:00:00.000Z');
const HOUR = 3_600_000;
const SYNCS = 20;
const SYNC_EVERY = 12 * HOUR;
const NOW = new Date(T0.getTime() + (SYNCS - 1) * SYNC_EVERY + HOUR);

/** A tiny seeded PRNG, so the account evolves the same way on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('the HTML report in headless chromium', () => {
  const endpoint = inject('dynamodbEndpoint');
  const dir = process.env.REPORT_SCREENSHOT_DIR ? path.resolve(process.env.REPORT_SCREENSHOT_DIR) : mkdtempSync(path.join(tmpdir(), 'report-browser-'));
  const profile = mkdtempSync(path.join(tmpdir(), 'chromium-profile-'));
  const file = path.join(dir, 'report.html');
  const requests: string[] = [];
  const problems: string[] = [];
  let context: BrowserContext | undefined;
  let page: Page;
  let report: Report;

  beforeAll(async () => {
    if (!HAS_BROWSER) {
      if (REQUIRED) throw new Error(`REQUIRE_BROWSER is set but ${CHROMIUM} is missing: install it with apt-get install chromium, or unset REQUIRE_BROWSER to skip the browser tests.`);
      return;
    }
    mkdirSync(dir, { recursive: true });
    const client: DynamoDBClient = testDynamoClient();
    const sim = new TavusSimulator({ apiKey: KEY, replicas: makeReplicas(150, { seed: 5 }), pageSizeCap: 50 });
    await sim.start();
    const tables = { replicas: uniqueName('b-replicas'), runs: uniqueName('b-runs'), events: uniqueName('b-events') };
    try {
      await createMissingTables(client, tables);
      const settings = parseSettings({ apiUrl: sim.url, table: tables.replicas, runsTable: tables.runs, eventsTable: tables.events });
      const next = random(42);
      // Every twelve hours two trainings start; each running one completes, fails, moves on or
      // stalls for a while. The two that started at the fourth sync never move again: stuck.
      for (let sync = 0; sync < SYNCS; sync += 1) {
        for (const replica of sim.replicas.filter((r) => r.status === 'started' && !r.replica_id.startsWith('rn3x'))) {
          const roll = next();
          const done = Number(replica.training_progress.split('/')[0]);
          if (roll < 0.12) sim.update(replica.replica_id, { status: 'error', error_message: 'Training failed: no face was detected in the training video.' });
          else if (roll < 0.5) sim.update(replica.replica_id, { status: 'completed', training_progress: '100/100' });
          else if (roll < 0.85) sim.update(replica.replica_id, { training_progress: `${Math.min(99, done + 10)}/100` });
        }
        sim.add(...makeReplicas(2, { seed: 100 + sync, idPrefix: `rn${sync}x`, start: new Date(T0.getTime() + sync * SYNC_EVERY) }).map((r) => ({
          ...r, status: 'started', training_progress: '1/100', replica_type: 'user', error_message: null, replica_name: r.replica_name.replace(' (Stock)', ''),
        })));
        if (sync === 10) for (const gone of sim.replicas.filter((r) => r.status === 'completed').slice(0, 2)) sim.remove(gone.replica_id);
        const at = new Date(T0.getTime() + sync * SYNC_EVERY);
        const summary = await runSync(settings, { ...productionParts({ client, settings, apiKey: KEY }), log: QUIET_LOG, clock: () => at }, { walkBudgetMs: 30_000 });
        expect(summary.error, summary.error).toBeUndefined();
      }
      const where = ['--endpoint', endpoint, '--table', tables.replicas, '--runs-table', tables.runs, '--events-table', tables.events];
      let out = '';
      const io = { out: (text: string) => void (out += text), err: () => {}, isTerminal: false, now: () => NOW };
      expect(await runQuery(['report', '--format', 'json', '--html', file, ...where], {}, io)).toBe(0);
      report = JSON.parse(out) as Report;
    } finally {
      await sim.stop();
      client.destroy();
    }

    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1100, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  });

  afterAll(async () => {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
    if (!process.env.REPORT_SCREENSHOT_DIR) rmSync(dir, { recursive: true, force: true });
  });

  const needBrowser = (ctx: TestContext): void => {
    if (!HAS_BROWSER) ctx.skip(SKIP_REASON);
  };

  it('loads without requesting anything but the page itself, and without errors', (ctx) => {
    needBrowser(ctx);
    expect(requests).toEqual([pathToFileURL(file).href]);
    expect(problems).toEqual([]);
  });

  it('shows the report numbers in its headline cards', async (ctx) => {
    needBrowser(ctx);
    const cards = Object.fromEntries(
      await page.$$eval('[data-kpi]', (nodes) => nodes.map((node) => [node.getAttribute('data-kpi'), node.querySelector('.value')?.textContent])),
    );
    expect(report.training.count).toBeGreaterThan(5);
    expect(report.failures.count).toBeGreaterThan(2);
    expect(report.stuck.length).toBeGreaterThanOrEqual(2);
    expect(cards).toEqual({
      'Live replicas': String(report.replicas.live),
      Deleted: String(report.replicas.deleted),
      Stuck: String(report.stuck.length),
      'Training, median': formatDuration(report.training.median_ms!),
      'Training, p90': formatDuration(report.training.p90_ms!),
      'Fine-tunes running': String(report.finetune.in_progress.length),
      'Fine-tunes failed': String(report.finetune.failed.length),
      'Fine-tune, median': report.finetune.median_ms === undefined ? '–' : formatDuration(report.finetune.median_ms),
      'Failures, 30 days': String(report.failures.count),
    });
  });

  it('draws every live replica in the status chart, every failure in the daily chart and every training as a dot', async (ctx) => {
    needBrowser(ctx);
    const sum = (selector: string): Promise<number> =>
      page.$$eval(selector, (nodes) => nodes.reduce((total, node) => total + Number(node.getAttribute('data-count')), 0));
    expect(await sum('rect[data-status]')).toBe(report.replicas.live);
    expect(await page.locator('rect[data-day]').count()).toBe(30);
    expect(await sum('rect[data-day]')).toBe(report.failures.count);
    expect(await page.locator('circle[data-duration-ms]').count()).toBe(report.training.count);
    // The bars are really drawn: the tallest failure day has a visible height.
    const tallest = await page.$$eval('rect[data-day]', (nodes) => Math.max(...nodes.map((node) => node.getBoundingClientRect().height)));
    expect(tallest).toBeGreaterThan(50);
  });

  it('lists the stuck replicas and the recent failures in tables', async (ctx) => {
    needBrowser(ctx);
    const rows = (heading: string) => page.locator('section', { has: page.locator('h2', { hasText: heading }) }).locator('tbody tr');
    expect(await rows('Stuck in training or fine-tune').count()).toBe(report.stuck.length);
    expect(await rows('Failures in the last 30 days').count()).toBe(Math.min(50, report.failures.count));
    expect(await rows('Stuck in training or fine-tune').first().textContent()).toContain(report.stuck[0]!.replica_id);
  });

  it('fits the window without a horizontal scrollbar, wide and narrow', async (ctx) => {
    needBrowser(ctx);
    for (const width of [1100, 420]) {
      await page.setViewportSize({ width, height: 900 });
      const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
      expect(Number(overflow), `at ${width}px`).toBeLessThanOrEqual(0);
      await page.screenshot({ path: path.join(dir, `report-${width}.png`), fullPage: true });
    }
    expect(existsSync(path.join(dir, 'report-1100.png'))).toBe(true);
  });
});
