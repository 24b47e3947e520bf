import { AlmaEventType } from '@alma-cache/cache-domain';
import { almaWebhookMessageAsOf, almaWebhooks, almaWebhooksInTimeOrder } from '@alma-cache/cache-domain/testing';

/** The four functions of the cache-update service, each with the Alma events its SNS topics route to it. */
export const HANDLER_EVENTS = {
  'loan-updated': [AlmaEventType.LOAN_CREATED, AlmaEventType.LOAN_RENEWED, AlmaEventType.LOAN_DUE_DATE],
  'loan-returned': [AlmaEventType.LOAN_RETURNED],
  'request-updated': [AlmaEventType.REQUEST_CREATED, AlmaEventType.REQUEST_PLACED_ON_SHELF],
  'request-closed': [AlmaEventType.REQUEST_CANCELED, AlmaEventType.REQUEST_CLOSED],
} as const satisfies Record<string, readonly AlmaEventType[]>;

export type SnsFunctionName = keyof typeof HANDLER_EVENTS;

export const SNS_FUNCTIONS = Object.keys(HANDLER_EVENTS) as SnsFunctionName[];

/** The function whose topic receives `type`. */
export const functionOf = (type: AlmaEventType): SnsFunctionName =>
  SNS_FUNCTIONS.find((fn) => (HANDLER_EVENTS[fn] as readonly AlmaEventType[]).includes(type)) as SnsFunctionName;

/** The eight sample events in the order Alma sent them, so a loan is created before it is renewed and returned. */
export const EVENTS_IN_TIME_ORDER: readonly AlmaEventType[] = almaWebhooksInTimeOrder;

const fixtureItemId = (type: AlmaEventType): string => {
  const body = almaWebhooks[type] as { item_loan?: { loan_id: string }; user_request?: { request_id: string } };
  return body.item_loan?.loan_id ?? body.user_request?.request_id ?? '';
};

/**
 * A sample webhook made unique for one run: its item id and event id get `suffix`, and it names `patron`.
 * The events of one suffix still tell one coherent story (same loan created, renewed, returned). Dated as if
 * received `now`: the handlers run on the real clock, and the samples' own dates fall outside the replay horizon
 * as the calendar moves on (they would be refused as malformed, a path far cheaper than the one measured).
 *
 * @example
 * sampleMessage('LOAN_RETURNED', '-r3', 'BENCH-CACHED-3');
 */
export const sampleMessage = (type: AlmaEventType, suffix: string, patron: string, now = new Date()): string =>
  almaWebhookMessageAsOf(type, now, {
    itemId: `${fixtureItemId(type)}${suffix}`,
    eventId: `${type}${suffix}`,
    userPrimaryId: patron,
  });
