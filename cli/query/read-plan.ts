/**
 * Filters -> one DynamoDB read. Pure, so which index a filter uses (and so what it costs) is
 * unit-tested without DynamoDB: `--stuck` is a Query of the sparse `stuck` index, `--status` a
 * Query of `by-status` (with the created range in the key condition), anything else a Scan.
 */
import type { QueryCommandInput, ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import { BY_STATUS_INDEX, STUCK_INDEX } from '../../functions/engine/tables.js';
import type { ReplicaFilters } from './filters.js';
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
  const filter: string[] = [];
  const key: string[] = [];
  // The sort key of by-status can carry only one condition: with both bounds it is BETWEEN, which
  // includes the upper bound, so an item created exactly at --created-before is dropped here.
  let dropCreatedAt: string | undefined;

  let index: string | undefined;
  if (filters.stuck) {
    index = STUCK_INDEX;
    key.push(`${expression.name('status')} = ${expression.value('status', filters.status ?? 'started')}`);
  } else if (filters.status !== undefined) {
    index = BY_STATUS_INDEX;
    key.push(`${expression.name('status')} = ${expression.value('status', filters.status)}`);
  }

  const createdRange = index === BY_STATUS_INDEX ? key : filter;
  const createdAt = (): string => expression.name('created_at');
  const { createdAfter: after, createdBefore: before } = filters;
  if (after !== undefined && before !== undefined && index === BY_STATUS_INDEX) {
    createdRange.push(`${createdAt()} BETWEEN ${expression.value('after', after)} AND ${expression.value('before', before)}`);
    dropCreatedAt = before;
  } else {
    if (after !== undefined) createdRange.push(`${createdAt()} >= ${expression.value('after', after)}`);
    if (before !== undefined) createdRange.push(`${createdAt()} < ${expression.value('before', before)}`);
  }

  if (filters.type !== undefined) filter.push(`${expression.name('replica_type')} = ${expression.value('type', filters.type)}`);
  if (filters.lifecycle === 'live') filter.push(`attribute_not_exists(${expression.name('deleted_at')})`);
  if (filters.lifecycle === 'deleted') filter.push(`attribute_exists(${expression.name('deleted_at')})`);

  // DynamoDB's contains() is case-sensitive, so the name is matched here, after the read.
  const name = filters.name;
  const keep = (item: Item): boolean =>
    (dropCreatedAt === undefined || item.created_at !== dropCreatedAt) &&
    (name === undefined || (typeof item.replica_name === 'string' && item.replica_name.toLowerCase().includes(name)));

  const filterExpression = filter.length > 0 ? { FilterExpression: filter.join(' AND ') } : {};
  if (index !== undefined) {
    return {
      operation: 'Query',
      input: { TableName: table, IndexName: index, KeyConditionExpression: key.join(' AND '), ...filterExpression, ...expression.attributes() },
      keep,
      description: `a Query of index ${index}`,
    };
  }
  return {
    operation: 'Scan',
    input: { TableName: table, ...filterExpression, ...expression.attributes() },
    keep,
    description: 'a Scan',
  };
}
