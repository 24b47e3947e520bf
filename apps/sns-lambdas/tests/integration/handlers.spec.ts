import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SNSEvent } from 'aws-lambda';
import type { AlmaEventType } from '@alma-cache/cache-domain';
import { almaWebhookMessage, almaWebhookMessageAsOf, almaWebhooksInTimeOrder } from '@alma-cache/cache-domain/testing';
import { type CacheTableNames, createDocumentClient, createSqsClient, DynamoDbCacheStore } from '@alma-cache/aws-adapters';
import { createCacheTables, createQueue } from '@alma-cache/aws-adapters/testing';
import { ENV } from '../../src/config';
import { TOKENS } from '../../src/tokens';
import { FUNCTION_OF, snsEventFor } from './support/sns-functions';

type Handler = (event: SNSEvent) => Promise<void>;

// The real handlers and composition root against the emulator: only the invocation is simulated.
describe('Handlers: sns-lambdas', () => {
  const client = createDocumentClient();
  const sqs = createSqsClient();
  let tables: CacheTableNames;
  let queueUrl: string;
  let failureQueueUrl: string;
  let handlers: Record<string, Handler>;
  let logger: Logger;

  const scan = async (table: string) => (await client.send(new ScanCommand({ TableName: table }))).Items ?? [];
  const failureRecords = async () => {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: failureQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
    );
    return Messages.map((message: Message) => ({ record: JSON.parse(message.Body ?? '{}'), attributes: message.MessageAttributes }));
  };
  const getUser = async () => (await client.send(new GetCommand({ TableName: tables.users, Key: { primary_id: 'pat0042x' } }))).Item;
  const run = (type: AlmaEventType, message = almaWebhookMessageAsOf(type, new Date())) =>
    handlers[FUNCTION_OF[type].name](snsEventFor(type, message));

  beforeAll(async () => {
    tables = await createCacheTables();
    queueUrl = await createQueue();
    failureQueueUrl = await createQueue();
    Object.assign(process.env, {
      [ENV.usersTable]: tables.users,
      [ENV.loansTable]: tables.loans,
      [ENV.requestsTable]: tables.requests,
      [ENV.refreshClaimsTable]: tables.refreshClaims,
      [ENV.userQueueUrl]: queueUrl,
      [ENV.failureQueueUrl]: failureQueueUrl,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      // The metrics have their own spec (event-metrics.spec.ts); here their EMF lines would only flood the output.
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    handlers = {};
    for (const name of new Set(Object.values(FUNCTION_OF).map((routed) => routed.name))) {
      handlers[name] = (await import(`../../src/handlers/${name}`)).handler as Handler;
    }
    logger = (await import('../../src/main')).container.get<Logger>(TOKENS.Logger);
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

  it('refuses a malformed message, logging both ids, writes nothing and parks it on the failure queue at once', async () => {
    // Prepare
    const before = (await scan(tables.loans)).length;
    const errors = jest.spyOn(logger, 'error');
    const event = snsEventFor(
      'LOAN_CREATED',
      almaWebhookMessageAsOf('LOAN_CREATED', new Date()).replace('"loan_id":"7391500230004561"', '"loan_id":""'),
    );

    // Act
    const act = handlers['loan-updated'](event);

    // Assess: the invocation succeeds (nothing for Lambda to retry) and the record says why.
    await expect(act).resolves.toBeUndefined();
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('rejected'), {
      errorType: 'MalformedEventError',
      reason: '"item_loan.loan_id" is empty',
      almaEventId: '5500110001',
      snsMessageId: event.Records[0].Sns.MessageId,
      parkedMessageId: expect.any(String),
    });
    expect(await scan(tables.loans)).toHaveLength(before);
    const [parked, ...others] = await failureRecords();
    expect(others).toEqual([]);
    expect(parked.record).toEqual({
      version: '1.0',
      timestamp: expect.any(String),
      requestContext: { requestId: expect.any(String), functionArn: '', condition: 'RefusedAsInvalid', approximateInvokeCount: 1 },
      requestPayload: JSON.parse(JSON.stringify(event)),
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Handled' },
      responsePayload: {
        errorType: 'MalformedEventError',
        errorMessage: 'Alma event 5500110001: "item_loan.loan_id" is empty',
        trace: expect.any(Array),
      },
    });
    expect(parked.attributes).toEqual({
      RefusedErrorType: expect.objectContaining({ StringValue: 'MalformedEventError' }),
      RefusedReason: expect.objectContaining({ StringValue: '"item_loan.loan_id" is empty' }),
    });
  });

  it('refuses non-JSON and an event type the function does not handle, each parked with its reason', async () => {
    // Act
    const notJson = handlers['request-updated'](snsEventFor('REQUEST_CREATED', '<xml/>'));
    const wrongType = handlers['request-updated'](snsEventFor('REQUEST_CLOSED', almaWebhookMessage('REQUEST_CLOSED', { itemId: 'req-x' })));

    // Assess
    await expect(notJson).resolves.toBeUndefined();
    await expect(wrongType).resolves.toBeUndefined();
    expect((await scan(tables.requests)).some((request) => request['request_id'] === 'req-x')).toBe(false);
    const reasons = (await failureRecords())
      .map(({ record }) => `${record.responsePayload.errorType}: ${record.responsePayload.errorMessage}`)
      .sort();
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

  it('logs an AWS failure as retryable and rethrows it', async () => {
    // Prepare
    const errors = jest.spyOn(logger, 'error');
    jest
      .spyOn(DynamoDbCacheStore.prototype, 'writeItem')
      .mockRejectedValueOnce(Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ThrottlingException' }));

    // Act
    const act = run('LOAN_RENEWED', almaWebhookMessageAsOf('LOAN_RENEWED', new Date(), { eventId: 'throttled' }));

    // Assess
    await expect(act).rejects.toThrow('Throughput exceeds');
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('Lambda will retry'), expect.objectContaining({ almaEventId: 'throttled' }));
  });
});
