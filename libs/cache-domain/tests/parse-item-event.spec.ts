import { MalformedEventError, parseItemEvent, UnsupportedEventTypeError, userCacheKey } from '../src';
import { almaWebhookMessage, almaWebhooks } from '../src/testing';

const parseLoan = (message: string) => parseItemEvent(message, 'loan', ['LOAN_CREATED']);
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
    const event = parseItemEvent(almaWebhookMessage('REQUEST_CREATED'), 'request', ['REQUEST_CREATED']);

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
    ['an empty loan id', withBody((b) => (b.item_loan.loan_id = '')), /"item_loan.loan_id" is missing or empty/],
    ['a numeric loan id', withBody((b) => (b.item_loan.loan_id = 7391)), /"item_loan.loan_id" is missing or empty/],
    ['no patron', withBody((b) => delete b.item_loan.user_id), /"item_loan.user_id" is missing or empty/],
  ])('rejects %s with a specific MalformedEventError', (_case, message, reason) => {
    // Act
    const act = () => parseLoan(message);

    // Assess
    expect(act).toThrow(MalformedEventError);
    expect(act).toThrow(reason);
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
