import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

/**
 * Reads a DynamoDB table stream on an emulator the way Lambda's event source mapping does, and hands back the
 * records as Lambda delivers them (`eventSourceARN` set, creation time in epoch seconds), so a stream handler can
 * be invoked with exactly what it would get.
 *
 * Each call to `read` returns the records written since the previous call, from every shard (a shard's children
 * after the shard itself). The endpoint is AWS_ENDPOINT_URL_DYNAMODB_STREAMS, else AWS_ENDPOINT_URL_DYNAMODB:
 * DynamoDB Local and LocalStack serve streams where they serve tables.
 *
 * @example
 * const reader = new TableStreamReader(tables.loansStreamArn);
 * await writeSomething();
 * await handler(await reader.readEvent());
 */
/** Reads of one shard refused with TrimmedDataAccessException before the error is passed on. */
const TRIMMED_READ_ATTEMPTS = 5;

export class TableStreamReader {
  private readonly client: DynamoDBStreamsClient;
  /** The last sequence number read from each shard seen so far. */
  private readonly lastRead = new Map<string, string | undefined>();

  public constructor(
    private readonly streamArn: string,
    endpoint = process.env['AWS_ENDPOINT_URL_DYNAMODB_STREAMS'] ?? process.env['AWS_ENDPOINT_URL_DYNAMODB'],
  ) {
    this.client = new DynamoDBStreamsClient(endpoint ? { endpoint } : {});
  }

  /** The records written since the last call, oldest first within each shard. */
  public async read(): Promise<DynamoDBRecord[]> {
    const { StreamDescription } = await this.client.send(new DescribeStreamCommand({ StreamArn: this.streamArn }));
    const records: DynamoDBRecord[] = [];
    for (const shard of StreamDescription?.Shards ?? []) records.push(...(await this.readShard(shard.ShardId as string)));
    return records;
  }

  /** The records written since the last call, as the event Lambda would invoke a stream handler with. */
  public async readEvent(): Promise<DynamoDBStreamEvent> {
    return { Records: await this.read() };
  }

  public close(): void {
    this.client.destroy();
  }

  /**
   * The shard's records since the last one read. DynamoDB Local refuses a TRIM_HORIZON iterator taken from a still
   * empty shard once a record lands before the GetRecords that uses it (TrimmedDataAccessException, seen under load):
   * the shard is read again with a fresh iterator. Retried here, per shard, because `lastRead` of the shards before
   * it has already moved on: retrying the whole `read` would lose their records.
   */
  private async readShard(shardId: string): Promise<DynamoDBRecord[]> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.drainShard(shardId);
      } catch (error) {
        if ((error as Error).name !== 'TrimmedDataAccessException' || attempt === TRIMMED_READ_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  }

  // A fresh iterator per call, after the last record read: DynamoDB Local refuses an iterator kept from an
  // empty read once the shard has grown (TrimmedDataAccessException), and iterators expire anyway. `lastRead` moves
  // only once the shard is drained, so a failed drain repeats nothing and loses nothing.
  private async drainShard(shardId: string): Promise<DynamoDBRecord[]> {
    const after = this.lastRead.get(shardId);
    const { ShardIterator } = await this.client.send(
      new GetShardIteratorCommand({
        StreamArn: this.streamArn,
        ShardId: shardId,
        ...(after ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after } : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    const drained: DynamoDBRecord[] = [];
    // An open shard always hands back a next iterator: it is drained when a read comes back empty.
    for (let iterator = ShardIterator; iterator !== undefined;) {
      const { Records = [], NextShardIterator } = await this.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      if (Records.length === 0) break;
      drained.push(...Records.map((record) => this.asLambdaRecord(record)));
      iterator = NextShardIterator;
    }
    this.lastRead.set(shardId, drained.at(-1)?.dynamodb?.SequenceNumber ?? after);
    return drained;
  }

  private asLambdaRecord(record: StreamRecord): DynamoDBRecord {
    const { ApproximateCreationDateTime, ...dynamodb } = record.dynamodb ?? {};
    return {
      ...(record as Omit<DynamoDBRecord, 'dynamodb'>),
      eventSourceARN: this.streamArn,
      dynamodb: {
        ...(dynamodb as DynamoDBRecord['dynamodb']),
        ...(ApproximateCreationDateTime ? { ApproximateCreationDateTime: Math.floor(ApproximateCreationDateTime.getTime() / 1000) } : {}),
      },
    } as DynamoDBRecord;
  }
}
