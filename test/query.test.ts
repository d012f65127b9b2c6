/**
 * `npm run query`: which DynamoDB read each filter becomes (pure), and what the command prints
 * against tables that real syncs of the simulator filled, on the shared DynamoDB Local.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, StoreError } from '../functions/engine/errors.js';
import { TavusSimulator, type SimReplica } from '../local/tavus-simulator.js';
import { runQuery } from '../cli/query-command.js';
import { parseDateBound, parseFilters, type ReplicaFilters } from '../cli/query/filters.js';
import { formatCsv, REPLICA_CSV_COLUMNS } from '../cli/query/format.js';
import { planReplicaRead, type ReadPlan } from '../cli/query/read-plan.js';
import { uniqueName } from './support/dynamodb.js';
import { startSyncHarness, type SyncHarness } from './support/sync-harness.js';

const filters = (partial: Partial<ReplicaFilters> = {}): ReplicaFilters => ({ stuck: false, lifecycle: 'live', ...partial });
const keyCondition = (plan: ReadPlan): string | undefined => (plan.operation === 'Query' ? plan.input.KeyConditionExpression : undefined);

describe('the read plan of a filter', () => {
  it('scans for live replicas when there is no filter', () => {
    const plan = planReplicaRead(filters(), 'replicas');
    expect(plan.operation).toBe('Scan');
    expect(plan.input).toEqual({
      TableName: 'replicas',
      FilterExpression: 'attribute_not_exists(#deleted_at)',
      ExpressionAttributeNames: { '#deleted_at': 'deleted_at' },
    });
  });

  it('scans with no condition at all for --all, and for deleted ones only with --deleted', () => {
    expect(planReplicaRead(filters({ lifecycle: 'all' }), 'replicas').input).toEqual({ TableName: 'replicas' });
    expect(planReplicaRead(filters({ lifecycle: 'deleted' }), 'replicas').input.FilterExpression).toBe('attribute_exists(#deleted_at)');
  });

  it('scans the sparse stuck index for --stuck, so training stalls (started) and fine-tune stalls (completed) both come back', () => {
    const plan = planReplicaRead(filters({ stuck: true }), 'replicas');
    expect(plan.operation).toBe('Scan');
    expect(plan.input).toEqual({
      TableName: 'replicas',
      IndexName: 'stuck',
      FilterExpression: 'attribute_not_exists(#deleted_at)',
      ExpressionAttributeNames: { '#deleted_at': 'deleted_at' },
    });
    expect(plan.description).toBe('a Scan of index stuck');
  });

  it('keeps the status given with --stuck in the key condition of the stuck index', () => {
    const plan = planReplicaRead(filters({ stuck: true, status: 'completed' }), 'replicas');
    expect(plan.operation).toBe('Query');
    expect(plan.input).toMatchObject({ IndexName: 'stuck', KeyConditionExpression: '#status = :status', ExpressionAttributeValues: { ':status': 'completed' } });
  });

  it('filters the created range of stuck replicas, since the stuck index sorts by stuck_since', () => {
    const scan = planReplicaRead(filters({ stuck: true, createdAfter: '2024-05-01' }), 'replicas');
    expect(scan.input.FilterExpression).toBe('#created_at >= :after AND attribute_not_exists(#deleted_at)');
    const query = planReplicaRead(filters({ stuck: true, status: 'started', createdAfter: '2024-05-01' }), 'replicas');
    expect(keyCondition(query)).toBe('#status = :status');
    expect(query.input.FilterExpression).toBe('#created_at >= :after AND attribute_not_exists(#deleted_at)');
  });

  it('queries by-status for --status, with one created bound in the key condition', () => {
    const after = planReplicaRead(filters({ status: 'error', createdAfter: '2024-05-01' }), 'replicas');
    expect(after.operation).toBe('Query');
    expect(after.input).toMatchObject({
      IndexName: 'by-status',
      KeyConditionExpression: '#status = :status AND #created_at >= :after',
      FilterExpression: 'attribute_not_exists(#deleted_at)',
      ExpressionAttributeValues: { ':status': 'error', ':after': '2024-05-01' },
    });
    const before = planReplicaRead(filters({ status: 'error', createdBefore: '2024-06-01' }), 'replicas');
    expect(keyCondition(before)).toBe('#status = :status AND #created_at < :before');
  });

  it('uses BETWEEN for both created bounds and drops an item created exactly at the exclusive upper bound', () => {
    const plan = planReplicaRead(filters({ status: 'error', createdAfter: '2024-05-01', createdBefore: '2024-06-01T00:00:00.000Z' }), 'replicas');
    expect(keyCondition(plan)).toBe('#status = :status AND #created_at BETWEEN :after AND :before');
    expect(plan.keep({ created_at: '2024-06-01T00:00:00.000Z' })).toBe(false);
    expect(plan.keep({ created_at: '2024-05-31T23:59:59.999Z' })).toBe(true);
  });

  it('puts the created range and the type in the Scan filter when there is no status', () => {
    const plan = planReplicaRead(filters({ type: 'system', createdAfter: '2024-05-01', createdBefore: '2024-06-01' }), 'replicas');
    expect(plan.operation).toBe('Scan');
    expect(plan.input).toMatchObject({
      FilterExpression: '#created_at >= :after AND #created_at < :before AND #replica_type = :type AND attribute_not_exists(#deleted_at)',
      ExpressionAttributeValues: { ':after': '2024-05-01', ':before': '2024-06-01', ':type': 'system' },
    });
    expect(plan.keep({ created_at: '2024-06-01' })).toBe(true); // the Scan filter already excluded it
  });

  it('matches the name after the read, ignoring case, since DynamoDB contains() cannot', () => {
    const plan = planReplicaRead(filters({ name: 'studio' }), 'replicas');
    expect(JSON.stringify(plan.input)).not.toContain('studio');
    expect(plan.keep({ replica_name: 'Anna - STUDIO' })).toBe(true);
    expect(plan.keep({ replica_name: 'Anna - Office' })).toBe(false);
    expect(plan.keep({})).toBe(false);
  });
});

describe('filter flags', () => {
  const rejects = (values: Parameters<typeof parseFilters>[0], pattern: RegExp): void => {
    let thrown: unknown;
    try {
      parseFilters(values);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as Error).message).toMatch(pattern);
    expect((thrown as Error).message.trim().split(/[.!?]\s/)).toHaveLength(1);
  };

  it('rejects a date that is not a date, naming the flag and the forms it takes', () => {
    rejects({ 'created-after': 'last tuesday' }, /^--created-after must be a date like 2024-05-01 or a time like 2024-05-01T09:30:00Z.*"last tuesday"/);
    rejects({ 'created-before': '2024-02-30' }, /^--created-before must be a date/);
    rejects({ 'created-before': '2024-05-01T25:00Z' }, /^--created-before must be a date/);
  });

  it('rejects a range that cannot match anything', () => {
    rejects({ 'created-after': '2024-06-01', 'created-before': '2024-05-01' }, /is not earlier than --created-before/);
  });

  it('rejects --deleted together with --all, an unknown type and an empty name', () => {
    rejects({ deleted: true, all: true }, /pass one of them/);
    rejects({ type: 'stock' }, /--type must be user or system/);
    rejects({ name: '  ' }, /--name needs some text/);
  });

  it('keeps a bare date as a date prefix and turns a time into UTC ISO text', () => {
    expect(parseDateBound('2024-05-01', '--created-after')).toBe('2024-05-01');
    expect(parseDateBound('2024-05-01T09:30', '--created-after')).toBe('2024-05-01T09:30:00.000Z');
    expect(parseDateBound('2024-05-01T09:30:00+02:00', '--created-after')).toBe('2024-05-01T07:30:00.000Z');
  });
});

describe('CSV', () => {
  it('quotes fields with commas, quotes and line breaks as RFC 4180 says, with CRLF line ends', () => {
    const csv = formatCsv([{ replica_id: 'r1', replica_name: 'Smith, "Jo"\nStudio', training_progress_pct: 37.5 }], REPLICA_CSV_COLUMNS.slice(0, 2).concat({ name: 'training_progress_pct' }));
    expect(csv).toBe('replica_id,replica_name,training_progress_pct\r\nr1,"Smith, ""Jo""\nStudio",37.5\r\n');
  });
});

// ---------------------------------------------------------------------------------------------
// Against tables real syncs filled
// ---------------------------------------------------------------------------------------------

const KEY = 'query-test-key-5b1f0c9e';
const T0 = new Date('2025-01-06T09:00:00.000Z');
const HOUR = 3_600_000;

function replica(id: string, name: string, status: string, progress: string, createdAt: string, type = 'user'): SimReplica {
  return {
    replica_id: id,
    replica_name: name,
    status,
    training_progress: progress,
    created_at: createdAt,
    updated_at: createdAt,
    replica_type: type,
    model_name: 'phoenix-3',
    error_message: status === 'error' ? 'Training failed: no face was detected in the training video.' : null,
    thumbnail_video_url: null,
  };
}

/** Oldest first, as the command lists them. */
const ACCOUNT: SimReplica[] = [
  replica('rq0000f', 'Anna - Studio (Stock)', 'completed', '100/100', '2023-06-01T00:00:00.000Z', 'system'),
  replica('rq0000a', 'Anna - Office', 'completed', '100/100', '2024-01-10T08:00:00.000Z'),
  replica('rq0000b', 'Smith, "Jo" - Studio', 'completed', '100/100', '2024-02-01T12:00:00.000Z'),
  replica('rq0000c', 'Carmen - Podcast', 'started', '5/100', '2024-02-15T12:00:00.000Z'),
  replica('rq0000d', 'Dev - Kitchen', 'error', '40/100', '2024-03-01T00:00:00.000Z'),
  replica('rq0000e', 'Elif - Library', 'error', '12/100', '2024-03-01T10:00:00.000Z'),
  replica('rq0000g', 'Grace - Outdoor', 'started', '50/100', '2024-03-20T09:00:00.000Z'),
  replica('rq0000j', 'Jonas - Studio', 'completed', '100/100', '2024-04-10T09:00:00.000Z'),
];
const LIVE = ['rq0000f', 'rq0000a', 'rq0000b', 'rq0000c', 'rq0000d', 'rq0000e', 'rq0000g'];

