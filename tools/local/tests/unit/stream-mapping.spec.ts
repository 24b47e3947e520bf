import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describeStreamDelivery, LocalStreamMapping, type LocalStreamMappingOptions } from '../../stream-mapping';

// How `npm start` plays Lambda's stream event source mapping for change-lambdas: batches, partial failures, retries
// and giving up. The stream and the function are stand-ins here; start.spec.ts runs the real ones.

const STREAM = 'arn:aws:dynamodb:eu-west-1:000000000000:table/alma-cache-stg-loans/stream/2026-12-01T00:00:00.000';
const record = (sequence: number): DynamoDBRecord => ({
  eventName: 'INSERT',
  dynamodb: { SequenceNumber: String(sequence), ApproximateCreationDateTime: 1_796_000_000 },
});
const sequences = (event: DynamoDBStreamEvent) => event.Records.map((r) => Number(r.dynamodb?.SequenceNumber));

/** A stream whose next reads return the given records, then nothing. */
class ScriptedStream {
  public reads = 0;
  public constructor(private readonly script: (DynamoDBRecord[] | Error)[]) {}
  public async read(): Promise<DynamoDBRecord[]> {
    const next = this.script[this.reads++] ?? [];
    if (next instanceof Error) throw next;
    return next;
  }
}

const mappingOf = (
  stream: ScriptedStream,
  respond: (event: DynamoDBStreamEvent) => DynamoDBBatchResponse | Error,
  overrides: Partial<LocalStreamMappingOptions> = {},
) => {
  const batches: number[][] = [];
  const givenUp: { sequences: number[]; invocations: number }[] = [];
  const mapping = new LocalStreamMapping(stream, {
    functionName: 'publish-changes',
    streamArn: STREAM,
    batchSize: 100,
    maximumRetryAttempts: 2,
    invoke: async (event) => {
      batches.push(sequences(event));
      const answer = respond(event);
      if (answer instanceof Error) throw answer;
      return answer;
    },
    giveUp: async (records, invocations) => {
      givenUp.push({ sequences: records.map((r) => Number(r.dynamodb?.SequenceNumber)), invocations });
    },
    ...overrides,
  });
  return { mapping, batches, givenUp };
};
const ok = (): DynamoDBBatchResponse => ({ batchItemFailures: [] });

describe('Class: LocalStreamMapping', () => {
  it('hands what the stream holds to the function in batches of batchSize, and nothing when the stream is quiet', async () => {
    // Prepare
    const { mapping, batches } = mappingOf(new ScriptedStream([[1, 2, 3].map(record)]), ok, { batchSize: 2 });

    // Act
    const first = await mapping.poll();
    const second = await mapping.poll();
    const quiet = await mapping.poll();

    // Assess
    expect(batches).toEqual([[1, 2], [3]]);
    expect(first).toEqual({ functionName: 'publish-changes', table: 'alma-cache-stg-loans', received: 2, failed: 0, gaveUp: 0 });
    expect(second).toMatchObject({ received: 1, failed: 0 });
    expect(quiet).toBeUndefined();
    expect(mapping.owed).toBe(0);
  });

  it('hands the batch over again from the first record the function reports failed, with what arrived meanwhile behind it', async () => {
    // Prepare: record 2 fails once
    let failing = true;
    const { mapping, batches } = mappingOf(new ScriptedStream([[1, 2, 3].map(record), [record(4)]]), () => {
      const answer = failing ? { batchItemFailures: [{ itemIdentifier: '2' }, { itemIdentifier: '3' }] } : ok();
      failing = false;
      return answer;
    });

    // Act
    const failed = await mapping.poll();
    const retried = await mapping.poll();

    // Assess
    expect(failed).toMatchObject({ received: 3, failed: 2, gaveUp: 0 });
    expect(retried).toMatchObject({ received: 3, failed: 0 });
    expect(batches).toEqual([
      [1, 2, 3],
      [2, 3, 4],
    ]);
    expect(mapping.owed).toBe(0);
  });

  it('retries the whole batch when the function throws, and when it reports an identifier that is none of its records', async () => {
    // Prepare
    const answers: (DynamoDBBatchResponse | Error)[] = [new Error('SNS is down'), { batchItemFailures: [{ itemIdentifier: 'not-a-record' }] }, ok()];
    const { mapping, batches } = mappingOf(new ScriptedStream([[1, 2].map(record)]), () => answers.shift()!, { maximumRetryAttempts: 5 });

    // Act
    const thrown = await mapping.poll();
    const unknown = await mapping.poll();
    const done = await mapping.poll();

    // Assess
    expect(thrown).toMatchObject({ failed: 2, error: 'SNS is down' });
    expect(describeStreamDelivery(thrown!)).toBe('alma-cache-stg-loans stream → publish-changes: 2 record(s), 2 failed (SNS is down)');
    expect(unknown).toMatchObject({ failed: 2 });
    expect(done).toMatchObject({ failed: 0 });
    expect(batches).toEqual([
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
  });

  it('gives up on the failed records after the retries, tells the on-failure destination how often it tried, and moves on', async () => {
    // Prepare: record 2 always fails; 2 retries allowed, so 3 invocations
    const { mapping, batches, givenUp } = mappingOf(new ScriptedStream([[1, 2].map(record), [], [], [record(3)]]), (event) => ({
      batchItemFailures: event.Records.filter((r) => r.dynamodb?.SequenceNumber === '2').map(() => ({ itemIdentifier: '2' })),
    }));

    // Act
    const polls = [await mapping.poll(), await mapping.poll(), await mapping.poll(), await mapping.poll()];

    // Assess
    expect(polls.map((poll) => poll && { failed: poll.failed, gaveUp: poll.gaveUp })).toEqual([
      { failed: 1, gaveUp: 0 },
      { failed: 1, gaveUp: 0 },
      { failed: 1, gaveUp: 1 },
      { failed: 0, gaveUp: 0 },
    ]);
    expect(givenUp).toEqual([{ sequences: [2], invocations: 3 }]);
    expect(batches).toEqual([[1, 2], [2], [2], [3]]);
    expect(describeStreamDelivery(polls[2]!)).toBe(
      'alma-cache-stg-loans stream → publish-changes: 1 record(s), 1 failed, 1 given up on (failure queue)',
    );
  });

  it('fails a poll whose read fails, without invoking, and reads again at the next poll', async () => {
    // Prepare: the reader retries DynamoDB Local's TrimmedDataAccessException itself; what reaches the mapping is final
    const stream = new ScriptedStream([new Error('connection refused'), [record(1)]]);
    const { mapping, batches } = mappingOf(stream, ok);

    // Act
    const failed = mapping.poll();
    await expect(failed).rejects.toThrow('connection refused');
    const delivered = await mapping.poll();

    // Assess: a failed poll does not stop the next one
    expect(delivered).toMatchObject({ received: 1, failed: 0 });
    expect(batches).toEqual([[1]]);
    expect(stream.reads).toBe(2);
    await expect(mapping.poll()).resolves.toBeUndefined();
  });

  it('never runs two polls at once, as Lambda runs one batch at a time per shard', async () => {
    // Prepare
    let running = 0;
    let most = 0;
    const { mapping } = mappingOf(new ScriptedStream([[record(1)], [record(2)], [record(3)]]), ok, {
      invoke: async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 20));
        running -= 1;
        return ok();
      },
    });

    // Act
    const deliveries = await Promise.all([mapping.poll(), mapping.poll(), mapping.poll()]);

    // Assess
    expect(most).toBe(1);
    expect(deliveries.map((delivery) => delivery?.received)).toEqual([1, 1, 1]);
  });
});
