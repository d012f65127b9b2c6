import { randomBytes } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { makeReplicas, TavusSimulator } from '../local/tavus-simulator.js';
import { parseSettings } from '../functions/engine/settings/registry.js';
import { createMissingTables } from '../functions/engine/load/table-provisioning.js';
import { productionParts } from '../functions/engine/wiring.js';
import { runSync } from '../functions/engine/sync.js';
import type { RunSummary } from '../functions/engine/model/summary.js';
import { parseFlags } from './args.js';
import type { TableNames } from '../functions/engine/contract/tables.js';
import { EVENT_COLUMNS, formatTable, REPLICA_TABLE_COLUMNS } from './query/format.js';
import { readEvents, readReplica } from './query/read.js';
import { dynamoClient } from '../functions/engine/load/dynamo-client.js';
import { endProgress, formatSummary, progressReporter, stderrLog } from './output.js';
import { visibleText } from '../functions/engine/text/visible-text.js';

const HOUR_MS = 3_600_000;

/** The demo account has no Phoenix-4.5 fine-tunes, so their columns would stay empty on screen. */
const DEMO_REPLICA_COLUMNS = ['replica_id', 'replica_name', 'replica_type', 'status', 'training_progress', 'stuck_since', 'deleted_at'];

/**
 * `npm run demo`: the whole product on a laptop. A simulated Tavus account and an in-memory
 * DynamoDB Local; one sync, then the account changes (a rename, a status change, a deletion, a
 * training that stalls, a new replica) and a second sync "seven hours later" shows what the table
 * and its history make of it. The clock is simulated so the stall needs no six-hour wait.
 */
export async function demoCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, { help: { type: 'boolean', short: 'h' } }, 'demo');
  if (values.help) {
    process.stdout.write('Usage: npm run demo\n\nRuns two syncs of a simulated Tavus account into an in-memory DynamoDB Local and shows what changed. Needs Java 17+ and nothing else.\n');
    return 0;
  }
  const out = (text = ''): void => void process.stdout.write(`${text}\n`);
  const world = await startDemoWorld(out);
  try {
    let now = new Date();
    const sync = async (title: string): Promise<RunSummary> => {
      out(`\n== ${title}`);
      const summary = await runSync(
        world.settings,
        { ...world.parts, log: stderrLog((text) => text), clock: () => now, onProgress: progressReporter() },
        { walkBudgetMs: 5 * 60_000 },
      );
      endProgress();
      out(formatSummary(summary));
      return summary;
    };

    out(`Simulated Tavus API at ${world.simulator.url}: ${world.simulator.replicas.length} replicas, at most 25 per page.`);
    const first = await sync('First sync: every replica is new');
    if (first.status !== 'succeeded') return 1;
    const touched = changeAccount(world.simulator, out);
    now = new Date(now.getTime() + 7 * HOUR_MS);
    const second = await sync('Second sync, seven hours later (stuck after 6h)');
    if (second.status !== 'succeeded') return 1;

    await showTouched(world.parts.store.documents, world.settings.tables, touched, second.run_id, out);
    out('\nThe renamed replica counts as updated; the stalled one is flagged stuck (stuck_since) and');
    out('raises the StuckTrainingReplicas alarm when deployed. The deleted one keeps its item with');
    out('deleted_at set. Try it for real: TAVUS_API_KEY=... npm run sync -- --local');
    return 0;
  } finally {
    await world.stop();
  }
}

/** The simulated account, an in-memory DynamoDB Local with the tables, and the store over them. */
async function startDemoWorld(out: (text?: string) => void) {
  const apiKey = randomBytes(16).toString('hex');
  const simulator = new TavusSimulator({ apiKey, replicas: makeReplicas(240, { seed: 7 }), pageSizeCap: 25, latencyMs: 15 });
  const apiUrl = await simulator.start();
  out('Starting DynamoDB Local (embedded, in memory)...');
  const dynamo = await startDynamoDbLocal();
  const client = dynamoClient(dynamo.endpoint);
  const stop = async (): Promise<void> => {
    client.destroy();
    await dynamo.stop();
    await simulator.stop();
  };
  try {
    const settings = parseSettings({ apiUrl });
    await createMissingTables(client, settings.tables);
    return { simulator, settings, parts: productionParts({ client, settings, apiKey }), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Changes the account between the syncs, says what changed, and returns the replicas it touched. */
function changeAccount(simulator: TavusSimulator, out: (text?: string) => void): string[] {
  const [renamed, finishing, stalling, removed] = pickDemoReplicas(simulator);
  simulator.update(renamed.replica_id, { replica_name: `${renamed.replica_name} (renamed)` });
  simulator.update(finishing.replica_id, { status: 'completed', training_progress: '100/100' });
  // Every other training moves on, so exactly one replica stalls.
  const progressing = simulator.replicas.filter(
    (replica) => replica.status === 'started' && replica.replica_id !== stalling.replica_id,
  );
  for (const replica of progressing) simulator.update(replica.replica_id, { training_progress: advance(replica.training_progress) });
  simulator.remove(removed.replica_id);
  const added = makeReplicas(1, { seed: 99, idPrefix: 'rnew' })[0]!;
  simulator.add(added);
  out('\n== Meanwhile, in the Tavus account');
  out(`  renamed            ${renamed.replica_id}  "${visibleText(renamed.replica_name)}"`);
  out(`  finished training  ${finishing.replica_id}`);
  out(`  made progress      ${progressing.length} other trainings`);
  out(`  stalled training   ${stalling.replica_id}  still ${stalling.training_progress}`);
  out(`  deleted            ${removed.replica_id}`);
  out(`  created            ${added.replica_id}`);
  return [renamed, finishing, stalling, removed, added].map((replica) => replica.replica_id);
}

/** The touched replicas as `npm run query` reads them, and what the run recorded in their history. */
async function showTouched(
  documents: DynamoDBDocumentClient,
  tables: TableNames,
  ids: string[],
  runId: string,
  out: (text?: string) => void,
): Promise<void> {
  const items = (await Promise.all(ids.map((id) => readReplica(documents, tables.replicas, id)))).filter((item) => item !== undefined);
  const events = (await Promise.all(ids.map((id) => readEvents(documents, tables.events, id)))).flat().filter((event) => event.run_id === runId);
  out('\n== Those replicas in the table now (npm run query shows the same columns)');
  out(formatTable(items, REPLICA_TABLE_COLUMNS.filter((column) => DEMO_REPLICA_COLUMNS.includes(column.name))).trimEnd());
  out('\n== What the second sync recorded in their history (events table)');
  out(formatTable(events, EVENT_COLUMNS.filter((column) => column.name !== 'run_id' && column.name !== 'at')).trimEnd());
}

/** Four distinct replicas that show each kind of change: two completed, two still training. */
function pickDemoReplicas(simulator: TavusSimulator) {
  const completed = simulator.replicas.filter((replica) => replica.status === 'completed');
  const training = simulator.replicas.filter((replica) => replica.status === 'started');
  if (completed.length < 2 || training.length < 2) throw new Error('The demo account needs at least 2 completed and 2 training replicas.');
  return [completed[0]!, training[0]!, training[1]!, completed[1]!] as const;
}

/** "37/100" -> "47/100": training that moved on. */
function advance(progress: string): string {
  const [done = '0', total = '100'] = progress.split('/');
  return `${Math.min(Number(total) - 1, Number(done) + 10)}/${total}`;
}
