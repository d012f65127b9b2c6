/**
 * Would DynamoDB store this replica's write? Pure: given the item and history events the sync
 * would write (plain values, as the DocumentClient marshalls them with `removeUndefinedValues` and
 * `convertClassInstanceToMap`), say which of DynamoDB's limits the first offending value breaks, in
 * one sentence naming the replica. One pass per item, no JSON round trips: it runs on every item of
 * a 100,000-replica first sync.
 *
 * Sizes follow DynamoDB's own rules (CapacityUnitCalculations in the developer guide), checked
 * byte for byte against DynamoDB Local in test/item-limits-dynamodb.test.ts.
 */
import { MAX_TRANSACTION_BYTES, rejectionOf, replicaIdForMessage, type Rejection } from '../model/write.js';
import { REPLICAS_TABLE, REPLICA_EVENTS_TABLE, type TableDefinition } from '../contract/tables.js';

/** The first 64 characters (code points, so no half characters) of a text. */
const cut = replicaIdForMessage;

/** 400 KB, attribute names included (DynamoDB's KB is 1024 bytes). */
export const MAX_ITEM_BYTES = 400 * 1024;
export const MAX_PARTITION_KEY_BYTES = 2048;
export const MAX_SORT_KEY_BYTES = 1024;
export const MAX_ATTRIBUTE_NAME_BYTES = 64 * 1024;
/** Counting the item itself as the first level: at most 31 maps and lists inside one another. */
export const MAX_NESTING_LEVELS = 32;
export const MAX_NUMBER_DIGITS = 38;

export type ItemLimit =
  | 'item-size'
  | 'transaction-size'
  | 'key-missing'
  | 'key-type'
  | 'key-empty'
  | 'key-size'
  | 'number-not-finite'
  | 'number-unsafe-integer'
  | 'number-format'
  | 'number-range'
  | 'number-precision'
  | 'attribute-name-empty'
  | 'attribute-name-size'
  | 'nesting-depth'
  | 'empty-set'
  | 'set-duplicates'
  | 'unsupported-value';

/** The rejection of a write that breaks a limit: the replica, the limit, one sentence (see `rejectionOf`). */
export interface LimitViolation extends Rejection {
  limit: ItemLimit;
}

/** What the sync writes for one replica: a ReplicaWrite fits (`item` only on a put). */
export interface ReplicaWriteShape {
  replicaId: string;
  item?: Record<string, unknown>;
  events: readonly object[];
}

/**
 * The first DynamoDB limit the write breaks, or undefined when DynamoDB (and the SDK's marshall
 * before it) will accept every item of it, together, in one transaction.
 */
export function checkReplicaWrite(write: ReplicaWriteShape): LimitViolation | undefined {
  return measureReplicaWrite(write).violation;
}

/**
 * Why a row's `replica_id` cannot be a replica's key, or undefined when it can: a string, not
 * empty, within the partition key's 2048 bytes, and not blank (whitespace only names no one). The
 * id is kept exactly as given, so it is checked as given: `" dup "` is a key, `"   "` is not. A
 * rejection names a non-string id by its JSON text.
 */
export function idRejectionOf(replicaId: unknown): Rejection | undefined {
  const [partitionKey] = REPLICA_KEYS as [KeySpec];
  const problem: { limit: string; fact: string } | undefined =
    checkKeys({ [partitionKey.name]: replicaId }, [partitionKey]) ??
    (typeof replicaId === 'string' && /^\s+$/u.test(replicaId)
      ? { limit: 'key-blank', fact: `its "${partitionKey.name}" is blank (only whitespace), which names no replica` }
      : undefined);
  if (problem === undefined) return undefined;
  const shown = typeof replicaId === 'string' ? replicaId : String(JSON.stringify(replicaId));
  return rejectionOf(shown, problem.limit, problem.fact, 'until Tavus returns a row that fits');
}

/**
 * The write's size as DynamoDB counts it against a transaction's 4 MB (its item plus its events;
 * a mark-deleted write counts its events only), and its violation if any: one pass serves both
 * the check and the batching of writes into transactions.
 */
