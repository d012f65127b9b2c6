/**
 * The validator agrees with DynamoDB itself: every bad write below (each limit, just past its
 * boundary, also nested in maps and lists) is refused by DynamoDB Local (or by the SDK's marshall
 * before it) AND flagged by checkReplicaWrite with the right limit; every near-boundary good write
 * is accepted by both. Writes go as the engine sends them: the item and its events in one
 * TransactWriteItems through a DocumentClient with the engine's marshall options.
 */
import { NumberValue } from '@aws-sdk/lib-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_ITEM_BYTES,
  checkReplicaWrite,
  itemSize,
  type ItemLimit,
  type ReplicaWriteShape,
} from '../functions/engine/plan/item-limits.js';
import { MAX_TRANSACTION_BYTES } from '../functions/engine/model/write.js';
import type { TableNames } from '../functions/engine/contract/tables.js';
import { testDynamoClient } from './support/dynamodb.js';
import { createFreshTables } from './support/tables.js';

let client: DynamoDBClient;
let documents: DynamoDBDocumentClient;
let tables: TableNames;

beforeAll(async () => {
  client = testDynamoClient();
  documents = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
  tables = await createFreshTables(client, 'limits');
});

afterAll(() => client.destroy());

let serial = 0;
const AT = '2026-11-29T12:00:00.000Z';

/** A replica item shaped like the ones plan.ts writes: API fields plus the sync's own. */
function replicaItem(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    replica_id: id,
    replica_name: 'Anna',
    status: 'started',
    created_at: '2026-11-01T00:00:00.000Z',
    training_progress: '10/100',
    replica_type: 'user',
    first_seen_at: AT,
    last_changed_at: AT,
    status_changed_at: AT,
    progress_changed_at: AT,
    content_hash: 'AbCdEfGhIjKlMnOpQrStUv',
    version: 1,
    training_progress_pct: 10,
    ...extra,
  };
}

function event(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { replica_id: id, event_key: '0000000001#created', at: AT, type: 'created', from: null, to: 'started', run_id: 'run-1', ...extra };
}

interface Case {
  name: string;
  /** Builds the write for a fresh replica id. */
  write: (id: string) => ReplicaWriteShape;
  /** The limit it breaks; undefined for a write DynamoDB accepts. */
  limit?: ItemLimit;
}

const withItem = (extra: Record<string, unknown>) => (id: string): ReplicaWriteShape => ({
  replicaId: id,
  item: replicaItem(id, extra),
  events: [event(id)],
});

/** A pair at a boundary: the good value is accepted by both, the bad one refused by both. */
function pair(name: string, limit: ItemLimit, good: Record<string, unknown>, bad: Record<string, unknown>): Case[] {
  return [
    { name: `${name}: at the limit`, write: withItem(good) },
    { name: `${name}: past the limit`, write: withItem(bad), limit },
  ];
}

/** `levels` maps (or lists) inside one another, holding `leaf`. */
function nested(levels: number, leaf: unknown, kind: 'map' | 'list' | 'mixed' = 'map'): unknown {
  let value = leaf;
  for (let level = 0; level < levels; level += 1) {
    const asList = kind === 'list' || (kind === 'mixed' && level % 2 === 1);
    value = asList ? [value] : { k: value };
  }
  return value;
}

/** Pads `write`'s replica item with a top-level string so its DynamoDB size is exactly `size`. */
function paddedTo(size: number, shape: Record<string, unknown>, id: string): Record<string, unknown> {
  const item = replicaItem(id, { ...shape, pad: '' });
  const missing = size - itemSize(item);
  if (missing < 0) throw new Error(`the shape alone is ${-missing} bytes over ${size}`);
  item.pad = 'x'.repeat(missing);
  return item;
}

/** A small seeded generator, so a failing shape can be reproduced. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** An API-like value of any JSON shape, with numbers of every sign and scale and non-ASCII text. */
function jsonShape(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 3 ? 6 : 8));
  switch (pick) {
    case 0:
      return ['é', 'ok', '日本', '😀x', ''][Math.floor(next() * 5)];
    case 1:
      return Math.round((next() - 0.5) * 10 ** Math.floor(next() * 15));
    case 2:
      return (next() - 0.5) * 10 ** (Math.floor(next() * 35) - 20);
    case 3:
      return next() < 0.5;
    case 4:
      return null;
    case 5:
      return Number((next() * 1000).toFixed(Math.floor(next() * 6)));
    case 6:
      return Array.from({ length: Math.floor(next() * 4) }, () => jsonShape(next, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: Math.floor(next() * 4) }, (_, index) => [`${['k', 'ñ', 'key_'][index % 3]}${index}`, jsonShape(next, depth + 1)]),
      );
  }
}

