import { AlmaEventType, CloseRequest, ExtraAlmaEventType, RecordLoan, RecordRequest, RemoveLoan, WEBHOOK_ROUTING_TABLE } from '../../src';
import { eventTypesRoutedTo, routeWebhookEvent } from '../../src/lib/webhooks/webhook-routing';

/** The use case each topic feeds, as apps/sns-lambdas subscribes its functions. */
const USE_CASE_OF_TOPIC: Record<AlmaEventType, { eventTypes: readonly string[] }> = {
  LOAN_CREATED: RecordLoan,
  LOAN_RENEWED: RecordLoan,
  LOAN_DUE_DATE: RecordLoan,
  LOAN_RETURNED: RemoveLoan,
  REQUEST_CREATED: RecordRequest,
  REQUEST_PLACED_ON_SHELF: RecordRequest,
  REQUEST_CANCELED: CloseRequest,
  REQUEST_CLOSED: CloseRequest,
};

describe('Function: routeWebhookEvent', () => {
  it.each(Object.values(AlmaEventType))('publishes %s to its own topic', (eventType) => {
    // Act
    const route = routeWebhookEvent(eventType, eventType.startsWith('LOAN') ? 'LOAN' : 'REQUEST');

    // Assess
    expect(route).toEqual({ action: 'publish', topic: eventType, reason: 'its own topic' });
  });

  it("publishes a lost loan to LOAN_RETURNED, where it leaves the patron's loans", () => {
    // Act
    const route = routeWebhookEvent('LOAN_LOST', 'LOAN');

    // Assess
    expect(route).toMatchObject({ action: 'publish', topic: 'LOAN_RETURNED' });
  });

  it('publishes a claimed-returned loan to LOAN_DUE_DATE, where it is recorded as still open', () => {
    // Act
    const route = routeWebhookEvent('LOAN_CLAIMED_RETURNED', 'LOAN');

    // Assess
    expect(route).toMatchObject({ action: 'publish', topic: 'LOAN_DUE_DATE' });
  });

  it.each([
    ['USER_UPDATED', 'USER'],
    ['BIB_UPDATED', 'BIB'],
    ['ITEM_DELETED', 'ITEM'],
    ['FulPlaceOnHoldShelfLetter', 'NOTIFICATION'],
  ])('skips %s (%s), which the cache does not use', (eventType, action) => {
    // Act
    const route = routeWebhookEvent(eventType, action);

    // Assess
    expect(route).toEqual({ action: 'skip', skip: 'not-used', reason: `the cache does not use ${eventType} (Alma ${action} webhook)` });
  });

  it.each([
    ['LOAN_DAMAGED', 'LOAN'],
    ['REQUEST_UPDATED', undefined],
    ['SOMETHING_NEW', 'REQUEST'],
  ])('skips %s as an unknown circulation event, saying where to add it', (eventType, action) => {
    // Act
    const route = routeWebhookEvent(eventType, action);

    // Assess
    expect(route).toMatchObject({ action: 'skip', skip: 'unknown-circulation-event' });
    expect(route.reason).toContain('add it to WEBHOOK_ROUTING_TABLE');
  });

  it.each([undefined, '', '  '])('skips a webhook without event type (%p), such as JOB_END', (eventType) => {
    // Act
    const route = routeWebhookEvent(eventType, 'JOB_END');

    // Assess
    expect(route).toEqual({
      action: 'skip',
      skip: 'no-event-type',
      reason: 'Alma JOB_END webhook without event.value: the cache uses loan and request events only',
    });
  });

  it('matches event types exactly: no case folding, nothing inherited from Object', () => {
    // Act
    const routes = ['loan_created', 'constructor', 'toString', '__proto__'].map((eventType) => routeWebhookEvent(eventType));

    // Assess
    expect(routes.map((route) => route.action)).toEqual(['skip', 'skip', 'skip', 'skip']);
  });
});

describe('Constant: WEBHOOK_ROUTING_TABLE', () => {
  it('routes the eight events and the extra loan events, each to one of the eight topics', () => {
    // Assess
    expect(Object.keys(WEBHOOK_ROUTING_TABLE).sort()).toEqual([...Object.values(AlmaEventType), ...Object.values(ExtraAlmaEventType)].sort());
    for (const route of Object.values(WEBHOOK_ROUTING_TABLE)) expect(Object.values(AlmaEventType)).toContain(route.topic);
  });

  it.each(Object.values(AlmaEventType))('sends to the %s topic only events its use case accepts', (topic) => {
    // Act
    const routed = eventTypesRoutedTo(topic);

    // Assess
    expect(routed).toContain(topic);
    for (const eventType of routed) expect(USE_CASE_OF_TOPIC[topic].eventTypes).toContain(eventType);
  });
});