export function measureReplicaWrite(write: ReplicaWriteShape): { bytes: number; violation?: LimitViolation } {
  let total = 0;
  if (write.item !== undefined) {
    const checked = checkItem(write.item, REPLICA_KEYS);
    if (checked.problem) return { bytes: checked.size, violation: violation(write.replicaId, checked.problem) };
    total += checked.size;
  }
  for (const event of write.events) {
    const checked = checkItem(event as Record<string, unknown>, EVENT_KEYS);
    total += checked.size;
    if (checked.problem) {
      const type = (event as { type?: unknown }).type;
      const where = `in its ${typeof type === 'string' ? `"${cut(type)}" ` : ''}history event, `;
      return { bytes: total, violation: violation(write.replicaId, { limit: checked.problem.limit, fact: where + checked.problem.fact }) };
    }
  }
  if (total > MAX_TRANSACTION_BYTES) {
    return {
      bytes: total,
      violation: violation(write.replicaId, {
        limit: 'transaction-size',
        fact: `its item and ${write.events.length} history events total ${bytes(total)} by DynamoDB's measure, over the 4 MB (4,194,304-byte) limit of one transaction`,
      }),
    };
  }
  return { bytes: total };
}

/** DynamoDB's size of an item (names plus values, with its list and map overheads). */
export function itemSize(item: Record<string, unknown>): number {
  return checkItem(item, REPLICA_KEYS).size;
}

interface Problem {
  limit: ItemLimit;
  /** What is wrong, as the part of a sentence after "Replica "x" cannot be stored: ". */
  fact: string;
}

function violation(replicaId: string, problem: Problem): LimitViolation {
  return rejectionOf(replicaId, problem.limit, problem.fact, 'until Tavus returns a row that fits') as LimitViolation;
}

/** Checks one item against a table's keys and DynamoDB's value rules; its size either way. */
function checkItem(item: Record<string, unknown>, keys: readonly KeySpec[]): { size: number; problem?: Problem } {
  const problem = checkKeys(item, keys);
  const walker = new Walker();
  walker.problem = problem; // the DocumentClient marshalls the item's own fields one by one
  walker.walkMap(item, 0);
  if (walker.problem) return { size: walker.size, problem: walker.problem };
  if (walker.size > MAX_ITEM_BYTES) {
    return {
      size: walker.size,
      problem: {
        limit: 'item-size',
        fact: `the item is ${bytes(walker.size)} by DynamoDB's measure, over its 400 KB (409,600-byte) item limit`,
      },
    };
  }
  return { size: walker.size };
}

interface KeySpec {
  name: string;
  max: number;
  role: string;
  required: boolean;
}

/** The table's key, then each index's keys, with their size limits. */
function keySpecs(table: TableDefinition): KeySpec[] {
  const keys: KeySpec[] = [{ name: table.partitionKey.name, max: MAX_PARTITION_KEY_BYTES, role: 'partition key', required: true }];
  if (table.sortKey) keys.push({ name: table.sortKey.name, max: MAX_SORT_KEY_BYTES, role: 'sort key', required: true });
  for (const index of table.globalSecondaryIndexes) {
    keys.push({ name: index.partitionKey.name, max: MAX_PARTITION_KEY_BYTES, role: `${index.indexName} index's partition key`, required: false });
    if (index.sortKey) {
      keys.push({ name: index.sortKey.name, max: MAX_SORT_KEY_BYTES, role: `${index.indexName} index's sort key`, required: false });
    }
  }
  return keys;
}

const REPLICA_KEYS = keySpecs(REPLICAS_TABLE);
const EVENT_KEYS = keySpecs(REPLICA_EVENTS_TABLE);

/** The table's key and every index key present must be non-empty strings within their sizes. */
function checkKeys(item: Record<string, unknown>, keys: readonly KeySpec[]): Problem | undefined {
  for (const key of keys) {
    const value = item[key.name];
    if (value === undefined || typeof value === 'function') {
      if (key.required) return { limit: 'key-missing', fact: `it has no "${key.name}", the table's ${key.role}` };
      continue;
    }
    if (typeof value !== 'string') {
      return { limit: 'key-type', fact: `its "${key.name}" is ${kindOf(value)}, but the ${key.role} must be a string` };
    }
    if (value === '') return { limit: 'key-empty', fact: `its "${key.name}" is empty, and DynamoDB refuses an empty ${key.role}` };
    const size = utf8Bytes(value);
    if (size > key.max) {
      return {
        limit: 'key-size',
        fact: `its "${key.name}" is ${bytes(size)}, over DynamoDB's ${bytes(key.max)} limit for the ${key.role}`,
      };
    }
  }
  return undefined;
}

