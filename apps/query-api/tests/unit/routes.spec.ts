import { ConfigurationError } from '@alma-cache/aws-adapters';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { AlmaRequestError, GetPatron, GetPatronItem, ListPatronItems, type PatronQueryDeps, QueuePatronRefresh } from '@alma-cache/cache-domain';
import { InMemoryAlmaApi, InMemoryCacheReader, InMemoryUserRefreshQueue, ManualClock } from '@alma-cache/cache-domain/testing';
import { CapturedMetrics } from '@alma-cache/local-aws';
import { createQueryApiLambdaHandler, type QueryApi } from '../../src/query-api';
import { createQueryApiRoutes, type QueryApiRoute } from '../../src/routes';
import { countRequest, requestOutcomeOf } from '../../src/request-metrics';
import { routeKeyOf } from '../../src/route-specs';

const READER_CLAIMS = { sub: 'app', scope: 'alma-cache/read' };

/** A payload 2.0 event as API Gateway sends it after the JWT authorizer let it through. */
const eventFor = (
  route: Pick<QueryApiRoute, 'method' | 'path'>,
  pathParameters: Record<string, string>,
  claims: Record<string, unknown> | null = READER_CLAIMS,
  requestId: string | null = 'Ab1cD2eFgH3iJkL=',
): APIGatewayProxyEventV2 =>
  ({
    version: '2.0',
    routeKey: routeKeyOf(route),
    rawPath: route.path,
    rawQueryString: '',
    headers: {},
    pathParameters,
    isBase64Encoded: false,
    requestContext: {
      ...(requestId === null ? {} : { requestId }),
      routeKey: routeKeyOf(route),
      ...(claims === null ? {} : { authorizer: { jwt: { claims, scopes: null } } }),
    },
  }) as unknown as APIGatewayProxyEventV2;

const makeApi = () => {
  const cache = new InMemoryCacheReader();
  const alma = new InMemoryAlmaApi();
  const refreshQueue = new InMemoryUserRefreshQueue();
  const deps: PatronQueryDeps = { cache, alma, refreshQueue, clock: new ManualClock() };
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const metrics = new CapturedMetrics('alma-cache-query');
  const routes = createQueryApiRoutes(
    {
      getPatron: new GetPatron(deps),
      listPatronItems: new ListPatronItems(deps),
      getPatronItem: new GetPatronItem(deps),
      queuePatronRefresh: new QueuePatronRefresh(refreshQueue),
    },
    logger,
    metrics,
    { logPepper: async () => 'unit-test-pepper', access: {} },
  );
  const route = (key: string) => routes.find((candidate) => routeKeyOf(candidate) === key)!;
  return { cache, alma, refreshQueue, logger, metrics, routes, route };
};