describe('npm run query against synced tables', () => {
  const endpoint = inject('dynamodbEndpoint');
  const sim = new TavusSimulator({ apiKey: KEY, replicas: ACCOUNT, pageSizeCap: 3 });
  let harness: SyncHarness;

  /**
   * Two syncs seven hours apart (stuck after 6h): in between Carmen's training stalls, Grace's
   * moves on, and Jonas is deleted upstream.
   */
  beforeAll(async () => {
    harness = await startSyncHarness('q', sim, KEY);
    await harness.sync(T0);
    sim.update('rq0000g', { training_progress: '60/100' });
    sim.remove('rq0000j');
    await harness.sync(new Date(T0.getTime() + 7 * HOUR));
  });

  afterAll(async () => {
    await harness?.close();
  });

  const query = (args: string[], terminal = false) => harness.query(args, { isTerminal: terminal });

  /** The replica ids a JSON-lines answer lists, in order. */
  async function ids(args: string[]): Promise<string[]> {
    const { code, out } = await query([...args, '--format', 'json']);
    expect(code).toBe(0);
    return out.trim() === '' ? [] : out.trim().split('\n').map((line) => (JSON.parse(line) as { replica_id: string }).replica_id);
  }

  it('lists the live replicas, oldest first, when given no filter', async () => {
    expect(await ids([])).toEqual(LIVE);
  });

  it('lists deleted replicas only with --deleted, and live and deleted ones with --all', async () => {
    expect(await ids(['--deleted'])).toEqual(['rq0000j']);
    expect(await ids(['--all'])).toEqual([...LIVE, 'rq0000j']);
  });

  it('lists exactly the stuck replicas with --stuck, through the stuck index', async () => {
    expect(await ids(['--stuck'])).toEqual(['rq0000c']);
    expect((await query(['--stuck'])).err).toContain('read with a Scan of index stuck');
    expect(await ids(['--stuck', '--status', 'started'])).toEqual(['rq0000c']);
    expect((await query(['--stuck', '--status', 'started'])).err).toContain('read with a Query of index stuck');
    expect(await ids(['--stuck', '--type', 'system'])).toEqual([]);
  });

  it('lists one status with --status, through the by-status index', async () => {
    expect(await ids(['--status', 'error'])).toEqual(['rq0000d', 'rq0000e']);
    expect(await ids(['--status', 'completed'])).toEqual(['rq0000f', 'rq0000a', 'rq0000b']);
    expect(await ids(['--status', 'completed', '--all'])).toEqual(['rq0000f', 'rq0000a', 'rq0000b', 'rq0000j']);
    expect(await ids(['--status', 'training'])).toEqual([]);
    expect((await query(['--status', 'error'])).err).toContain('read with a Query of index by-status');
  });

  it('lists one replica type with --type', async () => {
    expect(await ids(['--type', 'system'])).toEqual(['rq0000f']);
    expect(await ids(['--type', 'user'])).toEqual(LIVE.slice(1));
  });

  it('bounds created_at with --created-after (inclusive) and --created-before (exclusive)', async () => {
    expect(await ids(['--created-after', '2024-03-01'])).toEqual(['rq0000d', 'rq0000e', 'rq0000g']);
    expect(await ids(['--created-after', '2024-03-01', '--all'])).toEqual(['rq0000d', 'rq0000e', 'rq0000g', 'rq0000j']);
    expect(await ids(['--created-before', '2024-02-01'])).toEqual(['rq0000f', 'rq0000a']);
    expect(await ids(['--created-after', '2024-02-01', '--created-before', '2024-03-01T10:00:00Z'])).toEqual(['rq0000b', 'rq0000c', 'rq0000d']);
    expect((await query(['--created-after', '2024-03-01'])).err).toContain('read with a Scan');
  });

  it('combines a status with a created range in the key condition, excluding the upper bound itself', async () => {
    expect(await ids(['--status', 'error', '--created-after', '2024-03-01T00:00:01Z'])).toEqual(['rq0000e']);
    expect(await ids(['--status', 'error', '--created-after', '2024-02-01', '--created-before', '2024-03-01T10:00:00Z'])).toEqual(['rq0000d']);
    expect(await ids(['--status', 'error', '--created-before', '2024-03-01T00:00:00Z'])).toEqual([]);
  });

  it('matches --name as a case-insensitive substring, combined with the other filters', async () => {
    expect(await ids(['--name', 'SMITH'])).toEqual(['rq0000b']);
    expect(await ids(['--name', 'studio'])).toEqual(['rq0000f', 'rq0000b']);
    expect(await ids(['--name', 'studio', '--all', '--type', 'user'])).toEqual(['rq0000b', 'rq0000j']);
    expect(await ids(['--name', 'anna', '--status', 'completed', '--created-after', '2024-01-01'])).toEqual(['rq0000a']);
  });

  it('prints each stored item as one JSON line with --format json', async () => {
    const { out } = await query(['--stuck', '--format', 'json']);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const item = JSON.parse(lines[0]!) as Record<string, unknown>;
    const { thumbnail_video_url: _thumbnail, error_message: _error, ...fields } = ACCOUNT[3]!;
    expect(item).toMatchObject({
      ...fields,
      training_progress_pct: 5,
      first_seen_at: T0.toISOString(),
      progress_changed_at: T0.toISOString(),
      stuck_since: T0.toISOString(),
      version: 2,
    });
    expect(item).not.toHaveProperty('thumbnail_video_url'); // stored nulls are left out
    expect(typeof item.content_hash).toBe('string');
    // A stable order, whatever order DynamoDB returns: the API's fields, then the sync's own.
    expect(Object.keys(item)).toEqual([
      'replica_id', 'replica_name', 'training_progress', 'status', 'created_at', 'updated_at', 'replica_type', 'model_name',
      'first_seen_at', 'last_changed_at', 'status_changed_at', 'progress_changed_at', 'stuck_since', 'stuck_reason', 'training_progress_pct', 'content_hash', 'version',
    ]);
  });

  it('prints CSV with a header and the RFC 4180 quoting of a name with a comma and quotes', async () => {
    const { out } = await query(['--name', 'smith', '--format', 'csv']);
    const lines = out.split('\r\n');
    expect(lines[0]).toBe(
      'replica_id,replica_name,replica_type,status,training_progress,created_at,stuck_since,deleted_at,training_progress_pct,updated_at,status_changed_at,model_name,error_message,finetune_status,finetune_status_changed_at,stuck_reason',
    );
    expect(lines[1]).toBe(
      'rq0000b,"Smith, ""Jo"" - Studio",user,completed,100/100,2024-02-01T12:00:00.000Z,,,100,2024-02-01T12:00:00.000Z,2025-01-06T09:00:00.000Z,phoenix-3,,,,',
    );
    expect(lines.slice(2)).toEqual(['']);
  });

  it('prints a table on a terminal and CSV when piped, unless --format says otherwise', async () => {
    const onTerminal = await query(['--stuck'], true);
    const [header, rule, row, ...rest] = onTerminal.out.split('\n');
    expect(header).toMatch(/^replica_id\s+replica_name\s+replica_type\s+status\s+training_progress\s+finetune_status\s+created_at\s+stuck_since\s+stuck_reason\s+deleted_at$/);
    expect(rule).toMatch(/^-+( +-+)+$/);
    expect(row).toMatch(/^rq0000c\s+Carmen - Podcast\s+user\s+started\s+5\/100\s+2024-02-15 12:00\s+2025-01-06 09:00\s+training$/);
    expect(rest).toEqual(['']);
    expect((await query(['--stuck'])).out).toMatch(/^replica_id,replica_name,/);
    expect((await query(['--stuck', '--format', 'table'])).out).toBe(onTerminal.out);
  });

  it('says how many replicas it found and how it read them on stderr, keeping stdout for the rows', async () => {
    const { out, err } = await query(['--deleted', '--format', 'csv']);
    expect(err).toBe(`1 replica from ${harness.tables.replicas} on ${endpoint}, read with a Scan.\n`);
    expect(out.split('\r\n')).toHaveLength(3);
  });

  it('answers bad input with one sentence (exit 2 through the CLI) before touching DynamoDB', async () => {
    const bad = async (args: string[]): Promise<string> => {
      const error = await runQuery(args, { DYNAMODB_ENDPOINT: 'http://127.0.0.1:9' }, { out: () => {}, err: () => {}, isTerminal: false }).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(InputError);
      return (error as Error).message;
    };
    expect(await bad(['--created-after', '2024-13-01'])).toMatch(/^--created-after must be a date/);
    expect(await bad(['--format', 'xml'])).toBe('--format must be table, csv or json, not "xml".');
    expect(await bad(['--colour'])).toMatch(/^Unknown flag --colour/);
    expect(await bad(['--status'])).toMatch(/^--status needs a value/);
    expect(await bad(['stuck'])).toMatch(/^Unexpected argument "stuck"/);
    expect(await bad(['history', 'r1', '--status', 'error'])).toMatch(/^--status filters the list of replicas, not history: leave it out\.$/);
    expect(await bad(['--html', 'x.html'])).toMatch(/^--html belongs to the report/);
    expect(await bad(['--table', 'x'])).toMatch(/^--table must be a DynamoDB table name/);
  });

  it('needs no API key and ignores sync-only settings in the environment', async () => {
    const code = await runQuery(['--endpoint', endpoint, '--table', harness.tables.replicas, '--events-table', harness.tables.events], {
      MAX_DELETE_FRACTION: 'lots',
      STUCK_TRAINING_AFTER: 'soon',
    }, { out: () => {}, err: () => {}, isTerminal: false });
    expect(code).toBe(0);
  });

  it('says the table does not exist, naming it and the sync that would make it (exit 1), and creates nothing', async () => {
    const result = await query(['--table', uniqueName('missing')]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^The table "missing-[0-9a-f]+" does not exist on http:\/\/127\.0\.0\.1:\d+: run a sync into it first \(npm run sync -- --endpoint .* --create-tables[^)]* --table missing-[0-9a-f]+[^)]*\), or name an existing table with --table\.\n$/);
  });

  it('says which index is missing when a table predates it', async () => {
    const old = uniqueName('q-old');
    await harness.client.send(
      new CreateTableCommand({
        TableName: old,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'replica_id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'replica_id', KeyType: 'HASH' }],
      }),
    );
    const error = await query(['--stuck', '--table', old]).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toBe(
      `The table "${old}" has no index stuck: deploy the current stack (npx cdk deploy) to add it, or run without the filter that needs it.`,
    );
  });

  it('ends quietly with exit 0 when the reader closes the pipe first, as npm run query | head does', async () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
    const args = [path.join(root, 'bin', 'replica-sync.ts'), 'query', '--endpoint', endpoint, '--table', harness.tables.replicas, '--all', '--format', 'json'];
    const child = spawn(path.join(root, 'node_modules', '.bin', 'tsx'), args, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy(); // the reader is gone before the first row is written
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    expect(stderr).toBe(`${ACCOUNT.length} replicas from ${harness.tables.replicas} on ${endpoint}, read with a Scan.\n`);
    expect(code).toBe(0);
  });
});
