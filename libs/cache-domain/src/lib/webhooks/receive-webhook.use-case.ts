import type { AlmaEventType } from '../shared/alma-event';
import { InvalidWebhookIdError, MalformedEventError } from '../errors';
import { identifierProblem, isIdentifier } from '../shared/identifier';
import type { WebhookPublisher } from './webhook-publisher.port';
import { routeWebhookEvent, type WebhookSkip } from './webhook-routing';

/** What became of one received webhook. */
export type WebhookReceipt =
  | {
      readonly outcome: 'published';
      readonly eventType: string;
      readonly topic: AlmaEventType;
      readonly almaEventId?: string;
      readonly messageId: string;
    }
  | {
      readonly outcome: 'skipped';
      readonly eventType?: string;
      readonly action?: string;
      readonly almaEventId?: string;
      readonly skip: WebhookSkip;
      readonly reason: string;
    };

/**
 * The characters an SNS message cannot carry that JSON text may hold raw (JSON already refuses raw controls; the
 * receiver's strict UTF-8 decoding, lone surrogates): a body holding one is refused by every publish, so answering 503
 * would have Alma resend it for ever.
 */
const NOT_FOR_SNS = /[\ufffe\uffff]/;

const textField = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value : undefined);

/**
 * Routes one signed Alma webhook body to its topic, unchanged, or skips it (see {@link routeWebhookEvent}).
 *
 * Only what routing needs is read (`event.value`, `action`, `id`): the functions behind the topics validate the rest
 * and send what they cannot apply to their failure queue, where it stays visible, rather than have Alma drop it. The
 * `id` is the exception: a webhook to publish must carry one that passes the identifier rule, since it becomes the
 * `alma_event_id` message attribute and every function behind the topics refuses an event without it. A skipped
 * webhook's id is only reported when it passes the rule (it is never published).
 *
 * @example
 * const receipt = await new ReceiveWebhook(publisher).execute(rawBody);
 * receipt.outcome; // 'published' (receipt.topic, receipt.messageId) or 'skipped' (receipt.reason)
 * @throws MalformedEventError when the body is not a JSON object, or a webhook to publish holds a character SNS cannot
 *   carry (nothing is published); InvalidWebhookIdError when a
 *   webhook to publish has no `id` or one that is not an identifier; whatever the publisher throws
 */
export class ReceiveWebhook {
  public constructor(private readonly publisher: WebhookPublisher) {}

  public async execute(body: string): Promise<WebhookReceipt> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      throw new MalformedEventError(`webhook body is not JSON (${(error as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new MalformedEventError('webhook body is JSON but not an object');
    }
    const webhook = parsed as Record<string, unknown>;
    const event = webhook['event'];
    const eventType = textField(typeof event === 'object' && event !== null ? (event as Record<string, unknown>)['value'] : undefined);
    const action = textField(webhook['action']);
    const id = webhook['id'];

    const route = routeWebhookEvent(eventType, action);
    if (route.action === 'skip') {
      const almaEventId = isIdentifier(id) ? id : undefined;
      return { outcome: 'skipped', eventType, action, almaEventId, skip: route.skip, reason: route.reason };
    }
    const idProblem = identifierProblem(id);
    if (idProblem !== undefined) throw new InvalidWebhookIdError(`"id" (the Alma event id) ${idProblem}`);
    const almaEventId = id as string;
    if (NOT_FOR_SNS.test(body)) throw new MalformedEventError('webhook body holds a raw U+FFFE or U+FFFF, which SNS cannot carry');
    const published = eventType as string;
    const { messageId } = await this.publisher.publish({ topic: route.topic, eventType: published, almaEventId, body });
    return { outcome: 'published', eventType: published, topic: route.topic, almaEventId, messageId };
  }
}