describe('Function: createQueryApiRoutes', () => {
  afterEach(() => jest.restoreAllMocks());

  it("answers an unexpected error with 500 and API Gateway's request id, logged with the error, never thrown", async () => {
    // Prepare
    const { cache, logger, route } = makeApi();
    cache.failNext('readUser', new TypeError('boom'));
    const errors = jest.spyOn(logger, 'error');
    const patron = route('GET /users/{id}');

    // Act
    const answer = await patron.handler(eventFor(patron, { id: 'PAT0042X' }));

    // Assess
    expect(answer).toEqual({
      statusCode: 500,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-correlation-id': 'Ab1cD2eFgH3iJkL=' },
      body: JSON.stringify({ message: 'Internal error; quote the correlation id when reporting it', correlationId: 'Ab1cD2eFgH3iJkL=' }),
    });
    expect(errors).toHaveBeenCalledWith(
      'Query failed',
      expect.objectContaining({
        correlationId: 'Ab1cD2eFgH3iJkL=',
        status: 500,
        error: expect.objectContaining({ name: 'TypeError', message: 'boom' }),
      }),
    );
  });

  it('makes up a correlation id when the event has no request id', async () => {
    // Prepare
    const { cache, route } = makeApi();
    cache.failNext('readUser', new Error('boom'));
    const patron = route('GET /users/{id}');

    // Act
    const answer = await patron.handler(eventFor(patron, { id: 'PAT0042X' }, READER_CLAIMS, null));

    // Assess
    const correlationId = JSON.parse(answer.body!).correlationId;
    expect(correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.headers?.['x-correlation-id']).toBe(correlationId);
  });

  it("answers Alma refusing the key as a 502 with a correlation id: the upstream's fault, not the caller's", async () => {
    // Prepare
    const { alma, route } = makeApi();
    alma.failNext(new AlmaRequestError(401, 'API-key not defined'));
    const loans = route('GET /users/{id}/loans');

    // Act
    const answer = await loans.handler(eventFor(loans, { id: 'PAT0042X' }));

    // Assess
    expect(answer.statusCode).toBe(502);
    expect(JSON.parse(answer.body!)).toEqual({
      message: "Alma refused this service's request; quote the correlation id when reporting it",
      correlationId: 'Ab1cD2eFgH3iJkL=',
    });
  });

  it('still answers from Alma when the refresh cannot be queued, and says so in a warning', async () => {
    // Prepare
    const { alma, refreshQueue, logger, route } = makeApi();
    alma.seed('PAT0042X', { fee: [{ id: 'f1' }] });
    refreshQueue.failNext(new Error('SQS down'));
    const warnings = jest.spyOn(logger, 'warn');
    const fees = route('GET /users/{id}/fees');

    // Act
    const answer = await fees.handler(eventFor(fees, { id: 'PAT0042X' }));

    // Assess
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body!)).toEqual({ primary_id: 'PAT0042X', fees: [{ id: 'f1' }] });
    expect(answer.headers?.['x-cache']).toBe('miss');
    expect(warnings).toHaveBeenCalledWith(
      'Answered from Alma, but the patron could not be queued for a refresh',
      expect.objectContaining({ correlationId: 'Ab1cD2eFgH3iJkL=' }),
    );
  });

  it('refuses a request that reached it without verified claims (a route deployed without its authorizer)', async () => {
    // Prepare
    const { route, refreshQueue } = makeApi();
    const refresh = route('POST /users/{id}/refresh');

    // Act
    const answer = await refresh.handler(eventFor(refresh, { id: 'PAT0042X' }, null));

    // Assess
    expect(answer.statusCode).toBe(401);
    expect(answer.headers?.['www-authenticate']).toBe('Bearer');
    expect(refreshQueue.messages).toEqual([]);
  });

  it('reads the scopes API Gateway extracted when the claims carry none it knows', async () => {
    // Prepare
    const { route, refreshQueue } = makeApi();
    const refresh = route('POST /users/{id}/refresh');
    const event = eventFor(refresh, { id: 'PAT0042X' }, { sub: 'client' });
    (event.requestContext as unknown as { authorizer: { jwt: { scopes: string[] } } }).authorizer.jwt.scopes = ['alma-cache/admin'];

    // Act
    const answer = await refresh.handler(event);

    // Assess
    expect(answer.statusCode).toBe(202);
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
  });

  it('marks every route as behind the authorizer', () => {
    // Assess
    expect(makeApi().routes.every((route) => route.auth)).toBe(true);
  });
});

describe('Function: createQueryApiLambdaHandler', () => {
  const context = { awsRequestId: 'lambda-1', getRemainingTimeInMillis: () => 20_000 } as unknown as Context;

  it('dispatches on the route key', async () => {
    // Prepare
    const { routes, cache, logger } = makeApi();
    cache.seedPatron('pat0042x', { loan: [] });
    const handler = createQueryApiLambdaHandler(() => ({ routes, logger }) as unknown as QueryApi);
    jest.spyOn(logger, 'addContext').mockImplementation(() => undefined);

    // Act
    const answer = await handler(eventFor({ method: 'GET', path: '/users/{id}/loans' }, { id: 'PAT0042X' }), context);

    // Assess
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body!)).toEqual({ primary_id: 'PAT0042X', loans: [] });
  });

  it('answers a route key it has no handler for with 404, not an exception', async () => {
    // Prepare
    const { routes, logger } = makeApi();
    const handler = createQueryApiLambdaHandler(() => ({ routes, logger }) as unknown as QueryApi);

    // Act
    const answer = await handler(eventFor({ method: 'GET', path: '/users/{id}/holds' }, { id: 'x' }), context);

    // Assess
    expect(answer.statusCode).toBe(404);
  });

  it('answers every request with a logged 500 and a correlation id when the configuration is broken', async () => {
    // Prepare
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const handler = createQueryApiLambdaHandler(() => {
      throw new ConfigurationError(['USER_QUEUE_URL']);
    });

    // Act
    const answer = await handler(eventFor({ method: 'GET', path: '/users/{id}' }, { id: 'x' }), context);

    // Assess
    expect(answer.statusCode).toBe(500);
    expect(JSON.parse(answer.body!)).toEqual({
      message: 'The query API is misconfigured; quote the correlation id when reporting it',
      correlationId: 'Ab1cD2eFgH3iJkL=',
    });
    expect(errors).toHaveBeenCalledWith('Query API cannot start', expect.objectContaining({ error: expect.any(ConfigurationError) }));
    errors.mockRestore();
  });
});

