/**
 * A run stopped from outside (Ctrl-C, SIGTERM, a Lambda about to time out): the edge aborts the
 * run's AbortSignal with a reason; the engine starts no new request or write, lets those in flight
 * settle, releases the lease and records the run as failed with the sentence built here.
 */

/** Where the run was when it stopped: what the sentence can promise depends on it. */
export type RunPhase = 'start' | 'walk' | 'confirm' | 'writes' | 'deletions';

/** Thrown between steps once the run's signal is aborted. */
export class SyncInterrupted extends Error {
  override name = 'SyncInterrupted';
}

/** Throws `SyncInterrupted` when the run's signal is aborted, so no further step starts. */
export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SyncInterrupted(`The sync was interrupted (${reasonOf(signal)}).`, { cause: signal.reason });
}

/** What the edge said when it aborted: a string, or an Error's message. */
export function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (typeof reason === 'string') return reason;
  return reason instanceof Error ? reason.message : 'aborted';
}

/** The run record's error for a run stopped in `phase`, having written `written` replicas. */
export function interruptedSentence(signal: AbortSignal, phase: RunPhase, written: number): string {
  const head = `The sync was interrupted (${reasonOf(signal)})`;
  if (phase === 'start' || phase === 'walk' || phase === 'confirm') {
    return `${head} before writing anything: no replica was written or marked deleted, and the next run starts over.`;
  }
  const landed = `${written} replica item(s) were written, each whole with its history`;
  if (phase === 'writes') return `${head} while writing: ${landed}, and no replica was marked deleted; the next run writes the rest.`;
  return `${head} while marking deletions: ${landed}; the next run confirms the remaining deletions again.`;
}
