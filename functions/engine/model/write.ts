/**
 * What the plan decides and the store carries out: one replica's write with its events, and a
 * replica the store (or the plan's limit check) refused to write.
 */
import type { ReplicaEvent } from './events.js';

export type ReplicaWrite =
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
    };

/** A replica whose write breaks one of DynamoDB's limits, quarantined for this run. */
export interface Rejection {
  replicaId: string;
  /**
   * Which limit (an `ItemLimit` of item-limits.ts; `key-blank` for a whitespace-only id; or
   * `refused-by-dynamodb` when only DynamoDB knew).
   */
  limit: string;
  /** One sentence naming the replica (id cut to 64 characters) and the limit. */
  sentence: string;
}