describe('Metrics: query-api Requests and AlmaFallbacks', () => {
  it('counts one Requests point per request by route (operationId) and outcome, with AlmaFallbacks beside a miss', async () => {
    // Prepare
    const { cache, alma, metrics, route } = makeApi();
    cache.seedPatron('pat0042x', { loan: [] });
    alma.seed('PAT0099X', { fee: [{ id: 'f1' }] });
    cache.failNext('readUser', new TypeError('boom'));
    const patron = route('GET /users/{id}');
    const loans = route('GET /users/{id}/loans');
    const fees = route('GET /users/{id}/fees');
    const refresh = route('POST /users/{id}/refresh');
    const admin = { sub: 'ops', scope: 'alma-cache/admin' };

    // Act
    const statuses = [];
    for (const [handled, event] of [
      [patron, eventFor(patron, { id: 'PAT0042X' })], // the cache fails: 500
      [loans, eventFor(loans, { id: 'PAT0042X' })],
      [fees, eventFor(fees, { id: 'PAT0099X' })],
      [patron, eventFor(patron, { id: 'NOBODY' })],
      [loans, eventFor(loans, { id: ' ' })],
      [loans, eventFor(loans, { id: 'PAT0042X' }, null)],
      [refresh, eventFor(refresh, { id: 'PAT0042X' })],
      [refresh, eventFor(refresh, { id: 'PAT0042X' }, admin)],
    ] as const) {
      statuses.push((await handled.handler(event)).statusCode);
    }

    // Assess
    expect(statuses).toEqual([500, 200, 200, 404, 400, 401, 403, 202]);
    const requests = (route: string, outcome: string) => ({ metric: 'Requests', value: 1, dimensions: { route, outcome } });
    expect(metrics.points()).toEqual([
      requests('getPatron', 'error'),
      requests('listPatronLoans', 'hit'),
      requests('listPatronFees', 'miss'),
      { metric: 'AlmaFallbacks', value: 1, dimensions: { route: 'listPatronFees', outcome: 'miss' } },
      requests('getPatron', 'not-found'),
      requests('listPatronLoans', 'bad-request'),
      requests('listPatronLoans', 'unauthorized'),
      requests('queuePatronRefresh', 'forbidden'),
      requests('queuePatronRefresh', 'queued'),
    ]);
    expect(metrics.documents).toHaveLength(8);
  });

  it('counts a 429 (Alma throttled the key) once more as AlmaThrottled, in a document of its own with the service dimension only', () => {
    // Prepare
    const metrics = new CapturedMetrics('alma-cache-query');

    // Act
    const outcomes = [countRequest(metrics, 'getPatron', { statusCode: 429 }), countRequest(metrics, 'getPatron', { statusCode: 503 })];

    // Assess
    expect(outcomes).toEqual(['throttled', 'unavailable']);
    expect(metrics.points()).toEqual([
      { metric: 'Requests', value: 1, dimensions: { route: 'getPatron', outcome: 'throttled' } },
      { metric: 'AlmaThrottled', value: 1, dimensions: {} },
      { metric: 'Requests', value: 1, dimensions: { route: 'getPatron', outcome: 'unavailable' } },
    ]);
    expect(metrics.documents[1]['service']).toBe('alma-cache-query');
  });

  it.each([
    [200, 'hit', 'hit'],
    [200, 'miss', 'miss'],
    [202, undefined, 'queued'],
    [400, undefined, 'bad-request'],
    [401, undefined, 'unauthorized'],
    [403, undefined, 'forbidden'],
    [404, undefined, 'not-found'],
    [429, undefined, 'throttled'],
    [503, undefined, 'unavailable'],
    [500, undefined, 'error'],
    [502, undefined, 'error'],
  ])('maps status %p with x-cache %p to the outcome %p', (statusCode, cache, outcome) => {
    // Act
    const mapped = requestOutcomeOf({ statusCode, headers: cache === undefined ? {} : { 'x-cache': cache } });

    // Assess
    expect(mapped).toBe(outcome);
  });

  it('still answers, never throws, when the metrics cannot be published, and says so in a warning', async () => {
    // Prepare
    const { cache, logger, metrics, route } = makeApi();
    cache.seedPatron('pat0042x', { loan: [] });
    jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => {
      throw new Error('stdout closed');
    });
    const warnings = jest.spyOn(logger, 'warn');
    const loans = route('GET /users/{id}/loans');

    // Act
    const answer = await loans.handler(eventFor(loans, { id: 'PAT0042X' }));

    // Assess
    expect(answer.statusCode).toBe(200);
    expect(warnings).toHaveBeenCalledWith('Request not counted in the metrics', expect.objectContaining({ routeKey: 'GET /users/{id}/loans' }));
    jest.restoreAllMocks();
  });
});
