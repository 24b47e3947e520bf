import { describeChange, filterPolicyOf, readChangeMessage } from '../../change-view';

// What the demo and `npm run changes` print, and the filter policy the CLI builds from its flags (no emulator: the
// CLI itself runs against the local stack in start.spec.ts).

const onShelf = {
  eventId: 'request.status-changed/8812300040004561/5500120002',
  entity: 'request',
  change: 'request.status-changed',
  recordId: '8812300040004561',
  patron: 'pat0042x',
  userPrimaryId: 'PAT0042X',
  almaEventId: '5500120002',
  almaEventType: 'REQUEST_PLACED_ON_SHELF',
  almaEventTime: '2026-11-25T08:47:19.377Z',
  source: 'webhook',
  title: 'The Art of Computer Programming, Vol. 1',
  changedFields: ['request_status', 'place_in_queue'],
  old: { request_status: 'NOT_STARTED' },
  new: { request_status: 'ON_HOLD_SHELF' },
};

describe('Function: readChangeMessage', () => {
  it('reads the change, record, patron, status attribute and changed fields of a raw notification', () => {
    // Act
    const line = readChangeMessage({
      Body: JSON.stringify(onShelf),
      MessageAttributes: { status: { DataType: 'String', StringValue: 'ON_HOLD_SHELF' } },
    });

    // Assess
    expect(line).toEqual({
      change: 'request.status-changed',
      entity: 'request',
      recordId: '8812300040004561',
      patron: 'pat0042x',
      status: 'ON_HOLD_SHELF',
      changedFields: ['request_status', 'place_in_queue'],
      source: 'webhook',
      almaEventType: 'REQUEST_PLACED_ON_SHELF',
    });
  });

  it('leaves out changed fields for a created or removed record (null in the body)', () => {
    // Act
    const line = readChangeMessage({ Body: JSON.stringify({ ...onShelf, change: 'request.created', changedFields: null }) });

    // Assess
    expect(line?.changedFields).toBeUndefined();
    expect(line?.status).toBeUndefined();
  });

  it.each([
    ['not JSON', 'loan.created'],
    ['a JSON array', '[]'],
    ['JSON without a change', JSON.stringify({ entity: 'loan', recordId: '1' })],
    ['a change that is not a string', JSON.stringify({ ...onShelf, change: 42 })],
  ])('refuses %s', (_case, body) => {
    // Act & Assess
    expect(readChangeMessage({ Body: body })).toBeUndefined();
  });

  it('replaces control characters, so a message cannot rewrite the terminal', () => {
    // Act
    const line = readChangeMessage({ Body: JSON.stringify({ ...onShelf, recordId: 'abc\u001b[2Jdef', patron: 'x\ny' }) });

    // Assess
    expect(line).toMatchObject({ recordId: 'abc?[2Jdef', patron: 'x?y' });
  });
});

describe('Function: describeChange', () => {
  it('prints one line with the change, the record, the patron, status and changed fields, and where it came from', () => {
    // Prepare
    const line = readChangeMessage({
      Body: JSON.stringify(onShelf),
      MessageAttributes: { status: { DataType: 'String', StringValue: 'ON_HOLD_SHELF' } },
    })!;

    // Act
    const text = describeChange(line);

    // Assess
    expect(text).toBe(
      'request.status-changed  request 8812300040004561  patron pat0042x  status ON_HOLD_SHELF  changed request_status, place_in_queue  (webhook REQUEST_PLACED_ON_SHELF)',
    );
  });
});

describe('Function: filterPolicyOf', () => {
  it('is empty without flags: every change', () => {
    // Act & Assess
    expect(filterPolicyOf({})).toEqual({});
  });

  it('filters a patron on its cache key (the lower-cased primary id), records on recordId, and changes and entities as given', () => {
    // Act
    const policy = filterPolicyOf({
      patron: ['PAT0042X'],
      record: ['7391500230004561', '8812300040004561'],
      change: ['loan.renewed', 'loan.due-date-changed'],
      entity: ['loan'],
    });

    // Assess
    expect(policy).toEqual({
      patron: ['pat0042x'],
      recordId: ['7391500230004561', '8812300040004561'],
      change: ['loan.renewed', 'loan.due-date-changed'],
      entity: ['loan'],
    });
  });

  it('refuses ids the identifier rule refuses, change names of another shape and unknown entities, naming each flag', () => {
    // Act
    const refuse = () => filterPolicyOf({ patron: ['..'], record: ['a/b'], change: ['LOAN_CREATED'], entity: ['fee'] });

    // Assess
    expect(refuse).toThrow(
      '--patron is a dot segment ("." or ".."); --record holds a path separator ("/" or "\\"); --change must look like loan.renewed or request.status-changed; --entity must be loan or request',
    );
  });
});