/** A number of any sign, scale and length DynamoDB stores, as JS, bigint or decimal text. */
function anyNumber(next: () => number): unknown {
  const digits = Array.from({ length: 1 + Math.floor(next() * 38) }, () => Math.floor(next() * 10)).join('');
  const sign = next() < 0.3 ? '-' : '';
  switch (Math.floor(next() * 4)) {
    case 0:
      return Number(`${sign}${digits.slice(0, 15)}e${Math.floor(next() * 30) - 40}`);
    case 1:
      return BigInt(`${sign}${digits}`);
    case 2:
      return NumberValue.from(`${sign}${digits.slice(0, 5)}.${digits.slice(5)}e${Math.floor(next() * 200) - 100}`);
    default:
      return Math.round((next() - 0.5) * 2 ** Math.floor(next() * 53));
  }
}

const multibyte = (bytes: number): string => 'é'.repeat(bytes / 2);

const cases: Case[] = [
  // Item size, exact: generated shapes (nested maps and lists, numbers of every kind, non-ASCII
  // text) padded to exactly 400 KB and one byte more.
  ...Array.from({ length: 12 }, (_, index): Case[] => {
    const next = random(index + 1);
    const shape = { details: jsonShape(next, 0), more: jsonShape(next, 0), numbers: Array.from({ length: 40 }, () => anyNumber(next)) };
    return [
      { name: `generated shape ${index} at 409,600 bytes`, write: (id) => ({ replicaId: id, item: paddedTo(MAX_ITEM_BYTES, shape, id), events: [] }) },
      {
        name: `generated shape ${index} at 409,601 bytes`,
        write: (id) => ({ replicaId: id, item: paddedTo(MAX_ITEM_BYTES + 1, shape, id), events: [] }),
        limit: 'item-size' as const,
      },
    ];
  }).flat(),
  {
    name: 'an event at 409,600 bytes',
    write: (id) => ({ replicaId: id, item: replicaItem(id), events: [eventOfSize(id, MAX_ITEM_BYTES)] }),
  },
  {
    name: 'an event (progress snapshot) at 409,601 bytes',
    write: (id) => ({ replicaId: id, item: replicaItem(id), events: [eventOfSize(id, MAX_ITEM_BYTES + 1)] }),
    limit: 'item-size',
  },
  // The transaction: the item and its events together, at 4 MB and one byte more.
  { name: 'a transaction of exactly 4 MB', write: (id) => transactionOfSize(id, MAX_TRANSACTION_BYTES) },
  { name: 'a transaction one byte over 4 MB', write: (id) => transactionOfSize(id, MAX_TRANSACTION_BYTES + 1), limit: 'transaction-size' },

  // Numbers: range, precision, and what the SDK's marshall refuses before sending.
  ...pair('smallest positive number', 'number-range', { n: 1e-130 }, { n: 9.9e-131 }),
  ...pair('smallest negative number, in a map', 'number-range', { m: { n: -1e-130 } }, { m: { n: -9.9e-131 } }),
  ...pair('smallest number, in a list', 'number-range', { l: ['a', 1e-130] }, { l: ['a', 1e-131] }),
  ...pair('largest number', 'number-range', { n: NumberValue.from('9.9999999999999999999999999999999999999E+125') }, { n: NumberValue.from('1E+126') }),
  ...pair('largest negative bigint', 'number-range', { n: -(10n ** 125n) }, { n: -(10n ** 126n) }),
  ...pair('38 significant digits', 'number-precision', { n: 12345678901234567890123456789012345678n }, { n: 123456789012345678901234567890123456789n }),
  ...pair(
    'precision of a fraction, nested',
    'number-precision',
    { m: { l: [NumberValue.from('0.00012345678901234567890123456789012345678')] } },
    { m: { l: [NumberValue.from('0.000123456789012345678901234567890123456789')] } },
  ),
  { name: 'trailing zeros do not count as digits', write: withItem({ n: 1234567890123456789012345678901234567800000n }) },
  ...pair('largest safe integer', 'number-unsafe-integer', { n: Number.MAX_SAFE_INTEGER }, { n: Number.MAX_SAFE_INTEGER + 1 }),
  ...pair('smallest safe integer, in a list', 'number-unsafe-integer', { l: [Number.MIN_SAFE_INTEGER] }, { l: [Number.MIN_SAFE_INTEGER - 1] }),
  { name: 'a huge float', write: withItem({ m: { n: 1e300 } }), limit: 'number-unsafe-integer' },
  { name: 'NaN', write: withItem({ n: Number.NaN }), limit: 'number-not-finite' },
  { name: 'Infinity in a map', write: withItem({ m: { n: Number.POSITIVE_INFINITY } }), limit: 'number-not-finite' },
  { name: '-Infinity in a list', write: withItem({ l: [Number.NEGATIVE_INFINITY] }), limit: 'number-not-finite' },
  { name: 'a number DynamoDB reads: "1."', write: withItem({ n: NumberValue.from('1.') }) },
  { name: 'a number DynamoDB reads: ".5e3"', write: withItem({ n: NumberValue.from('.5e3') }) },
  { name: 'a number DynamoDB cannot read: "1e"', write: withItem({ n: NumberValue.from('1e') }), limit: 'number-format' },
  { name: 'a number DynamoDB cannot read: " 1"', write: withItem({ n: NumberValue.from(' 1') }), limit: 'number-format' },

  // The table's key and the indexes' keys.
  ...pair('replica_id size', 'key-size', { replica_id: 'r'.repeat(2048) }, { replica_id: 'r'.repeat(2049) }),
  ...pair('replica_id size in UTF-8 bytes', 'key-size', { replica_id: multibyte(2048) }, { replica_id: multibyte(2050) }),
  { name: 'an empty replica_id', write: withItem({ replica_id: '' }), limit: 'key-empty' },
  { name: 'a numeric replica_id', write: withItem({ replica_id: 42 }), limit: 'key-type' },
  { name: 'no replica_id', write: withItem({ replica_id: undefined }), limit: 'key-missing' },
  ...pair('status, the indexes partition key', 'key-size', { status: 's'.repeat(2048) }, { status: 's'.repeat(2049) }),
  ...pair('created_at, the by-status sort key', 'key-size', { created_at: 'c'.repeat(1024) }, { created_at: 'c'.repeat(1025) }),
  ...pair('stuck_since, the stuck sort key', 'key-size', { stuck_since: multibyte(1024) }, { stuck_since: multibyte(1026) }),
  { name: 'an empty status', write: withItem({ status: '' }), limit: 'key-empty' },
  { name: 'a numeric status', write: withItem({ status: 3 }), limit: 'key-type' },
  { name: 'a null created_at', write: withItem({ created_at: null }), limit: 'key-type' },
  { name: 'a map for stuck_since', write: withItem({ stuck_since: {} }), limit: 'key-type' },
  { name: 'no index keys at all', write: withItem({ status: undefined, created_at: undefined }) },
  {
    name: 'an event_key of 1,024 bytes',
    write: (id) => ({ replicaId: id, item: replicaItem(id), events: [event(id, { event_key: 'e'.repeat(1024) })] }),
  },
  {
    name: 'an event_key of 1,025 bytes',
    write: (id) => ({ replicaId: id, item: replicaItem(id), events: [event(id, { event_key: 'e'.repeat(1025) })] }),
    limit: 'key-size',
  },

  // Attribute names, nesting, sets, values marshall cannot write.
  { name: 'an empty attribute name', write: withItem({ '': 'x' }), limit: 'attribute-name-empty' },
  { name: 'an empty name in a map', write: withItem({ m: { ok: 1, '': 'x' } }), limit: 'attribute-name-empty' },
  { name: 'an empty name in a map in a list', write: withItem({ l: [1, { '': 'x' }] }), limit: 'attribute-name-empty' },
  { name: 'a long attribute name Local still reads', write: withItem({ ['n'.repeat(50_000)]: 1 }) },
  { name: 'an attribute name over 64 KB, in a map', write: withItem({ m: { ['n'.repeat(65_537)]: 1 } }), limit: 'attribute-name-size' },
  ...pair('nesting of maps', 'nesting-depth', { m: nested(31, 'x') }, { m: nested(32, 'x') }),
  ...pair('nesting of lists', 'nesting-depth', { l: nested(31, 1, 'list') }, { l: nested(32, 1, 'list') }),
  ...pair('nesting of maps and lists ending empty', 'nesting-depth', { m: nested(30, {}, 'mixed') }, { m: nested(31, [], 'mixed') }),
  { name: 'a set', write: withItem({ s: new Set(['a', 'b']), ns: new Set([1, 2]) }) },
  { name: 'an empty set', write: withItem({ m: { s: new Set() } }), limit: 'empty-set' },
  { name: 'a set of equal numbers', write: withItem({ s: new Set([NumberValue.from('1'), NumberValue.from('1.0')]) }), limit: 'set-duplicates' },
  { name: 'a set of equal binaries', write: withItem({ s: new Set([new Uint8Array([1]), new Uint8Array([1])]) }), limit: 'set-duplicates' },
  { name: 'a symbol', write: withItem({ m: { s: Symbol('x') } }), limit: 'unsupported-value' },
  // JSON may carry a field named "constructor"; marshall reads a value's kind from it.
  ...['Set', 'Map', 'Number'].map((kind): Case => ({
    name: `a map whose "constructor" field names ${kind}`,
    write: withItem({ m: { constructor: { name: kind } } }),
    limit: 'unsupported-value',
  })),
  { name: 'an item whose own "constructor" field names Set (the item is marshalled field by field)', write: withItem({ constructor: { name: 'Set' } }) },
  { name: 'a "constructor" field marshall reads as a map', write: withItem({ m: { constructor: { name: 'Object' } }, c: { constructor: 'x' } }) },
  { name: 'a Date becomes an empty map', write: withItem({ d: new Date(0), b: new Uint8Array(0), u: undefined, f: () => 1 }) },
];

