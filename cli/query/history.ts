import type { EventType } from '../../functions/engine/model/events.js';
import type { Item } from './types.js';

/** One line of a replica's story, as the contract prints it. */
export interface HistoryEntry {
  replica_id: string;
  at: string;
  type: EventType;
  from: string | null;
  to: string | null;
  run_id: string;
}

/**
 * Within one change (one item version) the events share `at`; the sort key orders them by type
 * name, this orders them as the change reads: back from deletion, then what changed, then the flag
 * (a stall that restarts, for another reason or from another moment, ends before the new one begins).
 */
const ORDER_WITHIN_CHANGE: Record<EventType, number> = {
  created: 0,
  restored: 1,
  deleted: 2,
  status_changed: 3,
  progress_changed: 4,
  finetune_changed: 5,
  renamed: 6,
  unstuck: 7,
  stuck: 8,
};

/**
 * Stored events -> the history, oldest first: by item version, then as above. With
 * `replicasTable`, only that table's history: an event key names its replicas table after the
 * type (two replicas tables may share one events table); a key without one predates that and stays.
 */
export function toHistory(events: Item[], replicasTable?: string): HistoryEntry[] {
  const version = (event: Item): string => String(event.event_key ?? '').split('#')[0] ?? '';
  const rank = (event: Item): number => ORDER_WITHIN_CHANGE[event.type as EventType] ?? 99;
  const owner = (event: Item): string | undefined => String(event.event_key ?? '').split('#')[2];
  return events
    .filter((event) => replicasTable === undefined || (owner(event) ?? replicasTable) === replicasTable)
    .sort((a, b) => version(a).localeCompare(version(b)) || rank(a) - rank(b))
    .map((event) => ({
      replica_id: String(event.replica_id),
      at: String(event.at),
      type: event.type as EventType,
      from: typeof event.from === 'string' ? event.from : null,
      to: typeof event.to === 'string' ? event.to : null,
      run_id: String(event.run_id),
    }));
}
