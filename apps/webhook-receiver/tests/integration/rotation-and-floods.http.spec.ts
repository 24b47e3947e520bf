import { randomUUID } from 'node:crypto';
import type { SNSClient } from '@aws-sdk/client-sns';
import { DeleteParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { AlmaEventType, type WebhookPublisher } from '@alma-cache/cache-domain';
import { almaWebhookMessage } from '@alma-cache/cache-domain/testing';
import { createSsmClient, previousSecretName, previousSecretValue, SECRET_REREAD_MIN_INTERVAL_MS } from '@alma-cache/aws-adapters';
import { createTopic, drainQueue, subscribeQueue } from '@alma-cache/aws-adapters/testing';
import { type HttpApiServer, startHttpApiServer } from '@alma-cache/local-aws';
import type { Container } from 'inversify';
import { almaSignature } from '../../src/alma-signature';
import { buildContainer, TOKENS } from '../../src/composition-root';
import { SECRET_NAME_ENV, topicArnEnv } from '../../src/config';
import { WEBHOOK_ROUTES } from '../../src/routes';
import type { WebhookHandler } from '../../src/webhook-handler';

const OLD = 'alma-webhook-secret-2025';
const NEW = 'alma-webhook-secret-2026';
const EVENT_TYPES = Object.values(AlmaEventType);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A LOAN_CREATED webhook with its own id, so every one can be found on the topic's queue. */
const webhookNumbered = (n: number): string =>
  JSON.stringify({ ...JSON.parse(almaWebhookMessage('LOAN_CREATED')), id: `77${String(n).padStart(8, '0')}` });

const post = (server: HttpApiServer, body: string, secret: string) =>
  fetch(`${server.url}/`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'X-Exl-Signature': almaSignature(secret, Buffer.from(body, 'utf8')) },
  });

const throttling = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });

