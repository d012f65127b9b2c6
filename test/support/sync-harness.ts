/**
 * Tables filled by real syncs of a simulated account, and `npm run query` pointed at them: the
 * setup the query, history and report tests share. Each gets its own tables on the run-wide
 * DynamoDB Local.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { expect, inject } from 'vitest';
import { runQuery } from '../../cli/query-command.js';
import { parseSettings, type SyncSettings } from '../../functions/engine/settings/registry.js';
import { documentClient } from '../../functions/engine/load/dynamo-client.js';
import { runSync } from '../../functions/engine/sync.js';
import type { RunSummary } from '../../functions/engine/model/summary.js';
import { productionParts } from '../../functions/engine/wiring.js';
import type { TableNames } from '../../functions/engine/contract/tables.js';
import type { TavusSimulator } from '../../local/tavus-simulator.js';
import { testDynamoClient } from './dynamodb.js';
import { createFreshTables } from './tables.js';
import { QUIET_LOG } from './quiet-log.js';

export interface SyncHarness {
  client: DynamoDBClient;
  documents: DynamoDBDocumentClient;
  tables: TableNames;
  settings: SyncSettings;
  /** One sync with the clock at `at`; a run that reports an error fails the test. */
  sync(at: Date): Promise<RunSummary>;
  /**
   * `npm run query` with `args`, after the flags that name these tables (so a flag in `args`
   * overrides them), its output captured; a thrown InputError or StoreError passes through.
   */
  query(args: string[], io?: { isTerminal?: boolean; now?: () => Date }): Promise<{ code: number; out: string; err: string }>;
  /** Stops the simulator and closes the DynamoDB client. */
  close(): Promise<void>;
}

/** Starts the simulator and creates three fresh tables named after `prefix` (e.g. q-replicas-...). */
export async function startSyncHarness(prefix: string, sim: TavusSimulator, apiKey: string): Promise<SyncHarness> {
  const client = testDynamoClient();
  await sim.start();
  const tables = await createFreshTables(client, prefix);
  const settings = parseSettings({ apiUrl: sim.url, table: tables.replicas, runsTable: tables.runs, eventsTable: tables.events });
  return {
    client,
    documents: documentClient(client),
    tables,
    settings,
    async sync(at) {
      const summary = await runSync(settings, { ...productionParts({ client, settings, apiKey }), log: QUIET_LOG, clock: () => at }, { walkBudgetMs: 30_000 });
      expect(summary.error, summary.error).toBeUndefined();
      return summary;
    },
    async query(args, io = {}) {
      let out = '';
      let err = '';
      const where = ['--endpoint', inject('dynamodbEndpoint'), '--table', tables.replicas, '--runs-table', tables.runs, '--events-table', tables.events];
      const code = await runQuery([...where, ...args], {}, {
        out: (text) => void (out += text),
        err: (text) => void (err += text),
        isTerminal: io.isTerminal ?? false,
        now: io.now,
      });
      return { code, out, err };
    },
    async close() {
      await sim.stop();
      client.destroy();
    },
  };
}
