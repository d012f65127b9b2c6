/**
 * Turns the scenario results into what people read: the targets met or not, the comparison table,
 * the cost per run and per month, the JSON figures and the dated Markdown record.
 */
import type { ScenarioResult, SideResult } from './scenarios.js';
import { textTable } from '../cli/text-table.js';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  platform: string;
  /** 1-minute load average when the run started and ended: other work on the machine skews times. */
  loadStart: number;
  loadEnd: number;
}

export interface BundleInfo {
  /** How the bundle was made: taken from `cdk synth`, or built here with esbuild. */
  source: string;
  file: string;
  bytes: number;
  gzipBytes: number;
  /** Median time to import() the bundle in a fresh node process, and every measured run. */
  initMs: number;
  initRunsMs: number[];
  error?: string;
}

export interface LambdaLimits {
  timeoutMs: number;
  memoryMb?: number;
  /** Where the figures come from (lib/sync-function.ts, or the assumed default). */
  source: string;
  runsPerMonth: number;
  schedule: string;
}

export interface BenchReport {
  date: string;
  machine: MachineInfo;
  config: { small: number; large?: number; latencyMs: number; pageSizeCap: number; maxInFlight: number; resyncRuns: number };
  lambda: LambdaLimits;
  scenarios: ScenarioResult[];
  bundle?: BundleInfo;
  targets: TargetResult[];
  cost: CostRow[];
  totalSeconds: number;
}

export interface TargetResult {
  target: string;
  met: boolean;
  measured: string;
}

const MEMORY_TARGET_MB = 256;
const BUNDLE_TARGET_BYTES = 400 * 1024;

export function evaluateTargets(report: Omit<BenchReport, 'targets' | 'cost'>): TargetResult[] {
  const targets: TargetResult[] = [];
  const find = (id: string): ScenarioResult | undefined => report.scenarios.find((scenario) => scenario.id === id);
  const speedUp = (scenario: ScenarioResult): number => (scenario.naive ? scenario.naive.wallMs / scenario.ours.wallMs : NaN);

  const first = find('first-small');
  if (first?.naive) {
    targets.push({ target: `${first.title}: at least 5x faster than the naive sync`, met: speedUp(first) >= 5, measured: `${times(speedUp(first))} (${seconds(first.ours.wallMs)} against ${seconds(first.naive.wallMs)})` });
  }
  const unchanged = find('unchanged-small');
  if (unchanged?.naive) {
    targets.push({ target: `${unchanged.title}: at least 10x faster than the naive sync`, met: speedUp(unchanged) >= 10, measured: `${times(speedUp(unchanged))} (${seconds(unchanged.ours.wallMs)} against ${seconds(unchanged.naive.wallMs)})` });
  }
  for (const scenario of [unchanged, find('unchanged-large')]) {
    if (!scenario) continue;
    const ratio = scenario.ours.wallMs / scenario.floorMs;
    targets.push({ target: `${scenario.title}: zero items written`, met: scenario.ours.itemsWritten === 0, measured: `${scenario.ours.itemsWritten} written` });
    targets.push({ target: `${scenario.title}: within 1.5x of the API's floor`, met: ratio <= 1.5, measured: `${times(ratio)} (${seconds(scenario.ours.wallMs)} against a floor of ${seconds(scenario.floorMs)})` });
  }
  const changed = find('changed-small');
  if (changed) {
    targets.push({ target: `${changed.title}: writes exactly the changed replicas`, met: changed.ours.itemsWritten === changed.expectedWrites, measured: `${changed.ours.itemsWritten} written, ${changed.expectedWrites} changed` });
  }
  for (const scenario of [find('first-large'), find('unchanged-large')]) {
    if (!scenario) continue;
    targets.push({ target: `${scenario.title}: peak memory at most ${MEMORY_TARGET_MB} MB`, met: scenario.ours.maxRssMb <= MEMORY_TARGET_MB, measured: `${scenario.ours.maxRssMb} MB max RSS (heap peak ${scenario.ours.peakHeapMb} MB)` });
    const budget = report.lambda.timeoutMs / 3;
    targets.push({ target: `${scenario.title}: at most a third of the Lambda timeout`, met: scenario.ours.wallMs <= budget, measured: `${seconds(scenario.ours.wallMs)} of ${seconds(budget)}` });
  }
  const inFlight = Math.max(...report.scenarios.map((scenario) => scenario.ours.apiMaxInFlight));
  targets.push({ target: `API requests in flight at most ${report.config.maxInFlight}`, met: inFlight <= report.config.maxInFlight, measured: `at most ${inFlight} in every scenario` });
  const throttled = find('throttled-small');
  if (throttled?.throttle) {
    const lowest = throttled.ours.lowestLimit ?? report.config.maxInFlight;
    targets.push({
      target: 'the limit drops when the API answers 429',
      met: lowest < report.config.maxInFlight,
      measured: `${throttled.throttle.injected429} x 429: limit ${report.config.maxInFlight} -> ${lowest}; requests open ${throttled.throttle.inFlightBefore} before, ${throttled.throttle.inFlightAfter} after`,
    });
  }
  if (report.bundle && !report.bundle.error) {
    targets.push({ target: 'Lambda bundle at most 400 KB', met: report.bundle.bytes <= BUNDLE_TARGET_BYTES, measured: `${kb(report.bundle.bytes)} (${kb(report.bundle.gzipBytes)} gzipped), init ${report.bundle.initMs} ms` });
  }
  return targets;
}

