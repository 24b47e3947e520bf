import {
  type AlmaEventType,
  type CacheChange,
  type CacheItemTransition,
  type ChangePublisher,
  detectCacheChanges,
  InconsistentTransitionError,
  type ItemRecord,
  PublishCacheChanges,
} from '../../src';
import { almaWebhooks, almaWebhooksInTimeOrder } from '../../src/testing';

const LOAN = '7391500230004561';
const HOLD = '8812300040004561';
const CANCELED_HOLD = '8812300050004561';
const REMOVALS: readonly AlmaEventType[] = ['LOAN_RETURNED', 'REQUEST_CANCELED', 'REQUEST_CLOSED'];

/** The version of the record a fixture webhook writes, as the item use cases store it, varied for a test (`set` overrides Alma fields). */
const version = (type: AlmaEventType, { set, ...overrides }: Partial<ItemRecord> & { set?: Record<string, unknown> } = {}): ItemRecord => {
  const body = almaWebhooks[type] as Record<string, unknown>;
  const loan = type.startsWith('LOAN_');
  const fields = { ...(body[loan ? 'item_loan' : 'user_request'] as Record<string, unknown>), ...set };
  return {
    kind: loan ? 'loan' : 'request',
    itemId: String(fields[loan ? 'loan_id' : 'request_id']),
    userPrimaryId: String(fields[loan ? 'user_id' : 'user_primary_id']),
    eventId: String(body['id']),
    eventType: type,
    eventTime: new Date(String(body['time'])).toISOString(),
    tombstone: REMOVALS.includes(type),
    expiresAt: 1_800_000_000,
    fields,
    ...overrides,
  };
};

/** A refresh's version of a record: same Alma fields, the refresh's own event id, type and time. */
const refreshed = (from: ItemRecord, set: Record<string, unknown> = {}): ItemRecord => ({
  ...from,
  eventId: 'refresh:pat0042x:2026-12-20T08:00:00.000Z',
  eventType: 'REFRESH',
  eventTime: '2026-12-20T07:59:00.000Z',
  expiresAt: from.expiresAt + 86_400,
  fields: { ...from.fields, ...set },
});

const changesOf = (transition: CacheItemTransition) => detectCacheChanges(transition).map((change) => change.change);

