/**
 * Runs `work` for every item with at most `limit()` in flight, reading the limit afresh before each
 * start so it may change while the work runs; the first failure rejects once the work in flight has
 * settled, and starts nothing more. One small helper serves the walk's adaptive limit and the
 * writes' fixed pool: p-map has no limit that changes mid-run, and p-queue's settable
 * `concurrency` would bring a dependency (and an event emitter) into the Lambda bundle for the
 * same dozen lines.
 */
export async function forEachBounded<T>(
  items: Iterable<T>,
  limit: () => number,
  work: (item: T) => Promise<void>,
  onSuccess?: () => void,
): Promise<void> {
  // Pulled one at a time, never copied: the items may be a long (or lazily ended) sequence.
  const queue = items[Symbol.iterator]();
  let exhausted = false;
  let inFlight = 0;
  let failure: { error: unknown } | undefined;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (!failure && !exhausted && inFlight < limit()) {
        const next = queue.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        inFlight += 1;
        work(next.value).then(
          () => {
            inFlight -= 1;
            onSuccess?.();
            pump();
          },
          (error: unknown) => {
            inFlight -= 1;
            failure ??= { error };
            pump();
          },
        );
      }
      if (inFlight === 0 && (failure || exhausted)) resolve();
    };
    pump();
  });
  if (failure) throw failure.error;
}
