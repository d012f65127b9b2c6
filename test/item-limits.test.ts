/** The pure validator: its sentences, its sizes, and that every limit it knows is reachable. */
import { NumberValue } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  checkReplicaWrite,
  itemSize,
  measureReplicaWrite,
  numberBytes,
  parseDecimal,
  type ItemLimit,
  type ReplicaWriteShape,
} from '../functions/engine/plan/item-limits.js';
import { replicaIdForMessage } from '../functions/engine/model/write.js';

const AT = '2026-11-29T12:00:00.000Z';

function write(id: string, extra: Record<string, unknown> = {}, events: object[] = []): ReplicaWriteShape {
  return { replicaId: id, item: { replica_id: id, status: 'ready', created_at: AT, version: 2, ...extra }, events };
}

function event(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { replica_id: id, event_key: '0000000002#progress_changed', at: AT, type: 'progress_changed', from: '1/9', to: '2/9', run_id: 'r', ...extra };
}

/**
 * One write per limit, and words its sentence must carry so an operator knows which limit and
 * where. A Record over ItemLimit: adding a limit without a case here does not compile.
 */
const byLimit: Record<ItemLimit, { write: ReplicaWriteShape; words: string[] }> = {
  'item-size': { write: write('r1', { blob: 'x'.repeat(409_600) }), words: ['400 KB', '409,6'] },
  'transaction-size': {
    write: write('r1', {}, Array.from({ length: 11 }, (_, index) => event('r1', { event_key: `e${index}`, to: 'y'.repeat(400_000) }))),
    words: ['4 MB', 'transaction', '11 history events'],
  },
  'key-missing': { write: { replicaId: 'r1', item: { status: 'ready' }, events: [] }, words: ['"replica_id"', 'partition key'] },
  'key-type': { write: write('r1', { status: 7 }), words: ['"status"', 'a number', 'must be a string'] },
  'key-empty': { write: write('r1', { created_at: '' }), words: ['"created_at"', 'empty', 'by-status'] },
  'key-size': { write: write('r1', { stuck_since: 'x'.repeat(1025) }), words: ['"stuck_since"', '1,025 bytes', '1,024 bytes', 'stuck index'] },
  'number-not-finite': { write: write('r1', { m: { score: Number.NaN } }), words: ['attribute "m.score"', 'NaN'] },
  'number-unsafe-integer': { write: write('r1', { l: [1, 2 ** 60] }), words: ['attribute "l[1]"', '2^53'] },
  'number-format': { write: write('r1', { n: NumberValue.from('12abc') }), words: ['"12abc"', 'as a number'] },
  'number-range': { write: write('r1', { tiny: 1e-200 }), words: ['attribute "tiny"', '1e-200', '1e-130', '1e126'] },
  'number-precision': { write: write('r1', { n: 10n ** 40n + 1n }), words: ['attribute "n"', '41 significant digits', '38'] },
  'attribute-name-empty': { write: write('r1', { m: { a: [{ '': 1 }] } }), words: ['attribute "m.a[0]"', 'empty name'] },
  'attribute-name-size': { write: write('r1', { ['n'.repeat(70_000)]: 1 }), words: ['70,000 bytes', '64 KB'] },
  'nesting-depth': { write: write('r1', { deep: JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`) as unknown }), words: ['attribute "deep', '32 levels'] },
  'empty-set': { write: write('r1', { tags: new Set() }), words: ['attribute "tags"', 'empty set'] },
  'set-duplicates': { write: write('r1', { ns: new Set([1, NumberValue.from('1.00')]) }), words: ['attribute "ns"', 'twice'] },
  'unsupported-value': { write: write('r1', { s: Symbol('s') }), words: ['attribute "s"', 'symbol'] },
};

describe('sentences', () => {
  it.each(Object.entries(byLimit))('%s: names the replica and the limit in one sentence', (limit, { write: shape, words }) => {
    const verdict = checkReplicaWrite(shape);
    expect(verdict?.limit).toBe(limit);
    const sentence = verdict?.sentence ?? '';
    expect(sentence.startsWith('Replica "r1" cannot be stored in DynamoDB: ')).toBe(true);
    for (const word of words) expect(sentence).toContain(word);
    expect(sentence).toMatch(/[^.]\.$/);
    expect(sentence).not.toMatch(/\.\s|\n/); // one sentence
    expect(sentence.length).toBeLessThan(400);
  });

  it('cuts a long replica id to its first 64 characters, and says so', () => {
    const id = `${'a'.repeat(60)}bcdefghij${'z'.repeat(200)}`;
    const sentence = checkReplicaWrite(write(id, { status: '' }))?.sentence ?? '';
    expect(sentence).toContain(`Replica "${'a'.repeat(60)}bcde" (id cut to 64 characters)`);
    expect(sentence).not.toContain('bcdef');
  });

  it('cuts by characters, never through one: an id of emoji keeps 64 whole ones', () => {
    const id = '😀'.repeat(70);
    expect(replicaIdForMessage(id)).toBe('😀'.repeat(64));
    expect(checkReplicaWrite(write(id, { status: '' }))?.sentence).toContain(`"${'😀'.repeat(64)}" (id cut`);
  });

  it('shows an id of 64 characters or fewer whole', () => {
    const id = 'r'.repeat(64);
    expect(replicaIdForMessage(id)).toBe(id);
    expect(checkReplicaWrite(write(id, { status: '' }))?.sentence).toContain(`Replica "${id}" cannot`);
  });

  it('cuts a long attribute path too', () => {
    const name = 'k'.repeat(100);
    const sentence = checkReplicaWrite(write('r1', { [name]: Number.NaN }))?.sentence ?? '';
    expect(sentence).toContain(`attribute "${'k'.repeat(64)}"`);
    expect(sentence).not.toContain('k'.repeat(65));
  });

  it('names the history event at fault', () => {
    const verdict = checkReplicaWrite(write('r1', {}, [event('r1'), event('r1', { to: 'p'.repeat(409_600) })]));
    expect(verdict?.limit).toBe('item-size');
    expect(verdict?.sentence).toContain('in its "progress_changed" history event');
  });
});

describe('what passes', () => {
  it('accepts items as the sync writes them, and a mark-deleted write (events only)', () => {
    expect(checkReplicaWrite(write('r1', { training_progress_pct: 12.5, meta: { a: [1, null, true, 'x'], b: {} } }, [event('r1')]))).toBeUndefined();
    expect(checkReplicaWrite({ replicaId: 'r1', events: [event('r1', { type: 'deleted', from: 'live', to: 'deleted' })] })).toBeUndefined();
  });

  it('leaves out what marshall leaves out: undefined values and functions', () => {
    expect(checkReplicaWrite(write('r1', { gone: undefined, fn: () => 1, l: [undefined, 1], m: new Map([['a', undefined]]) }))).toBeUndefined();
    expect(checkReplicaWrite(write('r1', { status: undefined }))).toBeUndefined(); // an index key may be absent
  });

  it('never throws, whatever a map from JSON holds', () => {
    for (const kind of ['Set', 'Map', 'Number', 'Boolean', 'String', 'Buffer']) {
      const verdict = checkReplicaWrite(write('r1', { m: JSON.parse(`{"constructor": {"name": "${kind}"}}`) as unknown }));
      expect(verdict?.limit).toBe('unsupported-value');
      expect(verdict?.sentence).toContain(`attribute "m" has a "constructor" field naming ${kind}`);
    }
  });

  it('reports the first problem: keys before values', () => {
    expect(checkReplicaWrite(write('', { n: Number.NaN }))?.limit).toBe('key-empty');
  });
});

describe('sizes by DynamoDB rules', () => {
  it('counts names and values, 3 bytes a list or map, 1 byte an element', () => {
    expect(itemSize({ replica_id: 'abc' })).toBe(10 + 3);
    expect(itemSize({ replica_id: 'a', é: 'ü' })).toBe(11 + 2 + 2); // UTF-8 bytes
    expect(itemSize({ replica_id: 'a', b: true, n: null })).toBe(11 + 2 + 2);
    expect(itemSize({ replica_id: 'a', l: [] })).toBe(11 + 1 + 3);
    expect(itemSize({ replica_id: 'a', l: ['a', 'b'] })).toBe(11 + 1 + 3 + 2 * 2);
    expect(itemSize({ replica_id: 'a', m: { k: 'a' } })).toBe(11 + 1 + 3 + 1 + 1 + 1);
    expect(itemSize({ replica_id: 'a', s: new Set(['a', 'bc']), b: new Uint8Array(3) })).toBe(11 + 1 + 3 + 1 + 3);
    expect(itemSize({ replica_id: '😀' })).toBe(10 + 4);
  });

  // Measured on DynamoDB Local: bytes each number adds to an item.
  it.each([
    ['0', 1],
    ['-0', 1],
    ['1', 2],
    ['10', 2],
    ['100000', 2],
    ['1.2', 3],
    ['12.3', 3],
    ['123', 3],
    ['1234', 3],
    ['123456789', 6],
    ['1234567890', 6],
    ['0.1', 2],
    ['0.01', 2],
    ['0.123', 3],
    ['1.5e-7', 2],
    ['-1', 3],
    ['-1.2', 4],
    ['12345678901234567890123456789012345678', 20],
    ['-12345678901234567890123456789012345678', 21],
    ['9.9999999999999999999999999999999999999E+125', 20],
  ])('the number %s takes %i bytes', (text, size) => {
    expect(numberBytes(parseDecimal(text) ?? { negative: false, digits: 0, exponent: 0 })).toBe(size);
  });

  it('reads decimals as DynamoDB does', () => {
    expect(parseDecimal('00012.3400')).toEqual({ negative: false, digits: 4, exponent: 2 });
    expect(parseDecimal('-0.00100e-3')).toEqual({ negative: true, digits: 1, exponent: -5 });
    expect(parseDecimal('.5')).toEqual({ negative: false, digits: 1, exponent: 0 });
    for (const bad of ['', '.', '1e', ' 1', 'NaN', 'Infinity', '1,5', '0x10']) expect(parseDecimal(bad)).toBeUndefined();
  });
});

describe('measureReplicaWrite', () => {
  it('gives the bytes a write adds to a transaction: its item and its events', () => {
    const events = [event('r1'), event('r1', { event_key: 'k2' })];
    const shape = write('r1', { n: 12.5 }, events);
    const measured = measureReplicaWrite(shape);
    expect(measured.violation).toBeUndefined();
    expect(measured.bytes).toBe(itemSize(shape.item ?? {}) + itemSize(events[0] ?? {}) + itemSize(events[1] ?? {}));
    expect(measureReplicaWrite({ replicaId: 'r1', events }).bytes).toBe(itemSize(events[0] ?? {}) + itemSize(events[1] ?? {}));
  });
});
