import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { randomUUID } from 'node:crypto';
import { DEFAULT_EXPIRY_POLICY, RefreshUser, systemClock } from '@alma-cache/cache-domain';
import { createDocumentClient, createSqsClient, createSsmClient, DynamoDbCacheStore } from '@alma-cache/aws-adapters';
import { createAlmaGuardTable, createCacheTables, createQueue } from '@alma-cache/aws-adapters/testing';
import { AlmaHttpApi } from '@alma-cache/alma-api';
import { type FakeAlmaServer, generatePatron, startFakeAlmaServer } from '@alma-cache/alma-api/testing';
import { CapturedMetrics, type HttpApiServer, startHttpApiServer } from '@alma-cache/local-aws';
import type { Container } from 'inversify';
import { ENV } from '../../src/config';
import { verifyLocalToken } from '../../src/local-auth';
import { createQueryApi, type QueryApi } from '../../src/query-api';
import { TOKENS } from '../../src/composition-root';
import { documentationGaps, type OpenApiDocument } from './openapi';

/** An answer read through fetch: status, headers and the body parsed (undefined when empty). */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: any;
}

/**
 * One request through fetch, its answer checked against openapi.yaml: the status must be documented for the route
 * and the body must fit its schema (so every spec that calls the API also tests the document).
 *
 * @example
 * const answer = await documentedRequest(openapi, server.url, 'GET', '/users/PAT0042X', mintLocalToken('reader'));
 */
export const documentedRequest = async (
  openapi: OpenApiDocument,
  base: string,
  method: string,
  path: string,
  token: string | null,
): Promise<HttpAnswer> => {
  const response = await fetch(`${base}${path}`, { method, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  const text = await response.text();
  const answer = { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
  expect(documentationGaps(openapi, { method, path }, answer)).toEqual([]);
  return answer;
};

/** A patron id of its own per test, so tests never see each other's records or messages. */
export const patronId = (label: string): string => `PAT-${label}-${randomUUID().slice(0, 6)}`.toUpperCase();

type CacheTables = Awaited<ReturnType<typeof createCacheTables>>;

/** The query API as one stage runs it, on the emulators and the fake Alma; see {@link startQueryStack}. */
export interface QueryStack {
  readonly tables: CacheTables;
  /** The Users refresh queue the API sends to. */
  readonly queueUrl: string;
  readonly alma: FakeAlmaServer;
  /** The function's environment, for specs that build a second API with one variable changed. */
  readonly env: Record<string, string>;
  readonly api: QueryApi;
  readonly server: HttpApiServer;
  readonly store: DynamoDbCacheStore;
  /** What the function would log as EMF, kept rather than printed. */
  readonly metrics: CapturedMetrics;
  /** Binds {@link metrics} into a container: pass it as `configure` to any other API a spec builds. */
  readonly captureMetrics: (container: Container) => void;
  /** Caches the patron as the bulk refresh does, from the fake Alma, then forgets the calls that took. */
  readonly cachePatron: (id: string, counts: { loans?: number; requests?: number; fees?: number }) => Promise<void>;
  /** Every message on the Users queue now, taken off it. Short polls: the emulators hold no message back. */
  readonly drainQueue: () => Promise<(string | undefined)[]>;
  /** Stops the servers and the clients, in that order. */
  readonly close: () => Promise<void>;
}

export interface QueryStackOptions {
  /** The query-log pepper stored in SSM (default: a random one), for specs that check the hashed patron ids. */
  pepper?: string;
}

/**
 * The real composition root and route table, served by the local HTTP API server as API Gateway would call them,
 * against fresh tables in DynamoDB Local, a fresh queue, SSM parameters of its own and the fake Alma over loopback.
 *
 * @example
 * let stack: QueryStack;
 * beforeAll(async () => (stack = await startQueryStack()));
 * afterAll(() => stack?.close());
 */
export const startQueryStack = async ({ pepper = randomUUID() }: QueryStackOptions = {}): Promise<QueryStack> => {
  const client = createDocumentClient();
  const sqs = createSqsClient();
  let alma: FakeAlmaServer | undefined;
  let server: HttpApiServer | undefined;
  const close = async () => {
    await server?.close();
    await alma?.close();
    client.destroy();
    sqs.destroy();
  };
  try {
    let tables: CacheTables;
    let queueUrl: string;
    [tables, queueUrl, alma] = await Promise.all([createCacheTables(), createQueue(), startFakeAlmaServer()]);
    const fakeAlma = alma;
    const prefix = `/alma-cache/test/${randomUUID().slice(0, 8)}`;
    const ssm = createSsmClient();
    await ssm.send(new PutParameterCommand({ Name: `${prefix}/alma-api-key`, Value: fakeAlma.apiKey, Type: 'SecureString' }));
    await ssm.send(new PutParameterCommand({ Name: `${prefix}/query-log-pepper`, Value: pepper, Type: 'SecureString' }));
    ssm.destroy();
    process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
    const env = {
      [ENV.usersTable]: tables.users,
      [ENV.loansTable]: tables.loans,
      [ENV.requestsTable]: tables.requests,
      [ENV.feesTable]: tables.fees,
      [ENV.usersQueueUrl]: queueUrl,
      [ENV.almaApiBaseUrl]: fakeAlma.url,
      [ENV.almaApiKeyName]: `${prefix}/alma-api-key`,
      [ENV.logPepperName]: `${prefix}/query-log-pepper`,
      [ENV.refreshClaimsTable]: tables.refreshClaims,
      [ENV.almaGuardTable]: await createAlmaGuardTable(),
    };
    const metrics = new CapturedMetrics('alma-cache-query');
    const captureMetrics = (container: Container) => container.rebindSync(TOKENS.Metrics).toConstantValue(metrics);
    const api = createQueryApi(env, { configure: captureMetrics });
    server = await startHttpApiServer({ routes: api.routes, authorize: verifyLocalToken });
    const store = new DynamoDbCacheStore(client, tables);
    const refreshAlma = new AlmaHttpApi({ baseUrl: fakeAlma.url, apiKey: async () => fakeAlma.apiKey });
    const refreshUser = new RefreshUser({ store, alma: refreshAlma, clock: systemClock, expiry: DEFAULT_EXPIRY_POLICY });

    const cachePatron: QueryStack['cachePatron'] = async (id, counts) => {
      fakeAlma.seedPatron(generatePatron(id, counts));
      await refreshUser.execute(id);
      fakeAlma.resetCalls();
    };
    const drainQueue = async (): Promise<(string | undefined)[]> => {
      const bodies: (string | undefined)[] = [];
      for (;;) {
        const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
        if (Messages.length === 0) return bodies;
        bodies.push(...Messages.map((message) => message.Body));
        const Entries = Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle }));
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries }));
      }
    };
    return { tables, queueUrl, alma: fakeAlma, env, api, server, store, metrics, captureMetrics, cachePatron, drainQueue, close };
  } catch (error) {
    // A stack half started still holds sockets: free them, or Jest waits on them after the failure.
    await close();
    throw error;
  }
};
