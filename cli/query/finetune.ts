/**
 * Phoenix-4.5's second phase as the analysts' tools read it. `status` turns `completed` after the
 * zero-shot preview; the fine-tune runs on in `finetune_status`, classed as the contract says:
 * null or absent = none, `completed` = done, `errored` / `error` / `failed` = failed, anything else
 * = in progress.
 */
import { finetuneClass } from '../../functions/engine/model/finetune.js';
import type { HistoryEntry } from './history.js';

/** The classes are the engine's: what the sync alarms on is what the analysts count. */
export { finetuneClass, type FinetuneClass } from '../../functions/engine/model/finetune.js';

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
    if (!anyChangeYet && startedAt === undefined && finetuneClass(entry.from) === 'in_progress') startedAt = firstSeen;
    anyChangeYet = true;
    const to = finetuneClass(entry.to);
    if (to === 'in_progress') {
      startedAt ??= entry.at;
    } else if ((to === 'done' || to === 'failed') && startedAt !== undefined) {
      const outcome = to === 'done' ? 'completed' : 'failed';
      cycles.push({ started_at: startedAt, finished_at: entry.at, outcome, duration_ms: Date.parse(entry.at) - Date.parse(startedAt) });
      startedAt = undefined;
    } else {
      startedAt = undefined;
    }
  }
  return { cycles, ...(startedAt === undefined ? {} : { runningSince: startedAt }) };
}
