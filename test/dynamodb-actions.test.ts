/**
 * Least privilege that means it: the DynamoDB actions the deployed role grants each table
 * (functions/engine/contract/dynamodb-actions.ts, granted as declared by lib/sync-function.ts, which
 * test/stack.test.ts checks in the template) are exactly the actions real syncs send. Every
 * request the engine sends to DynamoDB Local is recorded as IAM sees it, through every kind of
 * run: a first sync, a changed resync, deletions, a restore and a run skipped on a held lease.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DYNAMODB_ACTIONS, type TableRole } from '../functions/engine/contract/dynamodb-actions.js';
import { runSync } from '../functions/engine/sync.js';
import { productionParts } from '../functions/engine/wiring.js';
import { makeReplicas, TavusSimulator } from '../local/tavus-simulator.js';
import { actionsOf, recordDynamoDbActions, type ActionRecorder } from './support/dynamodb-action-recorder.js';
import { startSyncHarness, type SyncHarness } from './support/sync-harness.js';
import { QUIET_LOG } from './support/quiet-log.js';

const KEY = 'actions-test-key-6b1f0e93';
const T0 = new Date('2025-03-03T09:00:00.000Z');
const HOUR = 3_600_000;
const replicas = makeReplicas(30, { seed: 23 });

/** "role action" for each declared grant. */
const declared = (Object.entries(DYNAMODB_ACTIONS) as Array<[TableRole, readonly string[]]>).flatMap(([role, actions]) =>
  actions.map((action) => `${role} ${action}`),
);

describe('the DynamoDB actions the engine sends', () => {
  const sim = new TavusSimulator({ apiKey: KEY, replicas, pageSizeCap: 7 });
  let harness: SyncHarness;
  let recorder: ActionRecorder;
  const statuses: string[] = [];

  beforeAll(async () => {
    harness = await startSyncHarness('iam', sim, KEY);
    recorder = recordDynamoDbActions(harness.client);
    const sync = async (hours: number) => statuses.push((await harness.sync(new Date(T0.getTime() + hours * HOUR))).status);

    recorder.start();
    await sync(0); // first sync: every replica and its event created
    await sync(1); // unchanged resync: reads only
    sim.update(replicas[0]!.replica_id, { status: 'error', error_message: 'Training failed.' });
    sim.update(replicas[1]!.replica_id, { training_progress: '55/100' });
    await sync(2); // changed resync
    sim.remove(replicas[2]!.replica_id);
    sim.remove(replicas[3]!.replica_id);
    await sync(3); // deletions confirmed and marked
    sim.add(replicas[2]!);
    await sync(4); // a deleted replica restored

    // Another run holds the lease (taken outside the recording): this run is skipped.
    recorder.stop();
    const parts = productionParts({ client: harness.client, settings: harness.settings, apiKey: KEY });
    expect(await parts.ledger.acquireLease('another-run', new Date(), 10 * 60_000)).toEqual({ acquired: true });
    recorder.start();
    const skipped = await runSync(harness.settings, { ...parts, log: QUIET_LOG }, { walkBudgetMs: 30_000 });
    statuses.push(skipped.status);
    recorder.stop();
  });

  afterAll(async () => {
    await harness?.close();
  });

  /** What was recorded, as "role action"; a table that is none of the three names itself. */
  const sent = (): string[] => {
    const roleOf = new Map(Object.entries(harness.tables).map(([role, name]) => [name, role]));
    return [...new Set(recorder.seen.map(({ action, resource }) => `${roleOf.get(resource) ?? resource} ${action}`))].sort();
  };

  it('went through every kind of run: created, unchanged, changed, deleted, restored, skipped', () => {
    expect(statuses).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'skipped']);
  });

  it('sends nothing the role does not grant (each table, each action, no index)', () => {
    const undeclared = sent().filter((grant) => !declared.includes(grant));
    expect(
      undeclared,
      `The engine sent ${undeclared.join(', ')}, which functions/engine/contract/dynamodb-actions.ts does not declare: the deployed role would refuse it. Declare it there if the engine really needs it.`,
    ).toEqual([]);
  });

  it('is granted nothing it never sends', () => {
    const unused = declared.filter((grant) => !sent().includes(grant));
    expect(unused, `functions/engine/contract/dynamodb-actions.ts declares ${unused.join(', ')}, which no sync sent: remove it from the list.`).toEqual([]);
  });
});

describe('the recorder', () => {
  it('records a transaction item by item, batches per table, and an index read on the index', () => {
    expect(
      actionsOf('TransactWriteItems', {
        TransactItems: [{ Put: { TableName: 'r' } }, { Update: { TableName: 'r' } }, { ConditionCheck: { TableName: 'e' } }, { Delete: { TableName: 'e' } }],
      }),
    ).toEqual([
      { action: 'dynamodb:PutItem', resource: 'r' },
      { action: 'dynamodb:UpdateItem', resource: 'r' },
      { action: 'dynamodb:ConditionCheckItem', resource: 'e' },
      { action: 'dynamodb:DeleteItem', resource: 'e' },
    ]);
    expect(actionsOf('BatchWriteItem', { RequestItems: { r: [], e: [] } })).toEqual([
      { action: 'dynamodb:BatchWriteItem', resource: 'r' },
      { action: 'dynamodb:BatchWriteItem', resource: 'e' },
    ]);
    expect(actionsOf('Query', { TableName: 'r', IndexName: 'by-status' })).toEqual([{ action: 'dynamodb:Query', resource: 'r/index/by-status' }]);
  });
});
