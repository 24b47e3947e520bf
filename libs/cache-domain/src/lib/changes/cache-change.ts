import { AlmaEventType, userCacheKey } from '../shared/alma-event';
import type { ItemRecord } from '../shared/cache-store.port';
import { REFRESH_EVENT_TYPE } from '../refresh/refresh-support';

/** What a change notification says happened to a loan or request in the cache. */
export const CacheChangeType = {
  LOAN_CREATED: 'loan.created',
  LOAN_DUE_DATE_CHANGED: 'loan.due-date-changed',
  LOAN_RENEWED: 'loan.renewed',
  LOAN_REMOVED: 'loan.removed',
  /** Any other patron-visible field of a live loan changed (title, loan status without a return, location…). */
  LOAN_UPDATED: 'loan.updated',
  REQUEST_CREATED: 'request.created',
  REQUEST_STATUS_CHANGED: 'request.status-changed',
  REQUEST_REMOVED: 'request.removed',
  /** Any other patron-visible field of a live request changed (place in queue, pickup location, expiry…). */
  REQUEST_UPDATED: 'request.updated',
} as const;
export type CacheChangeType = (typeof CacheChangeType)[keyof typeof CacheChangeType];

/** The records that publish changes. Fees come only from refreshes and have no change events. */
export type ChangeEntity = 'loan' | 'request';

/** Who wrote the version that changed: a webhook, or a refresh that found Alma had moved on. */
export type ChangeSource = 'webhook' | 'refresh';

/**
 * The Alma fields a patron sees in their account, per entity: the only fields compared, and the ones an event carries
 * before and after (missing fields are `null`), so a notifier can word its message without reading the cache.
 * Left out on purpose: Alma's internal ids (`mms_id`, `item_id`, `holding_id`), fields fixed once the record exists
 * (`loan_date`, `request_date`, `request_type`, `publication_year`), and staff-side ones (`circ_desk`,
 * `item_policy`, `task_name`, `last_renew_status`). A change to any of these alone publishes nothing.
 */
export const PATRON_VISIBLE_FIELDS = {
  loan: [
    'title',
    'author',
    'description',
    'due_date',
    'loan_status',
    'process_status',
    'last_renew_date',
    'return_date',
    'renewable',
    'item_barcode',
    'library',
    'location_code',
    'call_number',
  ],
  request: [
    'title',
    'author',
    'description',
    'request_status',
    'place_in_queue',
    'pickup_location',
    'pickup_location_type',
    'pickup_location_library',
    'expiry_date',
    'barcode',
  ],
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
  /**
   * For a live record that stayed live: the {@link PATRON_VISIBLE_FIELDS} this write changed (including the one the
   * change is named after), in the list's order. Null for a created or removed record.
   */
  readonly changedFields: readonly string[] | null;
  /** {@link PATRON_VISIBLE_FIELDS} before the change; null when the cache held no live record. */
  readonly old: ChangeValues | null;
  /** {@link PATRON_VISIBLE_FIELDS} after the change; null when the record was deleted outright. */
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
  public readonly code = 'INCONSISTENT_TRANSITION';

  public constructor(public readonly reason: string) {
    super(`Not one record's transition: ${reason}`);
    this.name = 'InconsistentTransitionError';
  }
}

type RecordState = 'absent' | 'live' | 'tombstone';

const stateOf = (record?: ItemRecord): RecordState => (record === undefined ? 'absent' : record.tombstone ? 'tombstone' : 'live');

const isChangeEntity = (kind: string): kind is ChangeEntity => kind === 'loan' || kind === 'request';

const field = (record: ItemRecord, name: string): unknown => record.fields[name] ?? null;

// Only ISO-8601 dates: Date.parse also reads free text ("Vol. 1" parses), which would make two titles equal.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}/;

/** Dates compare as instants: a refresh may format the same due date differently from the webhook. */
const sameDate = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (typeof a !== 'string' || typeof b !== 'string' || !ISO_DATE.test(a) || !ISO_DATE.test(b)) return false;
  const [left, right] = [Date.parse(a), Date.parse(b)];
  return !Number.isNaN(left) && left === right;
};

// A field that vanished is not news (a version may simply not carry it); one that appeared or changed is.
const present = (value: unknown): boolean => value !== null && value !== '';
const dateMoved = (before: ItemRecord, after: ItemRecord, name: string): boolean =>
  present(field(after, name)) && !sameDate(field(before, name), field(after, name));

