/**
 * Turns the plain table definitions of functions/engine/contract/tables.ts into TableV2 props: the keys,
 * indexes and TTL `cdk deploy` creates are the ones `--create-tables` creates on a laptop.
 */
import { AttributeType, StreamViewType, type Attribute, type TablePropsV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { KeyAttribute, TableDefinition } from '../functions/engine/contract/tables.js';

export type TableShape = Pick<TablePropsV2, 'tableName' | 'partitionKey' | 'sortKey' | 'globalSecondaryIndexes' | 'timeToLiveAttribute' | 'dynamoStream'>;

export function tableShape(name: string, definition: TableDefinition): TableShape {
  return {
    tableName: name,
    partitionKey: attribute(definition.partitionKey),
    ...(definition.sortKey ? { sortKey: attribute(definition.sortKey) } : {}),
    // Every index projects the whole item (TableV2's default), as createTableInput does.
    globalSecondaryIndexes: definition.globalSecondaryIndexes.map((index) => ({
      indexName: index.indexName,
      partitionKey: attribute(index.partitionKey),
      ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
    })),
    ...(definition.timeToLiveAttribute ? { timeToLiveAttribute: definition.timeToLiveAttribute } : {}),
    ...(definition.stream ? { dynamoStream: StreamViewType[definition.stream] } : {}),
  };
}

function attribute(key: KeyAttribute): Attribute {
  return { name: key.name, type: key.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER };
}
