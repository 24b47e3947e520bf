import { MalformedEventError, MAX_IDENTIFIER_LENGTH, userCacheKey } from '../../src';
import { UnsupportedEventTypeError } from '../../src/lib/errors';
import { parseItemEvent } from '../../src/lib/shared/alma-event';
import { FUTURE_EVENT_ALLOWANCE_SECONDS, REPLAY_HORIZON_SECONDS } from '../../src/lib/shared/expiry-policy';
import { almaWebhookMessage, almaWebhooks } from '../../src/testing';

/** Just after the last sample webhook: every sample is inside the replay horizon. */
const NOW = new Date('2026-12-10T17:00:00.000Z');
const secondsBefore = (seconds: number): string => new Date(NOW.getTime() - seconds * 1000).toISOString();
const parseLoan = (message: string, now: Date = NOW) => parseItemEvent(message, 'loan', ['LOAN_CREATED'], now);
const withBody = (patch: (body: Record<string, any>) => void): string => {
  const body = structuredClone(almaWebhooks.LOAN_CREATED) as Record<string, any>;
  patch(body);
  return JSON.stringify(body);
};

describe('Function: parseItemEvent', () => {
  it('extracts ids, patron and normalised time, keeping every Alma field', () => {
    // Prepare
    const message = almaWebhookMessage('LOAN_CREATED', { time: '2026-11-21T10:15:03.12Z' });

    // Act
    const event = parseLoan(message);

    // Assess
    expect(event).toMatchObject({
      kind: 'loan',
      eventId: '5500110001',
      eventType: 'LOAN_CREATED',
      eventTime: '2026-11-21T10:15:03.120Z',
      itemId: '7391500230004561',
      userPrimaryId: 'PAT0042X',
    });
    expect(event.item).toEqual(almaWebhooks.LOAN_CREATED['item_loan']);
  });

  it('reads requests from user_request with user_primary_id', () => {
    // Act
    const event = parseItemEvent(almaWebhookMessage('REQUEST_CREATED'), 'request', ['REQUEST_CREATED'], NOW);

    // Assess
    expect(event).toMatchObject({ kind: 'request', itemId: '8812300040004561', userPrimaryId: 'PAT0042X' });
    expect(event.item['place_in_queue']).toBe(2);
  });

  it.each([
    ['not JSON', 'not valid json', /message is not JSON/],
    ['a JSON array', '[1,2]', /not an object/],
    ['no event id', withBody((b) => delete b.id), /"id" \(the Alma event id\) is missing/],
    ['no event type', withBody((b) => (b.event = null)), /"event.value" .* is missing/],
    ['an unparseable time', withBody((b) => (b.time = 'yesterday')), /"time" is missing or not an ISO-8601 date: "yesterday"/],
    ['no item_loan', withBody((b) => delete b.item_loan), /"item_loan" is missing or not an object/],
    ['an empty loan id', withBody((b) => (b.item_loan.loan_id = '')), /"item_loan.loan_id" is empty/],
    ['a numeric loan id', withBody((b) => (b.item_loan.loan_id = 7391)), /"item_loan.loan_id" is missing or not a string/],
    ['no patron', withBody((b) => delete b.item_loan.user_id), /"item_loan.user_id" is missing or not a string/],
    // The one identifier rule, for the event id, the item id and the patron id alike.
    ['a patron id "."', withBody((b) => (b.item_loan.user_id = '.')), /"item_loan.user_id" is a dot segment/],
    ['a patron id ".."', withBody((b) => (b.item_loan.user_id = '..')), /"item_loan.user_id" is a dot segment/],
    ['a loan id with a slash', withBody((b) => (b.item_loan.loan_id = '73/../1')), /"item_loan.loan_id" holds a path separator/],
    ['an event id over the cap', withBody((b) => (b.id = '9'.repeat(MAX_IDENTIFIER_LENGTH + 1))), /"id" \(the Alma event id\) is longer than 255/],
    // The replay horizon and the future-time allowance.
    [
      'a time older than the replay horizon',
      withBody((b) => (b.time = secondsBefore(REPLAY_HORIZON_SECONDS + 1))),
      /older than the replay horizon \(21 days\)/,
    ],
    [
      'a time beyond the future allowance',
      withBody((b) => (b.time = secondsBefore(-FUTURE_EVENT_ALLOWANCE_SECONDS - 1))),
      /more than 300 s in the future/,
    ],
    // Fields the cache could not store exactly, or that name its own attributes.
    ['an integer beyond 2^53', withBody((b) => (b.item_loan.fine = 2 ** 53 + 2)), /"item_loan.fine" is an integer beyond 2\^53/],
    ['a number read as Infinity', '__INFINITY__', /"item_loan.fine" is a number JSON cannot carry/],
    ['a number DynamoDB cannot store', withBody((b) => (b.item_loan.fine = 1e-200)), /"item_loan.fine" is a number too small for DynamoDB/],
    ['an empty field name', withBody((b) => (b.item_loan[''] = 'x')), /"item_loan" holds an empty attribute name/],
    [
      'an empty name deep inside',
      withBody((b) => (b.item_loan.library = { value: 'MAIN', extra: [{ '': 1 }] })),
      /"item_loan.library.extra\[0\]" holds an empty attribute name/,
    ],
    ['a tombstone field', withBody((b) => (b.item_loan.tombstone = true)), /"item_loan.tombstone" is named like one of the cache's own attributes/],
    ['an expires_at field', withBody((b) => (b.item_loan.expires_at = 1)), /"item_loan.expires_at" is named like/],
    ['an alma_event_ field', withBody((b) => (b.item_loan.alma_event_time = '2099-01-01T00:00:00Z')), /"item_loan.alma_event_time" is named like/],
    ['a user_version field', withBody((b) => (b.item_loan.user_version = 9)), /"item_loan.user_version" is named like/],
    ['a refreshed_at field', withBody((b) => (b.item_loan.refreshed_at = 'x')), /"item_loan.refreshed_at" is named like/],
    ['an id-set field', withBody((b) => (b.item_loan.removed_loan_ids = ['1'])), /"item_loan.removed_loan_ids" is named like/],
  ])('rejects %s with a specific MalformedEventError', (_case, message, reason) => {
    // Prepare: JSON.stringify cannot write the number that JSON.parse reads as Infinity.
    const body = message === '__INFINITY__' ? withBody((b) => (b.item_loan.fine = 0)).replace('"fine":0', '"fine":1e400') : message;

    // Act
    const act = () => parseLoan(body);

    // Assess
    expect(act).toThrow(MalformedEventError);
    expect(act).toThrow(reason);
  });

  it('accepts a time exactly at the replay horizon and exactly at the future allowance', () => {
    // Act
    const oldest = parseLoan(withBody((b) => (b.time = secondsBefore(REPLAY_HORIZON_SECONDS))));
    const newest = parseLoan(withBody((b) => (b.time = secondsBefore(-FUTURE_EVENT_ALLOWANCE_SECONDS))));

    // Assess
    expect(oldest.eventTime).toBe(secondsBefore(REPLAY_HORIZON_SECONDS));
    expect(newest.eventTime).toBe(secondsBefore(-FUTURE_EVENT_ALLOWANCE_SECONDS));
  });

  it("judges the time against the clock it is given, not the machine's", () => {
    // Prepare: the sample LOAN_CREATED is from 2026-11-21.
    const message = almaWebhookMessage('LOAN_CREATED');

    // Act
    const years = () => parseLoan(message, new Date('2030-01-01T00:00:00.000Z'));
    const before = () => parseLoan(message, new Date('2026-11-01T00:00:00.000Z'));

    // Assess
    expect(years).toThrow('Alma event 5500110001: "time" 2026-11-21T10:15:03.120Z is older than the replay horizon');
    expect(before).toThrow(/in the future/);
  });

  it('keeps safe integers, decimals and nested lists as they are', () => {
    // Prepare
    const message = withBody((b) => (b.item_loan.extra = { big: Number.MAX_SAFE_INTEGER, price: 12.5, list: [[{ a: -0.001 }]] }));

    // Act
    const event = parseLoan(message);

    // Assess
    expect(event.item['extra']).toEqual({ big: Number.MAX_SAFE_INTEGER, price: 12.5, list: [[{ a: -0.001 }]] });
  });

  it('names the Alma event id in errors once it is known', () => {
    // Act
    const act = () => parseLoan(withBody((b) => delete b.item_loan));

    // Assess
    expect(act).toThrow('Alma event 5500110001: "item_loan" is missing or not an object');
  });

  it('rejects an event type the caller does not handle, listing the ones it does', () => {
    // Act
    const act = () => parseLoan(almaWebhookMessage('LOAN_RETURNED'));

    // Assess
    expect(act).toThrow(UnsupportedEventTypeError);
    expect(act).toThrow('Alma event 5500110004: event type LOAN_RETURNED is not handled here (accepted: LOAN_CREATED)');
  });
});

describe('Function: userCacheKey', () => {
  it('lower-cases the Alma primary id', () => {
    expect(userCacheKey('PAT0042X')).toBe('pat0042x');
  });
});