export interface CostRow {
  replicas: number;
  apiCallsPerRun: number;
  /** Strongly consistent Scan: DynamoDB bills the whole item read, not the projection. */
  readUnitsPerRun: number;
  /** Nothing changed: the lease, its release and the run record. */
  writeUnitsUnchanged: number;
  /** 1% of replicas changed: each is a transactional write (2 WRU) plus its by-status index entry (1 WRU). */
  writeUnitsOnePercent: number;
  /** The first sync, once: every replica and its `created` event transactionally, plus the index. */
  writeUnitsFirstSync: number;
  dollarsPerMonthUnchanged: number;
  dollarsPerMonthOnePercent: number;
}

/** us-east-1 on-demand prices (Standard table class), per request unit. */
export const PRICES = { region: 'us-east-1', readUnit: 0.125 / 1e6, writeUnit: 0.625 / 1e6 };
/** Writes to the runs table each run: lease, release, run record (each under 1 KB). */
const RUN_TABLE_WRITES = 3;

/** Cost per run and per month, from the item sizes and request counts the benchmark measured. */
export function costModel(scenarios: ScenarioResult[], runsPerMonth: number, pageSize: number): CostRow[] {
  const first = scenarios.find((scenario) => scenario.id === 'first-small' || scenario.id === 'first-large');
  const itemBytes = first?.ours.meanItemBytes || 500;
  const eventsPerCreated = first ? first.ours.eventsWritten / Math.max(1, first.ours.itemsWritten) : 1;
  const writeUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));
  return [1_000, 10_000, 100_000].map((replicas) => {
    const readUnitsPerRun = Math.ceil((replicas * itemBytes) / 4096);
    const perChangedReplica = 2 * writeUnits(itemBytes) + writeUnits(itemBytes + 100);
    const writeUnitsOnePercent = RUN_TABLE_WRITES + Math.ceil(replicas / 100) * perChangedReplica;
    const writeUnitsFirstSync = RUN_TABLE_WRITES + replicas * (perChangedReplica + 2 * eventsPerCreated);
    const dollars = (reads: number, writes: number): number =>
      round((reads * PRICES.readUnit + writes * PRICES.writeUnit) * runsPerMonth, 4);
    return {
      replicas,
      apiCallsPerRun: Math.ceil(replicas / pageSize),
      readUnitsPerRun,
      writeUnitsUnchanged: RUN_TABLE_WRITES,
      writeUnitsOnePercent,
      writeUnitsFirstSync: Math.round(writeUnitsFirstSync),
      dollarsPerMonthUnchanged: dollars(readUnitsPerRun, RUN_TABLE_WRITES),
      dollarsPerMonthOnePercent: dollars(readUnitsPerRun, writeUnitsOnePercent),
    };
  });
}

/** The comparison a person reads first: one line per scenario and side. */
export function formatTable(report: BenchReport): string {
  const header = ['scenario', 'side', 'wall', 'vs naive', 'vs floor', 'API req', 'in flight', 'DDB req', 'written', 'events', 'max RSS', 'heap peak'];
  const rows: string[][] = [];
  for (const scenario of report.scenarios) {
    const line = (name: string, side: SideResult, extra: string[]): string[] => [
      name === 'ours' ? scenario.title : '',
      name,
      seconds(side.wallMs) + (side.wallRunsMs ? ` (median of ${side.wallRunsMs.length})` : ''),
      ...extra,
      String(side.apiRequests),
      String(side.apiMaxInFlight),
      count(side.dynamoRequests),
      count(side.itemsWritten),
      count(side.eventsWritten),
      `${side.maxRssMb} MB`,
      `${side.peakHeapMb} MB`,
    ];
    const speed = scenario.naive ? times(scenario.naive.wallMs / scenario.ours.wallMs) : 'n/a';
    rows.push(line('ours', scenario.ours, [speed, times(scenario.ours.wallMs / scenario.floorMs)]));
    if (scenario.naive) rows.push(line('naive', scenario.naive, ['1x', times(scenario.naive.wallMs / scenario.floorMs)]));
  }
  return table(header, rows);
}