/**
 * One pass over an item: adds up DynamoDB's size and keeps the first problem. The path of the
 * value being looked at is a stack of names, turned into text only when something is wrong.
 */
class Walker {
  size = 0;
  problem: Problem | undefined;
  private readonly path: Array<string | number> = [];

  /** A map's entries as marshall makes them: enumerable properties, functions and undefined dropped. */
  walkMap(map: Record<string, unknown>, level: number): void {
    for (const name in map) {
      const value = map[name];
      if (value === undefined || typeof value === 'function') continue;
      this.path.push(name);
      this.entry(name, value, level);
      this.path.pop();
    }
  }

  private walkIterableMap(map: Map<unknown, unknown>, level: number): void {
    for (const [key, value] of map) {
      if (value === undefined || typeof value === 'function') continue;
      const name = String(key);
      this.path.push(name);
      this.entry(name, value, level);
      this.path.pop();
    }
  }

  private entry(name: string, value: unknown, level: number): void {
    const nameSize = utf8Bytes(name);
    this.size += nameSize + (level > 0 ? 1 : 0); // each map element costs a byte
    if (this.problem) return this.value(value, level);
    if (name === '') {
      this.fail('attribute-name-empty', `${level === 0 ? 'it has an attribute' : `${this.where(-1)} has an attribute`} with an empty name, which DynamoDB refuses`);
    } else if (nameSize > MAX_ATTRIBUTE_NAME_BYTES) {
      this.fail('attribute-name-size', `${this.where()} has a name of ${bytes(nameSize)}, over DynamoDB's 64 KB (65,536-byte) attribute name limit`);
    }
    this.value(value, level);
  }

  private value(value: unknown, level: number): void {
    switch (typeof value) {
      case 'string':
        this.size += utf8Bytes(value);
        return;
      case 'number':
        return this.jsNumber(value);
      case 'boolean':
        this.size += 1;
        return;
      case 'bigint':
        return this.decimal(value.toString());
      case 'object':
        return this.object(value, level);
      default:
        this.fail('unsupported-value', `${this.where()} holds a ${typeof value}, which the AWS SDK cannot write to DynamoDB`);
    }
  }

  private object(value: object | null, level: number): void {
    if (value === null) {
      this.size += 1;
      return;
    }
    const kind = value.constructor?.name;
    if (misreadKind(value, kind)) {
      return this.fail('unsupported-value', `${this.where()} has a "constructor" field naming ${cut(String(kind))}, which makes the AWS SDK misread the map`);
    }
    if (Array.isArray(value)) {
      if (this.container(level)) this.walkList(value, level + 1);
      return;
    }
    if (kind === 'Set') return this.set(value as Set<unknown>);
    if (kind === 'Map') {
      if (this.container(level)) this.walkIterableMap(value as Map<unknown, unknown>, level + 1);
      return;
    }
    if (ArrayBuffer.isView(value)) {
      this.size += value.byteLength;
      return;
    }
    if (value instanceof ArrayBuffer) {
      this.size += value.byteLength;
      return;
    }
    if (kind === 'Boolean') {
      this.size += 1;
      return;
    }
    if (kind === 'Number') return this.jsNumber(Number(value));
    if (kind === 'String') {
      this.size += utf8Bytes(String(value));
      return;
    }
    if (kind === 'NumberValue') return this.decimal(String(value));
    // A plain object, or any class instance: convertClassInstanceToMap makes it a map.
    if (this.container(level)) this.walkMap(value as Record<string, unknown>, level + 1);
  }

