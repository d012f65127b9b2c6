/**
 * The engine's errors. The engine states facts (which setting, which table, which replica); each
 * edge phrases the fix for its own user through `SettingTerms`: the CLI names its flag, the
 * deployed function names the cdk.json context key and its environment variable. Every error keeps
 * what caused it as `cause`.
 */
import type { SettingKey } from './settings.js';

/** How an edge names a setting to its user. */
export interface SettingTerms {
  /** The setting as this edge's user sets it: `--max-delete-fraction`, `MAX_DELETE_FRACTION`. */
  name(key: SettingKey): string;
  /** How to give it a value: `--max-delete-fraction 1`, `context maxDeleteFraction=1 (MAX_DELETE_FRACTION=1)`. */
  assign(key: SettingKey, value: string): string;
}

/** Bad input from a person (a flag, an environment value, a context key): exit status 2. */
export class InputError extends Error {
  override name = 'InputError';
  constructor(
    message: string,
    /** The setting at fault, when one is. */
    readonly setting?: SettingKey,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
