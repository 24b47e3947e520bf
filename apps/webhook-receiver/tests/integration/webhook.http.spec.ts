import { createServer, type Server, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { AlmaEventType, type WebhookPublisher } from '@alma-cache/cache-domain';
import { almaWebhookMessage, extraAlmaWebhookMessage } from '@alma-cache/cache-domain/testing';
import { type CachedSecret, createSsmClient } from '@alma-cache/aws-adapters';
import { createTopic, drainQueue, subscribeQueue } from '@alma-cache/aws-adapters/testing';
import { type HttpApiServer, startHttpApiServer } from '@alma-cache/local-aws';
import type { Container } from 'inversify';
import { almaSignature } from '../../src/alma-signature';
import { buildContainer, FAST_FAIL_CLIENT_CONFIG, TOKENS } from '../../src/composition-root';
import { SECRET_NAME_ENV, topicArnEnv } from '../../src/config';
import { WEBHOOK_ROUTES } from '../../src/routes';
import type { SkipCounter } from '../../src/skip-counter';
import type { WebhookHandler } from '../../src/webhook-handler';
import vectors from '../fixtures/signature-vectors.json';

const SECRET = 'test-webhook-secret';
const EVENT_TYPES = Object.values(AlmaEventType);

/** The handler behind the local HTTP API, on the receiver's own routes: what API Gateway would put in front of it. */
const serve = (handler: WebhookHandler): Promise<HttpApiServer> =>
  startHttpApiServer({ routes: WEBHOOK_ROUTES.map((route) => ({ ...route, handler })) });

const sign = (body: string | Buffer) => almaSignature(SECRET, Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'));

const post = (server: HttpApiServer, body: string | Buffer, headers: Record<string, string>) =>
  fetch(`${server.url}/`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

const logCalls = (spy: jest.SpyInstance) => spy.mock.calls as [string, Record<string, unknown>][];

// The real handler, wired by the composition root from the environment as in Lambda, behind the local HTTP API server,
// against moto: the secret in SSM, the eight topics in SNS, each with an SQS queue subscribed, so every test sees
// which topics a webhook reached.
describe('HTTP: webhook-receiver', () => {
  jest.setTimeout(30_000);
  const ssm = createSsmClient();
  const topicArns = {} as Record<AlmaEventType, string>;
  const queueUrls = {} as Record<AlmaEventType, string>;
  let secretName: string;
  let server: HttpApiServer;
  let container: Container;
  let logger: Logger;

  /** Every message each topic's queue received since the last call: the body of each. */
  const published = async (): Promise<Record<AlmaEventType, string[]>> => {
    const drained = await Promise.all(
      EVENT_TYPES.map(async (eventType) => [eventType, (await drainQueue(queueUrls[eventType])).map((m) => m.Body!)]),
    );
    return Object.fromEntries(drained);
  };
  const nothingPublished = Object.fromEntries(EVENT_TYPES.map((eventType) => [eventType, []]));
  /** Watches the publisher: cheaper than draining eight queues to see that nothing arrived. */
  const watchPublishes = (from = container) => jest.spyOn(from.get<WebhookPublisher>(TOKENS.WebhookPublisher), 'publish');

  beforeAll(async () => {
    for (const eventType of EVENT_TYPES) {
      topicArns[eventType] = await createTopic(`alma-${eventType.toLowerCase().replace(/_/g, '-')}-${randomUUID().slice(0, 6)}`);
      queueUrls[eventType] = await subscribeQueue(topicArns[eventType]);
    }
    secretName = `/alma-cache/test/${randomUUID().slice(0, 8)}/alma-webhook-secret`;
    await ssm.send(new PutParameterCommand({ Name: secretName, Value: SECRET, Type: 'SecureString' }));
    Object.assign(process.env, {
      [SECRET_NAME_ENV]: secretName,
      ...Object.fromEntries(EVENT_TYPES.map((eventType) => [topicArnEnv(eventType), topicArns[eventType]])),
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    const deployed = await import('../../src/handlers/receive-webhook');
    ({ container } = deployed);
    const { handler } = deployed;
    logger = container.get<Logger>(TOKENS.Logger);
    server = await serve(handler);
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    await server?.close();
    ssm.destroy();
  });

  describe('GET /?challenge=', () => {
    it("answers Alma's challenge with the same text, unsigned", async () => {
      // Act
      const response = await fetch(`${server.url}/?challenge=f3a9-Zq%2B1`);

      // Assess
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.json()).toEqual({ challenge: 'f3a9-Zq+1' });
    });

    it.each(['/', '/?challenge=', '/?other=1'])('answers 400 with a clear message for %s', async (path) => {
      // Act
      const response = await fetch(`${server.url}${path}`);

      // Assess
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ message: 'Missing query parameter "challenge": Alma\'s challenge is GET /?challenge=<text>' });
    });
  });

  describe('POST /', () => {
    it('checks every signature vector over the raw body: a webhook with an id is published, the signed ones without (or not JSON) are a 400', async () => {
      // Prepare: the vectors hold a full webhook, one without an id and one that is not JSON
      expect(new Set(vectors.map((vector) => vector.secret))).toEqual(new Set([SECRET]));
      const publishable = (body: string) => body.startsWith('{') && typeof JSON.parse(body).id === 'string';
      expect(vectors.map((vector) => publishable(vector.body))).toEqual([false, false, true]);

      // Act
      const statuses = [];
      for (const vector of vectors) statuses.push((await post(server, vector.body, { 'X-Exl-Signature': vector.x_exl_signature })).status);

      // Assess: every signature was valid (no 401); only the publishable body reached its topic
      expect(statuses).toEqual(vectors.map((vector) => (publishable(vector.body) ? 200 : 400)));
      expect(await published()).toEqual({ ...nothingPublished, LOAN_CREATED: vectors.filter((v) => publishable(v.body)).map((v) => v.body) });
    });

    it('publishes each of the eight events to exactly its own topic, body unchanged', async () => {
      // Prepare
      const bodies = Object.fromEntries(EVENT_TYPES.map((eventType) => [eventType, almaWebhookMessage(eventType)])) as Record<AlmaEventType, string>;

      // Act
      const replies = [];
      for (const eventType of EVENT_TYPES) {
        const response = await post(server, bodies[eventType], { 'X-Exl-Signature': sign(bodies[eventType]) });
        replies.push([response.status, await response.json()]);
      }

      // Assess
      expect(replies).toEqual(EVENT_TYPES.map((eventType) => [200, { outcome: 'published', eventType, topic: eventType }]));
      expect(await published()).toEqual(Object.fromEntries(EVENT_TYPES.map((eventType) => [eventType, [bodies[eventType]]])));
    });

    it('publishes LOAN_LOST to the LOAN_RETURNED topic and LOAN_CLAIMED_RETURNED to LOAN_DUE_DATE', async () => {
      // Prepare
      const lost = extraAlmaWebhookMessage('LOAN_LOST');
      const claimed = extraAlmaWebhookMessage('LOAN_CLAIMED_RETURNED');

      // Act
      const replies = [
        await (await post(server, lost, { 'x-exl-signature': sign(lost) })).json(),
        await (await post(server, claimed, { 'x-exl-signature': sign(claimed) })).json(),
      ];

      // Assess
      expect(replies).toEqual([
        { outcome: 'published', eventType: 'LOAN_LOST', topic: 'LOAN_RETURNED' },
        { outcome: 'published', eventType: 'LOAN_CLAIMED_RETURNED', topic: 'LOAN_DUE_DATE' },
      ]);
      expect(await published()).toEqual({ ...nothingPublished, LOAN_RETURNED: [lost], LOAN_DUE_DATE: [claimed] });
    });

    it.each(['X-Exl-Signature', 'x-exl-signature', 'X-EXL-SIGNATURE', 'x-Exl-signaTURE'])('finds the signature in header %s', async (name) => {
      // Prepare
      const body = almaWebhookMessage('REQUEST_CREATED', { eventId: `case-${name}` });

      // Act
      const response = await post(server, body, { [name]: sign(body) });

      // Assess
      expect(response.status).toBe(200);
      expect((await published()).REQUEST_CREATED).toEqual([body]);
    });

    it('verifies the bytes Alma sent when API Gateway hands the body over base64-encoded', async () => {
      // Prepare: no content type, so API Gateway base64-encodes the body; non-ASCII text is signed as UTF-8 bytes
      const body = Buffer.from(almaWebhookMessage('LOAN_CREATED').replace('Kleppmann, Martin', 'Kleppmann, Martin — Ünïcode'), 'utf8');

      // Act
      const response = await fetch(`${server.url}/`, { method: 'POST', body, headers: { 'x-exl-signature': sign(body) } });

      // Assess
      expect(response.status).toBe(200);
      expect((await published()).LOAN_CREATED).toEqual([body.toString('utf8')]);
    });

    it.each([
      ['a changed loan id', (body: string) => body.replace('7391500230004561', '7391500230004562')],
      ['a changed event type', (body: string) => body.replace('"LOAN_CREATED"', '"LOAN_RETURNED"')],
      ['the same JSON re-serialised', (body: string) => JSON.stringify(JSON.parse(body), null, 2)],
      ['a trailing newline', (body: string) => `${body}\n`],
    ])('answers 401 and publishes nothing for a body tampered with: %s', async (_case, tamper) => {
      // Prepare
      const body = almaWebhookMessage('LOAN_CREATED');
      const publishes = watchPublishes();

      // Act
      const response = await post(server, tamper(body), { 'X-Exl-Signature': sign(body) });

      // Assess
      expect([response.status, await response.json()]).toEqual([401, { message: 'Invalid X-Exl-Signature' }]);
      expect(publishes).not.toHaveBeenCalled();
    });

    it.each([
      ['no signature header', {}, 'Missing X-Exl-Signature header'],
      ['an empty header', { 'X-Exl-Signature': '' }, 'Missing X-Exl-Signature header'],
      ['a garbled header', { 'X-Exl-Signature': 'not a signature!' }, 'Invalid X-Exl-Signature'],
      ['a truncated signature', { 'X-Exl-Signature': sign(almaWebhookMessage('LOAN_CREATED')).slice(0, 30) }, 'Invalid X-Exl-Signature'],
      ['a hex HMAC', { 'X-Exl-Signature': 'ab'.repeat(32) }, 'Invalid X-Exl-Signature'],
      [
        'a signature made with another secret',
        { 'X-Exl-Signature': almaSignature('guessed', Buffer.from(almaWebhookMessage('LOAN_CREATED'))) },
        'Invalid X-Exl-Signature',
      ],
    ])('answers 401 and publishes nothing for %s', async (_case, headers, message) => {
      // Prepare
      const warnings = jest.spyOn(logger, 'warn');
      const publishes = watchPublishes();

      // Act
      const response = await post(server, almaWebhookMessage('LOAN_CREATED'), headers);

      // Assess
      expect([response.status, await response.json()]).toEqual([401, { message }]);
      expect(logCalls(warnings)).toEqual([
        [
          expect.stringMatching(/^Alma webhook rejected: signature (missing|malformed|mismatch)$/),
          expect.objectContaining({ sourceIp: '127.0.0.1' }),
        ],
      ]);
      expect(publishes).not.toHaveBeenCalled();
    });

    it.each([
      ['not JSON', 'LOAN_CREATED please', 'Not an Alma webhook: webhook body is not JSON'],
      ['a JSON array', '[{"event":{"value":"LOAN_CREATED"}}]', 'Not an Alma webhook: webhook body is JSON but not an object'],
    ])('answers 400 for a correctly signed body that is %s', async (_case, body, message) => {
      // Prepare
      const publishes = watchPublishes();

      // Act
      const response = await post(server, body, { 'X-Exl-Signature': sign(body) });

      // Assess
      expect(response.status).toBe(400);
      expect(((await response.json()) as { message: string }).message).toContain(message);
      expect(publishes).not.toHaveBeenCalled();
    });

    it('answers 200 to an event the cache does not use, logging and counting the skip', async () => {
      // Prepare
      const body = JSON.stringify({
        id: '9001',
        action: 'USER',
        time: '2026-11-21T10:00:00.000Z',
        event: { value: 'USER_UPDATED' },
        webhook_user: {},
      });
      const infos = jest.spyOn(logger, 'info');
      const counted = jest.spyOn(container.get<SkipCounter>(TOKENS.SkipCounter), 'count');
      const publishes = watchPublishes();

      // Act
      const response = await post(server, body, { 'X-Exl-Signature': sign(body) });

      // Assess
      expect([response.status, await response.json()]).toEqual([
        200,
        { outcome: 'skipped', reason: 'the cache does not use USER_UPDATED (Alma USER webhook)' },
      ]);
      expect(logCalls(infos)).toEqual([
        [
          'Alma webhook skipped: answered 200, nothing published',
          expect.objectContaining({
            almaEventId: '9001',
            eventType: 'USER_UPDATED',
            action: 'USER',
            skip: 'not-used',
            correlationId: response.headers.get('apigw-requestid'),
          }),
        ],
      ]);
      expect(counted.mock.calls).toEqual([['not-used']]);
      expect(publishes).not.toHaveBeenCalled();
    });

    it('warns about a circulation event the routing table does not know, still answering 200', async () => {
      // Prepare
      const body = almaWebhookMessage('LOAN_RENEWED').replace('"LOAN_RENEWED"', '"LOAN_DAMAGED"');
      const warnings = jest.spyOn(logger, 'warn');
      const counted = jest.spyOn(container.get<SkipCounter>(TOKENS.SkipCounter), 'count');

      // Act
      const response = await post(server, body, { 'X-Exl-Signature': sign(body) });

      // Assess
      expect(response.status).toBe(200);
      expect(logCalls(warnings)).toEqual([
        ['Alma webhook skipped: answered 200, nothing published', expect.objectContaining({ skip: 'unknown-circulation-event' })],
      ]);
      expect(counted.mock.calls).toEqual([['unknown-circulation-event']]);
    });

    it("answers API Gateway's 404 for any other route: there is no catch-all", async () => {
      // Act
      const responses = await Promise.all([
        fetch(`${server.url}/`, { method: 'PUT' }),
        fetch(`${server.url}/webhooks`),
        fetch(`${server.url}/x/y`, { method: 'POST' }),
      ]);

      // Assess
      for (const response of responses) expect([response.status, await response.json()]).toEqual([404, { message: 'Not Found' }]);
    });

    it('reads no secret from SSM for valid webhooks while the cached one is within its TTL, however many arrive', async () => {
      // Prepare: the container has read the secrets by now (and again after the tests' wrong signatures)
      const body = almaWebhookMessage('REQUEST_CLOSED');
      await post(server, body, { 'X-Exl-Signature': sign(body) });
      const readsBefore = container.get<CachedSecret>(TOKENS.WebhookSecret).reads;

      // Act
      await Promise.all(Array.from({ length: 5 }, () => post(server, body, { 'X-Exl-Signature': sign(body) })));

      // Assess
      expect(readsBefore).toBeGreaterThanOrEqual(1);
      expect(container.get<CachedSecret>(TOKENS.WebhookSecret).reads).toBe(readsBefore);
      expect((await published()).REQUEST_CLOSED).toHaveLength(6);
    });
  });

  describe('POST / when AWS fails', () => {
    /** A second container, wired by the composition root from a changed environment, behind its own server. */
    const receiverWith = async (env: Record<string, string>, adjust?: (container: Container) => void) => {
      const other = buildContainer({ ...process.env, ...env });
      adjust?.(other);
      const otherServer = await serve(other.get<WebhookHandler>(TOKENS.WebhookHandler));
      return { container: other, server: otherServer, logger: other.get<Logger>(TOKENS.Logger) };
    };

    it('answers 503 with a correlation id, and logs it, when SNS refuses the publish', async () => {
      // Prepare
      const receiver = await receiverWith({ [topicArnEnv('LOAN_CREATED')]: 'arn:aws:sns:eu-west-1:000000000000:no-such-topic' });
      const errors = jest.spyOn(receiver.logger, 'error');
      const body = almaWebhookMessage('LOAN_CREATED');

      try {
        // Act
        const response = await post(receiver.server, body, { 'X-Exl-Signature': sign(body) });

        // Assess
        const reply = (await response.json()) as { correlationId: string };
        expect(response.status).toBe(503);
        expect(reply).toEqual({
          message: 'The webhook could not be handed on; Alma will send it again',
          correlationId: response.headers.get('apigw-requestid'),
        });
        expect(logCalls(errors)).toEqual([
          ['Alma webhook not handed on: answered 503 so that Alma sends it again', expect.objectContaining({ correlationId: reply.correlationId })],
        ]);
      } finally {
        await receiver.server.close();
      }
    });

    it("answers 503 within Alma's 5 s when SNS accepts connections but never answers", async () => {
      // Prepare: a TCP server that never replies, in place of SNS
      const sockets = new Set<Socket>();
      const blackHole: Server = createServer((socket) => sockets.add(socket));
      await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
      const endpoint = `http://127.0.0.1:${(blackHole.address() as { port: number }).port}`;
      const receiver = await receiverWith({}, (other) => {
        other.rebindSync<SNSClient>(TOKENS.SnsClient).toConstantValue(new SNSClient({ ...FAST_FAIL_CLIENT_CONFIG, endpoint }));
      });
      const body = almaWebhookMessage('REQUEST_CANCELED');

      try {
        // Act
        const started = Date.now();
        const response = await post(receiver.server, body, { 'X-Exl-Signature': sign(body) });
        const elapsed = Date.now() - started;

        // Assess
        expect(response.status).toBe(503);
        expect(elapsed).toBeLessThan(4_500);
      } finally {
        await receiver.server.close();
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => blackHole.close(resolve));
      }
    });

    it('answers 503 when the secret cannot be read, naming the parameter and never a value', async () => {
      // Prepare
      const receiver = await receiverWith({ [SECRET_NAME_ENV]: '/alma-cache/test/no-such-secret' });
      const errors = jest.spyOn(receiver.logger, 'error');
      const publishes = watchPublishes(receiver.container);
      const body = almaWebhookMessage('LOAN_RENEWED');

      try {
        // Act
        const response = await post(receiver.server, body, { 'X-Exl-Signature': sign(body) });

        // Assess
        expect(response.status).toBe(503);
        expect(String((logCalls(errors)[0][1]['error'] as Error).message)).toBe('SSM parameter "/alma-cache/test/no-such-secret" does not exist');
        expect(publishes).not.toHaveBeenCalled();
      } finally {
        await receiver.server.close();
      }
    });
  });

  describe('Logs', () => {
    it('never contain the secret, whatever the outcome', async () => {
      // Prepare
      const calls = (['debug', 'info', 'warn', 'error'] as const).map((level) => jest.spyOn(logger, level));
      const stdout = jest.spyOn(process.stdout, 'write');
      const good = almaWebhookMessage('LOAN_CREATED');
      const user = '{"action":"USER","event":{"value":"USER_CREATED"}}';

      // Act
      await fetch(`${server.url}/?challenge=abc`);
      await post(server, good, { 'X-Exl-Signature': sign(good) });
      await post(server, good, { 'X-Exl-Signature': almaSignature('wrong', Buffer.from(good)) });
      await post(server, 'nope', { 'X-Exl-Signature': sign('nope') });
      await post(server, user, { 'X-Exl-Signature': sign(user) });

      // Assess
      const logged = JSON.stringify([...calls.flatMap((spy) => spy.mock.calls), ...stdout.mock.calls.map(([chunk]) => String(chunk))]);
      expect(calls.reduce((sum, spy) => sum + spy.mock.calls.length, 0)).toBeGreaterThanOrEqual(4);
      expect(logged).not.toContain(SECRET);
      await published();
    });
  });
});
