import { randomUUID } from 'node:crypto';
import { DEFAULT_EXPIRY_POLICY, userCacheKey } from '@alma-cache/cache-domain';
import { type DynamoDbCacheStore } from '@alma-cache/aws-adapters';
import { type FakeAlmaServer, fakeRecordId, generatePatron } from '@alma-cache/alma-api/testing';
import { type CapturedMetrics, type HttpApiServer, startHttpApiServer } from '@alma-cache/local-aws';
import { ENV } from '../../src/config';
import { mintLocalToken, verifyLocalToken } from '../../src/local-auth';
import { createQueryApi, createQueryApiLambdaHandler, type QueryApi } from '../../src/query-api';
import { loadOpenApi } from '../support/openapi';
import { documentedRequest, type HttpAnswer as Answer, patronId, type QueryStack, startQueryStack } from '../support/query-stack';

const openapi = loadOpenApi();
const READER = mintLocalToken('reader');
const ADMIN = mintLocalToken('admin');

// The real route table and composition root, served by the local HTTP API server as API Gateway would call them,
// against DynamoDB Local, SQS and SSM in the emulators and the fake Alma server over loopback. Every answer is also
// checked against openapi.yaml: its status must be documented for the route and its body must fit the schema.
describe('HTTP: query-api', () => {
  jest.setTimeout(30_000);
  let stack: QueryStack;
  let alma: FakeAlmaServer;
  let env: Record<string, string>;
  let api: QueryApi;
  let server: HttpApiServer;
  let store: DynamoDbCacheStore;
  // Kept, not printed: what the function would log as EMF, read by the metrics test.
  let metrics: CapturedMetrics;
  let captureMetrics: QueryStack['captureMetrics'];
  let cachePatron: QueryStack['cachePatron'];
  let queuedBodies: QueryStack['drainQueue'];

  const request = (method: string, path: string, token: string | null, base = server.url): Promise<Answer> =>
    documentedRequest(openapi, base, method, path, token);
  const get = (path: string, token: string | null = READER) => request('GET', path, token);

  const expectCorrelated = (answer: Answer) => {
    expect(answer.body.correlationId).toEqual(expect.any(String));
    expect(answer.headers.get('x-correlation-id')).toBe(answer.body.correlationId);
    // API Gateway's request id: the one id in its access log, the function's log line and the answer.
    expect(answer.headers.get('apigw-requestid')).toBe(answer.body.correlationId);
  };

  beforeAll(async () => {
    stack = await startQueryStack();
    ({ alma, env, api, server, store, metrics, captureMetrics, cachePatron, drainQueue: queuedBodies } = stack);
  });

  beforeEach(async () => {
    await queuedBodies();
    alma.resetCalls();
    metrics.documents.length = 0;
  });

  afterEach(() => {
    jest.restoreAllMocks();
    alma.delayMs = 0;
  });

  afterAll(() => stack?.close());

  describe('a cached patron', () => {
    it("answers GET /users/{id} from the cache with Alma's fields only, lists ordered by id, and asks Alma nothing", async () => {
      // Prepare
      const id = patronId('hit');
      await cachePatron(id, { loans: 3, requests: 2, fees: 1 });
      const almaPatron = alma.patron(id)!;

      // Act
      const answer = await get(`/users/${id}`);

      // Assess
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-cache')).toBe('hit');
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(answer.body).toEqual({
        primary_id: id,
        loans: [...almaPatron.loans].sort((a, b) => String(a['loan_id']).localeCompare(String(b['loan_id']))),
        requests: [...almaPatron.requests].sort((a, b) => String(a['request_id']).localeCompare(String(b['request_id']))),
        fees: almaPatron.fees,
      });
      expect(JSON.stringify(answer.body)).not.toMatch(/alma_event_|expires_at|tombstone|fee_id/);
      expect(alma.calls).toEqual([]);
      expect(await queuedBodies()).toEqual([]);
    });

    it('answers each list and each record, matching the patron id case-insensitively', async () => {
      // Prepare
      const id = patronId('lists');
      await cachePatron(id, { loans: 2, requests: 1, fees: 2 });
      const almaPatron = alma.patron(id)!;
      const lower = id.toLowerCase();

      // Act
      const [loans, requests, fees] = await Promise.all(['loans', 'requests', 'fees'].map((kind) => get(`/users/${lower}/${kind}`)));
      const loan = await get(`/users/${lower}/loans/${fakeRecordId(id, 'loan', 1)}`);
      const request = await get(`/users/${id}/requests/${fakeRecordId(id, 'request', 0)}`);
      const fee = await get(`/users/${id}/fees/${fakeRecordId(id, 'fee', 1)}`);

      // Assess
      expect([loans.status, requests.status, fees.status, loan.status, request.status, fee.status]).toEqual([200, 200, 200, 200, 200, 200]);
      expect(loans.body).toEqual({ primary_id: lower, loans: almaPatron.loans });
      expect(requests.body).toEqual({ primary_id: lower, requests: almaPatron.requests });
      expect(fees.body.fees).toHaveLength(2);
      expect(loan.body).toEqual(almaPatron.loans[1]);
      expect(request.body).toEqual(almaPatron.requests[0]);
      expect(fee.body).toEqual(almaPatron.fees[1]);
      expect(alma.calls).toEqual([]);
    });

    it('never serves a returned loan: left out of lists, 404 alone, whether or not the patron is unlinked yet', async () => {
      // Prepare: one loan tombstoned but still linked (between the two writes of a return), one fully returned
      const id = patronId('tomb');
      await cachePatron(id, { loans: 3 });
      const [linked, unlinked, live] = [0, 1, 2].map((index) => fakeRecordId(id, 'loan', index));
      const tombstone = (itemId: string) => ({
        kind: 'loan' as const,
        itemId,
        userPrimaryId: id,
        eventId: `return-${itemId}`,
        eventType: 'LOAN_RETURNED',
        eventTime: new Date().toISOString(),
        tombstone: true,
        expiresAt: Math.floor(Date.now() / 1000) + 3600,
        fields: { loan_id: itemId, user_id: id },
      });
      await store.writeItem(tombstone(linked));
      await store.writeItem(tombstone(unlinked));
      await store.unlinkItem(userCacheKey(id), 'loan', unlinked);

      // Act
      const list = await get(`/users/${id}/loans`);
      const [linkedAnswer, unlinkedAnswer] = await Promise.all([get(`/users/${id}/loans/${linked}`), get(`/users/${id}/loans/${unlinked}`)]);

      // Assess
      expect(list.status).toBe(200);
      expect(list.body.loans.map((loan: Record<string, unknown>) => loan['loan_id'])).toEqual([live]);
      expect([linkedAnswer.status, unlinkedAnswer.status]).toEqual([404, 404]);
      expect(linkedAnswer.body.message).toBe(`Patron "${id}" has no loan "${linked}"`);
      expectCorrelated(linkedAnswer);
      expect(alma.calls).toEqual([]);
    });

    it("answers 404 for another patron's loan, request or fee asked for under this patron", async () => {
      // Prepare
      const [mine, theirs] = [patronId('mine'), patronId('theirs')];
      await cachePatron(mine, { loans: 1 });
      await cachePatron(theirs, { loans: 1, requests: 1, fees: 1 });
      const [loan, request, fee] = [fakeRecordId(theirs, 'loan', 0), fakeRecordId(theirs, 'request', 0), fakeRecordId(theirs, 'fee', 0)];

      // Act
      const underMine = await Promise.all([
        get(`/users/${mine}/loans/${loan}`),
        get(`/users/${mine}/requests/${request}`),
        get(`/users/${mine}/fees/${fee}`),
      ]);
      const underTheirs = await get(`/users/${theirs}/loans/${loan}`);

      // Assess
      expect(underMine.map((answer) => answer.status)).toEqual([404, 404, 404]);
      expect(underTheirs.status).toBe(200);
      expect(alma.calls).toEqual([]);
      expect(await queuedBodies()).toEqual([]);
    });
  });

  describe('a patron the cache cannot answer for', () => {
    it('rebuilds the patron from Alma once (loans first), answers from the cache it wrote, and queues nothing', async () => {
      // Prepare
      const id = patronId('miss');
      alma.seedPatron(generatePatron(id, { loans: 2, requests: 1, fees: 1 }));

      // Act
      const answer = await get(`/users/${id}`);
      const again = await get(`/users/${id}`);

      // Assess
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-cache')).toBe('miss');
      expect(answer.body.loans).toHaveLength(2);
      expect(answer.body.requests).toHaveLength(1);
      expect(answer.body.fees).toHaveLength(1);
      // RefreshUser asks for the loans alone first: an id Alma does not know then costs one call.
      expect(alma.calls[0].path).toBe(`/almaws/v1/users/${id}/loans`);
      expect(alma.calls.map((call) => call.path).sort()).toEqual(['fees', 'loans', 'requests'].map((kind) => `/almaws/v1/users/${id}/${kind}`));
      expect([again.status, again.headers.get('x-cache'), again.body]).toEqual([200, 'hit', answer.body]);
      expect(await queuedBodies()).toEqual([]);
    });

    it('does not fetch a patron whose first refresh is still running: it waits for it, then answers 503 refreshing', async () => {
      // Prepare: the placeholder a refresh writes before it asks Alma, just now
      const id = patronId('placeholder');
      alma.seedPatron(generatePatron(id, { fees: 2 }));
      await store.beginUserRefresh(userCacheKey(id), Math.floor(Date.now() / 1000) + DEFAULT_EXPIRY_POLICY.userSeconds);

      // Act
      const answer = await get(`/users/${id}/fees`);

      // Assess
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('2');
      expect(answer.body.message).toBe('This patron is being rebuilt from Alma right now; retry after 2 s');
      expectCorrelated(answer);
      expect(alma.calls).toEqual([]);
      expect(await queuedBodies()).toEqual([]);
    });

    it("rebuilds a patron not cached for one of their records, then serves it from the cache (never Alma's record route)", async () => {
      // Prepare
      const id = patronId('itemmiss');
      alma.seedPatron(generatePatron(id, { loans: 2 }));
      const loanId = fakeRecordId(id, 'loan', 1);

      // Act
      const answer = await get(`/users/${id}/loans/${loanId}`);
      const other = await get(`/users/${id}/loans/${fakeRecordId(id, 'loan', 0)}`);

      // Assess
      expect([answer.status, answer.headers.get('x-cache'), answer.body.loan_id]).toEqual([200, 'miss', loanId]);
      expect([other.status, other.headers.get('x-cache')]).toEqual([200, 'hit']);
      expect(alma.calls.map((call) => call.path).sort()).toEqual(['fees', 'loans', 'requests'].map((kind) => `/almaws/v1/users/${id}/${kind}`));
      expect(await queuedBodies()).toEqual([]);
    });

    it('answers 404 when neither the cache nor Alma knows the patron, and queues nothing', async () => {
      // Act
      const [patron, loans, loan] = await Promise.all([
        get('/users/NOBODY-HERE'),
        get('/users/NOBODY-HERE/loans'),
        get('/users/NOBODY-HERE/loans/123'),
      ]);

      // Assess
      expect([patron.status, loans.status, loan.status]).toEqual([404, 404, 404]);
      expect(patron.body.message).toBe('No patron "NOBODY-HERE"');
      expectCorrelated(patron);
      expect(await queuedBodies()).toEqual([]);
    });

    it.each([
      ['its per-second limit, with Retry-After', { retryAfterSeconds: 30 }, 1, '30', /throttling/],
      ['its per-second limit on every try, without Retry-After', {}, 2, '2', /throttling/],
      ['the daily quota', { errorCode: 'DAILY_THRESHOLD' as const }, 1, '3600', /daily API request limit/],
    ])(
      'answers 429 with Retry-After when Alma throttles (%s), and hands the patron to the bulk refresh',
      async (_case, throttle, times, retryAfter, message) => {
        // Prepare
        const id = patronId('throttled');
        alma.seedPatron(generatePatron(id, { loans: 1 }));
        alma.throttleNext(times, throttle);

        // Act
        const answer = await get(`/users/${id}/loans`);

        // Assess
        expect(answer.status).toBe(429);
        expect(answer.headers.get('retry-after')).toBe(retryAfter);
        expect(answer.body.message).toMatch(message);
        expectCorrelated(answer);
        expect(alma.calls).toHaveLength(times);
        // The rebuild could not reach Alma: the Users queue's consumer retries patiently, the claim keeps other misses off Alma.
        expect(await queuedBodies()).toEqual([id]);
      },
    );

    it('answers 503 with Retry-After when Alma is down', async () => {
      // Prepare
      const id = patronId('down');
      alma.seedPatron(generatePatron(id, { requests: 1 }));
      alma.failNext(2, 503);

      // Act
      const answer = await get(`/users/${id}/requests/${fakeRecordId(id, 'request', 0)}`);

      // Assess
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('30');
      expect(answer.body.message).toBe('Alma is unavailable and this patron is not cached; retry after 30 s');
      expectCorrelated(answer);
      expect(alma.calls).toHaveLength(2);
    });

    it('answers 503 with Retry-After of its own before API Gateway would give up on a slow Alma', async () => {
      // Prepare: an integration timeout of 2.5 s leaves the routes 1.5 s; Alma takes 2 s
      const impatient = await startHttpApiServer({ routes: api.routes, authorize: verifyLocalToken, timeoutMs: 2500 });
      const id = patronId('slow');
      alma.seedPatron(generatePatron(id, { loans: 1 }));
      alma.delayMs = 2000;

      // Act
      const started = Date.now();
      const answer = await request('GET', `/users/${id}/loans`, READER, impatient.url);

      // Assess
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('5');
      expectCorrelated(answer);
      expect(Date.now() - started).toBeLessThan(2500);
      await impatient.close();
    });
  });

  describe('faults of the service', () => {
    it('answers 500 with a correlation id that is also in the error log line, never the cause', async () => {
      // Prepare: a deploy whose users table does not exist
      const broken = createQueryApi({ ...env, [ENV.usersTable]: `missing-${randomUUID().slice(0, 8)}` }, { configure: captureMetrics });
      const brokenServer = await startHttpApiServer({ routes: broken.routes, authorize: verifyLocalToken });
      const errors = jest.spyOn(broken.logger, 'error');

      // Act
      const answer = await request('GET', '/users/PAT0042X', READER, brokenServer.url);

      // Assess
      expect(answer.status).toBe(500);
      expect(answer.body.message).toBe('Internal error; quote the correlation id when reporting it');
      expectCorrelated(answer);
      expect(errors).toHaveBeenCalledTimes(1);
      expect(errors.mock.calls[0][1]).toMatchObject({ correlationId: answer.body.correlationId, status: 500, routeKey: 'GET /users/{id}' });
      await brokenServer.close();
    });

    it('answers 400 for an id that cannot be one', async () => {
      // Act
      const answer = await get('/users/PAT%0A0042X/loans');

      // Assess
      expect(answer.status).toBe(400);
      expect(answer.body.message).toBe('Invalid request: the patron id holds control characters');
    });
  });

  describe('roles', () => {
    it('answers 401 without a token, with a forged or expired one', async () => {
      // Prepare
      const forged = `${READER.slice(0, READER.lastIndexOf('.'))}.${Buffer.from('forged').toString('base64url')}`;
      const expired = mintLocalToken('admin', { expiresInSeconds: -1 });

      // Act
      const answers = await Promise.all([
        get('/users/PAT0042X', null),
        get('/users/PAT0042X', forged),
        request('POST', '/users/PAT0042X/refresh', expired),
      ]);

      // Assess
      expect(answers.map((answer) => answer.status)).toEqual([401, 401, 401]);
    });

    it("answers 403 to a token without any of the API's scopes", async () => {
      // Act
      const answer = await get('/users/PAT0042X', mintLocalToken('none'));

      // Assess
      expect(answer.status).toBe(403);
      expect(answer.headers.get('www-authenticate')).toBe(
        'Bearer error="insufficient_scope", scope="alma-cache/read alma-cache/admin alma-cache/patron"',
      );
      expectCorrelated(answer);
    });

    it('refuses a reader the refresh with 403, and queues nothing', async () => {
      // Act
      const answer = await request('POST', '/users/PAT0042X/refresh', READER);

      // Assess
      expect(answer.status).toBe(403);
      expect(answer.body.message).toBe('This token does not allow POST /users/{id}/refresh: it needs one of the scopes alma-cache/admin');
      expect(await queuedBodies()).toEqual([]);
    });

    it('lets an admin queue a refresh (202) and read', async () => {
      // Prepare
      const id = patronId('admin');
      await cachePatron(id, { loans: 1 });

      // Act
      const queued = await request('POST', `/users/${id}/refresh`, ADMIN);
      const read = await get(`/users/${id}/loans`, ADMIN);

      // Assess
      expect(queued.status).toBe(202);
      expect(queued.body).toEqual({ primary_id: id, status: 'queued' });
      expect(read.status).toBe(200);
      expect(await queuedBodies()).toEqual([id]);
    });
  });

  describe('metrics', () => {
    it('publishes one Requests document per request the function answers, by route and outcome, and AlmaFallbacks for a miss', async () => {
      // Prepare
      const cached = patronId('m-hit');
      await cachePatron(cached, { loans: 1 });
      const uncached = patronId('m-miss');
      alma.seedPatron(generatePatron(uncached, { fees: 1 }));

      // Act
      const statuses = [
        (await get(`/users/${cached}`)).status,
        (await get(`/users/${uncached}/fees`)).status,
        (await get(`/users/${patronId('m-none')}`)).status,
        (await get(`/users/${cached}/loans`, null)).status, // refused by the authorizer: the function never runs
        (await request('POST', `/users/${cached}/refresh`, READER)).status,
      ];

      // Assess
      expect(statuses).toEqual([200, 200, 404, 401, 403]);
      expect(metrics.points()).toEqual([
        { metric: 'Requests', value: 1, dimensions: { route: 'getPatron', outcome: 'hit' } },
        { metric: 'Requests', value: 1, dimensions: { route: 'listPatronFees', outcome: 'miss' } },
        { metric: 'AlmaFallbacks', value: 1, dimensions: { route: 'listPatronFees', outcome: 'miss' } },
        { metric: 'Requests', value: 1, dimensions: { route: 'getPatron', outcome: 'not-found' } },
        { metric: 'Requests', value: 1, dimensions: { route: 'queuePatronRefresh', outcome: 'forbidden' } },
      ]);
      expect(metrics.documents.every((document) => document['service'] === 'alma-cache-query')).toBe(true);
    });
  });

  describe('the Lambda entry', () => {
    it('serves every route through the one deployed handler, dispatching on the route key', async () => {
      // Prepare: each route mounted on the function API Gateway invokes
      const lambda = createQueryApiLambdaHandler(() => api);
      const deployed = await startHttpApiServer({ routes: api.routes.map((route) => ({ ...route, handler: lambda })), authorize: verifyLocalToken });
      const id = patronId('entry');
      await cachePatron(id, { loans: 1, fees: 1 });

      // Act
      const answers = await Promise.all([
        request('GET', `/users/${id}`, READER, deployed.url),
        request('GET', `/users/${id}/fees/${fakeRecordId(id, 'fee', 0)}`, READER, deployed.url),
        request('POST', `/users/${id}/refresh`, READER, deployed.url),
      ]);

      // Assess
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 403]);
      expect(answers[0].body.loans).toHaveLength(1);
      await deployed.close();
    });
  });
});
