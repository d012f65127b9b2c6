/**
 * Reads a table's DynamoDB stream from DynamoDB Local with the streams API (DescribeStream,
 * GetShardIterator, GetRecords) and turns each record into what Lambda hands a function: the same
 * fields, with ApproximateCreationDateTime in epoch seconds as Lambda sends it (the SDK gives a Date).
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

/** Every record in every shard, oldest first within a shard. */
export async function readStream(client: DynamoDBClient, table: string): Promise<DynamoDBStreamEvent> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
  const streamArn = Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`The table ${table} has no stream.`);
  const streams = new DynamoDBStreamsClient({ endpoint: await endpointOf(client), region: await client.config.region(), credentials: client.config.credentials });
  try {
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    const records: DynamoDBRecord[] = [];
    for (const shard of StreamDescription?.Shards ?? []) {
      let iterator = (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      // An open shard always hands back a next iterator: stop at the first empty page.
      while (iterator) {
        const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
        if (!page.Records?.length) break;
        records.push(...page.Records.map((record) => lambdaRecord(record, streamArn)));
        iterator = page.NextShardIterator;
      }
    }
    return { Records: records };
  } finally {
    streams.destroy();
  }
}

function lambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const data = record.dynamodb!;
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion,
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ApproximateCreationDateTime: data.ApproximateCreationDateTime ? Math.floor(data.ApproximateCreationDateTime.getTime() / 1000) : undefined,
      Keys: data.Keys as never,
      NewImage: data.NewImage as never,
      SequenceNumber: data.SequenceNumber,
      SizeBytes: data.SizeBytes,
      StreamViewType: data.StreamViewType,
    },
  };
}

async function endpointOf(client: DynamoDBClient): Promise<string> {
  const endpoint = await client.config.endpoint?.();
  if (!endpoint) throw new Error('The DynamoDB client has no explicit endpoint: point it at DynamoDB Local.');
  return `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}${endpoint.path}`;
}