  /**
   * A list or map one level below `level`: 3 bytes of its own, and no deeper than DynamoDB nests.
   * False when it is too deep: the walk does not go in (the item is refused anyway), so its depth
   * stays bounded by DynamoDB's 32 levels whatever the data's, and the stack never overflows.
   */
  private container(level: number): boolean {
    this.size += 3;
    if (level + 2 <= MAX_NESTING_LEVELS) return true;
    this.fail('nesting-depth', `${this.where()} nests maps and lists deeper than DynamoDB's 32 levels`);
    return false;
  }

  private walkList(list: readonly unknown[], level: number): void {
    for (let index = 0; index < list.length; index += 1) {
      const value = list[index];
      if (value === undefined || typeof value === 'function') continue;
      this.size += 1; // each list element costs a byte
      this.path.push(index);
      this.value(value, level);
      this.path.pop();
    }
  }

  /** marshall picks the set's type from its first element; DynamoDB refuses empty sets and duplicates. */
  private set(set: Set<unknown>): void {
    const members = [...set].filter((member) => member !== undefined);
    if (members.length === 0) {
      return this.fail('empty-set', `${this.where()} is an empty set, which DynamoDB refuses (an empty list would do)`);
    }
    const first = members[0];
    const seen = new Set<string>();
    for (const member of members) {
      let text: string;
      if (typeof first === 'string') {
        text = String(member);
        this.size += utf8Bytes(text);
      } else if (typeof first === 'number' || typeof first === 'bigint' || first?.constructor?.name === 'NumberValue') {
        text = String(member);
        if (typeof member === 'number') this.jsNumber(member);
        else this.decimal(text);
        text = canonicalDecimal(text) ?? text;
      } else if (ArrayBuffer.isView(first)) {
        const view = member as ArrayBufferView;
        this.size += view.byteLength;
        text = Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
      } else {
        return this.fail('unsupported-value', `${this.where()} is a set of ${kindOf(first)}, which the AWS SDK cannot write to DynamoDB`);
      }
      if (seen.has(text)) {
        const shown = ArrayBuffer.isView(member) ? 'the same bytes' : cut(String(member));
        return this.fail('set-duplicates', `${this.where()} is a set holding ${shown} twice, which DynamoDB refuses`);
      }
      seen.add(text);
    }
  }

  /** What marshall itself refuses comes first: NaN, infinities and numbers beyond ±2^53. */
  private jsNumber(value: number): void {
    if (!Number.isFinite(value)) {
      this.size += 1;
      return this.fail('number-not-finite', `${this.where()} holds ${value}, which DynamoDB cannot store as a number`);
    }
    if (value > Number.MAX_SAFE_INTEGER || value < Number.MIN_SAFE_INTEGER) {
      this.size += 9;
      return this.fail(
        'number-unsafe-integer',
        `${this.where()} holds ${value}, beyond the ±2^53 range JavaScript holds exactly, which the AWS SDK refuses to write`,
      );
    }
    if (Number.isInteger(value)) {
      this.size += numberBytes(integerDecimal(value)); // within ±2^53: in range, 16 digits at most
      return;
    }
    this.decimal(String(value));
  }

  /** A number's text as DynamoDB reads it: its size, range and precision. */
  private decimal(text: string): void {
    const parsed = parseDecimal(text);
    if (parsed === undefined) {
      this.size += 1;
      return this.fail('number-format', `${this.where()} holds "${cut(text)}" as a number, which DynamoDB cannot read as one`);
    }
    this.size += numberBytes(parsed);
    if (this.problem || parsed.digits === 0) return;
    if (parsed.digits > MAX_NUMBER_DIGITS) {
      this.fail('number-precision', `${this.where()} holds a number of ${parsed.digits} significant digits, over DynamoDB's 38`);
    } else if (parsed.exponent < -129 || parsed.exponent > 126) {
      this.fail(
        'number-range',
        `${this.where()} holds ${cut(text)}, outside DynamoDB's number range (magnitudes from 1e-130 up to, not including, 1e126)`,
      );
    }
  }

  private fail(limit: ItemLimit, fact: string): void {
    this.problem ??= { limit, fact };
  }

