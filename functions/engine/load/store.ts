/**
 * The load side of the engine, by interface: a replica store (read the state, apply the planned
 * writes) and a run ledger (the lease, the run records). `DynamoReplicaStore` and
 * `DynamoRunLedger` are the production implementations; `memory-store.ts` holds fast in-memory
 * ones for unit tests of the orchestration.
 */
import type { Rejection, ReplicaWrite } from '../model/write.js';
import type { StoredReplica } from '../model/replica.js';

export interface WriteOutcome {
  /** Replica items written (events not counted). */
  written: number;
  /** Replicas another writer changed since this run read them: left as that writer left them. */
  conflicts: string[];
  /** Replicas DynamoDB cannot store: not written, their stored items left as they were. */
  rejected: Rejection[];
}

/** What bounds one call of `applyWrites`. */
export interface WriteOptions {
  /** Once aborted, no new transaction starts; those in flight settle. */
  signal?: AbortSignal;
}

/** Where replicas are kept. The sync decides in `plan/plan.ts`; a store only carries decisions out. */
export interface ReplicaStore {
  /** The projected state of every stored replica, by id (see `STORED_REPLICA_PROJECTION`). */
  loadReplicas(): Promise<Map<string, StoredReplica>>;
  /**
   * Writes each replica together with its events, each conditional on the version it was planned
   * from: a replica whose version moved is a conflict, skipped and never overwritten. A write
   * DynamoDB refuses as invalid is a rejection: quarantined, the rest still written.
   */
  applyWrites(writes: ReplicaWrite[], options?: WriteOptions): Promise<WriteOutcome>;
}

/** A run's record: its summary, under its `run_id`. */
export type RunRecord = Record<string, unknown> & { run_id: string };

/** A lease another run holds: whose, until when, and where it is kept (for clearing it by hand). */
export interface HeldLease {
  holder: string;
  /** When it expires by itself. */
  expiresAt: Date;
  /** The lease item, named for a person: `run_id "lease#tavus-replicas" in the table "..."`. */
  item: string;
}

/** The answer to a lease request: taken, or held by another run (`held` says what is known of it). */
export type LeaseClaim = { acquired: true } | { acquired: false; held?: HeldLease };

/** Where runs are coordinated and remembered. */
export interface RunLedger {
  /**
   * Takes the lease that keeps two syncs of one table from running at once, or says who holds it.
   * A lease left by a crashed run expires by itself after `holdMs`.
   */
  acquireLease(runId: string, now: Date, holdMs: number): Promise<LeaseClaim>;
  /** Gives the lease back, unless another run has since taken it over. */
  releaseLease(runId: string): Promise<void>;
  /** Keeps the run's record for `ttlDays`. */
  recordRun(record: RunRecord, now: Date, ttlDays: number): Promise<void>;
}
