/**
 * The benchmark's machinery on a tiny account (200 replicas, 10 a page, so the walk has 20 pages
 * to overlap): the counts it reports must be right, since the targets are judged on them. Sides run
 * in this process against the shared DynamoDB Local; no timing is asserted (that is the bench's job).
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { runBench, type ScenarioResult } from '../bench/scenarios.js';
import { runSide } from '../bench/side.js';
import { evaluateTargets } from '../bench/report.js';
import { testDynamoClient } from './support/dynamodb.js';

const REPLICAS = 200;
const PAGES = 20;
let results: ScenarioResult[];

const scenario = (id: string): ScenarioResult => {
  const found = results.find((result) => result.id === id);
  if (!found) throw new Error(`The bench reported no scenario ${id}.`);
  return found;
};

beforeAll(async () => {
  const client = testDynamoClient();
  try {
    results = await runBench(
      { small: REPLICAS, warmUp: 0, latencyMs: 5, pageSizeCap: 10, walkBudgetMs: 60_000, naiveLarge: false, resyncRuns: 1 },
      { client, endpoint: inject('dynamodbEndpoint'), execute: runSide },
    );
  } finally {
    client.destroy();
  }
});

describe('the benchmark on 200 replicas', () => {
  it('runs the four small scenarios, the engine beside the naive sync except under 429s', () => {
    expect(results.map((result) => result.id)).toEqual(['first-small', 'unchanged-small', 'changed-small', 'throttled-small']);
    for (const result of results) expect(result.ours.status).toBe('succeeded');
    expect(results.filter((result) => result.naive).map((result) => result.id)).toEqual(['first-small', 'unchanged-small', 'changed-small']);
  });

  it('counts a first sync as every replica written once, each with its created event', () => {
    const first = scenario('first-small');
    expect(first.ours.itemsWritten).toBe(REPLICAS);
    expect(first.ours.eventsWritten).toBe(REPLICAS);
    expect(first.ours.fetched).toBe(REPLICAS);
    expect(first.naive?.itemsWritten).toBe(REPLICAS);
  });

  it('counts zero writes for an unchanged resync, while the naive sync puts every replica again', () => {
    const unchanged = scenario('unchanged-small');
    expect(unchanged.ours.itemsWritten).toBe(0);
    expect(unchanged.ours.eventsWritten).toBe(0);
    expect(unchanged.naive?.itemsWritten).toBe(REPLICAS);
    expect(unchanged.naive?.dynamoRequests).toBe(REPLICAS);
    expect(unchanged.ours.dynamoRequests).toBeLessThan(REPLICAS / 5);
  });

  it('counts exactly the changed replicas as written in a 1% resync', () => {
    const changed = scenario('changed-small');
    expect(changed.changed).toBe(REPLICAS / 100);
    expect(changed.ours.itemsWritten).toBe(changed.changed);
    expect(changed.naive?.itemsWritten).toBe(REPLICAS);
  });

  it('sees every page requested once and never more than four requests in flight', () => {
    for (const id of ['first-small', 'unchanged-small', 'changed-small']) {
      expect(scenario(id).ours.apiRequests).toBe(PAGES);
      expect(scenario(id).ours.apiMaxInFlight).toBeLessThanOrEqual(4);
      expect(scenario(id).naive?.apiMaxInFlight).toBe(1);
    }
  });

  it('reports the concurrency limit lowered after the injected 429s, within the same bound', () => {
    const throttled = scenario('throttled-small');
    expect(throttled.throttle?.injected429).toBe(3);
    expect(throttled.ours.retries).toBe(3);
    expect(throttled.ours.apiRequests).toBe(PAGES + 3);
    expect(throttled.ours.apiMaxInFlight).toBeLessThanOrEqual(4);
    expect(throttled.ours.lowestLimit).toBeLessThan(4);
  });

  it('judges the count targets from those figures', () => {
    const targets = evaluateTargets({
      date: '2025-01-01',
      machine: { cpus: 2, cpuModel: 'test', memoryGb: 1, node: process.versions.node, platform: 'test', loadStart: 0, loadEnd: 0 },
      config: { small: REPLICAS, latencyMs: 5, pageSizeCap: 10, maxInFlight: 4, resyncRuns: 1 },
      lambda: { timeoutMs: 900_000, source: 'test', runsPerMonth: 730, schedule: 'rate(1 hour)' },
      scenarios: results,
      totalSeconds: 1,
    });
    const met = (text: string): boolean | undefined => targets.find((target) => target.target.includes(text))?.met;
    expect(met('zero items written')).toBe(true);
    expect(met('writes exactly the changed replicas')).toBe(true);
    expect(met('in flight at most 4')).toBe(true);
    expect(met('the limit drops')).toBe(true);
  });
});
