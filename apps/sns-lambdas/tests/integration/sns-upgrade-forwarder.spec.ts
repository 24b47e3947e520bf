import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SNSEvent } from 'aws-lambda';
import type { Clock } from '@alma-cache/cache-domain';
import { almaWebhookMessage, ManualClock, SAMPLES_RECEIVED_AT } from '@alma-cache/cache-domain/testing';
import { createSqsClient } from '@alma-cache/aws-adapters';
import { createCacheTables, createQueue } from '@alma-cache/aws-adapters/testing';
import { CapturedMetrics, snsEvent, sqsEvent, sqsRecord } from '@alma-cache/local-aws';
import { buildContainer, itemEventHandlerFor, TOKENS } from '../../src/composition-root';
import { SNS_EVENT_FORWARDED, SnsUpgradeEventError } from '../../src/sns-upgrade-forwarder';
import { functionEnv, queueArnOfUrl } from './faults/support/lambda-harness';

const TOPIC_ARN = 'arn:aws:sns:eu-west-1:000000000000:alma-loan-created';
/** The sample patron, cached before the events so each applied event is its two writes (item, then the user row). */
const PATRON = 'pat0042x';

// The upgrade from the SNS path (issue 19), for one release: an SNS event that reaches a cache-update function (an
// asynchronous retry Lambda still held, or one SNS handed it during the stack update) is forwarded to the function's
// own queue, not applied and not dropped. The real composition root and handler (loan-updated's), DynamoDB Local and
// the emulator's SQS.
describe('Handlers: sns-lambdas forward an SNS event to their own queue during the upgrade from the SNS path', () => {
  const sqs = createSqsClient();

  /** loan-updated as the bundle builds it, on fresh tables, its own queue (SOURCE_QUEUE_URL) `sourceQueueUrl`. */
  const setUp = async (sourceQueueUrl?: string) => {
    const tables = await createCacheTables();
    const userQueueUrl = await createQueue();
    const deadLetterQueueUrl = await createQueue();
    const ownQueueUrl = sourceQueueUrl ?? (await createQueue());
    const container = buildContainer({ ...functionEnv(tables, userQueueUrl, deadLetterQueueUrl, ownQueueUrl), POWERTOOLS_LOG_LEVEL: 'SILENT' });
    container.rebindSync<Clock>(TOKENS.Clock).toConstantValue(new ManualClock(SAMPLES_RECEIVED_AT));
    container.rebindSync<CapturedMetrics>(TOKENS.Metrics).toConstantValue(new CapturedMetrics('alma-cache-sns'));
    const client = container.get<DynamoDBDocumentClient>(TOKENS.DocumentClient);
    await client.send(
      new PutCommand({ TableName: tables.users, Item: { primary_id: PATRON, user_version: 0, refreshed_at: '2026-12-01T00:00:00.000Z' } }),
    );
    const logger = container.get<Logger>(TOKENS.Logger);
    const info = jest.spyOn(logger, 'info');
    const error = jest.spyOn(logger, 'error');
    const handler = itemEventHandlerFor(TOKENS.RecordLoan, container);
    return { tables, client, handler, ownQueueUrl, userQueueUrl, deadLetterQueueUrl, info, error };
  };
  const scan = async (client: DynamoDBDocumentClient, table: string) => (await client.send(new ScanCommand({ TableName: table }))).Items ?? [];
  /** Every message on a queue, received and deleted. */
  const drain = async (queueUrl: string): Promise<Message[]> => {
    const messages: Message[] = [];
    for (let emptyReads = 0; emptyReads < 2;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }),
      );
      if (Messages.length === 0) emptyReads += 1;
      else {
        messages.push(...Messages);
        await sqs.send(
          new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }),
        );
      }
    }
    return messages;
  };
  /** An SNS event of several records, each as SNS hands one to Lambda, with the message attributes given. */
  const snsEventOf = (...records: { message: string; attributes?: Record<string, { Type: string; Value: unknown }> }[]): SNSEvent =>
    ({
      Records: records.map(({ message, attributes = {} }) => {
        const [record] = snsEvent(TOPIC_ARN, message).Records;
        return { ...record, Sns: { ...record.Sns, MessageAttributes: attributes } };
      }),
    }) as unknown as SNSEvent;

  beforeAll(() => {
    process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
  });
  afterAll(() => sqs.destroy());

  it("forwards each record's Message unchanged to the function's own queue with its String and Number attributes, writes nothing, logs one count-only line", async () => {
    // Prepare
    const { tables, client, handler, ownQueueUrl, userQueueUrl, deadLetterQueueUrl, info } = await setUp();
    const created = almaWebhookMessage('LOAN_CREATED');
    const renewed = almaWebhookMessage('LOAN_RENEWED');
    const event = snsEventOf(
      {
        message: created,
        attributes: {
          alma_event_type: { Type: 'String', Value: 'LOAN_CREATED' },
          alma_event_id: { Type: 'String', Value: 'evt-created' },
          priority: { Type: 'Number', Value: '3' },
          // Not forwarded: types SQS raw delivery would not give the function, and names or values SQS refuses.
          blob: { Type: 'Binary', Value: 'AAEC' },
          list: { Type: 'String.Array', Value: '["a","b"]' },
          'AWS.reserved': { Type: 'String', Value: 'x' },
          empty: { Type: 'String', Value: '' },
          control: { Type: 'String', Value: 'a\u0000b' },
          notANumber: { Type: 'Number', Value: '1e3x' },
          notAString: { Type: 'String', Value: 42 },
        },
      },
      { message: renewed },
    );

    // Act
    const response = await handler(event);

    // Assess
    expect(response).toBeUndefined();
    const forwarded = await drain(ownQueueUrl);
    expect(forwarded.map((message) => message.Body).sort()).toEqual([created, renewed].sort());
    expect(forwarded.find((message) => message.Body === created)?.MessageAttributes).toEqual({
      alma_event_type: { DataType: 'String', StringValue: 'LOAN_CREATED' },
      alma_event_id: { DataType: 'String', StringValue: 'evt-created' },
      priority: { DataType: 'Number', StringValue: '3' },
    });
    expect(forwarded.find((message) => message.Body === renewed)?.MessageAttributes ?? {}).toEqual({});
    for (const table of [tables.loans, tables.requests, tables.refreshClaims])
      expect({ table, items: await scan(client, table) }).toEqual({ table, items: [] });
    expect(await scan(client, tables.users)).toEqual([{ primary_id: PATRON, user_version: 0, refreshed_at: '2026-12-01T00:00:00.000Z' }]);
    expect(await drain(userQueueUrl)).toEqual([]);
    expect(await drain(deadLetterQueueUrl)).toEqual([]);
    // One line, the count only: no topic, patron, record or event id.
    expect(info.mock.calls).toEqual([[SNS_EVENT_FORWARDED, { records: 2 }]]);

    // Act: the forwarded messages as Lambda's poller then hands them to the same function, from its queue
    const applied = await handler(sqsEvent(forwarded.map((message) => sqsRecord(message.Body!, queueArnOfUrl(ownQueueUrl)))));

    // Assess
    expect(applied.batchItemFailures).toEqual([]);
    expect((await scan(client, tables.loans)).map((loan) => loan['loan_id'])).toEqual(['7391500230004561']);
  });

  it('throws when the queue does not take a message, so that Lambda retries the event (never a batch response)', async () => {
    // Prepare: SOURCE_QUEUE_URL names no queue
    const missing = (await createQueue()).replace(/[^/]+$/, 'no-such-queue');
    const { tables, client, handler, error } = await setUp(missing);

    // Act
    const act = handler(snsEventOf({ message: almaWebhookMessage('LOAN_CREATED') }, { message: almaWebhookMessage('LOAN_RENEWED') }));

    // Assess
    await expect(act).rejects.toThrow('could not forward 2 of 2 SNS record(s) to the function queue');
    expect(await scan(client, tables.loans)).toEqual([]);
    expect(error).toHaveBeenCalledWith(expect.stringContaining('SNS event not forwarded'), expect.objectContaining({ records: 2, failed: 2 }));
  });

  it.each<[string, unknown]>([
    ['an SNS record without Sns.Message', { Records: [{ EventSource: 'aws:sns', Sns: { TopicArn: TOPIC_ARN, MessageAttributes: {} } }] }],
    ['an SNS record whose Message is not a string', { Records: [{ EventSource: 'aws:sns', Sns: { Message: { id: 'evt-1' } } }] }],
    ['an SNS record whose Message is empty', { Records: [{ EventSource: 'aws:sns', Sns: { Message: '' } }] }],
    ['an SNS record without its Sns envelope', { Records: [{ EventSource: 'aws:sns' }] }],
    ['an Sns envelope on a record that does not say aws:sns', { Records: [{ Sns: { Message: almaWebhookMessage('LOAN_CREATED') } }] }],
    [
      'an SNS record mixed with an SQS one',
      {
        Records: [
          snsEvent(TOPIC_ARN, almaWebhookMessage('LOAN_CREATED')).Records[0],
          sqsRecord(almaWebhookMessage('LOAN_RENEWED'), 'arn:aws:sqs:eu-west-1:000000000000:alma-cache-stg-loan-updated'),
        ],
      },
    ],
    ['a good SNS record and a malformed one', { Records: [snsEvent(TOPIC_ARN, almaWebhookMessage('LOAN_CREATED')).Records[0], null] }],
  ])('refuses %s with a clear error: nothing forwarded, nothing written', async (_case, event) => {
    // Prepare
    const { tables, client, handler, ownQueueUrl, deadLetterQueueUrl, error } = await setUp();

    // Act
    const act = handler(event as SNSEvent);

    // Assess
    await expect(act).rejects.toThrow(SnsUpgradeEventError);
    await expect(act).rejects.toThrow(/^SNS-shaped event not forwarded: /);
    expect(await drain(ownQueueUrl)).toEqual([]);
    expect(await drain(deadLetterQueueUrl)).toEqual([]);
    expect(await scan(client, tables.loans)).toEqual([]);
    expect(error).toHaveBeenCalledWith(
      expect.stringContaining('SNS-shaped event refused'),
      expect.objectContaining({ errorType: 'SnsUpgradeEventError' }),
    );
  });

  it('reads an ordinary SQS batch exactly as before: applied, partial batch response, nothing forwarded', async () => {
    // Prepare
    const { tables, client, handler, ownQueueUrl, deadLetterQueueUrl, info } = await setUp();
    const queueArn = queueArnOfUrl(ownQueueUrl);
    const good = sqsRecord(almaWebhookMessage('LOAN_CREATED'), queueArn);
    const malformed = sqsRecord('{"id":"evt-1","event":{"value":"LOAN_CREATED"}}', queueArn);

    // Act
    const response = await handler(sqsEvent([good, malformed]));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect((await scan(client, tables.loans)).map((loan) => loan['loan_id'])).toEqual(['7391500230004561']);
    expect((await drain(deadLetterQueueUrl)).map((message) => message.Body)).toEqual([malformed.body]);
    expect(await drain(ownQueueUrl)).toEqual([]);
    expect(info.mock.calls.map(([message]) => message)).toEqual(['Alma event applied']);
  });
});
