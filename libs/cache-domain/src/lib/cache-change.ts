import { AlmaEventType, userCacheKey } from './alma-event';
import type { ItemRecord } from './cache-store.port';
import { REFRESH_EVENT_TYPE } from './refresh-support';

/** What a change notification says happened to a loan or request in the cache. */
export const CacheChangeType = {
  LOAN_CREATED: 'loan.created',
  LOAN_DUE_DATE_CHANGED: 'loan.due-date-changed',
  LOAN_RENEWED: 'loan.renewed',
  LOAN_REMOVED: 'loan.removed',
  REQUEST_CREATED: 'request.created',
  REQUEST_STATUS_CHANGED: 'request.status-changed',
  REQUEST_REMOVED: 'request.removed',
} as const;
export type CacheChangeType = (typeof CacheChangeType)[keyof typeof CacheChangeType];

/** The records that publish changes. Fees come only from refreshes and have no change events. */
export type ChangeEntity = 'loan' | 'request';


/** Who wrote the version that changed: a webhook, or a refresh that found Alma had moved on. */
export type ChangeSource = 'webhook' | 'refresh';

/**
 * The Alma fields an event carries before and after, per entity: what a notifier needs to word its message
 * without reading the cache. Missing fields are `null`.
 */
export const CHANGE_VALUE_FIELDS = {
  loan: ['due_date', 'loan_status', 'last_renew_date', 'return_date'],
  request: ['request_status', 'pickup_location', 'place_in_queue'],
} as const satisfies Record<ChangeEntity, readonly string[]>;

export type ChangeValues = Readonly<Record<string, unknown>>;

/** One change notification: the body a subscriber receives. */
export interface CacheChange {
  /** Derived from the record, the change and the Alma event that caused it: a replay carries the same id. */
  readonly eventId: string;
  readonly entity: ChangeEntity;
  readonly change: CacheChangeType;
  /** `loan_id` or `request_id`. */
  readonly recordId: string;
  /** The patron's key in the Users table (the primary id lower-cased). */
  readonly patron: string;
  /** The patron's primary id as Alma sent it. */
  readonly userPrimaryId: string;
  readonly almaEventId: string;
  /** The webhook's event type, or `REFRESH` for a version a refresh wrote. */
  readonly almaEventType: string;
  /** ISO-8601 time of the Alma event (or refresh) that caused the change. */
  readonly almaEventTime: string;
  readonly source: ChangeSource;
  /** The item's title, when Alma sent one, so a message can name the book. */
  readonly title: string | null;
  /** {@link CHANGE_VALUE_FIELDS} before the change; null when the cache held no live record. */
  readonly old: ChangeValues | null;
  /** {@link CHANGE_VALUE_FIELDS} after the change; null when the record was deleted outright. */
  readonly new: ChangeValues | null;
}

/** One write to a Loans or Requests item: the versions before and after, as the cache stored them. */
export interface CacheItemTransition {
  /** Undefined when the item did not exist. */
  readonly before?: ItemRecord;
  /** Undefined when the item was deleted. */
  readonly after?: ItemRecord;
  /** The delete was DynamoDB's Time to Live expiring the item, not a writer removing it. */
  readonly expired?: boolean;
}

/** A transition whose two versions are not of the same record: a bug upstream, never a change to publish. */
export class InconsistentTransitionError extends Error {
  public constructor(public readonly reason: string) {
    super(`Not one record's transition: ${reason}`);
    this.name = 'InconsistentTransitionError';
  }
}

type RecordState = 'absent' | 'live' | 'tombstone';

const stateOf = (record?: ItemRecord): RecordState => (record === undefined ? 'absent' : record.tombstone ? 'tombstone' : 'live');

const isChangeEntity = (kind: string): kind is ChangeEntity => kind === 'loan' || kind === 'request';

const field = (record: ItemRecord, name: string): unknown => record.fields[name] ?? null;

/** Dates compare as instants: a refresh may format the same due date differently from the webhook. */
const sameDate = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  const [left, right] = [Date.parse(a), Date.parse(b)];
  return !Number.isNaN(left) && left === right;
};

// A field that vanished is not news (a version may simply not carry it); one that appeared or changed is.
const present = (value: unknown): boolean => value !== null && value !== '';
const dateMoved = (before: ItemRecord, after: ItemRecord, name: string): boolean =>
  present(field(after, name)) && !sameDate(field(before, name), field(after, name));

const loanModified = (before: ItemRecord, after: ItemRecord): CacheChangeType | undefined => {
  const dueDateMoved = dateMoved(before, after, 'due_date');
  // A refresh has no LOAN_RENEWED to show; a new last_renew_date is Alma's own record that a renewal happened.
  if (dateMoved(before, after, 'last_renew_date')) return CacheChangeType.LOAN_RENEWED;
  if (dueDateMoved && after.eventType === AlmaEventType.LOAN_RENEWED) return CacheChangeType.LOAN_RENEWED;
  if (dueDateMoved) return CacheChangeType.LOAN_DUE_DATE_CHANGED;
  return undefined;
};