describe('Function: detectCacheChanges', () => {
  describe('loans', () => {
    it('publishes loan.created with the new values when a loan first appears', () => {
      // Act
      const changes = detectCacheChanges({ after: version('LOAN_CREATED') });

      // Assess
      expect(changes).toEqual([
        {
          eventId: `loan.created/${LOAN}/5500110001`,
          entity: 'loan',
          change: 'loan.created',
          recordId: LOAN,
          patron: 'pat0042x',
          userPrimaryId: 'PAT0042X',
          almaEventId: '5500110001',
          almaEventType: 'LOAN_CREATED',
          almaEventTime: '2026-11-21T10:15:03.120Z',
          source: 'webhook',
          title: 'Designing Data-Intensive Applications',
          changedFields: null,
          old: null,
          new: {
            title: 'Designing Data-Intensive Applications',
            author: 'Kleppmann, Martin',
            description: null,
            due_date: '2026-12-05T23:59:00Z',
            loan_status: 'ACTIVE',
            process_status: 'NORMAL',
            last_renew_date: null,
            return_date: null,
            renewable: true,
            item_barcode: '39001004561233',
            library: { value: 'MAIN', desc: 'Main Library' },
            location_code: { value: 'STACKS', name: 'Main Stacks' },
            call_number: 'QA76.9.D3 K54 2017',
          },
        },
      ]);
    });

    it('publishes loan.renewed with old and new due dates for LOAN_RENEWED', () => {
      // Act
      const [change] = detectCacheChanges({ before: version('LOAN_CREATED'), after: version('LOAN_RENEWED') });

      // Assess
      expect(change).toMatchObject({
        eventId: `loan.renewed/${LOAN}/5500110002`,
        change: 'loan.renewed',
        almaEventType: 'LOAN_RENEWED',
        almaEventTime: '2026-12-01T09:00:12.004Z',
        old: { due_date: '2026-12-05T23:59:00Z', last_renew_date: null },
        new: { due_date: '2026-12-19T23:59:00Z', last_renew_date: '2026-12-01T09:00:11Z' },
      });
    });

    it('publishes loan.renewed for LOAN_RENEWED that moves only the due date', () => {
      // Prepare
      const before = version('LOAN_RENEWED');
      const after = version('LOAN_RENEWED', { eventId: 'renewed-again', set: { due_date: '2027-01-02T23:59:00Z' } });

      // Act / Assess
      expect(changesOf({ before, after })).toEqual(['loan.renewed']);
    });

    it('publishes loan.due-date-changed when another event moves the due date, earlier or later', () => {
      // Act
      const [change] = detectCacheChanges({ before: version('LOAN_RENEWED'), after: version('LOAN_DUE_DATE') });

      // Assess
      expect(change).toMatchObject({
        change: 'loan.due-date-changed',
        old: { due_date: '2026-12-19T23:59:00Z' },
        new: { due_date: '2026-12-12T23:59:00Z' },
      });
    });

    it('publishes loan.removed when a tombstone replaces the live loan', () => {
      // Act
      const [change] = detectCacheChanges({ before: version('LOAN_DUE_DATE'), after: version('LOAN_RETURNED') });

      // Assess
      expect(change).toMatchObject({
        eventId: `loan.removed/${LOAN}/5500110004`,
        change: 'loan.removed',
        almaEventType: 'LOAN_RETURNED',
        old: { loan_status: 'ACTIVE', return_date: null },
        new: { loan_status: 'COMPLETE', return_date: '2026-12-10T16:42:51Z' },
      });
    });

    it('publishes nothing for a renewal that changed neither the due date nor the renewal date', () => {
      // Prepare
      const before = version('LOAN_RENEWED');
      const after = version('LOAN_RENEWED', { eventId: 'duplicate-delivery', eventTime: '2026-12-01T09:00:13.000Z' });

      // Act / Assess
      expect(changesOf({ before, after })).toEqual([]);
    });

    it('publishes loan.updated, naming the fields, when only patron-visible fields without their own change move (status, title)', () => {
      // Prepare
      const after = version('LOAN_DUE_DATE', { set: { due_date: '2026-12-19T23:59:00Z', loan_status: 'CLAIMED_RETURNED', title: 'DDIA' } });

      // Act
      const [change, ...more] = detectCacheChanges({ before: version('LOAN_RENEWED'), after });

      // Assess
      expect(more).toEqual([]);
      expect(change).toMatchObject({
        eventId: `loan.updated/${LOAN}/5500110003`,
        change: 'loan.updated',
        title: 'DDIA',
        changedFields: ['title', 'loan_status'],
        old: { title: 'Designing Data-Intensive Applications', loan_status: 'ACTIVE', due_date: '2026-12-19T23:59:00Z' },
        new: { title: 'DDIA', loan_status: 'CLAIMED_RETURNED', due_date: '2026-12-19T23:59:00Z' },
      });
    });

    it.each([
      ['location', { location_code: { value: 'RESERVE', name: 'Course Reserve' } }, ['location_code']],
      ['barcode', { item_barcode: '39001000000001' }, ['item_barcode']],
      ['renewability', { renewable: false }, ['renewable']],
      ['process status', { process_status: 'LOST' }, ['process_status']],
    ])('publishes loan.updated when the %s changes', (_what, set, changedFields) => {
      // Prepare
      const after = version('LOAN_CREATED', { eventId: 'staff-edit', set });

      // Act
      const changes = detectCacheChanges({ before: version('LOAN_CREATED'), after });

      // Assess
      expect(changes.map((change) => [change.change, change.changedFields])).toEqual([['loan.updated', changedFields]]);
    });

    it('publishes only the specific change, never also loan.updated, when the due date and the title move together', () => {
      // Prepare
      const after = version('LOAN_DUE_DATE', { set: { title: 'DDIA, 2nd ed.' } });

      // Act
      const changes = detectCacheChanges({ before: version('LOAN_RENEWED'), after });

      // Assess
      expect(changes.map((change) => [change.change, change.changedFields])).toEqual([['loan.due-date-changed', ['title', 'due_date']]]);
    });

    it.each([
      [
        'fields a patron does not see (circulation desk, policy, internal ids)',
        { circ_desk: { value: 'OTHER_DESK' }, item_policy: { value: '7DAY' }, item_id: 'x' },
      ],
      ['a field the new version carries and the old did not', { description: 'v. 2' }],
      ['an object field whose keys come in another order', { library: { desc: 'Main Library', value: 'MAIN' } }],
    ])('publishes nothing for %s', (_what, set) => {
      // Prepare
      const after = version('LOAN_CREATED', { eventId: 'other-write', set });

      // Act / Assess
      expect(changesOf({ before: version('LOAN_CREATED'), after })).toEqual([]);
    });

    it('treats a last_renew_date that moved as a renewal, whoever wrote it', () => {
      // Prepare
      const before = version('LOAN_CREATED');
      const after = refreshed(version('LOAN_RENEWED'));

      // Act
      const [change] = detectCacheChanges({ before, after });

      // Assess
      expect(change).toMatchObject({ change: 'loan.renewed', source: 'refresh', almaEventType: 'REFRESH' });
    });
  });

  describe('requests', () => {
    it('publishes request.created with the new status', () => {
      // Act
      const [change] = detectCacheChanges({ after: version('REQUEST_CREATED') });

      // Assess
      expect(change).toMatchObject({
        eventId: `request.created/${HOLD}/5500120001`,
        entity: 'request',
        change: 'request.created',
        patron: 'pat0042x',
        old: null,
        new: { request_status: 'NOT_STARTED', pickup_location: 'Main Library', place_in_queue: 2 },
      });
    });

    it('publishes request.status-changed with old and new status when the hold reaches the shelf', () => {
      // Act
      const [change] = detectCacheChanges({ before: version('REQUEST_CREATED'), after: version('REQUEST_PLACED_ON_SHELF') });

      // Assess
      expect(change).toMatchObject({
        eventId: `request.status-changed/${HOLD}/5500120002`,
        change: 'request.status-changed',
        almaEventTime: '2026-11-25T08:47:19.377Z',
        old: { request_status: 'NOT_STARTED', place_in_queue: 2 },
        new: { request_status: 'ON_HOLD_SHELF', place_in_queue: 1 },
      });
    });

    it('publishes request.removed, not also a status change, when the request closes', () => {
      // Act
      const changes = detectCacheChanges({ before: version('REQUEST_PLACED_ON_SHELF'), after: version('REQUEST_CLOSED') });

      // Assess
      expect(changes.map((change) => [change.change, change.old?.['request_status'], change.new?.['request_status']])).toEqual([
        ['request.removed', 'ON_HOLD_SHELF', 'HISTORY'],
      ]);
    });

    it('publishes request.removed for a canceled request the cache held', () => {
      // Prepare
      const before = version('REQUEST_CREATED', { itemId: CANCELED_HOLD, set: { request_id: CANCELED_HOLD } });

      // Act / Assess
      expect(changesOf({ before, after: version('REQUEST_CANCELED') })).toEqual(['request.removed']);
    });

    it('publishes request.updated when only the place in the queue moves', () => {
      // Prepare
      const after = version('REQUEST_CREATED', { eventId: 'queue-moved', set: { place_in_queue: 1 } });

      // Act
      const [change] = detectCacheChanges({ before: version('REQUEST_CREATED'), after });

      // Assess
      expect(change).toMatchObject({
        eventId: `request.updated/${HOLD}/queue-moved`,
        change: 'request.updated',
        changedFields: ['place_in_queue'],
        old: { request_status: 'NOT_STARTED', place_in_queue: 2 },
        new: { request_status: 'NOT_STARTED', place_in_queue: 1 },
      });
    });

    it.each([
      ['pickup location', { pickup_location: 'Science Library', pickup_location_library: 'SCI' }, ['pickup_location', 'pickup_location_library']],
      ['hold shelf expiry', { expiry_date: '2027-02-03Z' }, ['expiry_date']],
      ['title', { title: 'TAOCP 1' }, ['title']],
    ])('publishes request.updated when the %s changes', (_what, set, changedFields) => {
      // Prepare
      const after = version('REQUEST_PLACED_ON_SHELF', { eventId: 'staff-edit', set });

      // Act
      const changes = detectCacheChanges({ before: version('REQUEST_PLACED_ON_SHELF'), after });

      // Assess
      expect(changes.map((change) => [change.change, change.changedFields])).toEqual([['request.updated', changedFields]]);
    });

    it('publishes request.status-changed, not also request.updated, when the status and the place in the queue move', () => {
      // Act
      const changes = detectCacheChanges({ before: version('REQUEST_CREATED'), after: version('REQUEST_PLACED_ON_SHELF') });

      // Assess
      expect(changes.map((change) => change.change)).toEqual(['request.status-changed']);
      expect(changes[0].changedFields).toEqual(expect.arrayContaining(['request_status', 'place_in_queue']));
    });

    it('publishes nothing when a second event repeats the status', () => {
      // Prepare
      const after = version('REQUEST_PLACED_ON_SHELF', { eventId: 'shelf-again', eventTime: '2026-11-26T08:00:00.000Z' });

      // Act / Assess
      expect(changesOf({ before: version('REQUEST_PLACED_ON_SHELF'), after })).toEqual([]);
    });
  });

  describe('writes a patron would not notice', () => {
    it.each([
      ['a replayed loan event', version('LOAN_RENEWED'), version('LOAN_RENEWED')],
      ['a replayed request event', version('REQUEST_PLACED_ON_SHELF'), version('REQUEST_PLACED_ON_SHELF')],
      ['an expiry that moved', version('LOAN_CREATED'), version('LOAN_CREATED', { expiresAt: 1_900_000_000 })],
      ['a refresh that wrote the same loan', version('LOAN_DUE_DATE'), refreshed(version('LOAN_DUE_DATE'))],
      ['a refresh that wrote the same request', version('REQUEST_PLACED_ON_SHELF'), refreshed(version('REQUEST_PLACED_ON_SHELF'))],
      [
        'a refresh that wrote the same due date in another format',
        version('LOAN_DUE_DATE'),
        refreshed(version('LOAN_DUE_DATE'), { due_date: '2026-12-12T23:59:00.000Z', last_renew_date: '2026-12-01T09:00:11.000Z' }),
      ],
      [
        'a refresh whose version lacks the renewal date and due date',
        version('LOAN_RENEWED'),
        refreshed(version('LOAN_RENEWED'), { last_renew_date: null, due_date: undefined }),
      ],
      ['a refresh whose version lacks the request status', version('REQUEST_CREATED'), refreshed(version('REQUEST_CREATED'), { request_status: '' })],
      ['a tombstone written over a tombstone', version('LOAN_RETURNED'), version('LOAN_RETURNED', { eventId: 'again' })],
      ['a tombstone of a record the cache never held', undefined, version('REQUEST_CANCELED')],
      ['a tombstone expiring', version('LOAN_RETURNED'), undefined],
    ])('publishes nothing for %s', (_what, before, after) => {
      // Act / Assess
      expect(detectCacheChanges({ before, after })).toEqual([]);
    });

    it('publishes nothing when Time to Live deletes a live record', () => {
      // Act / Assess
      expect(detectCacheChanges({ before: version('LOAN_DUE_DATE'), expired: true })).toEqual([]);
      expect(detectCacheChanges({ before: version('REQUEST_CREATED'), expired: true })).toEqual([]);
    });

    it('publishes nothing for an empty transition or a fee', () => {
      // Prepare
      const fee = { ...version('LOAN_CREATED'), kind: 'fee' } as unknown as ItemRecord;

      // Act / Assess
      expect(detectCacheChanges({})).toEqual([]);
      expect(detectCacheChanges({ after: fee })).toEqual([]);
    });
  });

  describe('other sources of change', () => {
    it('publishes removed, naming the last version, when a writer deletes a live record outright', () => {
      // Act
      const [change] = detectCacheChanges({ before: version('REQUEST_PLACED_ON_SHELF') });

      // Assess
      expect(change).toMatchObject({
        eventId: `request.removed/${HOLD}/5500120002/deleted`,
        change: 'request.removed',
        almaEventId: '5500120002',
        old: { request_status: 'ON_HOLD_SHELF' },
        new: null,
      });
    });

    it('publishes a refresh that found Alma had moved on, marked as such', () => {
      // Prepare
      const before = version('LOAN_RENEWED');

      // Act
      const [change] = detectCacheChanges({ before, after: refreshed(before, { due_date: '2026-12-30T23:59:00Z' }) });

      // Assess
      expect(change).toMatchObject({
        eventId: `loan.due-date-changed/${LOAN}/refresh:pat0042x:2026-12-20T08:00:00.000Z`,
        change: 'loan.due-date-changed',
        source: 'refresh',
        almaEventTime: '2026-12-20T07:59:00.000Z',
      });
    });

    it('publishes removed for a refresh tombstone that keeps only the patron id', () => {
      // Prepare
      const tombstone = { ...refreshed(version('LOAN_RENEWED')), tombstone: true, fields: { user_id: 'PAT0042X' } };

      // Act
      const [change] = detectCacheChanges({ before: version('LOAN_RENEWED'), after: tombstone });

      // Assess
      expect(change).toMatchObject({ change: 'loan.removed', source: 'refresh', title: null, new: { due_date: null, loan_status: null } });
    });

    it.each([
      ['first cached by a refresh', undefined, refreshed(version('LOAN_CREATED'))],
      ['live again after a tombstone', version('LOAN_RETURNED'), version('LOAN_RENEWED', { eventTime: '2026-12-11T00:00:00.000Z' })],
    ])('publishes created for a loan %s', (_what, before, after) => {
      // Act / Assess
      expect(changesOf({ before, after })).toEqual(['loan.created']);
    });
  });

  describe('event ids', () => {
    it('gives a replayed transition the same id and different events different ids', () => {
      // Prepare
      const transition = { before: version('REQUEST_CREATED'), after: version('REQUEST_PLACED_ON_SHELF') };
      const other = { before: version('REQUEST_CREATED'), after: version('REQUEST_PLACED_ON_SHELF', { eventId: '5500129999' }) };

      // Act
      const [first, replayed, different] = [transition, structuredClone(transition), other].map((t) => detectCacheChanges(t)[0].eventId);

      // Assess
      expect(replayed).toBe(first);
      expect(different).not.toBe(first);
    });
  });

  it('refuses two versions of different records', () => {
    // Act / Assess
    expect(() => detectCacheChanges({ before: version('LOAN_CREATED'), after: version('LOAN_RENEWED', { itemId: 'other' }) })).toThrow(
      InconsistentTransitionError,
    );
    expect(() => detectCacheChanges({ before: version('LOAN_CREATED'), after: version('REQUEST_CREATED', { itemId: LOAN }) })).toThrow(
      "Not one record's transition: a loan became a request",
    );
  });

  it('yields the lives of the shared fixtures, one event per meaningful write', () => {
    // Prepare
    const cached = new Map<string, ItemRecord>();
    const produced: string[] = [];

    // Act: each webhook in time order replaces the record it names, as the item use cases do
    for (const type of almaWebhooksInTimeOrder) {
      const after = version(type);
      const key = `${after.kind}/${after.itemId}`;
      produced.push(...detectCacheChanges({ before: cached.get(key), after }).map((c) => `${c.recordId} ${c.change}`));
      cached.set(key, after);
    }

    // Assess: the canceled request was never cached live, so its tombstone is not news
    const lifeOf = (id: string) => produced.filter((line) => line.startsWith(`${id} `)).map((line) => line.split(' ')[1]);
    expect(lifeOf(LOAN)).toEqual(['loan.created', 'loan.renewed', 'loan.due-date-changed', 'loan.removed']);
    expect(lifeOf(HOLD)).toEqual(['request.created', 'request.status-changed', 'request.removed']);
    expect(lifeOf(CANCELED_HOLD)).toEqual([]);
    expect(produced).toHaveLength(7);
  });
});

