/** The run summary: what a run tells the terminal, the metrics, the run record and outside checks. */
import type { AttentionEntry } from './events.js';

export type RunStatus = 'succeeded' | 'failed' | 'skipped';

/** The run summary of the contract, plus a few figures the metrics and the benchmark read. */
export interface RunSummary {
  run_id: string;
  status: RunStatus;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  pages: number;
  fetched: number;
  created: number;
  updated: number;
  unchanged: number;
  restored: number;
  deleted: number;
  stuck: number;
  /** Replicas DynamoDB cannot store: skipped, their stored copies as they were (counted unchanged). */
  rejected: number;
  retries: number;
  /** A human sentence, when not succeeded. */
  error?: string;
  /** Replica items written (created, updated, restored, deleted, or stuck flags changed). */
  written: number;
  /** Live replicas in scope whose status is `error`, and those that turned `error` in this run. */
  in_error: number;
  newly_in_error: number;
  /** Live replicas in scope whose Phoenix-4.5 fine-tune failed (their preview stays usable: not in error). */
  finetune_failed: number;
  /** Replicas that newly need a person after this run (stuck, turned error, fine-tune failed). */
  attention: AttentionEntry[];
  /** Something a person should know though the run succeeded (deletions deferred, say). */
  warnings: string[];
}
