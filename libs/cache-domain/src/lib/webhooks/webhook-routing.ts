import { AlmaEventType } from '../shared/alma-event';

/**
 * Alma loan events that have no topic of their own. The eight topics are {@link AlmaEventType}'s, one per event the
 * cache-update stack was built for; these two are routed onto one of them (see {@link WEBHOOK_ROUTING_TABLE}), and the use
 * case behind that topic accepts them.
 *
 * Alma's LOAN webhook sends six events (developers.exlibrisgroup.com, Webhooks > Supported Events: loan created,
 * returned, declared lost, claimed returned, renewed, due date changed); the other four are in AlmaEventType.
 */
export const ExtraAlmaEventType = {
  LOAN_LOST: 'LOAN_LOST',
  LOAN_CLAIMED_RETURNED: 'LOAN_CLAIMED_RETURNED',
} as const;
export type ExtraAlmaEventType = (typeof ExtraAlmaEventType)[keyof typeof ExtraAlmaEventType];

/** Where one Alma event goes, and why there. */
export interface TopicRoute {
  readonly topic: AlmaEventType;
  readonly reason: string;
}

const ownTopic = (eventType: AlmaEventType): TopicRoute => ({ topic: eventType, reason: 'its own topic' });

/**
 * Every Alma event the cache uses, and the topic it is published to.
 *
 * | `event.value`           | topic           | why |
 * |-------------------------|-----------------|-----|
 * | the eight AlmaEventTypes | the same name  | one topic per event, as the cache-update stack subscribes its functions |
 * | LOAN_LOST               | LOAN_RETURNED   | a loan declared lost leaves the patron's loans (Alma bills the item instead); RemoveLoan tombstones and unlinks it. If the item turns up, its check-in sends LOAN_RETURNED: removing again is harmless |
 * | LOAN_CLAIMED_RETURNED   | LOAN_DUE_DATE   | the patron says it is back, but Alma keeps the loan open (process status "claimed returned") until it is checked in (LOAN_RETURNED) or declared lost (LOAN_LOST). RecordLoan keeps it with its new status; a removal would be final (Alma never reuses a loan id) and wrong if the claim fails. LOAN_DUE_DATE is the topic of loan changes that neither create nor renew |
 *
 * Anything else is skipped: see {@link routeWebhookEvent}.
 */
export const WEBHOOK_ROUTING_TABLE: Readonly<Record<AlmaEventType | ExtraAlmaEventType, TopicRoute>> = {
  ...(Object.fromEntries(Object.values(AlmaEventType).map((eventType) => [eventType, ownTopic(eventType)])) as Record<AlmaEventType, TopicRoute>),
  [ExtraAlmaEventType.LOAN_LOST]: {
    topic: AlmaEventType.LOAN_RETURNED,
    reason: "a lost loan leaves the patron's loans, as a returned one does",
  },
  [ExtraAlmaEventType.LOAN_CLAIMED_RETURNED]: {
    topic: AlmaEventType.LOAN_DUE_DATE,
    reason: 'Alma keeps a claimed-returned loan open until it is checked in or declared lost: recorded, not removed',
  },
};

/**
 * Why a webhook is skipped:
 * - `not-used`: an Alma event the cache has no use for (USER, JOB_END, NOTIFICATION, BIB_*, ITEM_*, …);
 * - `unknown-circulation-event`: a LOAN or REQUEST event not in the table, so possibly one Alma added since; worth a look;
 * - `no-event-type`: a webhook without `event.value` (Alma's JOB_END and NOTIFICATION webhooks have none).
 */
export const WebhookSkip = {
  NOT_USED: 'not-used',
  UNKNOWN_CIRCULATION_EVENT: 'unknown-circulation-event',
  NO_EVENT_TYPE: 'no-event-type',
} as const;
export type WebhookSkip = (typeof WebhookSkip)[keyof typeof WebhookSkip];

export type WebhookRoute =
  | { readonly action: 'publish'; readonly topic: AlmaEventType; readonly reason: string }
  | { readonly action: 'skip'; readonly skip: WebhookSkip; readonly reason: string };

const isRouted = (eventType: string): eventType is keyof typeof WEBHOOK_ROUTING_TABLE =>
  Object.prototype.hasOwnProperty.call(WEBHOOK_ROUTING_TABLE, eventType);

/**
 * Decides where a signed Alma webhook goes: the topic of {@link WEBHOOK_ROUTING_TABLE}, or a skip with its reason.
 *
 * A skip is answered 200 by the receiver: a 4xx would make Alma drop the webhook for good anyway, and a 5xx would
 * make Alma send it again for ten hours for nothing.
 *
 * @example
 * routeWebhookEvent('LOAN_LOST');                  // { action: 'publish', topic: 'LOAN_RETURNED', reason: … }
 * routeWebhookEvent('USER_UPDATED', 'USER');       // { action: 'skip', skip: 'not-used', reason: … }
 * routeWebhookEvent(undefined, 'JOB_END');         // { action: 'skip', skip: 'no-event-type', reason: … }
 */
export const routeWebhookEvent = (eventType: string | undefined, action?: string): WebhookRoute => {
  const source = action ? `Alma ${action} webhook` : 'Alma webhook';
  if (eventType === undefined || eventType.trim() === '') {
    return { action: 'skip', skip: WebhookSkip.NO_EVENT_TYPE, reason: `${source} without event.value: the cache uses loan and request events only` };
  }
  if (isRouted(eventType)) return { action: 'publish', ...WEBHOOK_ROUTING_TABLE[eventType] };
  if (/^(LOAN|REQUEST)(_|$)/.test(eventType) || action === 'LOAN' || action === 'REQUEST') {
    return {
      action: 'skip',
      skip: WebhookSkip.UNKNOWN_CIRCULATION_EVENT,
      reason: `${eventType} (${source}) is a circulation event the routing table does not know: add it to WEBHOOK_ROUTING_TABLE if the cache needs it`,
    };
  }
  return { action: 'skip', skip: WebhookSkip.NOT_USED, reason: `the cache does not use ${eventType} (${source})` };
};

/**
 * Every Alma event published to a topic, its own included: what the use case subscribed to that topic must accept.
 *
 * @example
 * eventTypesRoutedTo('LOAN_RETURNED'); // ['LOAN_RETURNED', 'LOAN_LOST']
 */
export const eventTypesRoutedTo = (topic: AlmaEventType): string[] =>
  Object.entries(WEBHOOK_ROUTING_TABLE)
    .filter(([, route]) => route.topic === topic)
    .map(([eventType]) => eventType);
