import { createDocumentClient, createSqsClient } from '@alma-cache/aws-adapters';
import { createCacheTables, createQueue } from '@alma-cache/aws-adapters/testing';
import { almaWebhookMessage } from '@alma-cache/cache-domain/testing';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { scanAll } from './support/cache-snapshot';
import { drainQueue, functionEnv, snsLambdas } from './support/lambda-harness';
import { POISON_CASES } from './support/poison-cases';

type LoggedFields = { errorType?: string; reason?: string; error?: Error; parkedMessageId?: string; parkError?: Error };

// Each function reads its queue; the topics deliver the body raw, so every case is a body, refused by the use case and
// parked on the function queue's DLQ at once, its body unchanged and its reason as message attributes.
describe('Faults: poison catalogue', () => {
  const client = createDocumentClient();
  const sqs = createSqsClient();
  let lambdas: ReturnType<typeof snsLambdas>;
  let tables: Awaited<ReturnType<typeof createCacheTables>>;
  let userQueueUrl: string;
  let deadLetterQueueUrl: string;
  const logged: LoggedFields[] = [];
  const outcomes: string[] = [];

  /** Everything the functions can write: the four tables. */
  const everything = async () => ({
    users: await scanAll(client, tables.users),
    loans: await scanAll(client, tables.loans),
    requests: await scanAll(client, tables.requests),
    claims: await scanAll(client, tables.refreshClaims!),
  });
  /** The DLQ's messages with their refusal attributes, each received once and deleted. */
  const drainParked = async (queueUrl: string) => {
    const parked: { body: string; errorType?: string; reason?: string }[] = [];
    for (let empty = 0; empty < 2;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }),
      );
      if (Messages.length === 0) empty += 1;
      for (const message of Messages) {
        parked.push({
          body: message.Body ?? '',
          errorType: message.MessageAttributes?.['RefusedErrorType']?.StringValue,
          reason: message.MessageAttributes?.['RefusedReason']?.StringValue,
        });
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
      }
    }
    return parked;
  };

  beforeAll(async () => {
    tables = await createCacheTables();
    userQueueUrl = await createQueue();
    deadLetterQueueUrl = await createQueue();
    process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
    lambdas = snsLambdas(functionEnv(tables as Required<typeof tables>, userQueueUrl, deadLetterQueueUrl), { sqs, deadLetterQueueUrl });
    jest.spyOn(lambdas.logger, 'error').mockImplementation((...args: unknown[]) => void logged.push(args[1] as LoggedFields));
    // The sample patron cached with the sample loan and request: a poison message wrongly applied would change them.
    await client.send(
      new PutCommand({ TableName: tables.users, Item: { primary_id: 'pat0042x', user_version: 0, refreshed_at: '2026-11-01T00:00:00.000Z' } }),
    );
    for (const type of ['LOAN_CREATED', 'REQUEST_CREATED'] as const) {
      expect((await lambdas.deliver(type, almaWebhookMessage(type))).succeeded).toBe(true);
    }
  }, 30_000);

  afterAll(() => {
    console.log(
      `[measured] poison catalogue: ${outcomes.length} cases, each refused on its first receive, logged, nothing written, parked on the DLQ with its reason\n${outcomes.join('\n')}`,
    );
    jest.restoreAllMocks();
    client.destroy();
    sqs.destroy();
  });

  it('has at least 30 distinctly named cases', () => {
    expect(POISON_CASES.length).toBeGreaterThanOrEqual(30);
    expect(new Set(POISON_CASES.map((poison) => poison.name)).size).toBe(POISON_CASES.length);
  });

  it.each(POISON_CASES.map((poison) => [poison.name, poison] as const))(
    '%s: refused with its reason, nothing written, parked on the DLQ after one receive',
    async (_name, poison) => {
      // Prepare: a clean DLQ, so this case's message is the only one.
      await drainQueue(sqs, deadLetterQueueUrl);
      const before = await everything();
      logged.length = 0;

      // Act
      const result = await lambdas.deliver(poison.topic, poison.body);

      // Assess: refused once, not received again, with the reason logged once.
      expect(result).toEqual({ succeeded: true, attempts: 1 });
      const reasons = logged.map((fields) => ({ errorType: fields.errorType ?? fields.error?.name, reason: fields.reason ?? fields.error?.message }));
      expect(reasons).toEqual([{ errorType: poison.errorType, reason: expect.stringMatching(poison.reason) }]);
      // Nothing written anywhere, no refresh asked for.
      expect(await everything()).toEqual(before);
      expect(await drainQueue(sqs, userQueueUrl)).toEqual([]);
      // Parked: exactly one DLQ message, the body as it came, with the reason (cut to the attribute's length).
      const parked = await drainParked(deadLetterQueueUrl);
      expect(parked).toEqual([{ body: poison.body, errorType: poison.errorType, reason: expect.any(String) }]);
      expect(poison.reason.test(parked[0].reason ?? '') || (parked[0].reason ?? '').endsWith('…')).toBe(true);
      expect(logged[0].parkedMessageId).toEqual(expect.any(String));
      // Prototype keys stayed data.
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      outcomes.push(`  - ${poison.name}: ${poison.errorType}: ${reasons[0].reason?.slice(0, 160)}`);
    },
    20_000,
  );

  it('reports a refused event the DLQ does not take as failed on each receive; SQS then moves it to the DLQ after the last', async () => {
    // Prepare: functions whose DEAD_LETTER_QUEUE_ARN names no queue, while the queue's redrive targets the real DLQ.
    await drainQueue(sqs, deadLetterQueueUrl);
    const missingQueue = deadLetterQueueUrl.replace(/[^/]+$/, 'no-such-dlq');
    const unparkable = snsLambdas(functionEnv(tables as Required<typeof tables>, userQueueUrl, missingQueue), { sqs, deadLetterQueueUrl });
    const warnings: LoggedFields[] = [];
    jest.spyOn(unparkable.logger, 'warn').mockImplementation((...args: unknown[]) => void warnings.push(args[1] as LoggedFields));
    jest.spyOn(unparkable.logger, 'error').mockImplementation(() => undefined);
    const poison = POISON_CASES[0];
    const before = await everything();

    // Act
    const result = await unparkable.deliver(poison.topic, poison.body);

    // Assess: each receive refused it and failed to park it, so SQS's redrive kept it.
    expect(result).toEqual(expect.objectContaining({ succeeded: false }));
    expect(warnings).toHaveLength(result.attempts);
    for (const fields of warnings) expect(fields).toEqual(expect.objectContaining({ parkError: expect.any(Error) }));
    expect(await everything()).toEqual(before);
    expect((await drainParked(deadLetterQueueUrl)).map((parked) => parked.body)).toEqual([poison.body]);
  }, 20_000);
});
