/**
 * Filters -> one DynamoDB read. Pure, so which index a filter uses (and so what it costs) is
 * unit-tested without DynamoDB: `--stuck` reads the sparse `stuck` index (a Scan of it, since it
 * holds only stuck replicas, whatever their status: a training stall is `started`, a fine-tune
 * stall `completed`; a Query of it with `--status`), `--status` a Query of `by-status` (with the
 * created range in the key condition), anything else a Scan of the table.
 */
import type { QueryCommandInput, ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import { BY_STATUS_INDEX, STUCK_INDEX } from '../../functions/engine/contract/tables.js';
import { FINETUNE_DONE, FINETUNE_FAILED_VALUES } from '../../functions/engine/model/finetune.js';
import type { FinetuneFilter, ReplicaFilters } from './filters.js';
import type { Item } from './types.js';

export type ReadPlan =
  | { operation: 'Query'; input: QueryCommandInput; keep: (item: Item) => boolean; description: string }
  | { operation: 'Scan'; input: ScanCommandInput; keep: (item: Item) => boolean; description: string };

/** Builds an expression from conditions, naming every attribute (`status` is a reserved word). */
class Expression {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};

  name(attribute: string): string {
    const placeholder = `#${attribute}`;
    this.names[placeholder] = attribute;
    return placeholder;
  }

  value(key: string, value: unknown): string {
    const placeholder = `:${key}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  /** The parts of the input that exist: DynamoDB rejects empty name or value maps. */
  attributes(): Pick<QueryCommandInput, 'ExpressionAttributeNames' | 'ExpressionAttributeValues'> {
    return {
      ...(Object.keys(this.names).length > 0 ? { ExpressionAttributeNames: this.names } : {}),
      ...(Object.keys(this.values).length > 0 ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}

export function planReplicaRead(filters: ReplicaFilters, table: string): ReadPlan {
  const expression = new Expression();
  const index = filters.stuck ? STUCK_INDEX : filters.status !== undefined ? BY_STATUS_INDEX : undefined;
  const key: string[] = [];
  if (filters.status !== undefined) key.push(`${expression.name('status')} = ${expression.value('status', filters.status)}`);
  const filter: string[] = [];
  // by-status sorts by created_at, so the created range narrows its key; elsewhere it filters.
  const created = createdRange(filters, expression, index === BY_STATUS_INDEX);
  (index === BY_STATUS_INDEX ? key : filter).push(...created.conditions);
  if (filters.type !== undefined) filter.push(`${expression.name('replica_type')} = ${expression.value('type', filters.type)}`);
  if (filters.finetune !== undefined) filter.push(finetuneCondition(filters.finetune, expression));
  if (filters.lifecycle === 'live') filter.push(`attribute_not_exists(${expression.name('deleted_at')})`);
  if (filters.lifecycle === 'deleted') filter.push(`attribute_exists(${expression.name('deleted_at')})`);

  // DynamoDB's contains() is case-sensitive, so the name is matched here, after the read.
  const { name } = filters;
  const keep = (item: Item): boolean =>
    (created.dropExactly === undefined || item.created_at !== created.dropExactly) &&
    (name === undefined || (typeof item.replica_name === 'string' && item.replica_name.toLowerCase().includes(name)));

  const where = {
    TableName: table,
    ...(index === undefined ? {} : { IndexName: index }),
    ...(filter.length > 0 ? { FilterExpression: filter.join(' AND ') } : {}),
  };
  if (key.length > 0) {
    return {
      operation: 'Query',
      input: { ...where, KeyConditionExpression: key.join(' AND '), ...expression.attributes() },
      keep,
      description: `a Query of index ${index}`,
    };
  }
  return { operation: 'Scan', input: { ...where, ...expression.attributes() }, keep, description: index === undefined ? 'a Scan' : `a Scan of index ${index}` };
}

/**
 * The `created_at` conditions. A sort key carries only one condition: with both bounds it is
 * BETWEEN, which includes the upper bound, so an item created exactly at --created-before is
 * dropped after the read (`dropExactly`).
 */
function createdRange(filters: ReplicaFilters, expression: Expression, inKey: boolean): { conditions: string[]; dropExactly?: string } {
  const createdAt = (): string => expression.name('created_at');
  const { createdAfter: after, createdBefore: before } = filters;
  if (after !== undefined && before !== undefined && inKey) {
    return { conditions: [`${createdAt()} BETWEEN ${expression.value('after', after)} AND ${expression.value('before', before)}`], dropExactly: before };
  }
  const conditions: string[] = [];
  if (after !== undefined) conditions.push(`${createdAt()} >= ${expression.value('after', after)}`);
  if (before !== undefined) conditions.push(`${createdAt()} < ${expression.value('before', before)}`);
  return { conditions };
}

/** A raw `finetune_status`, or a class: failed is any failed value; in progress is any other string. */
function finetuneCondition(finetune: FinetuneFilter, expression: Expression): string {
  const attribute = expression.name('finetune_status');
  if ('value' in finetune) return `${attribute} = ${expression.value('finetune', finetune.value)}`;
  const failed = FINETUNE_FAILED_VALUES.map((value) => expression.value(`finetune_${value}`, value)).join(', ');
  if (finetune.class === 'failed') return `${attribute} IN (${failed})`;
  // attribute_type is false for an absent attribute and for a stored null: neither is a fine-tune.
  const done = expression.value('finetune_completed', FINETUNE_DONE);
  return `attribute_type(${attribute}, ${expression.value('string_type', 'S')}) AND NOT ${attribute} IN (${done}, ${failed})`;
}