/** An event whose `to` makes it exactly `size` bytes. */
function eventOfSize(id: string, size: number): Record<string, unknown> {
  const base = event(id, { type: 'progress_changed', event_key: '0000000002#progress_changed', to: '' });
  return { ...base, to: 'p'.repeat(size - itemSize(base)) };
}

/** A replica item and ten events, each under 400 KB, totalling exactly `size` bytes. */
function transactionOfSize(id: string, size: number): ReplicaWriteShape {
  const item = paddedTo(MAX_ITEM_BYTES, {}, id);
  const events: Record<string, unknown>[] = Array.from({ length: 9 }, (_, index) => ({ ...eventOfSize(id, MAX_ITEM_BYTES), event_key: `0000000002#e${index}` }));
  const used = itemSize(item) + events.reduce((sum, each) => sum + itemSize(each), 0);
  const last = event(id, { event_key: '0000000002#last', to: '' });
  events.push({ ...last, to: 'q'.repeat(size - used - itemSize(last)) });
  return { replicaId: id, item, events };
}

/** What DynamoDB (or the SDK before it) says to the write, sent as the engine sends it. */
async function send(write: ReplicaWriteShape): Promise<'accepted' | Error> {
  try {
    await documents.send(
      new TransactWriteCommand({
        TransactItems: [
          ...(write.item ? [{ Put: { TableName: tables.replicas, Item: write.item } }] : []),
          ...write.events.map((item) => ({ Put: { TableName: tables.events, Item: item as Record<string, unknown> } })),
        ],
      }),
    );
    return 'accepted';
  } catch (error) {
    return error as Error;
  }
}

