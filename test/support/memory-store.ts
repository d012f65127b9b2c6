/**
 * In-memory implementations of the load interfaces, with DynamoDB's conditions (a write lands only
 * on the version it was planned from): fast unit tests of the orchestration, no DynamoDB needed.
 * The DynamoDB Local tests stay the proof that the real tables behave the same.
 */
import type { ReplicaEvent } from '../../functions/engine/model/events.js';
import { rejectionOf, type ReplicaWrite } from '../../functions/engine/model/write.js';
import { STORED_REPLICA_PROJECTION, type StoredReplica } from '../../functions/engine/model/replica.js';
import type { LeaseClaim, ReplicaStore, RunLedger, RunRecord, WriteOptions, WriteOutcome } from '../../functions/engine/load/store.js';

export class MemoryReplicaStore implements ReplicaStore {
  /** The replicas table: whole items by replica_id. */
  readonly items = new Map<string, Record<string, unknown>>();
  /** The events table: by `${replica_id}|${event_key}`; an event is written only where none is. */
  readonly events = new Map<string, ReplicaEvent>();

  async loadReplicas(): Promise<Map<string, StoredReplica>> {
    const state = new Map<string, StoredReplica>();
    for (const [id, item] of this.items) {
      const projected: Record<string, unknown> = {};
      for (const name of STORED_REPLICA_PROJECTION) if (item[name] !== undefined) projected[name] = item[name];
      state.set(id, projected as unknown as StoredReplica);
    }
    return state;
  }

  async applyWrites(writes: ReplicaWrite[], options: WriteOptions = {}): Promise<WriteOutcome> {
    const outcome: WriteOutcome = { written: 0, conflicts: [], rejected: [] };
    for (const write of writes) {
      if (options.signal?.aborted) break;
      const taken = write.events.find((event) => this.events.has(`${event.replica_id}|${event.event_key}`));
      if (taken !== undefined) {
        outcome.rejected.push(rejectionOf(write.replicaId, 'event-exists', `its history event "${taken.event_key}" is already stored, and history is never rewritten`));
        continue;
      }
      if (!this.apply(write)) {
        outcome.conflicts.push(write.replicaId);
        continue;
      }
      for (const event of write.events) this.events.set(`${event.replica_id}|${event.event_key}`, event);
      outcome.written += 1;
    }
    return outcome;
  }

  /** One conditional write, as the DynamoDB store's transaction conditions it; false on a conflict. */
  private apply(write: ReplicaWrite): boolean {
    const current = this.items.get(write.replicaId);
    if (write.kind === 'put') {
      const holds = write.expectedVersion === undefined ? current === undefined : current?.version === write.expectedVersion;
      if (holds) this.items.set(write.replicaId, structuredClone(write.item));
      return holds;
    }
    if (current?.version !== write.expectedVersion || current.deleted_at !== undefined) return false;
    const { stuck_since: _cleared, stuck_reason: _reason, ...rest } = current;
    this.items.set(write.replicaId, { ...rest, deleted_at: write.deletedAt, last_changed_at: write.deletedAt, version: write.version });
    return true;
  }
}

export class MemoryRunLedger implements RunLedger {
  /** The lease, while a run holds it. */
  lease?: { holder: string; expiresAt: number };
  readonly records: RunRecord[] = [];

  async acquireLease(runId: string, now: Date, holdMs: number): Promise<LeaseClaim> {
    if (this.lease !== undefined && this.lease.expiresAt >= now.getTime()) {
      return { acquired: false, held: { holder: this.lease.holder, expiresAt: new Date(this.lease.expiresAt), item: 'the lease in memory' } };
    }
    this.lease = { holder: runId, expiresAt: now.getTime() + holdMs };
    return { acquired: true };
  }

  async releaseLease(runId: string): Promise<void> {
    if (this.lease?.holder === runId) this.lease = undefined;
  }

  async recordRun(record: RunRecord): Promise<void> {
    this.records.push(structuredClone(record));
  }
}
