// The bulk refresh end to end on the emulators: the real SQS batch handler and composition root, DynamoDB Local,
// the API key in moto's SSM, and Alma played by the fake server over loopback HTTP. Alma calls are counted at
// that server, not inside the client.
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { type CacheStore, DEFAULT_EXPIRY_POLICY, RecordLoan, type RefreshUser, systemClock } from '@alma-cache/cache-domain';
import { InMemoryUserRefreshQueue, almaWebhookMessage } from '@alma-cache/cache-domain/testing';
import {
  type CachedSecret,
  createDocumentClient,
  createSqsClient,
  createSsmClient,
  DynamoDbCacheStore,
  type FailureParking,
} from '@alma-cache/aws-adapters';
import { createAlmaGuardTable, createCacheTables, createQueue } from '@alma-cache/aws-adapters/testing';
import { type FakeAlmaServer, fakeRecordId, generatePatron, startFakeAlmaServer } from '@alma-cache/alma-api/testing';
import { sqsEvent as localSqsEvent, sqsRecord } from '@alma-cache/local-aws';
import type { AlmaCallMeter } from '../../src/alma-call-meter';
import { userRefreshProcessor } from '../../src/refresh-processors';
import { createRefreshBatchHandler } from '../../src/refresh-batch-handler';
import { buildContainer, TOKENS } from '../../src/composition-root';

jest.setTimeout(60_000);

const USERS_QUEUE_ARN = 'arn:aws:sqs:eu-west-1:000000000000:alma-cache-stg-users';
const sqsEvent = (...bodies: string[]): SQSEvent =>
  localSqsEvent(bodies.map((body, index) => sqsRecord(body, USERS_QUEUE_ARN, { messageId: `m-${index}-${body.slice(0, 12)}` })));

