import { MalformedEventError, UnsupportedEventTypeError } from '../errors';
import { ITEM_SHAPES, type ItemKind } from './cache-record';
import { eventTimeProblem } from './expiry-policy';
import { identifierProblem } from './identifier';
import { isJsonObject } from './json-object';
import { recordFieldsProblem } from './record-fields';

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

const nonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

/**
 * The largest webhook message the stack carries: 256 KiB, what one SNS message holds (body and attributes). The one
 * copy of that limit: the receiver refuses a larger body, the SNS publisher a larger message, and a longer message
 * here did not come through SNS (over 400 KB DynamoDB would refuse it).
 */
export const MAX_WEBHOOK_BYTES = 262_144;

// RFC 3339 (ISO-8601 with a zone). Date.parse alone also takes "1" (2001), "12/31/2099", 30 February (as 2 March)
// and zoneless times (read in the machine's zone): such a time would silently order the event wrongly for good.
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** Epoch milliseconds of an RFC 3339 time on a real calendar day, else NaN. */
const parseEventTime = (time: unknown): number => {
  const match = typeof time === 'string' ? ISO_DATE_TIME.exec(time) : null;
  if (!match) return Number.NaN;
  const [year, month, day] = match.slice(1, 4).map(Number);
  const calendarDay = new Date(Date.UTC(year, month - 1, day));
  if (calendarDay.getUTCMonth() !== month - 1 || calendarDay.getUTCDate() !== day) return Number.NaN;
  return Date.parse(time as string);
};

/** UTF-8 length without encoding short messages (at most 3 bytes per UTF-16 unit). */
const tooLong = (message: string): number | undefined => {
  if (message.length * 3 <= MAX_WEBHOOK_BYTES) return undefined;
  const bytes = new TextEncoder().encode(message).length;
  return bytes > MAX_WEBHOOK_BYTES ? bytes : undefined;
};

/**
 * Validates a raw webhook body (the SNS message) for one kind of item, before anything is written. `now` is the
 * caller's clock (the domain reads none itself): an event older than the replay horizon or dated too far ahead of it
 * is refused (see {@link eventTimeProblem}).
 *
 * @example
 * const event = parseItemEvent(snsMessage, 'loan', ['LOAN_CREATED', 'LOAN_RENEWED'], clock.now());
 * event.itemId; // '7391500230004561'
 * @throws MalformedEventError when the body is too long, not JSON, or lacks what the cache needs (ids that pass the
 *   identifier rule, an RFC 3339 `time` inside the replay horizon, an item DynamoDB can store exactly and that does not
 *   name the cache's own attributes, see {@link recordFieldsProblem})
 * @throws UnsupportedEventTypeError when `event.value` is not one of `accepted`
 */
export const parseItemEvent = (message: string, kind: WebhookItemKind, accepted: readonly string[], now: Date): ItemEvent => {
  const bytes = tooLong(message);
  if (bytes !== undefined) throw new MalformedEventError(`message is ${bytes} bytes, more than SNS delivers (${MAX_WEBHOOK_BYTES})`);
  let body: unknown;
  try {
    body = JSON.parse(message);
  } catch (error) {
    throw new MalformedEventError(`message is not JSON (${(error as Error).message})`);
  }
  if (!isJsonObject(body)) throw new MalformedEventError('message is JSON but not an object');

  // Typed for what follows; checked on the next line.
  const eventId = body['id'] as string;
  const eventIdProblem = identifierProblem(eventId);
  if (eventIdProblem) throw new MalformedEventError(`"id" (the Alma event id) ${eventIdProblem}`);

  const eventType = isJsonObject(body['event']) ? body['event']['value'] : undefined;
  if (!nonEmptyString(eventType)) throw new MalformedEventError('"event.value" (the event type) is missing', eventId);
  if (!accepted.includes(eventType)) {
    throw new UnsupportedEventTypeError(eventType, accepted, eventId);
  }

  const time = body['time'];
  const millis = parseEventTime(time);
  if (Number.isNaN(millis)) throw new MalformedEventError(`"time" is missing or not an ISO-8601 date: ${JSON.stringify(time)}`, eventId);
  const timeProblem = eventTimeProblem(millis, now);
  if (timeProblem) throw new MalformedEventError(timeProblem, eventId);

  const shape = { ...WEBHOOK_SHAPES[kind], idField: ITEM_SHAPES[kind].idField };
  const item = body[shape.bodyKey];
  if (!isJsonObject(item)) throw new MalformedEventError(`"${shape.bodyKey}" is missing or not an object`, eventId);
  const itemId = item[shape.idField];
  const userPrimaryId = item[shape.userField];
  for (const [field, id] of [
    [shape.idField, itemId],
    [shape.userField, userPrimaryId],
  ] as const) {
    const problem = identifierProblem(id);
    if (problem) throw new MalformedEventError(`"${shape.bodyKey}.${field}" ${problem}`, eventId);
  }
  // The item's fields become the record's attributes: refused here, once and with a reason, rather than by DynamoDB
  // (taken for a transient failure and retried) or, worse, stored over the cache's own attributes.
  const fieldsProblem = recordFieldsProblem(item, kind, shape.bodyKey);
  if (fieldsProblem) throw new MalformedEventError(fieldsProblem, eventId);

  return {
    kind,
    eventId,
    eventType,
    eventTime: new Date(millis).toISOString(),
    itemId: itemId as string,
    userPrimaryId: userPrimaryId as string,
    item,
  };
};

/**
 * The canonical key of a patron: the Users row, the refresh claim, the negative cache, the Alma-call budget and the
 * audit hash are all keyed by it. Alma matches primary ids case-insensitively in ASCII and (the stack assumes) in
 * nothing more, so the key lower-cases ASCII letters and keeps every other character as it is: no trimming, no
 * Unicode case mapping. Two ids that pass the identifier rule ({@link identifierProblem}) and share a key differ only
 * in ASCII case, so Alma reads them as one patron. The id sent to Alma is the validated id as received (never this
 * key): it differs from the key only in ASCII case, and "Alma does not know this patron" forgets the row of exactly
 * this key.
 *
 * @example
 * userCacheKey('PAT0042X');     // 'pat0042x'
 * userCacheKey('ÉMILE@X.EDU');  // 'Émile@x.edu' (É is not an ASCII letter, so it keeps its case)
 */
export const userCacheKey = (userPrimaryId: string): string => userPrimaryId.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
