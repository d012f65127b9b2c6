import { InputError } from '../../functions/engine/errors.js';
import type { ReplicaType } from '../../functions/engine/model/replica.js';
import { parseReplicaType } from '../../functions/engine/settings/parsers.js';

/** The class words `--finetune` accepts besides raw values; `completed` is both a class and a value. */
export const FINETUNE_CLASS_WORDS = ['in-progress', 'failed'] as const;

/** `--finetune`: a stored `finetune_status` as it is, or one of the classes that gather several. */
export type FinetuneFilter = { value: string } | { class: (typeof FINETUNE_CLASS_WORDS)[number] };

/** What an analyst asked for, validated: the input of `planReplicaRead`. */
export interface ReplicaFilters {
  status?: string;
  type?: ReplicaType;
  stuck: boolean;
  /** `live` by default; `--deleted` only deleted ones; `--all` both. */
  lifecycle: 'live' | 'deleted' | 'all';
  /** Inclusive lower bound on `created_at`, as comparable text (see `parseDateBound`). */
  createdAfter?: string;
  /** Exclusive upper bound on `created_at`. */
  createdBefore?: string;
  /** Case-insensitive substring of `replica_name`, already lower-cased. */
  name?: string;
  finetune?: FinetuneFilter;
}

/** The filter flags as node:util parseArgs hands them over. */
export interface FilterFlagValues {
  status?: string;
  type?: string;
  stuck?: boolean;
  deleted?: boolean;
  all?: boolean;
  'created-after'?: string;
  'created-before'?: string;
  name?: string;
  finetune?: string;
}

export function parseFilters(values: FilterFlagValues): ReplicaFilters {
  if (values.deleted && values.all) {
    throw new InputError('--deleted lists only deleted replicas and --all lists live and deleted ones: pass one of them.');
  }
  const filters: ReplicaFilters = {
    stuck: values.stuck ?? false,
    lifecycle: values.deleted ? 'deleted' : values.all ? 'all' : 'live',
  };
  if (values.status !== undefined) {
    const status = values.status.trim();
    if (!status) throw new InputError('--status needs a status, like --status error (started, completed, error, ...).');
    filters.status = status;
  }
  if (values.type !== undefined) {
    filters.type = parseReplicaType(values.type, '--type');
  }
  if (values['created-after'] !== undefined) filters.createdAfter = parseDateBound(values['created-after'], '--created-after');
  if (values['created-before'] !== undefined) filters.createdBefore = parseDateBound(values['created-before'], '--created-before');
  if (filters.createdAfter !== undefined && filters.createdBefore !== undefined && filters.createdAfter >= filters.createdBefore) {
    throw new InputError(
      `--created-after ${values['created-after']} is not earlier than --created-before ${values['created-before']}, so nothing can match: swap or widen them.`,
    );
  }
  if (values.name !== undefined) {
    if (!values.name.trim()) throw new InputError('--name needs some text to look for in replica names, like --name studio.');
    filters.name = values.name.toLowerCase();
  }
  if (values.finetune !== undefined) filters.finetune = parseFinetune(values.finetune);
  return filters;
}

function parseFinetune(text: string): FinetuneFilter {
  const value = text.trim();
  if (!value) {
    throw new InputError('--finetune needs a fine-tune status, like --finetune in-progress (or failed, completed, or a raw value such as training).');
  }
  return (FINETUNE_CLASS_WORDS as readonly string[]).includes(value) ? { class: value as (typeof FINETUNE_CLASS_WORDS)[number] } : { value };
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * A date bound as text that compares correctly with the stored `created_at` (ISO 8601 text, which
 * DynamoDB compares as strings). A bare date stays a bare date: "2024-05-01" sorts before every
 * time of that day, whatever separator or precision the API uses after it. A time becomes
 * `toISOString()` form, read as UTC when it names no offset.
 */
export function parseDateBound(text: string, flag: string): string {
  const value = text.trim();
  const match = DATE_TIME.exec(value);
  if (match && isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]))) {
    const [, year, month, day, time, zone] = match;
    if (time === undefined) return value;
    const parsed = new Date(`${year}-${month}-${day}T${time}${zone ?? 'Z'}`);
    if (!Number.isNaN(parsed.getTime())) return parsed.toISOString();
  }
  throw new InputError(
    `${flag} must be a date like 2024-05-01 or a time like 2024-05-01T09:30:00Z (UTC unless it says otherwise), not "${text}".`,
  );
}

/** Date.parse rolls 2024-02-30 over into March; an analyst who typed it made a mistake. */
function isCalendarDate(year: number, month: number, day: number): boolean {
  const parsed = new Date(Date.UTC(year, month - 1, day));
  return parsed.getUTCFullYear() === year && parsed.getUTCMonth() === month - 1 && parsed.getUTCDate() === day;
}
