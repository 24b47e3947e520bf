import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { CloseRequest, DEFAULT_EXPIRY_POLICY, type ItemSyncDeps, RecordLoan, RecordRequest, RemoveLoan } from '@alma-cache/cache-domain';
import { almaWebhookMessage, ManualClock } from '@alma-cache/cache-domain/testing';
import { type CacheTableNames, createSqsClient, DynamoDbCacheStore, SqsUserRefreshQueue } from '../../src';
import { countingDocumentClient, createCacheTables, createQueue } from '../../src/testing';

// The domain's use cases over the real adapters, against DynamoDB Local / moto (or LocalStack).
describe('Integration: item use cases on DynamoDB and SQS', () => {
  const { client, requests } = countingDocumentClient();
  const sqs = createSqsClient();
  let tables: CacheTableNames;
  let queueUrl: string;
  let deps: ItemSyncDeps;

  const seedUser = (key = 'pat0042x') => client.send(new PutCommand({ TableName: tables.users, Item: { primary_id: key } }));
  const getUser = async () => (await client.send(new GetCommand({ TableName: tables.users, Key: { primary_id: 'pat0042x' } }))).Item;
  const drainQueue = async (): Promise<string[]> => {
    const bodies: string[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      if (Messages.length === 0) return bodies;
      bodies.push(...Messages.map((message) => message.Body ?? ''));
    }
  };
  const report = (line: string) => process.stderr.write(`[measured] ${line}\n`);

  beforeEach(async () => {
    tables = await createCacheTables();
    queueUrl = await createQueue();
    deps = {
      store: new DynamoDbCacheStore(client, tables),
      refreshQueue: new SqsUserRefreshQueue(sqs, queueUrl),
      // Just after the last sample webhook, so that every sample is inside the replay horizon whatever the date.
      clock: new ManualClock('2026-12-10T17:00:00.000Z'),
      expiry: DEFAULT_EXPIRY_POLICY,
    };
    requests.length = 0;
  });

  afterAll(() => {
    client.destroy();
    sqs.destroy();
  });

  it('keeps all 200 ids when 200 loan events for one patron run at once', async () => {
    // Prepare
    await seedUser();
    const useCase = new RecordLoan(deps);

    // Act
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => useCase.execute(almaWebhookMessage('LOAN_CREATED', { eventId: `c${i}`, itemId: `loan-${i}` }))),
    );
    const afterCreates = (await getUser())?.['loan_ids'] as Set<string>;
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        new RemoveLoan(deps).execute(almaWebhookMessage('LOAN_RETURNED', { eventId: `r${i}`, itemId: `loan-${i * 2}` })),
      ),
    );
    const afterReturns = (await getUser())?.['loan_ids'] as Set<string>;

    // Assess
    report(
      `concurrency: 200 concurrent LOAN_CREATED for one patron -> ${afterCreates.size} loan_ids; then 100 concurrent LOAN_RETURNED -> ${afterReturns.size} left`,
    );
    expect(afterCreates.size).toBe(200);
    expect(afterReturns.size).toBe(100);
    expect([...afterReturns].every((id) => Number(id.split('-')[1]) % 2 === 1)).toBe(true);
  });

  it('leaves no returned loan linked when its return races an older renewal', async () => {
    // Prepare
    await seedUser();
    const ids = Array.from({ length: 100 }, (_, i) => `race-${i}`);

    // Act: every loan's older renewal and newer return run at once, in both start orders
    await Promise.all(
      ids.flatMap((itemId, i) => {
        const renew = () => new RecordLoan(deps).execute(almaWebhookMessage('LOAN_RENEWED', { itemId, eventId: `n${i}` }));
        const ret = () => new RemoveLoan(deps).execute(almaWebhookMessage('LOAN_RETURNED', { itemId, eventId: `r${i}` }));
        return i % 2 === 0 ? [renew(), ret()] : [ret(), renew()];
      }),
    );

    // Assess
    const user = await getUser();
    const linked = (user?.['loan_ids'] as Set<string> | undefined) ?? new Set<string>();
    report(`race: 100 loans with concurrent LOAN_RENEWED (older) + LOAN_RETURNED (newer) -> ${linked.size} still linked`);
    expect([...linked]).toEqual([]);
    expect(user?.['removed_loan_ids']).toEqual(new Set(ids));
  });

  it('costs two write requests, no reads and at most 2 WCU for every sample event on the common path', async () => {
    // Prepare
    await seedUser();
    const events = [
      ['LOAN_CREATED', RecordLoan],
      ['LOAN_RENEWED', RecordLoan],
      ['LOAN_DUE_DATE', RecordLoan],
      ['LOAN_RETURNED', RemoveLoan],
      ['REQUEST_CREATED', RecordRequest],
      ['REQUEST_PLACED_ON_SHELF', RecordRequest],
      ['REQUEST_CLOSED', CloseRequest],
      ['REQUEST_CANCELED', CloseRequest],
    ] as const;

    for (const [type, UseCase] of events) {
      requests.length = 0;

      // Act
      await new UseCase(deps).execute(almaWebhookMessage(type));

      // Assess
      const units = requests.reduce((sum, request) => sum + (request.writeUnits ?? 0), 0);
      report(`${type} on a cached patron: ${requests.length} DynamoDB requests (${requests.map((r) => r.command).join(', ')}), ${units} WCU`);
      expect(requests.map((request) => request.command)).toEqual(['PutItemCommand', 'UpdateItemCommand']);
      expect(requests.every((request) => request.readUnits === undefined || request.readUnits === 0)).toBe(true);
      expect(units).toBeLessThanOrEqual(2);
    }
  });

  it('tells a redelivered event apart as a duplicate at the same cost: two write requests, no reads, at most 2 WCU', async () => {
    // Prepare: the event applied once, as a first delivery would
    await seedUser();
    const message = almaWebhookMessage('LOAN_RENEWED');
    const first = await new RecordLoan(deps).execute(message);
    requests.length = 0;

    // Act
    const redelivered = await new RecordLoan(deps).execute(message);

    // Assess
    const units = requests.reduce((sum, request) => sum + (request.writeUnits ?? 0), 0);
    report(`LOAN_RENEWED redelivered: ${requests.length} DynamoDB requests, ${units} WCU`);
    expect([first.item, redelivered.item]).toEqual(['written', 'duplicate']);
    expect(requests.map((request) => request.command)).toEqual(['PutItemCommand', 'UpdateItemCommand']);
    expect(requests.every((request) => request.readUnits === undefined || request.readUnits === 0)).toBe(true);
    expect(units).toBeLessThanOrEqual(2);
  });

  it('queues one refresh for a burst of events about an unknown patron, and writes every loan', async () => {
    // Prepare
    const useCase = new RecordLoan(deps);

    // Act
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, (_, i) => useCase.execute(almaWebhookMessage('LOAN_CREATED', { eventId: `u${i}`, itemId: `loan-u${i}` }))),
    );

    // Assess
    const perEvent = requests.length / 30;
    report(`unknown patron: 30 concurrent events -> ${requests.length} DynamoDB requests (${perEvent} per event), users-queue messages follow`);
    expect(outcomes.filter((outcome) => outcome.user === 'refresh-requested')).toHaveLength(1);
    expect(await drainQueue()).toEqual(['PAT0042X']);
    expect(requests.filter((request) => request.command === 'PutItemCommand' && request.table === tables.loans)).toHaveLength(30);
    expect(await getUser()).toBeUndefined();
  });
});