describe('Integration: update-user on the emulators with a fake Alma', () => {
  const client = createDocumentClient();
  const sqs = createSqsClient();
  let deadLetterQueueUrl: string;
  let alma: FakeAlmaServer;
  let tables: Awaited<ReturnType<typeof createCacheTables>>;
  let handler: ReturnType<typeof createRefreshBatchHandler>;
  let apiKey: CachedSecret;
  let webhookStore: CacheStore;

  const user = async (key: string) => (await client.send(new GetCommand({ TableName: tables.users, Key: { primary_id: key } }))).Item;
  const count = async (table: string) => (await client.send(new ScanCommand({ TableName: table, Select: 'COUNT' }))).Count;
  const almaCallsFor = (primaryId: string) => alma.calls.filter((call) => call.path.includes(`/users/${primaryId}/`)).length;

  beforeAll(async () => {
    alma = await startFakeAlmaServer();
    tables = await createCacheTables();
    const guardTable = await createAlmaGuardTable();
    const keyName = `/alma-cache/test/${tables.users}/alma-api-key`;
    const ssm = createSsmClient();
    await ssm.send(new PutParameterCommand({ Name: keyName, Type: 'SecureString', Value: alma.apiKey }));
    ssm.destroy();
    deadLetterQueueUrl = await createQueue();
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }));
    const container = buildContainer({
      USER_CACHE_TABLE_NAME: tables.users,
      LOAN_CACHE_TABLE_NAME: tables.loans,
      REQUEST_CACHE_TABLE_NAME: tables.requests,
      FEE_CACHE_TABLE_NAME: tables.fees,
      ALMA_API_BASE_URL: alma.url,
      ALMA_API_KEY_NAME: keyName,
      ALMA_GUARD_TABLE_NAME: guardTable,
      DEAD_LETTER_QUEUE_ARN: Attributes!['QueueArn'],
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
    const logger = container.get<Logger>(TOKENS.Logger);
    logger.setLogLevel('ERROR');
    const metrics = container.get<Metrics>(TOKENS.Metrics);
    handler = createRefreshBatchHandler(
      userRefreshProcessor(container.get<RefreshUser>(TOKENS.RefreshUser), container.get<AlmaCallMeter>(TOKENS.AlmaCallMeter), logger, metrics),
      logger,
      metrics,
      'user',
      undefined,
      container.get<FailureParking>(TOKENS.DeadLetterQueue),
    );
    apiKey = container.get<CachedSecret>(TOKENS.AlmaApiKey);
    webhookStore = new DynamoDbCacheStore(client, tables);
  });

  afterAll(async () => {
    client.destroy();
    sqs.destroy();
    await alma.close();
  });

  it('caches a patron with 250 loans, 12 requests and 3 fees completely, in 5 Alma calls', async () => {
    // Prepare
    alma.seedPatron(generatePatron('BIG0250', { loans: 250, requests: 12, fees: 3 }));

    // Act
    const response = await handler(sqsEvent('BIG0250'));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const cached = await user('big0250');
    expect(cached!['loan_ids'].size).toBe(250);
    expect(cached!['request_ids'].size).toBe(12);
    expect(cached!['fee_ids'].size).toBe(3);
    expect(cached!['refreshed_at']).toEqual(expect.any(String));
    expect([await count(tables.loans), await count(tables.requests), await count(tables.fees)]).toEqual([250, 12, 3]);
    expect(almaCallsFor('BIG0250')).toBe(5);
    process.stdout.write(
      `[measured] refresh of 250 loans + 12 requests + 3 fees: ${almaCallsFor('BIG0250')} Alma calls (the original design, a list then a GET per record for each kind: 3 + 265 = 268, and its lists stopped at 10)\n`,
    );
  });

  it('costs exactly 3 Alma calls for a patron with 25 loans, 5 requests and 2 fees', async () => {
    // Prepare
    alma.seedPatron(generatePatron('MID0025', { loans: 25, requests: 5, fees: 2 }));

    // Act
    const response = await handler(sqsEvent('MID0025'));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(almaCallsFor('MID0025')).toBe(3);
    expect((await user('mid0025'))!['loan_ids'].size).toBe(25);
    process.stdout.write(
      `[measured] refresh of 25 loans + 5 requests + 2 fees: ${almaCallsFor('MID0025')} Alma calls (the original design: 3 + 32 = 35)\n`,
    );
  });

  it('ends complete through a burst of 429 PER_SECOND_THRESHOLD replies', async () => {
    // Prepare
    alma.seedPatron(generatePatron('BURST01', { loans: 120, requests: 3, fees: 1 }));
    // Five: RefreshUser asks for the loans first, alone (an unknown patron then costs one call), so the whole burst
    // meets that one request, which gives up after its sixth try (the message then comes back from the queue).
    alma.throttleNext(5);
    const started = Date.now();

    // Act
    const response = await handler(sqsEvent('BURST01'));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const cached = await user('burst01');
    expect([cached!['loan_ids'].size, cached!['request_ids'].size, cached!['fee_ids'].size]).toEqual([120, 3, 1]);
    const calls = almaCallsFor('BURST01');
    expect(calls).toBe(4 + 5);
    process.stdout.write(
      `[measured] 429 burst: 5 throttled replies, then complete (120 loans, 3 requests, 1 fee) after ${calls} Alma calls in ${Date.now() - started} ms\n`,
    );
  });

  it('keeps a webhook newer than the snapshot, including one that lands while Alma is answering', async () => {
    // Prepare: Alma lists two loans. While the refresh waits for Alma's slow replies, a renewal of the first arrives,
    // and a loan is created whose webhook beats Alma's list (the list does not show it).
    const patron = alma.seedPatron(generatePatron('RACE001', { loans: 2 }));
    const [renewedId, listedId] = patron.loans.map((loan) => String(loan['loan_id']));
    const webhooks = new RecordLoan({
      store: webhookStore,
      refreshQueue: new InMemoryUserRefreshQueue(),
      clock: systemClock,
      expiry: DEFAULT_EXPIRY_POLICY,
    });
    alma.delayMs = 400;

    // Act
    const refreshing = handler(sqsEvent('RACE001'));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const renewal = await webhooks.execute(
      almaWebhookMessage('LOAN_RENEWED', { itemId: renewedId, userPrimaryId: 'RACE001', time: new Date().toISOString() }),
    );
    const created = await webhooks.execute(
      almaWebhookMessage('LOAN_CREATED', { itemId: 'during-refresh', userPrimaryId: 'RACE001', time: new Date().toISOString() }),
    );
    const response = await refreshing;
    alma.delayMs = 0;

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect([renewal.user, created.user]).toEqual(['linked', 'linked']);
    const renewed = await client.send(new GetCommand({ TableName: tables.loans, Key: { loan_id: renewedId } }));
    expect(renewed.Item).toMatchObject({ alma_event_type: 'LOAN_RENEWED' });
    const listed = await client.send(new GetCommand({ TableName: tables.loans, Key: { loan_id: listedId } }));
    expect(listed.Item).toMatchObject({ alma_event_type: 'REFRESH' });
    expect([...(await user('race001'))!['loan_ids']].sort()).toEqual([renewedId, listedId, 'during-refresh'].sort());
  });

  it('removes what Alma no longer lists, and a patron Alma does not know, instead of failing forever', async () => {
    // Prepare
    const patron = alma.seedPatron(generatePatron('GONE001', { loans: 3, fees: 1 }));
    await handler(sqsEvent('GONE001'));
    patron.loans.splice(0, 1);

    // Act
    const afterReturn = await handler(sqsEvent('GONE001'));
    const returnedLoan = fakeRecordId('GONE001', 'loan', 0);
    const remaining = [...(await user('gone001'))!['loan_ids']];
    alma.removePatron('GONE001');
    const afterDeletion = await handler(sqsEvent('GONE001'));

    // Assess
    expect([afterReturn.batchItemFailures, afterDeletion.batchItemFailures]).toEqual([[], []]);
    expect(remaining).toHaveLength(2);
    expect(remaining).not.toContain(returnedLoan);
    expect(await user('gone001')).toBeUndefined();
    const fee = await client.send(new GetCommand({ TableName: tables.fees, Key: { fee_id: fakeRecordId('GONE001', 'fee', 0) } }));
    expect(fee.Item).toMatchObject({ tombstone: true });
  });

  it('reads the API key from SSM once per warm container, and sends a poison message to the DLQ at once without failing the others', async () => {
    // Prepare
    alma.seedPatron(generatePatron('WARM001', { loans: 1 }));
    alma.seedPatron(generatePatron('WARM002', { requests: 1 }));

    // Act
    const response = await handler(sqsEvent('WARM001', '{"not":"a patron id"}', 'WARM002'));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: deadLetterQueueUrl, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
    );
    expect(Messages.map((message) => [message.Body, message.MessageAttributes?.['RefusedErrorType']?.StringValue])).toEqual([
      ['{"not":"a patron id"}', 'MalformedRefreshMessageError'],
    ]);
    expect((await user('warm001'))!['loan_ids'].size).toBe(1);
    expect((await user('warm002'))!['request_ids'].size).toBe(1);
    expect(apiKey.reads).toBe(1);
    process.stdout.write(`[measured] SSM GetParameter calls in one warm container over this suite's 8 batches: ${apiKey.reads}\n`);
  });
});
