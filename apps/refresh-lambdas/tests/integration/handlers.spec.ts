import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Container } from 'inversify';
import { randomUUID } from 'node:crypto';
import {
  type CachedSecret,
  type CacheTableNames,
  createDocumentClient,
  createSqsClient,
  createSsmClient,
  SqsFailureParking,
} from '@alma-cache/aws-adapters';
import { createAlmaGuardTable, createCacheTables, createQueue } from '@alma-cache/aws-adapters/testing';
import { type FakeAlmaServer, generatePatron, startFakeAlmaServer } from '@alma-cache/alma-api/testing';
import { ENV } from '../../src/config';
import { TOKENS } from '../../src/composition-root';
import { sqsEvent, sqsRecord } from '../support/sqs-event';

type Handler = (event: SQSEvent) => Promise<SQSBatchResponse>;
const FUNCTIONS = ['update-user', 'update-loan', 'update-request', 'update-fee'] as const;
type FunctionName = (typeof FUNCTIONS)[number];

// The real handlers and composition root against the emulator tables, moto's SSM and the fake Alma server: only
// the invocation by Lambda's SQS poller is simulated.
describe('Handlers: refresh-lambdas', () => {
  jest.setTimeout(30_000);
  const client = createDocumentClient();
  const ssm = createSsmClient();
  const sqs = createSqsClient();
  let deadLetterQueueUrl: string;
  let tables: Required<CacheTableNames>;
  let alma: FakeAlmaServer;
  let handlers: Record<FunctionName, Handler>;
  /** Each function's logger: each handler file builds its own container, as each is its own Lambda function. */
  let loggers: Record<FunctionName, Logger>;
  let apiKey: CachedSecret;

  const getUser = async (key: string) =>
    (await client.send(new GetCommand({ TableName: tables.users, Key: { primary_id: key }, ConsistentRead: true }))).Item;
  const get = async (table: string, key: Record<string, string>) =>
    (await client.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
  /** A patron id of its own per test, so tests never see each other's records. */
  const patronId = (label: string) => `PAT-${label}-${randomUUID().slice(0, 6)}`.toUpperCase();
  const logsOf = (spy: jest.SpyInstance) => spy.mock.calls as [string, Record<string, unknown>][];
  /** Asserts that no log line names any of `ids`, as given, as a cache key (lower case) or URL-encoded. */
  const expectNoIdsIn = (logs: unknown, ...ids: string[]) => {
    const logged = JSON.stringify(logs);
    for (const id of ids) for (const form of [id, id.toLowerCase(), encodeURIComponent(id)]) expect(logged).not.toContain(form);
  };
  /** Every item of every cache table, in a stable order. */
  const scanTables = async () => {
    const scanned: Record<string, unknown[]> = {};
    for (const [role, table] of Object.entries(tables)) {
      const { Items = [] } = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
      scanned[role] = Items.map((item) => JSON.stringify(item, (_key, value) => (value instanceof Set ? [...value].sort() : value))).sort();
    }
    return scanned;
  };
  /** What the DLQ holds (received and deleted, so each test sees only its own). */
  const drainDeadLetters = async () => {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: deadLetterQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
    );
    for (const message of Messages) await sqs.send(new DeleteMessageCommand({ QueueUrl: deadLetterQueueUrl, ReceiptHandle: message.ReceiptHandle }));
    return Messages.map((message) => ({
      body: message.Body,
      reason: `${message.MessageAttributes?.['RefusedErrorType']?.StringValue}: ${message.MessageAttributes?.['RefusedReason']?.StringValue}`,
    }));
  };

  beforeAll(async () => {
    tables = await createCacheTables();
    const guardTable = await createAlmaGuardTable();
    alma = await startFakeAlmaServer();
    const keyName = `/alma-cache/test/${randomUUID().slice(0, 8)}/alma-api-key`;
    await ssm.send(new PutParameterCommand({ Name: keyName, Value: alma.apiKey, Type: 'SecureString' }));
    deadLetterQueueUrl = await createQueue();
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }));
    Object.assign(process.env, {
      [ENV.usersTable]: tables.users,
      [ENV.loansTable]: tables.loans,
      [ENV.requestsTable]: tables.requests,
      [ENV.feesTable]: tables.fees,
      [ENV.almaApiBaseUrl]: alma.url,
      [ENV.almaApiKeyName]: keyName,
      [ENV.almaGuardTable]: guardTable,
      [ENV.deadLetterQueueArn]: Attributes!['QueueArn'],
      // A stage budget whose refresh share (12 calls/s) is not what binds: the container's ceiling of 4 in flight is
      // checked below, and the default share (3 of 10) would never let 4 overlap. The budget has its own specs.
      ALMA_CALLS_PER_SECOND: '40',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      // The metrics have their own spec (refresh-metrics.spec.ts); here their EMF lines would only flood the output.
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    handlers = {} as Record<FunctionName, Handler>;
    loggers = {} as Record<FunctionName, Logger>;
    for (const name of FUNCTIONS) {
      const entry = (await import(`../../src/handlers/${name}`)) as { handler: Handler; container: Container };
      handlers[name] = entry.handler;
      loggers[name] = entry.container.get<Logger>(TOKENS.Logger);
      if (name === 'update-user') apiKey = entry.container.get<CachedSecret>(TOKENS.AlmaApiKey);
    }
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    alma.delayMs = 0;
    // Each test's poison messages stay its own.
    await drainDeadLetters();
  });

  afterAll(async () => {
    client.destroy();
    ssm.destroy();
    sqs.destroy();
    await alma?.close();
  });

  describe('Function: update-user', () => {
    it('writes the good patrons of a batch and sends the poison message straight to the DLQ, not to be received again', async () => {
      // Prepare
      const [first, second] = [patronId('a'), patronId('b')];
      alma.seedPatron(generatePatron(first, { loans: 3, requests: 2, fees: 1 }));
      alma.seedPatron(generatePatron(second, { loans: 120, fees: 2 }));
      const poison = sqsRecord('{"userID":"PAT0042X"}', 2);
      const errors = jest.spyOn(loggers['update-user'], 'error');

      // Act
      const response = await handlers['update-user'](sqsEvent(sqsRecord(first), poison, sqsRecord(second)));

      // Assess
      expect(response).toEqual({ batchItemFailures: [] });
      expect(await drainDeadLetters()).toEqual([
        { body: '{"userID":"PAT0042X"}', reason: 'MalformedRefreshMessageError: the body is JSON, but the Users queue takes a bare patron id' },
      ]);
      expect(await getUser(first.toLowerCase())).toMatchObject({ loan_ids: expect.any(Set), request_ids: expect.any(Set), fee_ids: expect.any(Set) });
      expect((await getUser(first.toLowerCase()))?.['loan_ids'].size).toBe(3);
      expect((await getUser(second.toLowerCase()))?.['loan_ids'].size).toBe(120);
      expect((await getUser(second.toLowerCase()))?.['fee_ids'].size).toBe(2);
      const feeId = alma.patron(first)!.fees[0]['id'] as string;
      expect(await get(tables.fees, { fee_id: feeId })).toMatchObject({ fee_id: feeId, id: feeId, alma_event_type: 'REFRESH' });
      expect(logsOf(errors)).toEqual([
        [
          expect.stringContaining('Poison message: nothing written; sent to the DLQ at once'),
          expect.objectContaining({
            errorType: 'MalformedRefreshMessageError',
            reason: 'the body is JSON, but the Users queue takes a bare patron id',
            messageId: poison.messageId,
            receiveCount: 2,
            retryable: false,
            parkedMessageId: expect.any(String),
          }),
        ],
      ]);
    });

    it('reports the poison message as a batch item failure when the DLQ does not take it, so SQS still moves it there', async () => {
      // Prepare
      const poison = sqsRecord('', 1);
      jest.spyOn(SqsFailureParking.prototype, 'park').mockRejectedValueOnce(Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' }));
      const errors = jest.spyOn(loggers['update-user'], 'error');
      const warnings = jest.spyOn(loggers['update-user'], 'warn');

      // Act
      const response = await handlers['update-user'](sqsEvent(poison));

      // Assess
      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: poison.messageId }] });
      expect(await drainDeadLetters()).toEqual([]);
      expect(logsOf(warnings)).toEqual([
        [expect.stringContaining('Could not send the poison message to the DLQ'), expect.objectContaining({ messageId: poison.messageId })],
      ]);
      expect(logsOf(errors)).toEqual([
        [
          expect.stringContaining('SQS moves it to the DLQ after the last receive'),
          expect.objectContaining({ errorType: 'MalformedRefreshMessageError', retryable: false }),
        ],
      ]);
    });

    it('logs one line per refresh with the outcome counts and the Alma requests it made', async () => {
      // Prepare
      const id = patronId('c');
      alma.seedPatron(generatePatron(id, { loans: 250, requests: 1 }));
      alma.resetCalls();
      const infos = jest.spyOn(loggers['update-user'], 'info');
      const record = sqsRecord(id);

      // Act
      const response = await handlers['update-user'](sqsEvent(record));

      // Assess: 3 pages of loans, 1 of requests, 1 of fees
      expect(response.batchItemFailures).toEqual([]);
      expect(alma.calls).toHaveLength(5);
      expect(logsOf(infos)).toEqual([
        [
          'Patron refreshed from Alma',
          expect.objectContaining({
            messageId: record.messageId,
            result: 'refreshed',
            counts: {
              loan: { listed: 250, written: 250, stale: 0, skipped: 0, removed: 0 },
              request: { listed: 1, written: 1, stale: 0, skipped: 0, removed: 0 },
              fee: { listed: 0, written: 0, stale: 0, skipped: 0, removed: 0 },
            },
            almaCalls: 5,
            almaRetries: 0,
            ms: expect.any(Number),
          }),
        ],
      ]);
      // Counts and outcome only: neither the patron nor any of their 251 records is named.
      expectNoIdsIn(
        logsOf(infos),
        id,
        ...alma.patron(id)!.loans.map((loan) => String(loan['loan_id'])),
        String(alma.patron(id)!.requests[0]['request_id']),
      );
    });

    it('keeps the container within its Alma ceiling while the batch runs in parallel', async () => {
      // Prepare: five patrons of two loan pages each, and an Alma slow enough for requests to overlap
      const ids = Array.from({ length: 5 }, (_, index) => patronId(`p${index}`));
      for (const id of ids) alma.seedPatron(generatePatron(id, { loans: 150, requests: 1, fees: 1 }));
      alma.delayMs = 40;
      alma.resetCalls();

      // Act
      const response = await handlers['update-user'](sqsEvent(...ids.map((id) => sqsRecord(id))));

      // Assess: 4 is ALMA_MAX_CONCURRENT_REQUESTS's default
      expect(response.batchItemFailures).toEqual([]);
      expect(alma.calls).toHaveLength(5 * 4);
      expect(alma.maxInFlight).toBe(4);
    });

    it('parks every message naming a look-alike of a cached or expired patron, or of its record, asking Alma nothing and changing no table', async () => {
      // Prepare: two real patrons with a K (for U+212A to stand for), cached by the function itself; the second's row
      // expired, with no claim on it
      const [cached, expired] = [patronId('kc'), patronId('ke')];
      for (const id of [cached, expired]) alma.seedPatron(generatePatron(id, { loans: 1, requests: 1, fees: 1 }));
      await handlers['update-user'](sqsEvent(sqsRecord(cached), sqsRecord(expired)));
      await client.send(
        new UpdateCommand({
          TableName: tables.users,
          Key: { primary_id: expired.toLowerCase() },
          UpdateExpression: 'SET expires_at = :past',
          ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 60 },
        }),
      );
      const lookalikes = (id: string) => [
        `${id}\u00a0`,
        `\u2003${id}`,
        `${id}\u3000`,
        `\ufeff${id}`,
        id.replace('K', '\u212a'),
        `\uff30${id.slice(1)}`,
      ];
      // Bare, JSON-quoted, and (noncharacters, which SQS refuses raw) as JSON escapes only.
      const userBodies = [cached, expired].flatMap((id) => [
        ...lookalikes(id),
        ...lookalikes(id).map((odd) => JSON.stringify(odd)),
        `"${id}\\uffff"`,
        `"${id}\\ufffe"`,
      ]);
      const loanId = alma.patron(cached)!.loans[0]['loan_id'] as string;
      const loanBodies = [
        ...lookalikes(cached).map((odd) => JSON.stringify({ userID: odd, loanID: loanId })),
        `{"userID":"${cached}\\uffff","loanID":"${loanId}"}`,
        JSON.stringify({ userID: cached, loanID: `${loanId}\u00a0` }),
        JSON.stringify({ userID: cached, loanID: `\uff11${loanId}` }),
        `{"userID":"${cached}","loanID":"${loanId}\\ufffe"}`,
      ];
      const before = await scanTables();
      alma.resetCalls();

      // Act
      const responses = [
        await handlers['update-user'](sqsEvent(...userBodies.map((body) => sqsRecord(body)))),
        await handlers['update-loan'](sqsEvent(...loanBodies.map((body) => sqsRecord(body)))),
      ];

      // Assess
      expect(responses).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
      const parked = [];
      for (let batch = await drainDeadLetters(); batch.length > 0; batch = await drainDeadLetters()) parked.push(...batch);
      expect(parked.map((message) => message.body).sort()).toEqual([...userBodies, ...loanBodies].sort());
      expect(parked.map((message) => message.reason)).toEqual(
        parked.map(() =>
          expect.stringMatching(
            /^MalformedRefreshMessageError: (the patron id|"userID"|"loanID") (starts or ends with whitespace|holds a character whose upper or lower case is an ASCII letter|is not in Unicode NFKC form|holds a Unicode noncharacter)/,
          ),
        ),
      );
      expect(alma.calls).toEqual([]);
      expect(await scanTables()).toEqual(before);
      expect(await getUser(cached.toLowerCase())).toMatchObject({ refreshed_at: expect.anything() });
    });

    it('removes a patron Alma does not know, which is an outcome and not a failure', async () => {
      // Prepare
      const id = patronId('gone');
      const infos = jest.spyOn(loggers['update-user'], 'info');

      // Act
      const response = await handlers['update-user'](sqsEvent(sqsRecord(id)));

      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect(await getUser(id.toLowerCase())).toBeUndefined();
      expect(logsOf(infos)[0]).toEqual([expect.stringContaining('not in Alma'), expect.objectContaining({ result: 'user-not-found' })]);
      expectNoIdsIn(logsOf(infos), id);
    });

    it('retries throttled Alma calls within the invocation and counts them', async () => {
      // Prepare
      const id = patronId('t');
      alma.seedPatron(generatePatron(id, { loans: 1 }));
      alma.throttleNext(2);
      const infos = jest.spyOn(loggers['update-user'], 'info');
      const warnings = jest.spyOn(loggers['update-user'], 'warn');

      // Act
      const response = await handlers['update-user'](sqsEvent(sqsRecord(id)));

      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect(logsOf(infos)[0][1]).toMatchObject({ almaCalls: 5, almaRetries: 2 });
      expect(logsOf(warnings)).toEqual([
        ['Alma request retried', expect.objectContaining({ reason: 429, route: expect.stringMatching(/^\/almaws\/v1\/users\/\{id\}\//) })],
        ['Alma request retried', expect.objectContaining({ reason: 429, route: expect.stringMatching(/^\/almaws\/v1\/users\/\{id\}\//) })],
      ]);
    });

    it('fails only the message whose Alma request was refused, logging the status and its Alma calls', async () => {
      // Prepare: the first request to reach Alma gets HTTP 400, whichever patron it is for
      const ids = [patronId('r1'), patronId('r2')];
      for (const id of ids) alma.seedPatron(generatePatron(id, { loans: 1 }));
      alma.failNext(1, 400);
      const errors = jest.spyOn(loggers['update-user'], 'error');
      const records = ids.map((id) => sqsRecord(id));

      // Act
      const response = await handlers['update-user'](sqsEvent(...records));

      // Assess
      expect(response.batchItemFailures).toHaveLength(1);
      const failedId = response.batchItemFailures[0].itemIdentifier;
      const refreshed = ids.filter((_, index) => records[index].messageId !== failedId);
      expect(refreshed).toHaveLength(1);
      expect(await getUser(refreshed[0].toLowerCase())).toMatchObject({ refreshed_at: expect.any(String) });
      expect(logsOf(errors)).toEqual([
        [
          expect.stringContaining('Alma refused the request'),
          expect.objectContaining({ errorType: 'AlmaRequestError', status: 400, messageId: failedId, almaCalls: expect.any(Number) }),
        ],
      ]);
    });

    it('reports a batch that fails entirely message by message instead of throwing', async () => {
      // Prepare: poison messages the DLQ does not take, so each fails this receive
      const records = [sqsRecord(''), sqsRecord('   ')];
      jest.spyOn(SqsFailureParking.prototype, 'park').mockRejectedValue(Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' }));

      // Act
      const response = await handlers['update-user'](sqsEvent(...records));

      // Assess
      expect(response.batchItemFailures).toEqual(records.map((record) => ({ itemIdentifier: record.messageId })));
    });

    it('reads the API key from SSM once per container and never logs it', async () => {
      // Prepare
      const id = patronId('k');
      alma.seedPatron(generatePatron(id, { loans: 2 }));
      alma.throttleNext(1);
      const spies = (['debug', 'info', 'warn', 'error'] as const).map((level) => jest.spyOn(loggers['update-user'], level));

      // Act
      await handlers['update-user'](sqsEvent(sqsRecord(id), sqsRecord('{}')));
      await handlers['update-user'](sqsEvent(sqsRecord(id)));

      // Assess
      expect(apiKey.reads).toBe(1);
      const logged = JSON.stringify(spies.flatMap((spy) => spy.mock.calls));
      expect(logged.length).toBeGreaterThan(100);
      expect(logged).not.toContain(alma.apiKey);
      // Every line of two batches, the retry line and the poison message's included, and none names the patron.
      expectNoIdsIn(
        spies.map((spy) => spy.mock.calls),
        id,
      );
    });
  });

  describe('Functions: update-loan, update-request, update-fee', () => {
    it('refreshes the one loan named and sends only the malformed messages to the DLQ, at once', async () => {
      // Prepare: a cached patron whose loan Alma has since renewed
      const id = patronId('l');
      const patron = alma.seedPatron(generatePatron(id, { loans: 2 }));
      await handlers['update-user'](sqsEvent(sqsRecord(id)));
      const loanId = patron.loans[0]['loan_id'] as string;
      patron.loans[0]['due_date'] = '2031-01-31T23:59:00Z';
      const good = sqsRecord(JSON.stringify({ userID: id, loanID: loanId }));
      const noLoanId = sqsRecord(JSON.stringify({ userID: id, requestID: loanId }));
      const notJson = sqsRecord('loan 42 please');
      const errors = jest.spyOn(loggers['update-loan'], 'error');
      const infos = jest.spyOn(loggers['update-loan'], 'info');
      alma.resetCalls();

      // Act
      const response = await handlers['update-loan'](sqsEvent(noLoanId, good, notJson));

      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect((await drainDeadLetters()).sort((a, b) => String(a.body).localeCompare(String(b.body)))).toEqual([
        { body: noLoanId.body, reason: 'MalformedRefreshMessageError: "loanID" is missing or not a string' },
        { body: 'loan 42 please', reason: expect.stringMatching(/^MalformedRefreshMessageError: the body is not JSON/) },
      ]);
      expect(alma.calls).toHaveLength(1);
      expect(await get(tables.loans, { loan_id: loanId })).toMatchObject({ due_date: '2031-01-31T23:59:00Z', alma_event_type: 'REFRESH' });
      expect(logsOf(infos)).toEqual([
        [
          'Alma loan refreshed',
          expect.objectContaining({
            messageId: good.messageId,
            kind: 'loan',
            found: true,
            item: 'written',
            user: 'linked',
            almaCalls: 1,
          }),
        ],
      ]);
      expectNoIdsIn(logsOf(infos), id, loanId);
      // The batch's messages run in parallel, so the two refusals may be logged in either order.
      const refusals = logsOf(errors).map(([, details]) => [details['messageId'], details['reason']]);
      expect(refusals).toHaveLength(2);
      expect(refusals).toEqual(
        expect.arrayContaining([
          [noLoanId.messageId, '"loanID" is missing or not a string'],
          [notJson.messageId, expect.stringContaining('the body is not JSON')],
        ]),
      );
    });

    it('sends a message whose Alma record the cache must not store to the DLQ at once, writing nothing', async () => {
      // Prepare: Alma answers with a loan carrying a field named like the cache's own tombstone flag
      const id = patronId('m');
      const patron = alma.seedPatron(generatePatron(id, { loans: 1 }));
      const loanId = patron.loans[0]['loan_id'] as string;
      patron.loans[0]['tombstone'] = true;
      const record = sqsRecord(JSON.stringify({ userID: id, loanID: loanId }));
      const errors = jest.spyOn(loggers['update-loan'], 'error');

      // Act
      const response = await handlers['update-loan'](sqsEvent(record));

      // Assess: not received again, parked with the reason, nothing cached
      expect(response.batchItemFailures).toEqual([]);
      expect(await drainDeadLetters()).toEqual([
        { body: record.body, reason: expect.stringMatching(/^MalformedAlmaRecordError: Alma's loan record cannot be cached: .*tombstone/) },
      ]);
      expect(logsOf(errors)).toEqual([
        [expect.stringContaining('Poison message'), expect.objectContaining({ errorType: 'MalformedAlmaRecordError' })],
      ]);
      expectNoIdsIn(logsOf(errors), id, loanId);
      expect(await get(tables.loans, { loan_id: loanId })).toBeUndefined();
    });

    it('refreshes a request', async () => {
      // Prepare
      const id = patronId('q');
      const patron = alma.seedPatron(generatePatron(id, { requests: 1 }));
      const requestId = patron.requests[0]['request_id'] as string;

      // Act
      const response = await handlers['update-request'](sqsEvent(sqsRecord(JSON.stringify({ userID: id, requestID: requestId }))));

      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect(await get(tables.requests, { request_id: requestId })).toMatchObject({ user_primary_id: id, alma_event_type: 'REFRESH' });
    });

    it('turns a fee Alma no longer has into a tombstone and unlinks it from the patron', async () => {
      // Prepare: a cached patron whose second fee was paid off since
      const id = patronId('f');
      const patron = alma.seedPatron(generatePatron(id, { fees: 2 }));
      await handlers['update-user'](sqsEvent(sqsRecord(id)));
      const [kept, paid] = patron.fees.map((fee) => fee['id'] as string);
      patron.fees.splice(1, 1);
      const infos = jest.spyOn(loggers['update-fee'], 'info');

      // Act
      const response = await handlers['update-fee'](sqsEvent(sqsRecord(JSON.stringify({ userID: id, feeID: paid }))));

      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect(await get(tables.fees, { fee_id: paid })).toMatchObject({ tombstone: true });
      const user = await getUser(id.toLowerCase());
      expect(user?.['fee_ids']).toEqual(new Set([kept]));
      expect(user?.['removed_fee_ids']).toEqual(new Set([paid]));
      expect(logsOf(infos)[0]).toEqual([
        'Alma fee no longer exists: tombstone written',
        expect.objectContaining({ found: false, item: 'written', user: 'unlinked' }),
      ]);
      expectNoIdsIn(logsOf(infos), id, paid);
    });
  });
});
