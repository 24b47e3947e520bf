import { randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ReceiveWebhook, type WebhookPublication } from '@alma-cache/cache-domain';
import type { RotatingSecret } from '@alma-cache/aws-adapters';
import { CapturedMetrics } from '@alma-cache/local-aws';
import * as signatures from '../../src/alma-signature';
import { almaSignature } from '../../src/alma-signature';
import { metricsSkipCounter } from '../../src/skip-counter';
import { createWebhookHandler, MAX_WEBHOOK_BODY_BYTES, webhookBodyBytes, type WebhookSecrets } from '../../src/webhook-handler';

const OLD = 'old-webhook-secret';
const NEW = 'new-webhook-secret';

const webhook = (...id: unknown[]) =>
  JSON.stringify({ id: id.length === 0 ? '5500110001' : id[0], action: 'LOAN', event: { value: 'LOAN_CREATED' }, time: '2026-11-21T10:15:03.120Z' });

const eventOf = (body: string, options: { signature?: string; base64?: boolean } = {}): APIGatewayProxyEventV2 =>
  ({
    version: '2.0',
    routeKey: 'POST /',
    rawPath: '/',
    rawQueryString: '',
    headers: options.signature === undefined ? {} : { 'x-exl-signature': options.signature },
    body,
    isBase64Encoded: options.base64 ?? false,
    requestContext: { requestId: 'req-1', http: { method: 'POST', sourceIp: '192.0.2.1' } },
  }) as unknown as APIGatewayProxyEventV2;

const signedWith = (secret: string, body: string) => eventOf(body, { signature: almaSignature(secret, Buffer.from(body, 'utf8')) });

/** Secrets as SSM holds them, counting reads: `stored` is what a re-read returns. */
const secretsFake = (cached: RotatingSecret, stored: RotatingSecret = cached) => {
  const read = jest.fn(async () => cached);
  const refresh = jest.fn(async () => stored);
  return { secrets: Object.assign(read, { refresh }) as WebhookSecrets, read, refresh };
};

