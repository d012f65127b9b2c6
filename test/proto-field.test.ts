/**
 * A field named `__proto__` is an ordinary field in JSON, but plain assignment would make it an
 * object's prototype (its keys then read as the row's own: a forged `status`, `replica_id` or
 * `deleted_at`) and the SDK's marshall drops it. The sync keeps it as a field under the API prefix
 * and reads nothing through it: through the faces canonical row, `apiFields`, and a real sync.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_RESOURCE_SHAPES } from '../functions/engine/extract/api-resource.js';
import { API_FIELD_PREFIX, apiFields, type ApiRow } from '../functions/engine/model/replica.js';
import type { RunSummary } from '../functions/engine/model/summary.js';
import { TavusSimulator, makeReplicas, type SimReplica } from '../local/tavus-simulator.js';
import { startSyncHarness, type SyncHarness } from './support/sync-harness.js';

const KEY = 'tvs-proto-field-key';
const FORGED = { replica_id: 'victim', status: 'error', deleted_at: '2019-01-01T00:00:00.000Z', stuck_since: '2019-01-01T00:00:00.000Z' };
const KEPT = `${API_FIELD_PREFIX}__proto__`;

/** A row as JSON.parse gives it: `__proto__` an own field, not the prototype. */
function parsed(row: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(row).replace(/^\{/, `{"__proto__":${JSON.stringify(FORGED)},`)) as Record<string, unknown>;
}

describe('a field named __proto__', () => {
  it('stays a field of the faces row under the canonical names, and forges none of them', () => {
    const raw = parsed({ face_name: 'Anna', face_type: 'user' });
    const result = API_RESOURCE_SHAPES.faces.canonicalRow(raw);
    const row = result.row as Record<string, unknown>;
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    for (const name of Object.keys(FORGED)) expect(row[name], name).toBeUndefined();
    expect(Object.keys(row)).toContain('__proto__');
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toEqual(FORGED);
  });

  it('is kept under the API prefix by apiFields, never as the fields\' prototype', () => {
    const fields = apiFields(parsed({ replica_id: 'r1', status: 'completed' }) as ApiRow);
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
    expect(fields[KEPT]).toEqual(FORGED);
    expect(fields.deleted_at).toBeUndefined();
    expect(fields.stuck_since).toBeUndefined();
    expect(fields.status).toBe('completed');
  });
});

describe('a replica whose row carries __proto__, through real syncs', () => {
  const template = makeReplicas(1, { seed: 11 })[0] as SimReplica;
  const row = parsed({ ...template, replica_id: 'proto-row', status: 'completed' }) as unknown as SimReplica;
  const sim = new TavusSimulator({ apiKey: KEY, replicas: [row, ...makeReplicas(3, { seed: 12 })] });
  let h: SyncHarness;
  let first: RunSummary;
  let second: RunSummary;

  beforeAll(async () => {
    h = await startSyncHarness('proto', sim, KEY);
    first = await h.sync(new Date('2026-12-01T08:00:00Z'));
    second = await h.sync(new Date('2026-12-01T20:00:00Z'));
  });
  afterAll(() => h?.close());

  it('stores the field under the prefix, live, not stuck, not in error, and a resync writes nothing', async () => {
    expect(first.status).toBe('succeeded');
    expect(first.rejected).toBe(0);
    const item = (await h.documents.send(new GetCommand({ TableName: h.tables.replicas, Key: { replica_id: 'proto-row' } }))).Item ?? {};
    expect(item[KEPT]).toEqual(FORGED);
    expect(item.status).toBe('completed');
    expect(item.deleted_at).toBeUndefined();
    expect(item.stuck_since).toBeUndefined();
    expect(second.written).toBe(0);
    expect(second.unchanged).toBe(4);
  });
});
