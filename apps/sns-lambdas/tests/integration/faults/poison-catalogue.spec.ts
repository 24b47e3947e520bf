import { createDocumentClient, createSqsClient } from '@alma-cache/aws-adapters';
import { createCacheTables, createQueue } from '@alma-cache/aws-adapters/testing';
import { almaWebhookMessage } from '@alma-cache/cache-domain/testing';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SNSEvent } from 'aws-lambda';
import { scanAll } from './support/cache-snapshot';
import { REFUSED_CONDITION } from '../../../src/sns-handler';
import { drainFailureRecords, drainQueue, functionEnv, MAXIMUM_RETRY_ATTEMPTS, snsLambdas } from './support/lambda-harness';
import { POISON_CASES } from './support/poison-cases';

type LoggedFields = { errorType?: string; reason?: string; error?: Error; parkedMessageId?: string; parkError?: Error };

describe('Faults: poison catalogue', () => {
  const client = createDocumentClient();
  const sqs = createSqsClient();
  let lambdas: ReturnType<typeof snsLambdas>;
  let tables: Awaited<ReturnType<typeof createCacheTables>>;
  let userQueueUrl: string;
  let failureQueueUrl: string;
  const logged: LoggedFields[] = [];
  const outcomes: string[] = [];

  /** Everything the functions can write: the four tables and the Users queue's depth. */
  const everything = async () => ({
    users: await scanAll(client, tables.users),
    loans: await scanAll(client, tables.loans),
    requests: await scanAll(client, tables.requests),
    claims: await scanAll(client, tables.refreshClaims!),
  });

  beforeAll(async () => {
    tables = await createCacheTables();
    userQueueUrl = await createQueue();
    failureQueueUrl = await createQueue();
    process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
    lambdas = snsLambdas(functionEnv(tables as Required<typeof tables>, userQueueUrl, failureQueueUrl), { sqs, failureQueueUrl });
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
      `[measured] poison catalogue: ${outcomes.length} cases, each refused after 1 attempt, logged, nothing written, parked on the failure queue\n${outcomes.join('\n')}`,
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
    '%s: refused with its reason, nothing written, parked on the failure queue after one attempt',
    async (_name, poison) => {
      // Prepare: a clean failure queue, so this case's record is the only one.
      await drainQueue(sqs, failureQueueUrl);
      const before = await everything();
      logged.length = 0;

      // Act
      const result = await lambdas.invoke(poison.topic, poison.event);

      // Assess: refused once, not retried (the invocation succeeds), with the reason logged once.
      expect(result).toEqual({ succeeded: true, attempts: 1 });
      const reasons = logged.map((fields) => ({ errorType: fields.errorType ?? fields.error?.name, reason: fields.reason ?? fields.error?.message }));
      expect(reasons).toEqual([{ errorType: poison.errorType, reason: expect.stringMatching(poison.reason) }]);
      // Nothing written anywhere, no refresh asked for.
      expect(await everything()).toEqual(before);
      expect(await drainQueue(sqs, userQueueUrl)).toEqual([]);
      // Parked: exactly one failure record, in the on-failure record's shape, holding the event as it came, with the
      // reason, marked as refused after one attempt.
      const records = await drainFailureRecords(sqs, failureQueueUrl);
      expect(records).toHaveLength(1);
      expect(records[0].requestPayload).toEqual(JSON.parse(JSON.stringify(poison.event)));
      expect(records[0].responsePayload).toEqual(
        expect.objectContaining({ errorType: poison.errorType, errorMessage: expect.stringMatching(poison.reason) }),
      );
      expect(records[0].requestContext).toEqual({
        requestId: expect.any(String),
        functionArn: expect.stringMatching(/^arn:aws:lambda:eu-west-1:000000000000:function:alma-cache-sns-test-/),
        condition: REFUSED_CONDITION,
        approximateInvokeCount: 1,
      });
      expect(logged[0].parkedMessageId).toEqual(expect.any(String));
      // Prototype keys stayed data.
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      outcomes.push(`  - ${poison.name}: ${poison.errorType}: ${reasons[0].reason?.slice(0, 160)}`);
    },
    20_000,
  );

  it('rethrows a refused event the failure queue does not take: Lambda retries it, and its on-failure destination parks it', async () => {
    // Prepare: functions whose FAILURE_QUEUE_URL names no queue, while the on-failure destination is the real one.
    await drainQueue(sqs, failureQueueUrl);
    const missingQueue = failureQueueUrl.replace(/[^/]+$/, 'no-such-failure-queue');
    const unparkable = snsLambdas(functionEnv(tables as Required<typeof tables>, userQueueUrl, missingQueue), { sqs, failureQueueUrl });
    const parkErrors: LoggedFields[] = [];
    jest.spyOn(unparkable.logger, 'error').mockImplementation((...args: unknown[]) => void parkErrors.push(args[1] as LoggedFields));
    const poison = POISON_CASES[0];
    const before = await everything();

    // Act
    const result = await unparkable.invoke(poison.topic, poison.event);

    // Assess: each attempt refused it and failed to park it, so Lambda retried and its destination kept it.
    expect(result).toEqual(expect.objectContaining({ succeeded: false, attempts: MAXIMUM_RETRY_ATTEMPTS + 1 }));
    expect(parkErrors).toHaveLength(MAXIMUM_RETRY_ATTEMPTS + 1);
    for (const fields of parkErrors) expect(fields).toEqual(expect.objectContaining({ errorType: poison.errorType, parkError: expect.any(Error) }));
    expect(await everything()).toEqual(before);
    const records = await drainFailureRecords(sqs, failureQueueUrl);
    expect(records).toHaveLength(1);
    expect(records[0].requestContext).toEqual(
      expect.objectContaining({ condition: 'RetriesExhausted', approximateInvokeCount: MAXIMUM_RETRY_ATTEMPTS + 1 }),
    );
    expect(records[0].responsePayload).toEqual(expect.objectContaining({ errorType: poison.errorType }));
  }, 20_000);

  // The same catalogue on the SQS path (issue 19): the topics deliver the body raw, so a damaged SNS envelope cannot
  // reach the function; every other case is refused the same way and parked on the function queue's DLQ at once, its
  // body unchanged and its reason as message attributes.
  describe('via the function queues (SQS batch handler)', () => {
    const bodyOf = (event: unknown) => (event as SNSEvent).Records[0].Sns.Message;
    const bodyCases = POISON_CASES.filter((poison) => poison.errorType !== 'InvalidSnsEventError');
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
    let queued: ReturnType<typeof snsLambdas>;

    beforeAll(() => {
      queued = snsLambdas(functionEnv(tables as Required<typeof tables>, userQueueUrl, failureQueueUrl), { sqs, failureQueueUrl, via: 'sqs' });
      jest.spyOn(queued.logger, 'error').mockImplementation((...args: unknown[]) => void logged.push(args[1] as LoggedFields));
    });

    it('leaves out only the damaged-envelope cases, which raw delivery cannot produce', () => {
      expect(bodyCases.length).toBeGreaterThanOrEqual(30 - POISON_CASES.filter((poison) => poison.errorType === 'InvalidSnsEventError').length);
    });

    it.each(bodyCases.map((poison) => [poison.name, poison] as const))(
      '%s: refused with its reason, nothing written, parked on the DLQ after one receive',
      async (_name, poison) => {
        // Prepare
        await drainQueue(sqs, failureQueueUrl);
        const before = await everything();
        logged.length = 0;

        // Act
        const result = await queued.deliver(poison.topic, bodyOf(poison.event));

        // Assess
        expect(result).toEqual({ succeeded: true, attempts: 1 });
        const reasons = logged.map((fields) => ({
          errorType: fields.errorType ?? fields.error?.name,
          reason: fields.reason ?? fields.error?.message,
        }));
        expect(reasons).toEqual([{ errorType: poison.errorType, reason: expect.stringMatching(poison.reason) }]);
        expect(await everything()).toEqual(before);
        expect(await drainQueue(sqs, userQueueUrl)).toEqual([]);
        const parked = await drainParked(failureQueueUrl);
        expect(parked).toEqual([{ body: bodyOf(poison.event), errorType: poison.errorType, reason: expect.any(String) }]);
        expect(poison.reason.test(parked[0].reason ?? '') || (parked[0].reason ?? '').endsWith('…')).toBe(true);
        expect(logged[0].parkedMessageId).toEqual(expect.any(String));
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      },
      20_000,
    );

    it('reports a refused event the DLQ does not take as failed on each receive; SQS then moves it to the DLQ after the last', async () => {
      // Prepare
      await drainQueue(sqs, failureQueueUrl);
      const missingQueue = failureQueueUrl.replace(/[^/]+$/, 'no-such-dlq');
      const unparkable = snsLambdas(functionEnv(tables as Required<typeof tables>, userQueueUrl, failureQueueUrl), {
        sqs,
        failureQueueUrl,
        via: 'sqs',
        parkingQueueUrl: missingQueue,
      });
      const warnings: LoggedFields[] = [];
      jest.spyOn(unparkable.logger, 'warn').mockImplementation((...args: unknown[]) => void warnings.push(args[1] as LoggedFields));
      jest.spyOn(unparkable.logger, 'error').mockImplementation(() => undefined);
      const poison = bodyCases[0];
      const before = await everything();

      // Act
      const result = await unparkable.deliver(poison.topic, bodyOf(poison.event));

      // Assess
      expect(result).toEqual(expect.objectContaining({ succeeded: false }));
      expect(warnings).toHaveLength(result.attempts);
      for (const fields of warnings) expect(fields).toEqual(expect.objectContaining({ parkError: expect.any(Error) }));
      expect(await everything()).toEqual(before);
      expect((await drainParked(failureQueueUrl)).map((parked) => parked.body)).toEqual([bodyOf(poison.event)]);
    }, 20_000);
  });
});
