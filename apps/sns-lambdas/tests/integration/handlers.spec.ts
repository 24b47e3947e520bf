import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { AlmaEventType } from '@alma-cache/cache-domain';
import { almaWebhookMessage, almaWebhookMessageAsOf, almaWebhooksInTimeOrder } from '@alma-cache/cache-domain/testing';
import { type CacheTableNames, createDocumentClient, createSqsClient, DynamoDbCacheStore } from '@alma-cache/aws-adapters';
import { createCacheTables, createQueue } from '@alma-cache/aws-adapters/testing';
import { sqsEvent, sqsRecord } from '@alma-cache/local-aws';
import { ENV } from '../../src/config';
import { functionContainer, TOKENS } from '../../src/composition-root';
import { FUNCTION_OF } from './support/sns-functions';

type Handler = (event: SQSEvent) => Promise<SQSBatchResponse>;

// The real handlers and composition root against the emulator: only the invocation is simulated, as Lambda's SQS
// trigger hands a batch of the function's queue (raw delivery: each body is the webhook body).
describe('Handlers: sns-lambdas', () => {
  const client = createDocumentClient();
  const sqs = createSqsClient();
  let tables: CacheTableNames;
  let queueUrl: string;
  let deadLetterQueueUrl: string;
  let sourceQueueArn: string;
  let handlers: Record<string, Handler>;
  let logger: Logger;

  const scan = async (table: string) => (await client.send(new ScanCommand({ TableName: table }))).Items ?? [];
  const queueArnOf = async (url: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes!['QueueArn']!;
  /** What the functions parked on their DLQ (one DLQ for all four here), with their reasons. */
  const parkedOnDlq = async () => {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: deadLetterQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
    );
    return Messages.map((message) => ({
      body: message.Body,
      errorType: message.MessageAttributes?.['RefusedErrorType']?.StringValue,
      reason: message.MessageAttributes?.['RefusedReason']?.StringValue,
    }));
  };
  const batchOf = (...bodies: string[]) => sqsEvent(bodies.map((body) => sqsRecord(body, sourceQueueArn)));
  const getUser = async () => (await client.send(new GetCommand({ TableName: tables.users, Key: { primary_id: 'pat0042x' } }))).Item;
  const run = (type: AlmaEventType, message = almaWebhookMessageAsOf(type, new Date())) => handlers[FUNCTION_OF[type].name](batchOf(message));

  beforeAll(async () => {
    tables = await createCacheTables();
    queueUrl = await createQueue();
    deadLetterQueueUrl = await createQueue();
    // A queue of its own stands for the function's source queue: a failed message's backoff changes its visibility.
    const sourceQueueUrl = await createQueue();
    sourceQueueArn = await queueArnOf(sourceQueueUrl);
    Object.assign(process.env, {
      [ENV.usersTable]: tables.users,
      [ENV.loansTable]: tables.loans,
      [ENV.requestsTable]: tables.requests,
      [ENV.refreshClaimsTable]: tables.refreshClaims,
      [ENV.userQueueUrl]: queueUrl,
      [ENV.deadLetterQueueArn]: await queueArnOf(deadLetterQueueUrl),
      [ENV.sourceQueueUrl]: sourceQueueUrl,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      // The metrics have their own spec (event-metrics.spec.ts); here their EMF lines would only flood the output.
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    handlers = {};
    for (const name of new Set(Object.values(FUNCTION_OF).map((routed) => routed.name))) {
      handlers[name] = (await import(`../../src/handlers/${name}`)).handler as Handler;
    }
    logger = functionContainer().get<Logger>(TOKENS.Logger);
  });

  afterEach(() => jest.restoreAllMocks());
  afterAll(() => {
    client.destroy();
    sqs.destroy();
  });

  it('plays every sample webhook through its function and leaves the patron right', async () => {
    // Prepare
    await client.send(new PutCommand({ TableName: tables.users, Item: { primary_id: 'pat0042x', fee_ids: new Set(['fee-1']) } }));
    const seen: Record<string, unknown>[] = [];

    // Act
    for (const type of almaWebhooksInTimeOrder) {
      await run(type);
      seen.push({ type, user: await getUser() });
    }

    // Assess
    const loanIdsAfter = (type: string) => (seen.find((entry) => entry['type'] === type)?.['user'] as Record<string, Set<string>>)['loan_ids'];
    expect(loanIdsAfter('LOAN_DUE_DATE')).toEqual(new Set(['7391500230004561']));
    expect(await getUser()).toEqual({
      primary_id: 'pat0042x',
      fee_ids: new Set(['fee-1']),
      removed_loan_ids: new Set(['7391500230004561']),
      removed_request_ids: new Set(['8812300040004561', '8812300050004561']),
      user_version: expect.any(Number),
    });
    expect(await scan(tables.loans)).toEqual([
      expect.objectContaining({ loan_id: '7391500230004561', tombstone: true, loan_status: 'COMPLETE', alma_event_type: 'LOAN_RETURNED' }),
    ]);
    expect((await scan(tables.requests)).map((r) => [r['request_id'], r['alma_event_type'], r['tombstone']]).sort()).toEqual([
      ['8812300040004561', 'REQUEST_CLOSED', true],
      ['8812300050004561', 'REQUEST_CANCELED', true],
    ]);
  });

  it('logs an applied event with its type, outcome and receive count, and no patron, record or event id', async () => {
    // Prepare
    const infos = jest.spyOn(logger, 'info');
    const message = almaWebhookMessageAsOf('LOAN_RENEWED', new Date(), { eventId: 'evt-logged-1', itemId: 'loan-logged-1' });

    // Act
    await run('LOAN_RENEWED', message);

    // Assess
    const applied = infos.mock.calls.filter(([line]) => line === 'Alma event applied');
    expect(applied).toEqual([
      ['Alma event applied', { almaEventType: 'LOAN_RENEWED', kind: 'loan', outcome: 'written', item: 'written', user: 'linked', receiveCount: 1 }],
    ]);
    const line = JSON.stringify(applied).toLowerCase();
    for (const id of ['pat0042x', 'loan-logged-1', 'evt-logged-1']) expect({ id, inLine: line.includes(id) }).toEqual({ id, inLine: false });
  });

  it("refuses a malformed message, logging its id, writes nothing and parks it on the function's DLQ at once, body unchanged", async () => {
    // Prepare
    const before = (await scan(tables.loans)).length;
    const errors = jest.spyOn(logger, 'error');
    const body = almaWebhookMessageAsOf('LOAN_CREATED', new Date()).replace('"loan_id":"7391500230004561"', '"loan_id":""');
    const event = batchOf(body);

    // Act
    const response = await handlers['loan-updated'](event);

    // Assess: nothing for SQS to receive again, and the DLQ message says why.
    expect(response).toEqual({ batchItemFailures: [] });
    expect(errors).toHaveBeenCalledWith(
      expect.stringContaining('DLQ'),
      expect.objectContaining({ errorType: 'MalformedEventError', almaEventId: '5500110001', messageId: event.Records[0].messageId }),
    );
    expect(await scan(tables.loans)).toHaveLength(before);
    expect(await parkedOnDlq()).toEqual([{ body, errorType: 'MalformedEventError', reason: '"item_loan.loan_id" is empty' }]);
  });

  it('refuses non-JSON and an event type the function does not handle, each parked with its reason', async () => {
    // Act
    const response = await handlers['request-updated'](batchOf('<xml/>', almaWebhookMessage('REQUEST_CLOSED', { itemId: 'req-x' })));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect((await scan(tables.requests)).some((request) => request['request_id'] === 'req-x')).toBe(false);
    const reasons = (await parkedOnDlq()).map(({ errorType, reason }) => `${errorType}: ${reason}`).sort();
    expect(reasons).toEqual([
      expect.stringMatching(/^MalformedEventError: message is not JSON/),
      expect.stringMatching(/^UnsupportedEventTypeError: .*REQUEST_CLOSED is not handled here/),
    ]);
  });

  it('queues an unknown patron once and still caches the loan', async () => {
    // Act
    await run('LOAN_CREATED', almaWebhookMessageAsOf('LOAN_CREATED', new Date(), { userPrimaryId: 'NEW-PATRON', itemId: 'loan-n1', eventId: 'n1' }));
    await run('LOAN_CREATED', almaWebhookMessageAsOf('LOAN_CREATED', new Date(), { userPrimaryId: 'NEW-PATRON', itemId: 'loan-n2', eventId: 'n2' }));

    // Assess
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect(Messages.map((message) => message.Body)).toEqual(['NEW-PATRON']);
    expect((await scan(tables.loans)).filter((loan) => loan['user_id'] === 'NEW-PATRON')).toHaveLength(2);
  });

  it('logs an AWS failure as retryable and reports the message failed, to be received again', async () => {
    // Prepare
    const errors = jest.spyOn(logger, 'error');
    jest
      .spyOn(DynamoDbCacheStore.prototype, 'writeItem')
      .mockRejectedValueOnce(Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ThrottlingException' }));

    // Act
    const event = batchOf(almaWebhookMessageAsOf('LOAN_RENEWED', new Date(), { eventId: 'throttled' }));
    const response = await handlers['loan-updated'](event);

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }] });
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('received again'), expect.objectContaining({ almaEventId: 'throttled' }));
    expect(await parkedOnDlq()).toEqual([]);
  });
});