/** Key order and date formats are not news: objects compare by content, strings also as instants. */
const sameValue = (a: unknown, b: unknown): boolean => {
  if (sameDate(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  return [...keys].every((key) => sameValue(left[key] ?? null, right[key] ?? null));
};

/** The patron-visible fields the new version carries with another value than the old one (or newly carries). */
const changedFieldsOf = (entity: ChangeEntity, before: ItemRecord, after: ItemRecord): string[] =>
  PATRON_VISIBLE_FIELDS[entity].filter((name) => present(field(after, name)) && !sameValue(field(before, name), field(after, name)));

// The catch-all is stricter than the named changes: a field that only appeared is usually a fuller version of the
// same record (a refresh carries fields a webhook lacks), so it takes a value present on both sides that differs.
const otherwiseUpdated = (before: ItemRecord, changed: readonly string[]): boolean => changed.some((name) => present(field(before, name)));

const loanModified = (before: ItemRecord, after: ItemRecord, changed: readonly string[]): CacheChangeType | undefined => {
  const dueDateMoved = dateMoved(before, after, 'due_date');
  // A refresh has no LOAN_RENEWED to show; a new last_renew_date is Alma's own record that a renewal happened.
  if (dateMoved(before, after, 'last_renew_date')) return CacheChangeType.LOAN_RENEWED;
  if (dueDateMoved && after.eventType === AlmaEventType.LOAN_RENEWED) return CacheChangeType.LOAN_RENEWED;
  if (dueDateMoved) return CacheChangeType.LOAN_DUE_DATE_CHANGED;
  return otherwiseUpdated(before, changed) ? CacheChangeType.LOAN_UPDATED : undefined;
};

const requestModified = (before: ItemRecord, after: ItemRecord, changed: readonly string[]): CacheChangeType | undefined => {
  const status = field(after, 'request_status');
  if (present(status) && status !== field(before, 'request_status')) return CacheChangeType.REQUEST_STATUS_CHANGED;
  return otherwiseUpdated(before, changed) ? CacheChangeType.REQUEST_UPDATED : undefined;
};

const CREATED = { loan: CacheChangeType.LOAN_CREATED, request: CacheChangeType.REQUEST_CREATED } as const;
const REMOVED = { loan: CacheChangeType.LOAN_REMOVED, request: CacheChangeType.REQUEST_REMOVED } as const;
const MODIFIED = { loan: loanModified, request: requestModified } as const;

/**
 * Which change a transition is, if any: the rule table of the README. At most one per write, the most specific:
 * a write that moves the due date and the title is a `loan.due-date-changed` whose `changedFields` name both.
 */
const classify = (entity: ChangeEntity, transition: CacheItemTransition): { change?: CacheChangeType; changedFields: readonly string[] | null } => {
  const { before, after } = transition;
  const from = stateOf(before);
  const to = stateOf(after);
  if (to === 'live' && from !== 'live') return { change: CREATED[entity], changedFields: null };
  if (from !== 'live') return { changedFields: null }; // absent or tombstone → tombstone or gone: the cache never showed it
  if (to === 'live') {
    const changedFields = changedFieldsOf(entity, before as ItemRecord, after as ItemRecord);
    return { change: MODIFIED[entity](before as ItemRecord, after as ItemRecord, changedFields), changedFields };
  }
  if (to === 'tombstone') return { change: REMOVED[entity], changedFields: null };
  return { change: transition.expired ? undefined : REMOVED[entity], changedFields: null };
};

const valuesOf = (entity: ChangeEntity, record: ItemRecord | undefined): ChangeValues | null =>
  record === undefined ? null : Object.fromEntries(PATRON_VISIBLE_FIELDS[entity].map((name) => [name, field(record, name)]));

const checkSameRecord = ({ before, after }: CacheItemTransition): void => {
  if (before === undefined || after === undefined) return;
  if (before.kind !== after.kind) throw new InconsistentTransitionError(`a ${before.kind} became a ${after.kind}`);
  if (before.itemId !== after.itemId) throw new InconsistentTransitionError(`${before.kind} ${before.itemId} became ${after.itemId}`);
};

/**
 * The change notifications one write to the cache calls for: at most one per write, none for writes a patron
 * would not notice (a replayed event, a refresh that found the same values, a moved expiry, a change to fields
 * outside {@link PATRON_VISIBLE_FIELDS}, a tombstone written over a tombstone or over nothing, a TTL deletion).
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
  const { change, changedFields } = classify(entity, transition);
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
      changedFields,
      old: before === undefined || before.tombstone ? null : valuesOf(entity, before),
      new: valuesOf(entity, after),
    },
  ];
};
