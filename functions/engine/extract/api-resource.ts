/**
 * The two names Tavus serves the same list under: `/v2/replicas` (legacy) and `/v2/faces`. Face ids
 * are replica ids, so either endpoint feeds one table; rows are stored under the replica names
 * whichever endpoint they came from, so a content hash over them does not change with the endpoint.
 */
import { setField, type ApiResource } from '../model/replica.js';

/** A raw row under the canonical names, or the reason it cannot be stored. */
export type CanonicalRow = { row: Record<string, unknown>; reason?: undefined } | { row?: undefined; reason: string };

/** What differs between the two endpoints: where the list is, what its query parameters are called. */
export interface ApiResourceShape {
  /** The list endpoint's path. */
  readonly listPath: '/v2/replicas' | '/v2/faces';
  /** The query parameter that keeps only `user` or only `system` rows. */
  readonly typeParameter: 'replica_type' | 'face_type';
  /** The query parameter of the lookup by id (`a,b`). */
  readonly idsParameter: 'replica_ids' | 'face_ids';
  /** The row field that holds the id, as this endpoint names it. */
  readonly idField: 'replica_id' | 'face_id';
  /** The raw row under the canonical (replica) names. */
  canonicalRow(raw: Record<string, unknown>): CanonicalRow;
}

/** Each face field and the canonical name it is stored under. */
const FACE_RENAMES = [
  ['face_id', 'replica_id'],
  ['face_name', 'replica_name'],
  ['face_type', 'replica_type'],
] as const;

/** Longest id quoted in a reason, as the contract cuts ids in warnings. */
const MAX_QUOTED = 64;

export const API_RESOURCE_SHAPES: Readonly<Record<ApiResource, ApiResourceShape>> = {
  replicas: {
    listPath: '/v2/replicas',
    typeParameter: 'replica_type',
    idsParameter: 'replica_ids',
    idField: 'replica_id',
    // Already canonical: every field as it comes, a `face_*` field included (it is just an extra).
    canonicalRow: (raw) => ({ row: raw }),
  },
  faces: {
    listPath: '/v2/faces',
    typeParameter: 'face_type',
    idsParameter: 'face_ids',
    idField: 'face_id',
    canonicalRow: canonicalFaceRow,
  },
};

/**
 * A `/v2/faces` row under the replica names, fields in the order they came. A row may also carry
 * the legacy `replica_*` fields: those are kept, and the `face_*` twin is dropped when it says the
 * same, kept as it came when it does not (nothing is lost). Only the ids must agree: a row whose
 * `face_id` and `replica_id` differ names two replicas at once, so it gets a reason, not a row.
 * Whether `replica_id` is then a non-empty string is for the page validation to say.
 */
function canonicalFaceRow(raw: Record<string, unknown>): CanonicalRow {
  const has = (name: string) => raw[name] !== undefined;
  if (has('face_id') && has('replica_id') && raw.face_id !== raw.replica_id) {
    return { reason: `its face_id ${quote(raw.face_id)} and replica_id ${quote(raw.replica_id)} differ` };
  }
  const row: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    const canonical = FACE_RENAMES.find(([face]) => face === name)?.[1];
    // setField: a `__proto__` field stays a field, never the row's prototype (it could forge fields).
    if (canonical === undefined) setField(row, name, value);
    else if (!has(canonical)) setField(row, canonical, value);
    else if (value !== raw[canonical]) setField(row, name, value);
  }
  return { row };
}

function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : String(JSON.stringify(value));
  return JSON.stringify(text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text);
}
