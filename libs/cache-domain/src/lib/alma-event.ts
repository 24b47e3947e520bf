import { MalformedEventError, UnsupportedEventTypeError } from './cache-domain.errors';
import { ITEM_SHAPES, type ItemKind } from './cache-record';

/** The Alma webhook event types this stack acts on (`event.value` in the webhook body). */
export const AlmaEventType = {
  LOAN_CREATED: 'LOAN_CREATED',
  LOAN_RENEWED: 'LOAN_RENEWED',
  LOAN_DUE_DATE: 'LOAN_DUE_DATE',
  LOAN_RETURNED: 'LOAN_RETURNED',
  REQUEST_CREATED: 'REQUEST_CREATED',
  REQUEST_PLACED_ON_SHELF: 'REQUEST_PLACED_ON_SHELF',
  REQUEST_CANCELED: 'REQUEST_CANCELED',
  REQUEST_CLOSED: 'REQUEST_CLOSED',
} as const;
export type AlmaEventType = (typeof AlmaEventType)[keyof typeof AlmaEventType];

/** The kinds of record that webhooks carry. */
export type WebhookItemKind = Extract<ItemKind, 'loan' | 'request'>;

/** Where each kind lives in the webhook body, and which field names its patron. */
export const WEBHOOK_SHAPES = {
  loan: { bodyKey: 'item_loan', userField: 'user_id' },
  request: { bodyKey: 'user_request', userField: 'user_primary_id' },
} as const satisfies Record<WebhookItemKind, { bodyKey: string; userField: string }>;

/** What one validated webhook says about one loan or request. */
export interface ItemEvent {
  readonly kind: ItemKind;
  readonly eventId: string;
  /** One of {@link AlmaEventType}, or an event routed onto its topic (ExtraAlmaEventType, see webhook-routing.ts). */
  readonly eventType: string;
  /** The webhook's `time`, normalised to `toISOString()` so that records compare it as text. */
  readonly eventTime: string;
  readonly itemId: string;
  /** The patron's primary id exactly as Alma sent it. */
  readonly userPrimaryId: string;
  /** The Alma object (`item_loan` / `user_request`), every field kept as sent. */
  readonly item: Readonly<Record<string, unknown>>;
}

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const nonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

/**
 * Validates a raw webhook body (the SNS message) for one kind of item, before anything is written.
 *
 * @example
 * const event = parseItemEvent(snsMessage, 'loan', ['LOAN_CREATED', 'LOAN_RENEWED']);
 * event.itemId; // '7391500230004561'
 * @throws MalformedEventError when the body is not JSON or lacks what the cache needs
 * @throws UnsupportedEventTypeError when `event.value` is not one of `accepted`
 */
export const parseItemEvent = (message: string, kind: WebhookItemKind, accepted: readonly string[]): ItemEvent => {
  let body: unknown;
  try {
    body = JSON.parse(message);
  } catch (error) {
    throw new MalformedEventError(`message is not JSON (${(error as Error).message})`);
  }
  if (!isObject(body)) throw new MalformedEventError('message is JSON but not an object');

  const eventId = body['id'];
  if (!nonEmptyString(eventId)) throw new MalformedEventError('"id" (the Alma event id) is missing or not a string');

  const eventType = isObject(body['event']) ? body['event']['value'] : undefined;
  if (!nonEmptyString(eventType)) throw new MalformedEventError('"event.value" (the event type) is missing', eventId);
  if (!accepted.includes(eventType)) {
    throw new UnsupportedEventTypeError(eventType, accepted, eventId);
  }

  const time = body['time'];
  const millis = typeof time === 'string' ? Date.parse(time) : Number.NaN;
  if (Number.isNaN(millis)) throw new MalformedEventError(`"time" is missing or not an ISO-8601 date: ${JSON.stringify(time)}`, eventId);

  const shape = { ...WEBHOOK_SHAPES[kind], idField: ITEM_SHAPES[kind].idField };
  const item = body[shape.bodyKey];
  if (!isObject(item)) throw new MalformedEventError(`"${shape.bodyKey}" is missing or not an object`, eventId);
  const itemId = item[shape.idField];
  if (!nonEmptyString(itemId)) throw new MalformedEventError(`"${shape.bodyKey}.${shape.idField}" is missing or empty`, eventId);
  const userPrimaryId = item[shape.userField];
  if (!nonEmptyString(userPrimaryId)) {
    throw new MalformedEventError(`"${shape.bodyKey}.${shape.userField}" is missing or empty`, eventId);
  }

  return {
    kind,
    eventId,
    eventType,
    eventTime: new Date(millis).toISOString(),
    itemId,
    userPrimaryId,
    item,
  };
};

/**
 * The Users table key of a patron: Alma primary ids are matched case-insensitively, the cache stores them lower-cased.
 *
 * @example
 * userCacheKey('PAT0042X'); // 'pat0042x'
 */
export const userCacheKey = (userPrimaryId: string): string => userPrimaryId.trim().toLowerCase();