const requestModified = (before: ItemRecord, after: ItemRecord): CacheChangeType | undefined => {
  const status = field(after, 'request_status');
  return present(status) && status !== field(before, 'request_status') ? CacheChangeType.REQUEST_STATUS_CHANGED : undefined;
};

const CREATED = { loan: CacheChangeType.LOAN_CREATED, request: CacheChangeType.REQUEST_CREATED } as const;
const REMOVED = { loan: CacheChangeType.LOAN_REMOVED, request: CacheChangeType.REQUEST_REMOVED } as const;
const MODIFIED = { loan: loanModified, request: requestModified } as const;

/** Which change a transition is, if any: the rule table of the README. */
const classify = (entity: ChangeEntity, transition: CacheItemTransition): CacheChangeType | undefined => {
  const { before, after } = transition;
  const from = stateOf(before);
  const to = stateOf(after);
  if (to === 'live' && from !== 'live') return CREATED[entity];
  if (from !== 'live') return undefined; // absent or tombstone → tombstone or gone: the cache never showed it
  if (to === 'live') return MODIFIED[entity](before as ItemRecord, after as ItemRecord);
  if (to === 'tombstone') return REMOVED[entity];
  return transition.expired ? undefined : REMOVED[entity];
};

const valuesOf = (entity: ChangeEntity, record: ItemRecord | undefined): ChangeValues | null =>
  record === undefined ? null : Object.fromEntries(CHANGE_VALUE_FIELDS[entity].map((name) => [name, field(record, name)]));

const checkSameRecord = ({ before, after }: CacheItemTransition): void => {
  if (before === undefined || after === undefined) return;
  if (before.kind !== after.kind) throw new InconsistentTransitionError(`a ${before.kind} became a ${after.kind}`);
  if (before.itemId !== after.itemId) throw new InconsistentTransitionError(`${before.kind} ${before.itemId} became ${after.itemId}`);
};

/**
 * The change notifications one write to the cache calls for: at most one per write, none for writes a patron
 * would not notice (a replayed event, a refresh that found the same values, a moved expiry, a tombstone written
 * over a tombstone or over nothing, a TTL deletion).
 *
 * Pure: the same transition always yields the same events with the same ids, so a stream record that is
 * delivered twice publishes the same event twice, and consumers de-duplicate on `eventId`.
 *
 * @example
 * const [change] = detectCacheChanges({ before: renewedLoan, after: reDatedLoan });
 * change.change; // 'loan.due-date-changed'
 * change.old?.['due_date']; // '2026-12-19T23:59:00Z'
 * @throws InconsistentTransitionError when `before` and `after` are versions of different records
 */
export const detectCacheChanges = (transition: CacheItemTransition): readonly CacheChange[] => {
  checkSameRecord(transition);
  const { before, after } = transition;
  const cause = after ?? before;
  if (cause === undefined || !isChangeEntity(cause.kind)) return [];
  const entity = cause.kind;
  const change = classify(entity, transition);
  if (change === undefined) return [];

  const deleted = after === undefined;
  const version = cause.eventId || cause.eventTime;
  const title = field(cause, 'title');
  return [
    {
      eventId: `${change}/${cause.itemId}/${version}${deleted ? '/deleted' : ''}`,
      entity,
      change,
      recordId: cause.itemId,
      patron: userCacheKey(cause.userPrimaryId),
      userPrimaryId: cause.userPrimaryId,
      almaEventId: cause.eventId,
      almaEventType: cause.eventType,
      almaEventTime: cause.eventTime,
      source: cause.eventType === REFRESH_EVENT_TYPE ? 'refresh' : 'webhook',
      title: typeof title === 'string' ? title : null,
      old: before === undefined || before.tombstone ? null : valuesOf(entity, before),
      new: valuesOf(entity, after),
    },
  ];
};

/**
 * The SNS message attributes of a change, so that subscriptions filter without parsing bodies: `entity`,
 * `change`, `patron`, `source`, and for requests `status`, the request's status after the change (before it,
 * for a request deleted outright).
 *
 * @example
 * changeAttributes(change); // { entity: 'request', change: 'request.status-changed', patron: 'pat0042x', source: 'webhook', status: 'ON_HOLD_SHELF' }
 */
export const changeAttributes = (change: CacheChange): Readonly<Record<string, string>> => {
  const status = (change.new ?? change.old)?.['request_status'];
  return {
    entity: change.entity,
    change: change.change,
    patron: change.patron,
    source: change.source,
    ...(change.entity === 'request' && typeof status === 'string' && status !== '' ? { status } : {}),
  };
};
