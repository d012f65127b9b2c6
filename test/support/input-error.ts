import { expect } from 'vitest';
import { InputError } from '../../functions/engine/errors.js';

/** The InputError a call throws; fails the test when it throws nothing or something else. */
export function inputErrorFrom(call: () => unknown): InputError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}
