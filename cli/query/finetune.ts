/**
 * Phoenix-4.5's second phase as the analysts' tools read it. `status` turns `completed` after the
 * zero-shot preview; the fine-tune runs on in `finetune_status`, classed as the contract says:
 * null or absent = none, `completed` = done, `errored` / `error` / `failed` = failed, anything else
 * = in progress.
 */
import type { HistoryEntry } from './history.js';

export const FINETUNE_COMPLETED = 'completed';
export const FINETUNE_FAILED = ['errored', 'error', 'failed'] as const;

export type FinetuneClass = 'none' | 'in-progress' | 'completed' | 'failed';

export function finetuneClass(value: unknown): FinetuneClass {
  if (typeof value !== 'string') return 'none';
  if (value === FINETUNE_COMPLETED) return 'completed';
  return (FINETUNE_FAILED as readonly string[]).includes(value) ? 'failed' : 'in-progress';
}

export interface FinetuneCycle {
  started_at: string;
  finished_at: string;
  outcome: 'completed' | 'failed';
  duration_ms: number;
}

/**
 * Each fine-tune the history shows from start to end: from the first `finetune_changed` event into
 * an in-progress value to the one into completed or failed. A fine-tune already running when the
 * sync first saw the replica (its first change comes *from* an in-progress value) starts at the
 * replica's `created` event; without one its start is unknown and it adds no duration.
 * `runningSince`: when the fine-tune still running at the end of the history began, if it shows.
 */
export function finetuneCycles(history: HistoryEntry[]): { cycles: FinetuneCycle[]; runningSince?: string } {
  const cycles: FinetuneCycle[] = [];
  const firstSeen = history.find((entry) => entry.type === 'created')?.at;
  let startedAt: string | undefined;
  let anyChangeYet = false;
  for (const entry of history) {
    if (entry.type !== 'finetune_changed') continue;
    if (!anyChangeYet && startedAt === undefined && finetuneClass(entry.from) === 'in-progress') startedAt = firstSeen;
    anyChangeYet = true;
    const to = finetuneClass(entry.to);
    if (to === 'in-progress') {
      startedAt ??= entry.at;
    } else if ((to === 'completed' || to === 'failed') && startedAt !== undefined) {
      cycles.push({ started_at: startedAt, finished_at: entry.at, outcome: to, duration_ms: Date.parse(entry.at) - Date.parse(startedAt) });
      startedAt = undefined;
    } else {
      startedAt = undefined;
    }
  }
  return { cycles, ...(startedAt === undefined ? {} : { runningSince: startedAt }) };
}
