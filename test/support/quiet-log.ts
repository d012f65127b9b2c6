import type { SyncLog } from '../../functions/engine/sync.js';

/** A log that drops every line: for runs whose log a test does not read. */
export const QUIET_LOG: SyncLog = { info: () => {}, warn: () => {}, error: () => {} };
