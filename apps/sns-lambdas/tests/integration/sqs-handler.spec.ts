import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { Container } from 'inversify';
import type { AlmaEventType, Clock } from '@alma-cache/cache-domain';
import { almaWebhookMessage, ManualClock, SAMPLES_RECEIVED_AT } from '@alma-cache/cache-domain/testing';
import { createSqsClient, type MessageDelay, SqsFailureParking, SqsMessageDelay } from '@alma-cache/aws-adapters';
import { createCacheTables, createQueue } from '@alma-cache/aws-adapters/testing';
import { CapturedMetrics, sqsEvent, sqsRecord } from '@alma-cache/local-aws';
import { buildContainer, TOKENS } from '../../src/composition-root';
import { createItemEventHandler, EVENT_MAX_RECEIVE_COUNT, eventBackoffSeconds, type ItemEventUseCase } from '../../src/sqs-handler';
import { functionEnv } from './faults/support/lambda-harness';

const LOAN_EVENTS: readonly AlmaEventType[] = ['LOAN_CREATED', 'LOAN_RENEWED', 'LOAN_DUE_DATE'];
/** The sample patron, cached before the events so each event is its two writes (item, then the user row). */
const PATRON = 'pat0042x';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The cache-update functions on their queues: the real composition root and use cases on DynamoDB Local, the queues
// and DLQs on the emulator's SQS, the poller emulated (receive a batch, run the handler, delete what did not fail).
describe('Handlers: sns-lambdas read their queues (SQS batch handler)', () => {
  const sqs = createSqsClient();

  /** A container on fresh tables, the functions' clock set just after the samples (the replay horizon). */
  const setUp = async () => {
    const tables = await createCacheTables();
    const container = buildContainer({ ...functionEnv(tables, await createQueue(), await createQueue()), POWERTOOLS_LOG_LEVEL: 'SILENT' });
    container.rebindSync<Clock>(TOKENS.Clock).toConstantValue(new ManualClock(SAMPLES_RECEIVED_AT));
    const client = container.get<DynamoDBDocumentClient>(TOKENS.DocumentClient);
    await client.send(
      new PutCommand({ TableName: tables.users, Item: { primary_id: PATRON, user_version: 0, refreshed_at: '2026-12-01T00:00:00.000Z' } }),
    );
    return { tables, container, client };
  };
  const handlerOf = (container: Container, metrics: CapturedMetrics, queue: { deadLetterQueue?: SqsFailureParking; delay?: MessageDelay } = {}) =>
    createItemEventHandler(container.get<ItemEventUseCase>(TOKENS.RecordLoan), container.get<Logger>(TOKENS.Logger), metrics, queue);
  const scan = async (client: DynamoDBDocumentClient, table: string) =>
    ((await client.send(new ScanCommand({ TableName: table }))).Items ?? []).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  const queueArnOf = async (queueUrl: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!['QueueArn']!;
  const receiveAll = async (queueUrl: string) =>
    (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] })))
      .Messages ?? [];

  beforeAll(() => {
    process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
  });
  afterAll(() => sqs.destroy());

  it('applies the good events of a batch and parks the refused ones on the DLQ at once, with their reason, as processed', async () => {
    // Prepare
    const { tables, container, client } = await setUp();
    const dlqUrl = await createQueue(`loans-dlq-${randomUUID().slice(0, 8)}`);
    const metrics = new CapturedMetrics('alma-cache-sns');
    const handler = handlerOf(container, metrics, { deadLetterQueue: new SqsFailureParking(sqs, dlqUrl) });
    const queueArn = 'arn:aws:sqs:eu-west-1:000000000000:alma-cache-stg-loan-updated';
    const good = sqsRecord(almaWebhookMessage('LOAN_CREATED'), queueArn);
    const malformed = sqsRecord('{"id":"evt-1","event":{"value":"LOAN_CREATED"}}', queueArn);
    const tooOld = sqsRecord(almaWebhookMessage('LOAN_RENEWED', { time: '2020-01-01T00:00:00.000Z' }), queueArn);

    // Act
    const response = await handler(sqsEvent([good, malformed, tooOld]));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect((await scan(client, tables.loans)).map((loan) => loan['loan_id'])).toEqual(['7391500230004561']);
    const parked = await receiveAll(dlqUrl);
    expect(parked.map((message) => message.Body).sort()).toEqual([malformed.body, tooOld.body].sort());
    for (const message of parked) {
      const attributes = message.MessageAttributes as Record<string, MessageAttributeValue>;
      expect(attributes['RefusedErrorType']?.StringValue).toMatch(/Error$/);
      expect(attributes['RefusedReason']?.StringValue?.length).toBeGreaterThan(0);
    }
    const events = metrics.points().filter((point) => point.metric === 'Events');
    expect(events.map((point) => point.dimensions['outcome']).sort()).toEqual(['refused', 'refused', 'written']);
  });

  it('reports a message DynamoDB refused as a batch item failure, counted failed, hidden for the first backoff, nothing parked', async () => {
    // Prepare
    const { container, client } = await setUp();
    const dlqUrl = await createQueue(`loans-dlq-${randomUUID().slice(0, 8)}`);
    client.middlewareStack.add(
      () => async () => {
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { name: 'Error', code: 'ECONNREFUSED' });
      },
      { step: 'initialize', name: 'dynamoDbDown' },
    );
    const asked: number[] = [];
    const metrics = new CapturedMetrics('alma-cache-sns');
    const delay: MessageDelay = { delay: async (_message, seconds) => (asked.push(seconds), seconds) };
    const handler = handlerOf(container, metrics, { deadLetterQueue: new SqsFailureParking(sqs, dlqUrl), delay });
    const record = sqsRecord(almaWebhookMessage('LOAN_CREATED'), 'arn:aws:sqs:eu-west-1:000000000000:alma-cache-stg-loan-updated');

    // Act
    const response = await handler(sqsEvent([record]));

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(asked).toEqual([eventBackoffSeconds(1)]);
    expect(await receiveAll(dlqUrl)).toEqual([]);
    expect(
      metrics
        .points()
        .filter((point) => point.metric === 'Events')
        .map((point) => point.dimensions['outcome']),
    ).toEqual(['failed']);
  });

  it('the backoff over the queue receives spans far more than the 6 hours Lambda kept an asynchronous event', () => {
    const span = Array.from({ length: EVENT_MAX_RECEIVE_COUNT - 1 }, (_, index) => eventBackoffSeconds(index + 1)).reduce((a, b) => a + b, 0);

    expect(eventBackoffSeconds(1)).toBe(60);
    expect(span).toBe(73_860); // 20.5 h before the last receive
    expect(span).toBeGreaterThan(3 * 6 * 3600);
  });

  it('loses nothing through a DynamoDB outage longer than 6 hours of backoff: the messages wait in the queue and apply when it is back, no replay', async () => {
    // Prepare: the queue as deployed (its DLQ after EVENT_MAX_RECEIVE_COUNT receives), a 1 s visibility timeout; each
    // backoff the handler asks for is applied as 1 s (ChangeMessageVisibility on the real queue) and recorded, so hours
    // of waiting pass in seconds with the same number of receives.
    const { tables, container, client } = await setUp();
    const reference = await setUp();
    const dlqUrl = await createQueue(`loans-dlq-${randomUUID().slice(0, 8)}`);
    const { QueueUrl: queueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: `loans-${randomUUID().slice(0, 8)}`,
        Attributes: {
          VisibilityTimeout: '1',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await queueArnOf(dlqUrl), maxReceiveCount: EVENT_MAX_RECEIVE_COUNT }),
        },
      }),
    );
    const queueArn = await queueArnOf(queueUrl!);
    let down = true;
    client.middlewareStack.add(
      (next) => async (args) => {
        if (down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' });
        return next(args);
      },
      { step: 'initialize', name: 'dynamoDbOutage' },
    );
    const askedByMessage = new Map<string, number[]>();
    const messageIdOfReceipt = new Map<string, string>();
    const realDelay = new SqsMessageDelay(sqs);
    const scaledDelay: MessageDelay = {
      delay: async (message, seconds) => {
        const key = messageIdOfReceipt.get(message.receiptHandle) ?? message.receiptHandle;
        askedByMessage.set(key, [...(askedByMessage.get(key) ?? []), seconds]);
        return realDelay.delay(message, 1);
      },
    };
    const metrics = new CapturedMetrics('alma-cache-sns');
    const handler = handlerOf(container, metrics, { deadLetterQueue: new SqsFailureParking(sqs, dlqUrl), delay: scaledDelay });
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: LOAN_EVENTS.map((type, i) => ({ Id: String(i), MessageBody: almaWebhookMessage(type) })),
      }),
    );
    const receivesWhileDown = new Map<string, number>();

    // Act: Lambda's poller, emulated, until the queue is empty; DynamoDB comes back once every message has failed 10
    // receives (10 backoffs asked: 14.5 h).
    for (let round = 0; round < 120; round += 1) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }),
      );
      if (Messages.length > 0) {
        for (const message of Messages) messageIdOfReceipt.set(message.ReceiptHandle!, message.MessageId!);
        const records = Messages.map((message) =>
          sqsRecord(message.Body ?? '', queueArn, {
            messageId: message.MessageId,
            receiptHandle: message.ReceiptHandle,
            receiveCount: Number(message.Attributes?.['ApproximateReceiveCount'] ?? 1),
          }),
        );
        const wasDown = down;
        const response: SQSBatchResponse = await handler(sqsEvent(records));
        const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
        if (wasDown) for (const message of Messages) receivesWhileDown.set(message.MessageId!, (receivesWhileDown.get(message.MessageId!) ?? 0) + 1);
        const done = Messages.filter((message) => !failed.has(message.MessageId!));
        if (done.length > 0)
          await sqs.send(
            new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }),
          );
      }
      if (down && receivesWhileDown.size === LOAN_EVENTS.length && [...receivesWhileDown.values()].every((count) => count >= 10)) down = false;
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      if (!down && Attributes?.['ApproximateNumberOfMessages'] === '0' && Attributes['ApproximateNumberOfMessagesNotVisible'] === '0') break;
      await sleep(200);
    }
    // The same events with no outage, on their own tables: what the cache must hold.
    const referenceHandler = handlerOf(reference.container, new CapturedMetrics('alma-cache-sns'));
    for (const type of LOAN_EVENTS) await referenceHandler(sqsEvent([sqsRecord(almaWebhookMessage(type), queueArn)]));

    // Assess
    expect(down).toBe(false);
    expect([...receivesWhileDown.values()].every((count) => count >= 10 && count < EVENT_MAX_RECEIVE_COUNT)).toBe(true);
    expect(await receiveAll(dlqUrl)).toEqual([]);
    expect(await scan(client, tables.loans)).toEqual(await scan(reference.client, reference.tables.loans));
    // The patron's row links the same loans; its write counter may differ: an event received after a newer one is
    // skipped as stale there (the ordering rule), not written.
    const withoutVersion = (items: Record<string, unknown>[]) => items.map((item) => ({ ...item, user_version: undefined }));
    expect(withoutVersion(await scan(client, tables.users))).toEqual(withoutVersion(await scan(reference.client, reference.tables.users)));
    expect((await scan(client, tables.loans)).length).toBe(1);
    // Each message waited at least 6 h of backoff, as the handler asked it of SQS.
    const waited = [...askedByMessage.values()].map((asked) => asked.reduce((a, b) => a + b, 0));
    expect(waited).toHaveLength(LOAN_EVENTS.length);
    for (const seconds of waited) expect(seconds).toBeGreaterThan(6 * 3600);
  }, 120_000);
});