describe('checkReplicaWrite agrees with DynamoDB Local', () => {
  it.each(cases.map((each) => [each.name, each] as const))('%s', async (_, each) => {
    serial += 1;
    const write = each.write(`replica-${serial}`);
    const verdict = checkReplicaWrite(write);
    const outcome = await send(write);
    if (each.limit === undefined) {
      expect(verdict?.sentence).toBeUndefined();
      expect(outcome).toBe('accepted');
    } else {
      expect(verdict?.limit).toBe(each.limit);
      expect(outcome).toBeInstanceOf(Error);
    }
  });
});

describe('where the validator is stricter than DynamoDB', () => {
  // marshall writes a map whose "constructor" field names String, Boolean or Uint8Array as
  // "[object Object]", true or empty bytes: DynamoDB stores that, but the replica's data is lost,
  // so the validator refuses it.
  it.each(['String', 'Boolean', 'Uint8Array'])('refuses a map the SDK would store mangled, its "constructor" naming %s', async (kind) => {
    serial += 1;
    const write = withItem({ m: { constructor: { name: kind }, data: 1 } })(`replica-${serial}`);
    expect(checkReplicaWrite(write)?.limit).toBe('unsupported-value');
    expect(await send(write)).toBe('accepted');
  });
});

describe('where DynamoDB Local differs from the documented DynamoDB', () => {
  // The guide allows attribute names up to 64 KB; Local's JSON parser stops at 50,000 characters
  // and answers InternalFailure. The validator follows the documented limit.
  it('Local refuses a 64 KB attribute name that the documented DynamoDB (and the validator) accept', async () => {
    serial += 1;
    const id = `replica-${serial}`;
    const write = { replicaId: id, item: replicaItem(id, { ['n'.repeat(65_536)]: 1 }), events: [] };
    expect(checkReplicaWrite(write)).toBeUndefined();
    const outcome = await send(write);
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).name).toBe('InternalFailure');
  });
});
