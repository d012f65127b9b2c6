import { createHash } from 'node:crypto';

/** A row of `/v2/replicas` as the API returned it: only `replica_id` is guaranteed. */
export type ApiRow = { replica_id: string } & Record<string, unknown>;

export type ReplicaType = 'user' | 'system';

/** The two names Tavus serves the list under: `/v2/replicas` (legacy) and `/v2/faces` (extract/api-resource.ts). */
export type ApiResource = 'replicas' | 'faces';

export const API_RESOURCES: readonly ApiResource[] = ['replicas', 'faces'];

/**
 * The attributes the sync owns: the one list (the README's replicas-table rows with source "sync",
 * the contract's "Untrusted data"). An API field of one of these names never sets or feeds one: it
 * is stored under `API_FIELD_PREFIX` instead (see `apiFields`). Add a new sync attribute here.
 */
export const SYNC_ATTRIBUTES = [
  'first_seen_at',
  'last_changed_at',
  'status_changed_at',
  'progress_changed_at',
  'finetune_status_changed_at',
  'deleted_at',
  'stuck_since',
  'stuck_reason',
  'training_progress_pct',
  'content_hash',
  'version',
] as const;
export type SyncAttribute = (typeof SYNC_ATTRIBUTES)[number];

const SYNC_OWNED: ReadonlySet<string> = new Set(SYNC_ATTRIBUTES);

/**
 * Where an API field whose name the sync owns is kept: `deleted_at` from the API is stored as
 * `api_deleted_at`. Should the row also carry that name, the prefix repeats (`api_api_deleted_at`)
 * until the name is free, so no API value is lost or overwritten. Kept rather than dropped: the
 * tables keep what the API said, and the content hash covers it, so a change of it is a change.
 */
export const API_FIELD_PREFIX = 'api_';

/**
 * `__proto__` is a name JSON gives as an ordinary field, but plain assignment sets an object's
 * prototype instead (so the field's keys would read as if the row had them) and the SDK's marshall
 * drops it: kept under `API_FIELD_PREFIX` like a sync-owned name, so nothing is lost or forged.
 */
const UNSTORABLE_NAMES: ReadonlySet<string> = new Set(['__proto__']);

/** Sets an own, enumerable field whatever its name (`__proto__` included): never a prototype. */
export function setField(target: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * What the sync needs of a stored item to decide what changed: the projection the state Scan reads.
 * The API fields themselves are summarised by `content_hash`, so a resync of 100,000 unchanged
 * replicas reads a few hundred bytes each, not the whole item.
 */
export interface StoredReplica {
  replica_id: string;
  /** Incremented on every write; conditional writes compare it (optimistic locking). */
  version: number;
  content_hash: string;
  status?: string;
  training_progress?: string;
  replica_type?: string;
  /** The name as the API sent it (any JSON value; usually a string): a change is a `renamed` event. */
  replica_name?: unknown;
  first_seen_at: string;
  last_changed_at: string;
  status_changed_at: string;
  progress_changed_at: string;
  /** Phoenix-4.5's fine-tune phase, as the API sent it (any JSON value; usually a string). */
  finetune_status?: unknown;
  /** When the sync first saw the current `finetune_status`; absent on items stored before it was kept. */
  finetune_status_changed_at?: string;
  deleted_at?: string;
  stuck_since?: string;
  /** Present exactly with `stuck_since`; absent on items stored before fine-tunes were watched (then training). */
  stuck_reason?: StuckReason;
}

/** Why a replica is stuck: its training stopped moving, or its fine-tune did. */
export type StuckReason = 'training' | 'finetune';

/** The attributes the state Scan reads: exactly the fields of `StoredReplica` (checked below). */
export const STORED_REPLICA_PROJECTION = [
  'replica_id',
  'version',
  'content_hash',
  'status',
  'training_progress',
  'replica_type',
  'replica_name',
  'first_seen_at',
  'last_changed_at',
  'status_changed_at',
  'progress_changed_at',
  'finetune_status',
  'finetune_status_changed_at',
  'deleted_at',
  'stuck_since',
  'stuck_reason',
] as const satisfies ReadonlyArray<keyof StoredReplica>;

/** Fails to compile when `StoredReplica` gains a field the projection does not read. */
type Unprojected = Exclude<keyof StoredReplica, (typeof STORED_REPLICA_PROJECTION)[number]>;
const projectionIsComplete: [Unprojected] extends [never] ? true : Unprojected = true;
void projectionIsComplete;

/**
 * The API fields as they will be stored: nulls left out (the contract allows it, and a GSI key
 * attribute cannot hold a null). `status` and `created_at` are index keys: DynamoDB rejects a
 * non-string or empty value there, and a whole run must not fail over one odd row, so an empty one
 * is left out and any other value is stored as its JSON text. A field named like one of the sync's
 * own attributes (or `__proto__`, which plain objects and the SDK cannot hold) is moved under
 * `API_FIELD_PREFIX`.
 */
export function apiFields(row: ApiRow): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  const moved: Array<[string, unknown]> = [];
  for (const [name, value] of Object.entries(row)) {
    if (value === null || value === undefined) continue;
    if (SYNC_OWNED.has(name) || UNSTORABLE_NAMES.has(name)) {
      moved.push([name, value]);
      continue;
    }
    if (name === 'status' || name === 'created_at') {
      if (value === '') continue;
      fields[name] = typeof value === 'string' ? value : jsonText(value);
      continue;
    }
    setField(fields, name, value);
  }
  for (const [name, value] of moved) {
    let kept = API_FIELD_PREFIX + name;
    while (Object.prototype.hasOwnProperty.call(fields, kept)) kept = API_FIELD_PREFIX + kept;
    setField(fields, kept, value);
  }
  return fields;
}