// The real handler and ReceiveWebhook; the publisher records, the secrets are counted fakes, the metrics captured.
describe('Function: createWebhookHandler', () => {
  const logger = new Logger({ logLevel: 'SILENT' });
  let metrics: CapturedMetrics;
  let published: WebhookPublication[];

  const handlerWith = (secrets: WebhookSecrets) =>
    createWebhookHandler({
      receiveWebhook: new ReceiveWebhook({ publish: async (publication) => (published.push(publication), { messageId: `m-${published.length}` }) }),
      secret: secrets,
      counts: metricsSkipCounter(metrics),
      logger,
      budgetMs: 1_000,
    });

  beforeEach(() => {
    metrics = new CapturedMetrics('alma-cache-webhooks');
    published = [];
  });

  afterEach(() => jest.restoreAllMocks());

  describe('a body over the limit', () => {
    it.each([
      ['as text', false],
      ['base64-encoded', true],
    ])('is refused with 413 %s before the secret is read or any HMAC computed', async (_case, base64) => {
      // Prepare: validly signed, so only the order of the checks can refuse it
      const { secrets, read, refresh } = secretsFake({ current: OLD });
      const hmac = jest.spyOn(signatures, 'checkAlmaSignature');
      const raw = `{"id":"1","pad":"${'x'.repeat(MAX_WEBHOOK_BODY_BYTES)}"}`;
      const signature = almaSignature(OLD, Buffer.from(raw));
      const event = eventOf(base64 ? Buffer.from(raw).toString('base64') : raw, { signature, base64 });

      // Act
      const response = await handlerWith(secrets)(event);

      // Assess
      expect(response.statusCode).toBe(413);
      expect(JSON.parse(String(response.body)).message).toBe(`The body is ${Buffer.byteLength(raw)} bytes; the limit is ${MAX_WEBHOOK_BODY_BYTES}`);
      expect(read).not.toHaveBeenCalled();
      expect(refresh).not.toHaveBeenCalled();
      expect(hmac).not.toHaveBeenCalled();
      expect(published).toEqual([]);
      expect(metrics.points()).toEqual([{ metric: 'WebhooksRejected', value: 1, dimensions: { reason: 'too-large' } }]);
    });

    it('takes a body of exactly the limit to the signature check', async () => {
      // Prepare
      const { secrets, read } = secretsFake({ current: OLD });
      const hmac = jest.spyOn(signatures, 'checkAlmaSignature');
      const raw = Buffer.alloc(MAX_WEBHOOK_BODY_BYTES, 0x20);

      // Act
      const response = await handlerWith(secrets)(eventOf(raw.toString('base64'), { signature: almaSignature(OLD, raw), base64: true }));

      // Assess: past the size check, signed, and refused only as not JSON
      expect(response.statusCode).toBe(400);
      expect(read).toHaveBeenCalledTimes(1);
      expect(hmac).toHaveBeenCalledTimes(1);
    });
  });

  describe('Function: webhookBodyBytes', () => {
    it('measures a base64 body exactly from its encoded length, whatever the padding, without decoding it', () => {
      // Prepare
      const sizes = [0, 1, 2, 3, 4, 5, 100, 1_001, MAX_WEBHOOK_BODY_BYTES + 1];
      const bodies = sizes.map((size) => randomBytes(size).toString('base64'));
      const from = jest.spyOn(Buffer, 'from');

      // Act
      const measured = bodies.map((body) => webhookBodyBytes({ body, isBase64Encoded: true }));

      // Assess
      expect(measured).toEqual(sizes);
      expect(from).not.toHaveBeenCalled();
    });

    it('measures a text body in UTF-8 bytes, and an absent one as 0', () => {
      // Act
      const measured = [webhookBodyBytes({ body: 'é€😀', isBase64Encoded: false }), webhookBodyBytes({ body: undefined, isBase64Encoded: false })];

      // Assess
      expect(measured).toEqual([2 + 3 + 4, 0]);
    });
  });

  describe('rotation', () => {
    it('accepts a webhook signed with the previous secret without reading SSM again', async () => {
      // Prepare
      const { secrets, read, refresh } = secretsFake({ current: NEW, previous: OLD });

      // Act
      const responses = [await handlerWith(secrets)(signedWith(OLD, webhook('1'))), await handlerWith(secrets)(signedWith(NEW, webhook('2')))];

      // Assess
      expect(responses.map((response) => response.statusCode)).toEqual([200, 200]);
      expect(published.map((publication) => publication.almaEventId)).toEqual(['1', '2']);
      expect(read).toHaveBeenCalledTimes(2);
      expect(refresh).not.toHaveBeenCalled();
    });

    it('re-reads the secrets once when a signature matches neither, and accepts a webhook signed with the new one', async () => {
      // Prepare: the container still holds the old secret; SSM holds the new one
      const { secrets, refresh } = secretsFake({ current: OLD }, { current: NEW, previous: OLD });

      // Act
      const response = await handlerWith(secrets)(signedWith(NEW, webhook()));

      // Assess
      expect(response.statusCode).toBe(200);
      expect(refresh).toHaveBeenCalledTimes(1);
      expect(published).toHaveLength(1);
    });

    it('answers 401 when the re-read secrets do not match either', async () => {
      // Prepare
      const { secrets, refresh } = secretsFake({ current: NEW, previous: OLD });

      // Act
      const response = await handlerWith(secrets)(signedWith('a-guess', webhook()));

      // Assess
      expect(response.statusCode).toBe(401);
      expect(refresh).toHaveBeenCalledTimes(1);
      expect(published).toEqual([]);
    });

    it('answers 503, which Alma retries, when the re-read fails: a webhook signed with a new secret is never refused', async () => {
      // Prepare
      const { secrets, refresh } = secretsFake({ current: OLD });
      refresh.mockRejectedValue(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

      // Act
      const response = await handlerWith(secrets)(signedWith(NEW, webhook()));

      // Assess
      expect(response.statusCode).toBe(503);
      expect(metrics.points()).toEqual([{ metric: 'WebhooksRejected', value: 1, dimensions: { reason: 'publish-failed' } }]);
    });
  });

  describe('the webhook id', () => {
    it.each([
      ['missing', undefined],
      ['a number', 5500110001],
      ['a control character', '55001\r\n{"level":"INFO"}'],
      ['a dot segment', '..'],
      ['a path separator', 'a/b'],
      ['256 characters', '9'.repeat(256)],
      ['one with U+00A0 at the end', '5500110001\u00a0'],
      ['one with U+FEFF at the start', '\ufeff5500110001'],
      ['one with U+3000 at the end', '5500110001\u3000'],
      ['one with U+212A KELVIN SIGN', 'EVT\u212a5500110001'],
      ['one in fullwidth digits', '\uff15\uff15\uff10\uff10\uff11'],
      ['one holding U+FFFF', '5500110001\uffff'],
    ])('answers 400 to a signed webhook whose id is %s, logged with the reason and counted, nothing published', async (_case, id) => {
      // Prepare
      const { secrets } = secretsFake({ current: OLD });
      const errors = jest.spyOn(logger, 'error');

      // Act
      const response = await handlerWith(secrets)(signedWith(OLD, webhook(id)));

      // Assess
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(String(response.body)).message).toMatch(/^Not an Alma webhook: "id" \(the Alma event id\) /);
      expect(published).toEqual([]);
      expect(metrics.points()).toEqual([{ metric: 'WebhooksRejected', value: 1, dimensions: { reason: 'bad-id' } }]);
      const [[message, details]] = errors.mock.calls as [string, Record<string, unknown>][];
      expect(message).toBe('Alma webhook rejected: signed, but its id is not a valid identifier');
      expect(details['reason']).toMatch(/^"id" \(the Alma event id\) (is|holds|starts or ends) /);
      // The reason names the rule; a long or forged id itself never reaches the log.
      if (typeof id === 'string' && id.length > 5) expect(JSON.stringify(errors.mock.calls)).not.toContain(JSON.stringify(id).slice(1, -1));
    });
  });
});