  /** The current value's place, as `attribute "a.b[2]"`; `drop` leaves out the last segments. */
  private where(drop = 0): string {
    const segments = drop === 0 ? this.path : this.path.slice(0, this.path.length + drop);
    let text = '';
    for (const segment of segments) text += typeof segment === 'number' ? `[${segment}]` : text === '' ? segment : `.${segment}`;
    return `attribute "${cut(text)}"`;
  }
}

/** What marshall reads a value as, by its constructor's name, besides a plain map. */
const MARSHALL_KINDS = new Set([
  'Set',
  'Map',
  'Boolean',
  'Number',
  'String',
  'ArrayBuffer',
  'Blob',
  'Buffer',
  'DataView',
  'File',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
]);

/**
 * A map from JSON with its own `constructor` field, `{"name": "Set"}` say: marshall goes by
 * `value.constructor.name`, so it takes the map for a set or a number (DynamoDB refuses those) or
 * for a boolean, a text or bytes (stored as `true`, "[object Object]", empty bytes: the data lost).
 */
function misreadKind(value: object, kind: unknown): boolean {
  return typeof kind === 'string' && MARSHALL_KINDS.has(kind) && Object.prototype.hasOwnProperty.call(value, 'constructor');
}

/**
 * A decimal as DynamoDB stores it: value = 0.D × 10^exponent, with D the significant digits
 * (leading and trailing zeros trimmed). `digits` is 0 for zero.
 */
interface Decimal {
  negative: boolean;
  digits: number;
  exponent: number;
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

export function parseDecimal(text: string): Decimal | undefined {
  const match = DECIMAL.exec(text);
  if (!match) return undefined;
  const whole = match[2] ?? '';
  const fraction = match[3] ?? '';
  if (whole === '' && fraction === '') return undefined;
  const all = whole + fraction;
  let first = 0;
  while (first < all.length && all.charCodeAt(first) === 48) first += 1;
  if (first === all.length) return { negative: false, digits: 0, exponent: 0 };
  let last = all.length - 1;
  while (all.charCodeAt(last) === 48) last -= 1;
  const exponent = whole.length - first + (match[4] === undefined ? 0 : Number(match[4]));
  return { negative: match[1] === '-', digits: last - first + 1, exponent };
}

/** A safe integer as a Decimal, without going through its text. */
function integerDecimal(value: number): Decimal {
  if (value === 0) return { negative: false, digits: 0, exponent: 0 };
  let rest = Math.abs(value);
  let trailingZeros = 0;
  while (rest % 10 === 0) {
    rest /= 10;
    trailingZeros += 1;
  }
  let digits = 1;
  for (let bound = 10; bound <= rest; bound *= 10) digits += 1;
  return { negative: value < 0, digits, exponent: digits + trailingZeros };
}

/**
 * Bytes DynamoDB counts for a number: one for the exponent, one per base-100 digit pair (pairs
 * aligned on the decimal point), one more when negative; zero is one byte. DynamoDB's guide
 * rounds this to "1 byte per two significant digits, plus 1"; DynamoDB Local counts exactly this.
 */
export function numberBytes(decimal: Decimal): number {
  if (decimal.digits === 0) return 1;
  const pad = decimal.exponent % 2 === 0 ? 0 : 1;
  return 1 + Math.ceil((pad + decimal.digits) / 2) + (decimal.negative ? 1 : 0);
}

function canonicalDecimal(text: string): string | undefined {
  const parsed = parseDecimal(text);
  if (parsed === undefined) return undefined;
  const digits = text.replace(/[eE].*$/, '').replace(/[^0-9]/g, '').replace(/^0+/, '').replace(/0+$/, '');
  return `${parsed.negative ? '-' : ''}${digits}e${parsed.exponent}`;
}

function utf8Bytes(text: string): number {
  // Short ASCII strings (ids, statuses, timestamps) are most of an item: count them in JS.
  if (text.length > 64) return Buffer.byteLength(text, 'utf8');
  let size = text.length;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 0x80) continue;
    if (code < 0x800) size += 1;
    else if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00) {
      size += 2; // a surrogate pair: 2 UTF-16 units, 4 bytes
      index += 1;
    } else size += 2;
  }
  return size;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `a ${typeof value}`;
}

function bytes(count: number): string {
  return `${count.toLocaleString('en-US')} bytes`;
}
