/**
 * How the deployed function names a setting to its operator: the cdk.json context key that sets
 * it at deploy time, with the environment variable the function reads it from. A stop-gap until
 * the settings registry carries each setting's context key.
 */
import type { SettingTerms } from '../engine/errors.js';
import { ENVIRONMENT_VARIABLES, type SettingKey } from '../engine/settings.js';

/** The context keys that differ from the setting's own key (lib/deploy-config.ts maps them). */
const RENAMED_IN_CONTEXT: Partial<Record<SettingKey, string>> = { table: 'replicasTable', maxConcurrency: 'maxApiConcurrency' };

const contextKey = (key: SettingKey): string => RENAMED_IN_CONTEXT[key] ?? key;

export const DEPLOYED_TERMS: SettingTerms = {
  name: (key) => `context key ${contextKey(key)} (${ENVIRONMENT_VARIABLES[key]})`,
  assign: (key, value) => `context key ${contextKey(key)}=${value} (${ENVIRONMENT_VARIABLES[key]}=${value})`,
};
