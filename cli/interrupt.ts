/**
 * Ctrl-C (SIGINT) or SIGTERM during a sync: the first stops the run gracefully (no new request or
 * write, the lease released, the run recorded as interrupted), the second exits at once. Both end
 * with exit status 130.
 */

/** The exit status of a run stopped by a signal (128 + SIGINT's 2, as shells report it). */
export const INTERRUPTED_EXIT_CODE = 130;

/**
 * Wrappers (npm, npx, tsx) relay the same Ctrl-C to the process that already got it from the
 * terminal: a repeat this soon is that echo, not a person pressing Ctrl-C again.
 */
const ECHO_WINDOW_MS = 500;

export interface SignalStop {
  /** Aborted by the first SIGINT or SIGTERM, with the signal's name as the reason. */
  signal: AbortSignal;
  /** Stops listening (the run is over). */
  dispose(): void;
}

/**
 * Turns the first SIGINT or SIGTERM into an abort; a later one exits the process at once.
 * @param say where to tell the person what is happening (stderr)
 */
export function stopOnSignals(say: (line: string) => void): SignalStop {
  const controller = new AbortController();
  let firstAt = 0;
  const onSignal = (name: NodeJS.Signals): void => {
    if (!controller.signal.aborted) {
      firstAt = Date.now();
      say(`${name} received: stopping the sync (the lease is released and the run recorded); press Ctrl-C again to quit at once.`);
      controller.abort(name);
      return;
    }
    if (Date.now() - firstAt < ECHO_WINDOW_MS) return;
    say(`${name} received again: quitting at once; the lease expires by itself.`);
    process.exit(INTERRUPTED_EXIT_CODE);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
