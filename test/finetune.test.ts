/** finetune.ts: the classes of `finetune_status` and when an in-progress fine-tune counts as stuck. */
import { describe, expect, it } from 'vitest';
import { finetuneClass, finetuneStuckSince } from '../functions/engine/model/finetune.js';

const HOUR = 3_600_000;
const CHANGED = '2026-03-01T12:00:00.000Z';
const after = (ms: number): Date => new Date(Date.parse(CHANGED) + ms);

describe('finetuneClass', () => {
  it('reads null and absent as no fine-tune', () => {
    expect(finetuneClass(null)).toBe('none');
    expect(finetuneClass(undefined)).toBe('none');
  });

  it('reads completed as done and errored, error, failed as failed', () => {
    expect(finetuneClass('completed')).toBe('done');
    for (const status of ['errored', 'error', 'failed']) expect(finetuneClass(status)).toBe('failed');
  });

  it.each([['queued'], ['training'], ['in_progress'], [''], [' completed'], ['Completed'], ['ERRORED'], ['Failed'], [0], [false], [{ state: 'training' }]])(
    'reads any other value as in progress: %j',
    (status) => {
      expect(finetuneClass(status)).toBe('in_progress');
    },
  );
});

describe('finetuneStuckSince', () => {
  const limit = 12 * HOUR;

  it('is the change time once an in-progress fine-tune is exactly the limit old, and not a millisecond sooner', () => {
    expect(finetuneStuckSince('training', CHANGED, after(limit - 1), limit)).toBeUndefined();
    expect(finetuneStuckSince('training', CHANGED, after(limit), limit)).toBe(CHANGED);
    expect(finetuneStuckSince('training', CHANGED, after(100 * limit), limit)).toBe(CHANGED);
  });

  it('also holds for values it has never heard of', () => {
    expect(finetuneStuckSince('Completed', CHANGED, after(limit), limit)).toBe(CHANGED);
    expect(finetuneStuckSince('uploading-weights', CHANGED, after(limit), limit)).toBe(CHANGED);
  });

  it.each([[null], [undefined], ['completed'], ['errored'], ['error'], ['failed']])(
    'is never set when the fine-tune is not in progress: %j',
    (status) => {
      expect(finetuneStuckSince(status, CHANGED, after(100 * limit), limit)).toBeUndefined();
    },
  );

  it('is never set without a readable change time', () => {
    expect(finetuneStuckSince('training', undefined, after(100 * limit), limit)).toBeUndefined();
    expect(finetuneStuckSince('training', 'yesterday', after(100 * limit), limit)).toBeUndefined();
  });
});