describe('Class: PublishCacheChanges', () => {
  const recordingPublisher = () => {
    const published: CacheChange[] = [];
    const publisher: ChangePublisher = { publish: async (change) => void published.push(change) };
    return { published, publisher };
  };

  it('publishes the change a write calls for and returns it', async () => {
    // Prepare
    const { published, publisher } = recordingPublisher();

    // Act
    const result = await new PublishCacheChanges(publisher).execute({ before: version('LOAN_CREATED'), after: version('LOAN_RENEWED') });

    // Assess
    expect(published.map((change) => change.change)).toEqual(['loan.renewed']);
    expect(result).toEqual(published);
  });

  it('publishes nothing for a write that changed nothing a patron sees', async () => {
    // Prepare
    const { published, publisher } = recordingPublisher();

    // Act
    const result = await new PublishCacheChanges(publisher).execute({ before: version('LOAN_CREATED'), after: version('LOAN_CREATED') });

    // Assess
    expect(result).toEqual([]);
    expect(published).toEqual([]);
  });

  it('lets a publishing failure through, so that the record is retried', async () => {
    // Prepare
    const publisher: ChangePublisher = { publish: async () => Promise.reject(new Error('SNS is down')) };

    // Act
    const act = new PublishCacheChanges(publisher).execute({ after: version('REQUEST_CREATED') });

    // Assess
    await expect(act).rejects.toThrow('SNS is down');
  });
});
