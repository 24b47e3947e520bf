import type { AlmaEventType } from '../shared/alma-event';

/** One Alma webhook on its way to the topic it is routed to. */
export interface WebhookPublication {
  /** The topic: one of the eight, named after its event type. */
  readonly topic: AlmaEventType;
  /** The webhook's own `event.value`, which may differ from the topic's (LOAN_LOST goes to LOAN_RETURNED). */
  readonly eventType: string;
  /** The webhook's `id`, when it has one; `ReceiveWebhook` has checked it against the identifier rule. */
  readonly almaEventId?: string;
  /** The body exactly as Alma signed and sent it: subscribers parse it themselves. */
  readonly body: string;
}

/**
 * Where received webhooks go (the per-event SNS topics). A publish either succeeds or throws: the receiver then
 * answers 5xx, and Alma sends the webhook again later.
 */
export interface WebhookPublisher {
  publish(publication: WebhookPublication): Promise<{ readonly messageId: string }>;
}