export function formatTargets(targets: TargetResult[]): string {
  return targets.map((target) => `${target.met ? 'met    ' : 'NOT MET'}  ${target.target}: ${target.measured}`).join('\n');
}

export function formatCost(report: BenchReport): string {
  const header = ['replicas', 'API calls/run', 'RRU/run', 'WRU/run unchanged', 'WRU/run 1% changed', 'WRU first sync', '$/month unchanged', '$/month 1% changed'];
  const rows = report.cost.map((row) => [
    count(row.replicas),
    count(row.apiCallsPerRun),
    count(row.readUnitsPerRun),
    count(row.writeUnitsUnchanged),
    count(row.writeUnitsOnePercent),
    count(row.writeUnitsFirstSync),
    `$${row.dollarsPerMonthUnchanged.toFixed(4)}`,
    `$${row.dollarsPerMonthOnePercent.toFixed(4)}`,
  ]);
  return table(header, rows);
}

export function formatPhases(report: BenchReport): string {
  const header = ['scenario', 'lease', 'scan', 'walk', 'plan', 'writes', 'runs (ms)'];
  const rows = report.scenarios.map((scenario) => {
    const phases = scenario.ours.phases;
    const at = (value: number | undefined): string => (value === undefined ? '' : count(value));
    return [scenario.title, at(phases?.lease), at(phases?.scan), at(phases?.walk), at(phases?.plan), at(phases?.writes), scenario.ours.wallRunsMs?.join(', ') ?? ''];
  });
  return table(header, rows);
}

/** The dated record kept in the repository: machine, table, targets, bundle, cost. */
export function markdownRecord(report: BenchReport): string {
  const { machine, config, lambda, bundle } = report;
  const fence = (text: string): string => ['```', text, '```'].join('\n');
  return [
    `# Benchmark run ${report.date}`,
    '',
    `Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGb} GB memory, Node ${machine.node}, ${machine.platform}; ` +
      `load average ${machine.loadStart} at the start, ${machine.loadEnd} at the end. The whole run took ${Math.round(report.totalSeconds)} s.`,
    '',
    `Setup: Tavus simulator capped at ${config.pageSizeCap} rows a page with ${config.latencyMs} ms per request; DynamoDB Local (in memory); ` +
      `each side in a fresh Node process (an esbuild bundle, no TypeScript loader). Wall time is measured around the sync call; ` +
      `memory is that process's \`process.resourceUsage().maxRSS\` and the highest \`heapUsed\` a 25 ms sampler saw. ` +
      `Unchanged resyncs by the engine ran ${config.resyncRuns} times: the median is shown, the memory is the highest. ` +
      `Floor: pages x ${config.latencyMs} ms / ${config.maxInFlight} in flight. Lambda timeout ${Math.round(lambda.timeoutMs / 60_000)} min (${lambda.source}).`,
    '',
    '## Ours against the naive sync',
    '',
    fence(formatTable(report)),
    '',
    'Where the engine\'s time went (ms from the start of the run at which each phase ended; the walk and the Scan run side by side):',
    '',
    fence(formatPhases(report)),
    '',
    '## Targets',
    '',
    fence(formatTargets(report.targets)),
    '',
    '## Lambda bundle',
    '',
    bundle
      ? bundle.error
        ? `Not measured: ${bundle.error}`
        : `${bundle.source}: ${kb(bundle.bytes)} minified (${kb(bundle.gzipBytes)} gzipped); import() in a fresh Node ${machine.node} process: median ${bundle.initMs} ms of ${bundle.initRunsMs.join(', ')} ms.`
      : 'Not measured in this run.',
    '',
    `## Cost (${PRICES.region} on-demand, ${lambda.schedule}: ${lambda.runsPerMonth} runs a month)`,
    '',
    fence(formatCost(report)),
    '',
  ].join('\n');
}

function table(header: string[], rows: string[][]): string {
  return textTable([header, ...rows], { rule: true }).join('\n');
}

function seconds(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 1000).toFixed(2)} s`;
}

function times(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(ratio >= 10 ? 0 : 2)}x` : 'n/a';
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KB`;
}

function round(value: number, digits: number): number {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}