// The real handler, wired by the composition root as in Lambda, behind the local HTTP API server, against moto's SSM,
// SNS and SQS. Each test builds its own containers (each one a warm Lambda container) on its own secret parameters.
describe('HTTP: webhook-receiver under rotation and floods', () => {
  jest.setTimeout(60_000);
  const ssm = createSsmClient();
  const topicArns = {} as Record<AlmaEventType, string>;
  let loanCreatedQueue: string;
  let secretName: string;
  const servers: HttpApiServer[] = [];

  const putSecret = (name: string, value: string) =>
    ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'SecureString', Overwrite: true }));

  /** A container built from the environment as in Lambda, on this test's secret. */
  const receiver = (adjust?: (container: Container) => void, env: Record<string, string> = {}): Container => {
    const container = buildContainer({
      ...process.env,
      ...env,
      [SECRET_NAME_ENV]: secretName,
      ...Object.fromEntries(EVENT_TYPES.map((type) => [topicArnEnv(type), topicArns[type]])),
    });
    adjust?.(container);
    return container;
  };

  /** One HTTP API in front of several containers, taking turns: API Gateway spreading requests over warm containers. */
  const serve = async (...containers: Container[]): Promise<HttpApiServer> => {
    const handlers = containers.map((container) => container.get<WebhookHandler>(TOKENS.WebhookHandler));
    let turn = 0;
    const handler: WebhookHandler = (event, context) => handlers[turn++ % handlers.length](event, context);
    const server = await startHttpApiServer({ routes: WEBHOOK_ROUTES.map((route) => ({ ...route, handler })) });
    servers.push(server);
    return server;
  };

  const publishedIds = async (): Promise<string[]> =>
    (await drainQueue(loanCreatedQueue)).map((message) => JSON.parse(message.Body!).id as string).sort();

  beforeAll(async () => {
    for (const eventType of EVENT_TYPES)
      topicArns[eventType] = await createTopic(`alma-rotation-${eventType.toLowerCase().replace(/_/g, '-')}-${randomUUID().slice(0, 6)}`);
    loanCreatedQueue = await subscribeQueue(topicArns.LOAN_CREATED);
    Object.assign(process.env, { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' });
  });

  beforeEach(async () => {
    secretName = `/alma-cache/test/${randomUUID().slice(0, 8)}/alma-webhook-secret`;
    await drainQueue(loanCreatedQueue);
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  afterAll(() => ssm.destroy());

  it('rotates the secret while webhooks flow and loses none: every one answered 200 and published', async () => {
    // Prepare: two warm containers that have read the old secret
    await putSecret(secretName, OLD);
    const containers = [receiver(), receiver()];
    const server = await serve(...containers);
    const sent: string[] = [];
    const statuses: number[] = [];
    let signWith: () => string = () => OLD;
    let flowing = true;
    let n = 0;
    // Alma sends webhooks without pause, three at a time, signing each with what signWith() says at that moment.
    const stream = Promise.all(
      Array.from({ length: 3 }, async () => {
        while (flowing) {
          const body = webhookNumbered((n += 1));
          sent.push(JSON.parse(body).id);
          statuses.push((await post(server, body, signWith())).status);
          await sleep(50);
        }
      }),
    );

    // Act: the procedure of the README, mid-stream
    await sleep(300);
    await putSecret(previousSecretName(secretName), OLD); // 1. keep the old secret as the previous one
    await putSecret(secretName, NEW); // 2. the new secret becomes current
    await sleep(SECRET_REREAD_MIN_INTERVAL_MS + 500); // 3. wait before saving it in Alma
    let alternate = 0;
    signWith = () => ((alternate += 1) % 2 === 0 ? OLD : NEW); // 4. Alma signs with the new one; its retries still carry the old
    await sleep(1_500);
    signWith = () => NEW; // 5. the overlap is over
    await sleep(500);
    await ssm.send(new DeleteParameterCommand({ Name: previousSecretName(secretName) })); // 6. drop the previous one
    await sleep(500);
    flowing = false;
    await stream;

    // Assess
    expect(alternate).toBeGreaterThan(10);
    // Within the 5-minute TTL, so each container took the new secret from a re-read on its first mismatch
    expect(containers.map((container) => container.get<{ reads: number }>(TOKENS.WebhookSecret).reads)).toEqual([2, 2]);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(statuses).toHaveLength(sent.length);
    expect(await publishedIds()).toEqual([...sent].sort());
  });

  it('rotates, then revokes: old signatures refused once a re-read (TTL 1 s, reads 5 s apart) no longer finds the previous secret, none signed with the new one lost', async () => {
    // Prepare: two warm containers on the old secret, re-reading SSM every second
    await putSecret(secretName, OLD);
    const containers = [receiver(undefined, { SECRET_CACHE_TTL_SECONDS: '1' }), receiver(undefined, { SECRET_CACHE_TTL_SECONDS: '1' })];
    const server = await serve(...containers);
    const send = async (secret: string, count: number) => {
      const bodies = Array.from({ length: count }, () => webhookNumbered(Math.floor(Math.random() * 1e8)));
      const statuses = [];
      for (const body of bodies) statuses.push((await post(server, body, secret)).status);
      return { ids: bodies.map((body) => JSON.parse(body).id as string), statuses };
    };
    await send(OLD, 2);
    await publishedIds();

    // Act: rotate (the previous secret stated to end in 24 h), both accepted; then revoke it, and wait past the TTL
    await putSecret(previousSecretName(secretName), previousSecretValue(OLD, new Date(Date.now() + 24 * 3600_000)));
    await putSecret(secretName, NEW);
    // Past the TTL and the least interval between two reads (5 s, which bounds the TTL from below), as the README waits
    await sleep(SECRET_REREAD_MIN_INTERVAL_MS + 500);
    const [oldDuring, newDuring] = [await send(OLD, 4), await send(NEW, 4)];
    await ssm.send(new DeleteParameterCommand({ Name: previousSecretName(secretName) }));
    await sleep(SECRET_REREAD_MIN_INTERVAL_MS + 500);
    const [oldAfter, newAfter] = [await send(OLD, 4), await send(NEW, 4)];

    // Assess
    expect([oldDuring.statuses, newDuring.statuses]).toEqual([Array(4).fill(200), Array(4).fill(200)]);
    expect([oldAfter.statuses, newAfter.statuses]).toEqual([Array(4).fill(401), Array(4).fill(200)]);
    expect(await publishedIds()).toEqual([...oldDuring.ids, ...newDuring.ids, ...newAfter.ids].sort());
  });

  it('refuses the previous secret in a warm container once its stated expiry has passed, the parameter still there and the TTL not run out', async () => {
    // Prepare: the previous secret ends 2 s from now; the containers keep the default 5-minute TTL
    await putSecret(previousSecretName(secretName), previousSecretValue(OLD, new Date(Date.now() + 2_000)));
    await putSecret(secretName, NEW);
    const container = receiver();
    const server = await serve(container);
    const [before, late, current] = [webhookNumbered(1), webhookNumbered(2), webhookNumbered(3)];

    // Act
    const beforeStatus = (await post(server, before, OLD)).status;
    await sleep(2_200);
    const lateStatus = (await post(server, late, OLD)).status;
    const currentStatus = (await post(server, current, NEW)).status;

    // Assess: refused from memory (no read since the first: the TTL has not run out, and a re-read asked within 5 s of
    // the last read is not sent), and nothing else was lost
    expect([beforeStatus, lateStatus, currentStatus]).toEqual([200, 401, 200]);
    expect(container.get<{ reads: number }>(TOKENS.WebhookSecret).reads).toBe(1);
    expect(await publishedIds()).toEqual([JSON.parse(before).id, JSON.parse(current).id].sort());
  });

  it('answers a burst of validly signed webhooks 503, never 4xx, while SNS throttles every publish', async () => {
    // Prepare
    await putSecret(secretName, OLD);
    const containers = [receiver(), receiver()];
    for (const container of containers) jest.spyOn(container.get<SNSClient>(TOKENS.SnsClient), 'send').mockRejectedValue(throttling() as never);
    const server = await serve(...containers);

    // Act
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => post(server, webhookNumbered(i), OLD)));

    // Assess
    expect(responses.map((response) => response.status)).toEqual(Array(100).fill(503));
    expect(await publishedIds()).toEqual([]);
  });

  it('answers a burst 503, never 4xx, while SSM throttles the first read of the secret', async () => {
    // Prepare: cold containers whose every GetParameters is throttled
    await putSecret(secretName, OLD);
    const containers = [receiver(), receiver()];
    for (const container of containers) jest.spyOn(container.get<SSMClient>(TOKENS.SsmClient), 'send').mockRejectedValue(throttling() as never);
    const server = await serve(...containers);

    // Act
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => post(server, webhookNumbered(i), OLD)));

    // Assess
    expect(responses.map((response) => response.status)).toEqual(Array(50).fill(503));
  });

  it('answers every webhook of a burst 200 or 503 while SNS throttles some publishes, and publishes every 200', async () => {
    // Prepare: SNS refuses every third publish
    await putSecret(secretName, OLD);
    const container = receiver();
    const publisher = container.get<WebhookPublisher>(TOKENS.WebhookPublisher);
    const publish = publisher.publish.bind(publisher);
    let calls = 0;
    jest.spyOn(publisher, 'publish').mockImplementation(async (publication) => {
      if ((calls += 1) % 3 === 0) throw throttling();
      return publish(publication);
    });
    const server = await serve(container);
    const bodies = Array.from({ length: 60 }, (_, i) => webhookNumbered(i));

    // Act
    const statuses = await Promise.all(bodies.map(async (body) => (await post(server, body, OLD)).status));

    // Assess
    expect(new Set(statuses)).toEqual(new Set([200, 503]));
    expect(statuses.filter((status) => status === 503)).toHaveLength(20);
    const accepted = bodies.filter((_, i) => statuses[i] === 200).map((body) => JSON.parse(body).id as string);
    expect(await publishedIds()).toEqual(accepted.sort());
  });

  it('costs SSM at most one re-read per interval per container under a flood of bad signatures', async () => {
    // Prepare
    await putSecret(secretName, OLD);
    const container = receiver();
    const send = jest.spyOn(container.get<SSMClient>(TOKENS.SsmClient), 'send');
    const server = await serve(container);

    // Act
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => post(server, webhookNumbered(i), 'an attacker guess')));

    // Assess: one read shared by all; the mismatches ask for a re-read, but the value is younger than the interval
    expect(new Set(responses.map((response) => response.status))).toEqual(new Set([401]));
    expect(send).toHaveBeenCalledTimes(1);
  });
});
