/**
 * What the plan decides and the store carries out: one replica's write with its events and its
 * size, and a replica the plan's limit check (or DynamoDB itself) refused to write, worded once.
 */
import type { ReplicaEvent } from './events.js';

/** The aggregate size of the items in one TransactWriteItems call (DynamoDB's KB is 1024 bytes). */
export const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;

export type ReplicaWrite = (
  | {
      kind: 'put';
      replicaId: string;
      /** The whole new item: API fields plus the sync's own attributes. */
      item: Record<string, unknown>;
      /** The version read; undefined for a replica never stored. */
      expectedVersion?: number;
      events: ReplicaEvent[];
    }
  | {
      kind: 'mark-deleted';
      replicaId: string;
      expectedVersion: number;
      version: number;
      deletedAt: string;
      events: ReplicaEvent[];
    }
) & {
  /**
   * Its size in bytes as DynamoDB counts it against a transaction's `MAX_TRANSACTION_BYTES` (the
   * item plus its events; a mark-deleted write counts its events), measured once, by the plan's
   * limit check: the store batches transactions by it.
   */
  bytes: number;
};

/** A replica whose write breaks one of DynamoDB's limits, quarantined for this run. */
export interface Rejection {
  replicaId: string;
  /**
   * Which limit (an `ItemLimit` of plan/item-limits.ts; `key-blank` for a whitespace-only id),
   * `refused-by-dynamodb` when only DynamoDB knew, or `event-exists` when its history event is
   * already stored (history is append-only).
   */
  limit: string;
  /** One sentence naming the replica (id cut to 64 characters) and the limit. */
  sentence: string;
}

/**
 * The one wording of a rejection: "Replica "id" cannot be stored in DynamoDB: <fact>; the sync
 * skips it and leaves its stored copy as it was<until>." A long id is cut to 64 characters, and
 * says so.
 */
export function rejectionOf(replicaId: string, limit: string, fact: string, until = ''): Rejection {
  const id = String(replicaId);
  const shown = [...id].length > 64 ? `"${replicaIdForMessage(id)}" (id cut to 64 characters)` : `"${id}"`;
  return {
    replicaId,
    limit,
    sentence: `Replica ${shown} cannot be stored in DynamoDB: ${fact}; the sync skips it and leaves its stored copy as it was${until === '' ? '' : ` ${until}`}.`,
  };
}

/** A replica id (or any text) as a message shows it: its first 64 characters (code points) when longer. */
export function replicaIdForMessage(replicaId: string): string {
  if (replicaId.length <= 64) return replicaId;
  return [...replicaId].slice(0, 64).join('');
}
