import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { TableStreamReader } from '../../src';

// The reader against a scripted stream (no emulator): DynamoDB Local's TrimmedDataAccessException comes under load
// only, so it is played here. Iterators are `<shard>|<last sequence read>`.

const STREAM = 'arn:aws:dynamodb:eu-west-1:000000000000:table/alma-cache-stg-loans/stream/2026-12-01T00:00:00.000';

const trimmedError = () =>
  Object.assign(new Error('The operation attempted to read past the oldest stream record in a shard.'), { name: 'TrimmedDataAccessException' });

/** Two shards holding the given sequence numbers; `refuse` answers a GetRecords of a shard with an error instead. */
const scriptedStream = (shards: Record<string, number[]>, refuse: (shard: string) => Error | undefined) => {
  const iteratorsTaken: string[] = [];
  const answer = async (command: unknown): Promise<unknown> => {
    if (command instanceof DescribeStreamCommand) return { StreamDescription: { Shards: Object.keys(shards).map((ShardId) => ({ ShardId })) } };
    if (command instanceof GetShardIteratorCommand) {
      const { ShardId, SequenceNumber } = command.input;
      iteratorsTaken.push(ShardId!);
      return { ShardIterator: `${ShardId}|${SequenceNumber ?? 0}` };
    }
    if (command instanceof GetRecordsCommand) {
      const [shard, after] = command.input.ShardIterator!.split('|') as [string, string];
      const refusal = refuse(shard);
      if (refusal) throw refusal;
      const records = shards[shard]!.filter((sequence) => sequence > Number(after));
      return {
        Records: records.map((sequence) => ({ eventName: 'INSERT', dynamodb: { SequenceNumber: String(sequence) } })),
        NextShardIterator: `${shard}|${records.at(-1) ?? after}`,
      };
    }
    throw new Error(`unexpected command ${String(command)}`);
  };
  // send is typed with its callback overloads too; the reader only ever awaits it.
  jest.spyOn(DynamoDBStreamsClient.prototype, 'send').mockImplementation(answer as never);
  return { iteratorsTaken };
};

const sequencesOf = (records: { dynamodb?: { SequenceNumber?: string } }[]) => records.map((record) => Number(record.dynamodb?.SequenceNumber));

describe('Class: TableStreamReader', () => {
  afterEach(() => jest.restoreAllMocks());

  it('reads a refused shard again with a fresh iterator, keeping the records of the shards read before it', async () => {
    // Prepare: DynamoDB Local refuses the second shard twice, after the first shard was read
    const shards = { s1: [1], s2: [2] };
    let refusals = 2;
    const { iteratorsTaken } = scriptedStream(shards, (shard) => (shard === 's2' && refusals-- > 0 ? trimmedError() : undefined));
    const reader = new TableStreamReader(STREAM, 'http://127.0.0.1:1');

    // Act
    const first = await reader.read();
    shards.s1.push(3);
    const second = await reader.read();
    reader.close();

    // Assess: nothing lost, nothing repeated
    expect(sequencesOf(first)).toEqual([1, 2]);
    expect(sequencesOf(second)).toEqual([3]);
    expect(iteratorsTaken).toEqual(['s1', 's2', 's2', 's2', 's1', 's2']);
    expect(first.every((record) => record.eventSourceARN === STREAM)).toBe(true);
  });

  it('passes on TrimmedDataAccessException after 5 reads of the shard, and any other error at once', async () => {
    // Prepare
    let error: Error = trimmedError();
    const { iteratorsTaken } = scriptedStream({ s1: [1] }, () => error);
    const reader = new TableStreamReader(STREAM, 'http://127.0.0.1:1');

    // Act
    const trimmed = reader.read();
    await expect(trimmed).rejects.toMatchObject({ name: 'TrimmedDataAccessException' });
    const readsOfTrimmed = iteratorsTaken.length;
    error = new Error('connection refused');
    const refused = reader.read();
    await expect(refused).rejects.toThrow('connection refused');
    reader.close();

    // Assess
    expect(readsOfTrimmed).toBe(5);
    expect(iteratorsTaken).toHaveLength(6);
  });
});
