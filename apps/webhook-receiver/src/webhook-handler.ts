import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { InvalidWebhookIdError, MalformedEventError, MAX_WEBHOOK_BYTES, type WebhookReceipt, WebhookSkip } from '@alma-cache/cache-domain';
import { raceDeadline, type RotatingSecret, WebhookTooLargeError } from '@alma-cache/aws-adapters';
import { checkAlmaSignature, headerValue, SIGNATURE_HEADER, type SignatureCheck, signatureShape } from './alma-signature';
import type { WebhookCounter, WebhookRejection } from './skip-counter';

/** Alma waits 5 s for an answer; this leaves room for a cold start, API Gateway and the network. */
export const ALMA_REPLY_BUDGET_MS = 3_500;
/** Kept back from the Lambda timeout, so the 503 is sent before Lambda stops the function. */
const LAMBDA_MARGIN_MS = 250;

export type WebhookHandler = (event: APIGatewayProxyEventV2, context?: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export interface WebhookHandlerDeps {
  readonly receiveWebhook: { execute(body: string): Promise<WebhookReceipt> };
  /**
   * The secret of Alma's webhook integration profile, and during a rotation the previous one (cached for minutes);
   * `refresh()` reads them again (at most once per few seconds) when a signature matches neither.
   */
  readonly secret: WebhookSecrets;
  /** Counts each webhook published, skipped or rejected (see `metricsSkipCounter`). */
  readonly counts: WebhookCounter;
  readonly logger: Logger;
  /** How long a POST may take before the receiver gives up and answers 503 (default {@link ALMA_REPLY_BUDGET_MS}). */
  readonly budgetMs?: number;
}

/** Where the receiver gets the secrets a webhook may be signed with (see `cachedRotatingSsmSecret`). */
export interface WebhookSecrets {
  (): Promise<RotatingSecret>;
  refresh(): Promise<RotatingSecret>;
}

/**
 * The largest body the receiver takes: SNS's limit for one message. A larger one could never be published, so it is
 * refused before the secret is read or any HMAC computed (a flood of huge bodies costs neither SSM nor CPU).
 */
export const MAX_WEBHOOK_BODY_BYTES = MAX_WEBHOOK_BYTES;

/**
 * The size in bytes of the body API Gateway handed over, without decoding it: for base64 from the encoded length
 * (every 4 characters hold 3 bytes, less the `=` padding), for text its UTF-8 length.
 *
 * @example
 * webhookBodyBytes({ body: 'eyJhIjoxfQ==', isBase64Encoded: true }); // 7, the bytes of {"a":1}
 */
export const webhookBodyBytes = (event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): number => {
  const body = event.body ?? '';
  if (!event.isBase64Encoded) return Buffer.byteLength(body, 'utf8');
  const padding = body.endsWith('==') ? 2 : body.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((body.length * 3) / 4) - padding);
};

/** The secret read or the publish did not finish in time: Alma is answered 503 and sends the webhook again. */
export class ReplyBudgetExceededError extends Error {
  public constructor(budgetMs: number) {
    super(`no answer from AWS within the ${budgetMs} ms budget for Alma's reply`);
    this.name = 'ReplyBudgetExceededError';
  }
}

