/**
 * What the engine needs of an API that lists replicas: a page at a time, and a lookup by id. The
 * engine walks any `PageSource` (the Tavus API, or a fake built from plain data in tests); the
 * source owns its HTTP, retry and validation.
 */
import type { ApiRow, ReplicaType } from '../model/replica.js';

/** One page of the list, validated: its rows and the list's total_count at that moment. */
export interface ReplicaPage {
  rows: ApiRow[];
  totalCount: number;
}

/** A repeated attempt, as the source reports it. */
export interface RetryInfo {
  /** What failed: an HTTP status, or a network/timeout description. */
  reason: string;
  status?: number;
  /** The attempt that failed, from 1. */
  attempt: number;
  delayMs: number;
}

/**
 * How the caller bounds and watches one request (a page, or a whole lookup). The seam for what a
 * run imposes on every request: its deadline, its retry bookkeeping, its abort signal.
 */
export interface PageRequest {
  /** Epoch ms after which no attempt starts and no backoff sleeps: the walk's time budget. */
  deadline?: number;
  /** Called before each repeated attempt. */
  onRetry?: (retry: RetryInfo) => void;
  /** Once aborted, no attempt starts, no backoff sleeps, and a request in flight is cancelled. */
  signal?: AbortSignal;
}

export interface PageSource {
  /** One page of the list; `page` starts at 1. */
  listPage(page: number, replicaType?: ReplicaType, request?: PageRequest): Promise<ReplicaPage>;
  /** The replicas among `ids` that still exist; fails rather than confirm from a partial answer. */
  lookup(ids: string[], request?: PageRequest): Promise<ApiRow[]>;
}