/**
 * JSON text as `JSON.stringify` writes it. A value nested too deep for its recursion stays as it
 * is: the limit check then rejects the row (an index key must be a string), where a thrown
 * "Maximum call stack size exceeded" would fail the run.
 */
function jsonText(value: unknown): unknown {
  try {
    return JSON.stringify(value);
  } catch {
    return value;
  }
}

/** A stable digest of the API fields: equal exactly when the stored copy is current. */
export function contentHash(fields: Record<string, unknown>): string {
  return createHash('sha256').update(stableJson(fields)).digest('base64url').slice(0, 22);
}

/**
 * Levels `stableJson` writes out: twice DynamoDB's 32, so every value DynamoDB can store is written
 * whole. Below that it writes a mark no JSON value can produce and stops: a value that deep is
 * rejected by the limit check, so its exact text never matters, and a hostile row nested 100,000
 * levels costs no more than one nested 64.
 */
const STABLE_DEPTH = 64;

/**
 * A value's JSON text with every map's keys sorted and its nulls left out: equal for equal data
 * whatever order the API sent the keys in. Iterative (an explicit stack) and depth-capped, so a
 * row nested 100,000 levels deep is hashed, then rejected by the limit check, instead of failing
 * the run with "Maximum call stack size exceeded".
 */
export function stableJson(root: unknown): string {
  let text = '';
  const stack: Array<{ close: string; entries: Array<[string | undefined, unknown]>; next: number }> = [];
  const open = (value: unknown): void => {
    const nested = value !== null && typeof value === 'object';
    if (nested && stack.length >= STABLE_DEPTH) {
      text += '#deeper#';
    } else if (Array.isArray(value)) {
      text += '[';
      stack.push({ close: ']', entries: value.map((item): [undefined, unknown] => [undefined, item]), next: 0 });
    } else if (nested) {
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined && v !== null)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      text += '{';
      stack.push({ close: '}', entries, next: 0 });
    } else {
      text += JSON.stringify(value) ?? ''; // undefined (in a list) joins as nothing, as Array.join does
    }
  };
  open(root);
  for (let frame = stack.at(-1); frame !== undefined; frame = stack.at(-1)) {
    if (frame.next === frame.entries.length) {
      text += frame.close;
      stack.pop();
      continue;
    }
    const [key, value] = frame.entries[frame.next] as [string | undefined, unknown];
    if (frame.next > 0) text += ',';
    frame.next += 1;
    if (key !== undefined) text += `${JSON.stringify(key)}:`;
    open(value);
  }
  return text;
}

/** `training_progress` "a/b" as 100·a/b, or undefined when it is not two numbers with b > 0. */
export function progressPercent(progress: unknown): number | undefined {
  if (typeof progress !== 'string') return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(progress);
  if (!match) return undefined;
  const done = Number(match[1]);
  const total = Number(match[2]);
  if (!(total > 0)) return undefined;
  return (100 * done) / total;
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
