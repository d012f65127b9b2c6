/**
 * What a run record (and the Lambda's log line and return value) keeps of a summary: the lists
 * cut to their first entries, with their full lengths beside them. A first sync with thousands of
 * replicas in error would otherwise outgrow DynamoDB's 400 KB item limit for the record. The
 * CLI's --json summary stays whole.
 */
import type { RunSummary } from '../model/summary.js';

/** Entries of `attention` and `warnings` a record keeps. */
export const RECORD_LIST_LIMIT = 100;

export type RecordedSummary = Omit<RunSummary, 'attention' | 'warnings'> & {
  attention: RunSummary['attention'];
  warnings: string[];
  /** Present when `attention` was cut: how many entries the run had. */
  attention_total?: number;
  /** Present when `warnings` was cut: how many the run had. */
  warnings_total?: number;
};

/** The summary with `attention` and `warnings` cut to `RECORD_LIST_LIMIT` entries each. */
export function recordOf(summary: RunSummary, limit = RECORD_LIST_LIMIT): RecordedSummary {
  const record: RecordedSummary = { ...summary, attention: summary.attention.slice(0, limit), warnings: summary.warnings.slice(0, limit) };
  if (summary.attention.length > limit) record.attention_total = summary.attention.length;
  if (summary.warnings.length > limit) record.warnings_total = summary.warnings.length;
  return record;
}
