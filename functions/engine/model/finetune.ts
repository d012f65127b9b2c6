/**
 * Phoenix-4.5's second training phase. `status` turns `completed` once the zero-shot preview is
 * usable; the fine-tune then runs on for hours in `finetune_status` (null until it applies; it ends
 * `completed` or `errored`; Phoenix-3/4 leave it unused).
 *
 * Values are matched exactly, as `status` is: Tavus documents them in lower case, and the contract
 * names them so. An unexpected spelling (`Completed`, `ERRORED`) therefore counts as in progress and,
 * left long enough, raises the stuck alarm: a loud signal that the API changed, where folding case
 * would file it quietly under done or failed on a guess.
 */

/** `none`: no fine-tune (Phoenix-3/4, or not started); `in_progress`: any value but the ends. */
export type FinetuneClass = 'none' | 'in_progress' | 'done' | 'failed';

/** The value of a fine-tune that is done. */
export const FINETUNE_DONE = 'completed';
/** The values of a fine-tune that failed. */
export const FINETUNE_FAILED_VALUES = ['errored', 'error', 'failed'] as const;

const FAILED_STATUSES: ReadonlySet<unknown> = new Set(FINETUNE_FAILED_VALUES);

/** The class of a `finetune_status` as the API sent it (any JSON value, or absent). */
export function finetuneClass(finetuneStatus: unknown): FinetuneClass {
  if (finetuneStatus === null || finetuneStatus === undefined) return 'none';
  if (finetuneStatus === FINETUNE_DONE) return 'done';
  if (FAILED_STATUSES.has(finetuneStatus)) return 'failed';
  return 'in_progress';
}

/**
 * `finetune_status_changed_at` when the fine-tune is in progress and has not changed for at least
 * `finetuneStuckAfterMs`, else undefined: the fine-tune's counterpart of `stuckSinceFor` in plan/plan.ts.
 * An absent or unreadable time is never stuck.
 */
export function finetuneStuckSince(
  finetuneStatus: unknown,
  finetuneStatusChangedAt: string | undefined,
  now: Date,
  finetuneStuckAfterMs: number,
): string | undefined {
  if (finetuneClass(finetuneStatus) !== 'in_progress' || finetuneStatusChangedAt === undefined) return undefined;
  return now.getTime() - Date.parse(finetuneStatusChangedAt) >= finetuneStuckAfterMs ? finetuneStatusChangedAt : undefined;
}
