import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { MalformedEventError, type WebhookReceipt, WebhookSkip } from '@alma-cache/cache-domain';
import { WebhookTooLargeError } from '@alma-cache/aws-adapters';
import { CapturedMetrics } from '@alma-cache/local-aws';
import { almaSignature } from '../../src/alma-signature';
import { metricsSkipCounter } from '../../src/skip-counter';
import { createWebhookHandler } from '../../src/webhook-handler';

const SECRET = 'test-webhook-secret';
const BODY = '{"id":"1","action":"LOAN","event":{"value":"LOAN_CREATED"}}';
const NOT_UTF8 = Buffer.from([0xc3, 0x28]);

const eventOf = (
  method: 'GET' | 'POST',
  options: { body?: string; signature?: string; query?: Record<string, string>; base64?: boolean } = {},
): APIGatewayProxyEventV2 =>
  ({
    version: '2.0',
    routeKey: `${method} /`,
    rawPath: '/',
    rawQueryString: '',
    headers: options.signature === undefined ? {} : { 'x-exl-signature': options.signature },
    ...(options.query ? { queryStringParameters: options.query } : {}),
    ...(options.body === undefined ? {} : { body: options.body }),
    isBase64Encoded: options.base64 ?? false,
    requestContext: { requestId: 'req-1', http: { method, sourceIp: '192.0.2.1' } },
  }) as unknown as APIGatewayProxyEventV2;

const signed = (body: string) => eventOf('POST', { body, signature: almaSignature(SECRET, Buffer.from(body, 'utf8')) });

// The real handler and the real counter on CapturedMetrics; only the use case is a stub, answering as told.
describe('Metrics: webhook-receiver WebhooksPublished, WebhooksSkipped and WebhooksRejected', () => {
  const logger = new Logger({ logLevel: 'SILENT' });
  let metrics: CapturedMetrics;
  let execute: jest.Mock<Promise<WebhookReceipt>, [string]>;

  const handler = () =>
    createWebhookHandler({
      receiveWebhook: { execute },
      secret: Object.assign(async () => ({ current: SECRET }), { refresh: async () => ({ current: SECRET }) }),
      counts: metricsSkipCounter(metrics),
      logger,
      budgetMs: 1_000,
    });

  beforeEach(() => {
    metrics = new CapturedMetrics('alma-cache-webhooks');
    execute = jest.fn();
  });

  it('counts WebhooksPublished by eventType and WebhooksSkipped by skip, one document each', async () => {
    // Prepare
    execute
      .mockResolvedValueOnce({
        outcome: 'published',
        eventType: 'LOAN_CREATED',
        topic: 'LOAN_CREATED',
        almaEventId: '1',
        messageId: 'm-1',
      } as WebhookReceipt)
      .mockResolvedValueOnce({
        outcome: 'skipped',
        eventType: 'USER_UPDATED',
        action: 'USER',
        almaEventId: '2',
        skip: WebhookSkip.NOT_USED,
        reason: 'not used',
      } as WebhookReceipt);

    // Act
    const statuses = [(await handler()(signed(BODY))).statusCode, (await handler()(signed(BODY))).statusCode];

    // Assess
    expect(statuses).toEqual([200, 200]);
    expect(metrics.points()).toEqual([
      { metric: 'WebhooksPublished', value: 1, dimensions: { eventType: 'LOAN_CREATED' } },
      { metric: 'WebhooksSkipped', value: 1, dimensions: { skip: 'not-used' } },
    ]);
  });

  it('counts WebhooksRejected by reason for every error answer, and nothing for an answered challenge', async () => {
    // Prepare
    execute
      .mockRejectedValueOnce(new MalformedEventError('not JSON'))
      .mockRejectedValueOnce(new WebhookTooLargeError(300_000))
      .mockRejectedValueOnce(new Error('SNS down'));

    // Act
    const statuses = [];
    for (const event of [
      eventOf('POST', { body: BODY }), // no signature
      eventOf('POST', { body: BODY, signature: almaSignature('another-secret', Buffer.from(BODY)) }),
      eventOf('POST', { body: NOT_UTF8.toString('base64'), base64: true, signature: almaSignature(SECRET, NOT_UTF8) }),
      signed('not json'),
      signed(BODY),
      signed(BODY),
      eventOf('GET'),
      eventOf('GET', { query: { challenge: 'abc' } }),
    ]) {
      statuses.push((await handler()(event)).statusCode);
    }

    // Assess
    expect(statuses).toEqual([401, 401, 400, 400, 413, 503, 400, 200]);
    expect(metrics.points()).toEqual(
      ['signature', 'signature', 'not-json', 'not-json', 'too-large', 'publish-failed', 'missing-challenge'].map((reason) => ({
        metric: 'WebhooksRejected',
        value: 1,
        dimensions: { reason },
      })),
    );
  });
});
