// A child process that plays a warm Lambda container of the query API and of its bare floor (baseline/query-baseline.ts:
// the same two parallel reads, nothing else), for the query-latency figure: both bundles loaded as Lambda loads index.js,
// against the same DynamoDB Local, timed request by request. Its stdout (the query API's log lines) is /dev/null. A fake
// SSM on 127.0.0.1 answers the log pepper, the one parameter a cache hit reads (once per container). Every HTTP request
// either side sends during one checked hit is recorded (diagnostics channel), so the report says what a hit reads.
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { subscribe } from 'node:diagnostics_channel';
import { type ClientRequest, createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { DEFAULT_EXPIRY_POLICY, QUERY_SCOPES, RecordLoan, systemClock, userCacheKey } from '@alma-cache/cache-domain';
import { InMemoryUserRefreshQueue } from '@alma-cache/cache-domain/testing';
import { createDocumentClient, DynamoDbCacheStore } from '@alma-cache/aws-adapters';
import { type MissPathUse, watchMissPath } from './miss-path';
import { sampleMessage } from './sample-events';
import { spread } from './stats';

/** What the parent asks for (as JSON in BENCH_QUERY_LATENCY). */
export interface QueryLatencyRequest {
  readonly queryBundle: string;
  readonly baselineBundle: string;
  readonly tables: { users: string; loans: string; requests: string; fees: string; refreshClaims: string };
  readonly requests: number;
  readonly repeats: number;
  readonly warmupRequests: number;
}

/** One repeat: the median handler time of each side over the same number of requests, slices alternating. */
export interface QueryLatencySample {
  readonly queryMs: number;
  readonly baselineMs: number;
}

/** The requests one warm cache hit sent, per side: the DynamoDB operation (X-Amz-Target) or the HTTP path. */
export interface RequestsPerHit {
  readonly query: readonly string[];
  readonly baseline: readonly string[];
}

export type QueryLatencyReply =
  { readonly samples: QueryLatencySample[]; readonly requestsPerHit: RequestsPerHit; readonly missPath: MissPathUse } | { readonly error: string };

type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
const PATRONS = 16;
const SLICES_PER_REPEAT = 4;
const ROUTE_KEY = 'GET /users/{id}/loans/{loanId}';

/** SSM's JSON protocol, GetParameter only: every name answers the same pepper. */
const startFakeSsm = (): Promise<{ server: Server; url: string }> =>
  new Promise((resolve) => {
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const { Name } = JSON.parse(body || '{}') as { Name?: string };
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify({ Parameter: { Name, Type: 'SecureString', Value: 'bench-log-pepper-0123456789abcdef', Version: 1 } }));
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` });
    });
  });

const contextFor = (id: string): Context =>
  ({
    awsRequestId: id,
    functionName: 'alma-cache-bench-query-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:alma-cache-bench-query-api',
    memoryLimitInMB: '1024',
    logGroupName: '/aws/lambda/alma-cache-bench-query-api',
    logStreamName: 'bench',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }) as Context;

// A reader's request as API Gateway's HTTP API hands it over after its JWT authorizer.
const eventFor = (patron: string, loanId: string, id: string): APIGatewayProxyEventV2 =>
  ({
    version: '2.0',
    routeKey: ROUTE_KEY,
    rawPath: `/users/${patron}/loans/${loanId}`,
    rawQueryString: '',
    headers: { accept: 'application/json' },
    pathParameters: { id: patron, loanId },
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: 'bench.local',
      domainPrefix: 'bench',
      requestId: id,
      routeKey: ROUTE_KEY,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
      http: { method: 'GET', path: `/users/${patron}/loans/${loanId}`, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      authorizer: { jwt: { claims: { sub: 'bench-reader', client_id: 'bench-reader', scope: QUERY_SCOPES.read }, scopes: [QUERY_SCOPES.read] } },
    },
  }) as unknown as APIGatewayProxyEventV2;

const load = createRequire(__filename);

// Every HTTP request this process starts: the SDK's Node handler goes through node:http.
const sent: string[] = [];
subscribe('http.client.request.start', (message) => {
  const { request } = message as { request: ClientRequest };
  const target = request.getHeader('x-amz-target');
  sent.push(typeof target === 'string' ? (target.split('.').pop() ?? target) : `${request.method} ${request.path}`);
});

const main = async (
  request: QueryLatencyRequest,
): Promise<{ samples: QueryLatencySample[]; requestsPerHit: RequestsPerHit; missPath: MissPathUse }> => {
  const ssm = await startFakeSsm();
  process.env['AWS_ENDPOINT_URL_SSM'] = ssm.url;
  try {
    // Cached patrons, each with one loan, written by the real store as the SNS functions write them.
    const client = createDocumentClient();
    const store = new DynamoDbCacheStore(client, request.tables);
    const recordLoan = new RecordLoan({ store, refreshQueue: new InMemoryUserRefreshQueue(), clock: systemClock, expiry: DEFAULT_EXPIRY_POLICY });
    const targets: { patron: string; loanId: string }[] = [];
    for (let i = 0; i < PATRONS; i += 1) {
      const patron = `BENCH-Q-${i}-${Date.now()}`;
      await client.send(
        new PutCommand({
          TableName: request.tables.users,
          Item: { primary_id: userCacheKey(patron), refreshed_at: new Date().toISOString(), expires_at: Math.floor(Date.now() / 1000) + 86_400 },
        }),
      );
      const outcome = await recordLoan.execute(sampleMessage('LOAN_CREATED', `-q${i}`, patron));
      if (outcome.user !== 'linked') throw new Error(`seeding ${patron}: the loan was ${outcome.item}, the patron ${outcome.user}`);
      targets.push({ patron, loanId: outcome.event.itemId });
    }
    client.destroy();

    // Which miss-path code the container runs at init and on hits (V8 coverage), before anything is timed.
    const watch = await watchMissPath(request.queryBundle);
    const query = (load(request.queryBundle) as { handler: HttpHandler }).handler;
    const atInit = await watch.takeInit();
    const baseline = (load(request.baselineBundle) as { handler: HttpHandler }).handler;
    let sequence = 0;
    const timedSlice = async (side: 'query' | 'baseline', count: number): Promise<number[]> => {
      const times: number[] = [];
      for (let i = 0; i < count; i += 1) {
        const { patron, loanId } = targets[i % targets.length];
        const id = `bench-${side}-${(sequence += 1)}`;
        const event = eventFor(patron, loanId, id);
        const started = performance.now();
        const response = side === 'query' ? await query(event, contextFor(id)) : await baseline(event, contextFor(id));
        times.push(performance.now() - started);
        // A figure for anything but a served cache hit would time the wrong path.
        const hit = side === 'baseline' || response.headers?.['x-cache'] === 'hit';
        if (response.statusCode !== 200 || !hit || !String(response.body).includes(loanId)) {
          throw new Error(
            `${side} answered ${response.statusCode} (x-cache ${String(response.headers?.['x-cache'])}) for ${patron}/${loanId}: ${String(response.body).slice(0, 300)}`,
          );
        }
      }
      return times;
    };

    await timedSlice('query', request.warmupRequests);
    const duringHits = await watch.takeHits();
    const missPath = { atInit, duringHits, ...(await watch.finish()) };
    await timedSlice('baseline', request.warmupRequests);
    await timedSlice('query', request.warmupRequests);
    // What one warm hit sends, each side: the floor is only fair if the hit reads exactly what it reads.
    const requestsOf = async (side: 'query' | 'baseline') => {
      sent.length = 0;
      await timedSlice(side, 1);
      return [...sent].sort();
    };
    const requestsPerHit = { query: await requestsOf('query'), baseline: await requestsOf('baseline') };
    const samples: QueryLatencySample[] = [];
    const slice = Math.max(1, Math.floor(request.requests / SLICES_PER_REPEAT));
    for (let repeat = 0; repeat < request.repeats; repeat += 1) {
      const times = { query: [] as number[], baseline: [] as number[] };
      for (let part = 0; part < SLICES_PER_REPEAT; part += 1) {
        const order = (part + repeat) % 2 === 0 ? (['query', 'baseline'] as const) : (['baseline', 'query'] as const);
        for (const side of order) times[side].push(...(await timedSlice(side, slice)));
      }
      samples.push({ queryMs: spread(times.query).median, baselineMs: spread(times.baseline).median });
    }
    return { samples, requestsPerHit, missPath };
  } finally {
    ssm.server.close();
  }
};

const reply = (message: QueryLatencyReply) => new Promise<void>((resolve) => process.send?.(message, () => resolve()));

main(JSON.parse(process.env['BENCH_QUERY_LATENCY'] ?? '{}') as QueryLatencyRequest)
  .then((result) => reply(result))
  .catch((error: unknown) => reply({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }))
  .finally(() => process.exit(0));
