/**
 * How an edge names a setting to its user. The engine states facts (which setting); each edge
 * phrases the fix: the CLI names its flag, the deployed function its cdk.json context key.
 */
import { ENVIRONMENT_VARIABLES, settingSpec, type SettingKey } from './registry.js';

/** How an edge names a setting to its user. */
export interface SettingTerms {
  /** The setting as this edge's user sets it: `--max-delete-fraction`, `MAX_DELETE_FRACTION`. */
  name(key: SettingKey): string;
  /** How to give it a value: `--max-delete-fraction 1`, `context maxDeleteFraction=1 (MAX_DELETE_FRACTION=1)`. */
  assign(key: SettingKey, value: string): string;
}

/** Settings named as environment variables: the engine's neutral default. */
export const ENVIRONMENT_TERMS: SettingTerms = {
  name: (key) => ENVIRONMENT_VARIABLES[key],
  assign: (key, value) => `${ENVIRONMENT_VARIABLES[key]}=${value}`,
};

/** The deployed function: the operator sets cdk.json context, which reaches the function as its variable. */
export const DEPLOYED_TERMS: SettingTerms = {
  name(key) {
    const { context, variable } = settingSpec(key);
    return context === undefined ? variable : `context key ${context} (${variable})`;
  },
  assign(key, value) {
    const { context, variable } = settingSpec(key);
    return context === undefined ? `${variable}=${value} on the function` : `-c ${context}=${value} (or ${variable}=${value} on the function)`;
  },
};
