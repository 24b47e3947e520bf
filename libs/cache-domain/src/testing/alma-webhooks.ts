import { AlmaEventType, WEBHOOK_SHAPES, type WebhookItemKind } from '../lib/shared/alma-event';
import { ITEM_SHAPES } from '../lib/shared/cache-record';
import loanCreated from './alma-webhooks/loan_created.json';
import loanDueDate from './alma-webhooks/loan_due_date.json';
import loanRenewed from './alma-webhooks/loan_renewed.json';
import loanReturned from './alma-webhooks/loan_returned.json';
import requestCanceled from './alma-webhooks/request_canceled.json';
import requestClosed from './alma-webhooks/request_closed.json';
import requestCreated from './alma-webhooks/request_created.json';
import requestPlacedOnShelf from './alma-webhooks/request_placed_on_shelf.json';

/** Realistic Alma webhook bodies, one per event type, all for patron `PAT0042X` (see alma-webhooks/README.md). */
export const almaWebhooks: Readonly<Record<AlmaEventType, Readonly<Record<string, unknown>>>> = {
  LOAN_CREATED: loanCreated,
  LOAN_RENEWED: loanRenewed,
  LOAN_DUE_DATE: loanDueDate,
  LOAN_RETURNED: loanReturned,
  REQUEST_CREATED: requestCreated,
  REQUEST_PLACED_ON_SHELF: requestPlacedOnShelf,
  REQUEST_CANCELED: requestCanceled,
  REQUEST_CLOSED: requestClosed,
};

/** The order in which the fixtures happened, oldest first. */
export const almaWebhooksInTimeOrder: readonly AlmaEventType[] = (Object.keys(almaWebhooks) as AlmaEventType[]).sort((a, b) =>
  String(almaWebhooks[a]['time']).localeCompare(String(almaWebhooks[b]['time'])),
);

export interface WebhookVariation {
  eventId?: string;
  time?: string;
  itemId?: string;
  userPrimaryId?: string;
}

const kindOf = (type: AlmaEventType): WebhookItemKind => (type.startsWith('LOAN_') ? 'loan' : 'request');

/**
 * A fixture body, varied for a test, as the SNS message string a handler receives.
 *
 * @example
 * const message = almaWebhookMessage('LOAN_CREATED', { itemId: 'loan-7', time: '2026-11-21T12:00:00.000Z' });
 */
export const almaWebhookMessage = (type: AlmaEventType, variation: WebhookVariation = {}): string => {
  const body = structuredClone(almaWebhooks[AlmaEventType[type]]) as Record<string, unknown>;
  const kind = kindOf(type);
  const shape = { ...WEBHOOK_SHAPES[kind], idField: ITEM_SHAPES[kind].idField };
  const item = body[shape.bodyKey] as Record<string, unknown>;
  if (variation.eventId !== undefined) body['id'] = variation.eventId;
  if (variation.time !== undefined) body['time'] = variation.time;
  if (variation.itemId !== undefined) item[shape.idField] = variation.itemId;
  if (variation.userPrimaryId !== undefined) item[shape.userField] = variation.userPrimaryId;
  return JSON.stringify(body);
};

/**
 * Just after the last sample (LOAN_RETURNED, 2026-12-10T16:42:52.500Z): a clock set here accepts every sample, the
 * oldest (2026-11-21) being well inside the replay horizon.
 */
export const SAMPLES_RECEIVED_AT = '2026-12-10T17:00:00.000Z';

/**
 * A sample as if it were received at `now`: its time moved by as much as `now` is after {@link SAMPLES_RECEIVED_AT},
 * so the samples keep their order and gaps. For tests that run on the real clock (a deployed handler), where the
 * samples' own dates would fall outside the replay horizon as the calendar moves on.
 *
 * @example
 * const message = almaWebhookMessageAsOf('LOAN_RETURNED', new Date()); // dated 17 minutes ago
 */
export const almaWebhookMessageAsOf = (type: AlmaEventType, now: Date, variation: WebhookVariation = {}): string => {
  const shift = now.getTime() - Date.parse(SAMPLES_RECEIVED_AT);
  const time = new Date(Date.parse(String(almaWebhooks[AlmaEventType[type]]['time'])) + shift).toISOString();
  return almaWebhookMessage(type, { time, ...variation });
};