const json = (statusCode: number, body: Record<string, unknown>, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/** The bytes Alma signed: API Gateway hands over non-text content types base64-encoded. */
/** How one refusal is answered to Alma, logged and counted. */
interface Refusal {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly level: 'warn' | 'error';
  readonly log: string;
  readonly logged: Record<string, unknown>;
  readonly rejection: WebhookRejection;
}

type RefusalOf = (error: Error, correlationId: string) => Refusal | undefined;
const refusal =
  <E extends Error>(of: abstract new (...args: never[]) => E, build: (error: E, correlationId: string) => Refusal): RefusalOf =>
  (error, correlationId) =>
    error instanceof of ? build(error, correlationId) : undefined;

/**
 * Each error `code` the receiver refuses a signed webhook for, and how; any other error is a 503, so that Alma sends
 * the webhook again. The class is checked as well as the code, so an SDK error carrying a `code` never matches.
 */
const REFUSALS: Readonly<Record<string, RefusalOf>> = {
  // Signed by Alma, so never resent after a 4xx; but it could never be delivered either: logged with its reason.
  INVALID_WEBHOOK_ID: refusal(InvalidWebhookIdError, (error, correlationId) => ({
    status: 400,
    body: { message: `Not an Alma webhook: ${error.reason}`, correlationId },
    level: 'error',
    log: 'Alma webhook rejected: signed, but its id is not a valid identifier',
    logged: { reason: error.reason },
    rejection: 'bad-id',
  })),
  MALFORMED_EVENT: refusal(MalformedEventError, (error) => ({
    status: 400,
    body: { message: `Not an Alma webhook: ${error.reason}` },
    level: 'warn',
    log: 'Alma webhook rejected: signed, but malformed (Alma will not send it again)',
    logged: { reason: error.reason },
    rejection: 'not-json',
  })),
  WEBHOOK_TOO_LARGE: refusal(WebhookTooLargeError, (error, correlationId) => ({
    status: 413,
    body: { message: error.message, correlationId },
    level: 'error',
    log: 'Alma webhook rejected: too large for SNS; Alma will not send it again',
    logged: { bytes: error.bytes },
    rejection: 'too-large',
  })),
};

const refusalOf = (error: unknown, correlationId: string): Refusal | undefined => {
  const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  const of = code !== undefined && Object.hasOwn(REFUSALS, code) ? REFUSALS[code] : undefined;
  return of && error instanceof Error ? of(error, correlationId) : undefined;
};

const rawBodyOf = (event: APIGatewayProxyEventV2): Buffer =>
  event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The webhook receiver behind two API Gateway routes (payload 2.0):
 * - `GET /?challenge=X` answers `{"challenge":"X"}` (Alma's unsigned check when the integration profile is saved), 400 without X;
 * - `POST /` refuses a body over {@link MAX_WEBHOOK_BODY_BYTES} (413) before reading the secret or computing any HMAC,
 *   checks `X-Exl-Signature` over the raw body against the current and the previous secret, reading them again once
 *   before saying 401 (missing, malformed or wrong), then publishes the body to
 *   the topic its event is routed to (200), skips an event the cache does not use (200, logged and counted), answers 400
 *   for a signed body that is not a JSON object or whose `id` is not an identifier, and 503 with a correlation id when the secret or SNS fails or is too
 *   slow for Alma's 5 s, so that Alma sends it again (after 1, 3 and 6 hours).
 *
 * The secret is never logged, nor is the signature Alma sent or the one expected.
 *
 * @example
 * export const handler = createWebhookHandler({ receiveWebhook, secret, counts, logger });
 */
export const createWebhookHandler = (deps: WebhookHandlerDeps): WebhookHandler => {
  const { logger, counts } = deps;
  const budgetMs = deps.budgetMs ?? ALMA_REPLY_BUDGET_MS;

  const challenge = (event: APIGatewayProxyEventV2, correlationId: string): APIGatewayProxyStructuredResultV2 => {
    const value = event.queryStringParameters?.['challenge'];
    if (!value) {
      logger.warn('Alma challenge refused: no challenge parameter', { correlationId });
      counts.rejected('missing-challenge');
      return json(400, { message: 'Missing query parameter "challenge": Alma\'s challenge is GET /?challenge=<text>' });
    }
    logger.info('Alma challenge answered', { correlationId });
    return json(200, { challenge: value });
  };

  const receive = async (event: APIGatewayProxyEventV2, correlationId: string, deadline: number): Promise<APIGatewayProxyStructuredResultV2> => {
    // Measured from the encoded length, before anything else: no decoding, no secret, no HMAC for a body SNS would refuse.
    const declaredBytes = webhookBodyBytes(event);
    if (declaredBytes > MAX_WEBHOOK_BODY_BYTES) {
      logger.warn('Alma webhook rejected: body over the limit, refused before its signature was checked', {
        correlationId,
        bodyBytes: declaredBytes,
        limit: MAX_WEBHOOK_BODY_BYTES,
      });
      counts.rejected('too-large');
      return json(413, { message: `The body is ${declaredBytes} bytes; the limit is ${MAX_WEBHOOK_BODY_BYTES}`, correlationId });
    }
    const body = rawBodyOf(event);
    const signature = headerValue(event.headers, SIGNATURE_HEADER);
    const shape = signatureShape(signature);
    let check: SignatureCheck = shape === 'well-formed' ? 'mismatch' : shape;
    if (shape === 'well-formed') {
      const matching = (secrets: RotatingSecret) =>
        [secrets.current, secrets.previous].find((secret) => secret !== undefined && checkAlmaSignature(secret, body, signature) === 'valid');
      let secrets = await raceDeadline(deps.secret(), deadline - Date.now(), () => new ReplyBudgetExceededError(budgetMs));
      let used = matching(secrets);
      if (used === undefined) {
        // The secret may have been rotated since it was cached: read it again (shared, rate-limited) before saying 401,
        // which Alma would never retry. A failed read throws, and Alma gets a 503 instead.
        secrets = await raceDeadline(deps.secret.refresh(), deadline - Date.now(), () => new ReplyBudgetExceededError(budgetMs));
        used = matching(secrets);
      }
      check = used === undefined ? 'mismatch' : 'valid';
      if (used !== undefined && used !== secrets.current)
        logger.info('Alma webhook signed with the previous secret (rotation in progress)', {
          correlationId,
          // When it stops being accepted, so the operator knows how long Alma may keep using it.
          ...(secrets.previousExpiresAt === undefined ? {} : { previousSecretExpiresAt: new Date(secrets.previousExpiresAt).toISOString() }),
        });
    }
    if (check !== 'valid') {
      logger.warn(`Alma webhook rejected: signature ${check}`, {
        correlationId,
        sourceIp: event.requestContext.http.sourceIp,
        bodyBytes: body.length,
      });
      counts.rejected('signature');
      return json(401, { message: check === 'missing' ? 'Missing X-Exl-Signature header' : 'Invalid X-Exl-Signature' });
    }

    let text: string;
    try {
      text = strictUtf8.decode(body);
    } catch {
      logger.warn('Alma webhook rejected: signed, but not UTF-8 text', { correlationId, bodyBytes: body.length });
      counts.rejected('not-json');
      return json(400, { message: 'The body is not UTF-8 text' });
    }
    const receipt = await raceDeadline(deps.receiveWebhook.execute(text), deadline - Date.now(), () => new ReplyBudgetExceededError(budgetMs));
    if (receipt.outcome === 'published') {
      const { almaEventId, eventType, topic, messageId } = receipt;
      logger.info('Alma webhook published', { almaEventId, eventType, topic, snsMessageId: messageId, correlationId });
      counts.published(eventType);
      return json(200, { outcome: 'published', eventType, topic });
    }
    const { almaEventId, eventType, action, skip, reason } = receipt;
    const details = { almaEventId, eventType, action, skip, reason, correlationId };
    if (skip === WebhookSkip.UNKNOWN_CIRCULATION_EVENT) logger.warn('Alma webhook skipped: answered 200, nothing published', details);
    else logger.info('Alma webhook skipped: answered 200, nothing published', details);
    counts.count(skip);
    return json(200, { outcome: 'skipped', reason });
  };

  return async (event, context) => {
    if (context) logger.addContext(context);
    const correlationId = event.requestContext?.requestId ?? context?.awsRequestId ?? 'unknown';
    const method = event.requestContext?.http?.method;
    if (method === 'GET') return challenge(event, correlationId);
    if (method !== 'POST') return json(405, { message: `${method} is not served here` }, { allow: 'GET, POST' });

    const available = context ? context.getRemainingTimeInMillis() - LAMBDA_MARGIN_MS : budgetMs;
    const deadline = Date.now() + Math.min(budgetMs, available);
    try {
      return await receive(event, correlationId, deadline);
    } catch (error) {
      const refused = refusalOf(error, correlationId);
      if (refused) {
        logger[refused.level](refused.log, { ...refused.logged, correlationId });
        counts.rejected(refused.rejection);
        return json(refused.status, refused.body);
      }
      logger.error('Alma webhook not handed on: answered 503 so that Alma sends it again', { error: error as Error, correlationId });
      counts.rejected('publish-failed');
      return json(503, { message: 'The webhook could not be handed on; Alma will send it again', correlationId });
    }
  };
};
