import { CLAIM_RETRY_AFTER_SECONDS, DEFAULT_EXPIRY_POLICY, RecordLoan, RELEASED_CLAIM_BACKDATE_SECONDS, resolveExpiryPolicy } from '../../src';
import { UnsupportedEventTypeError } from '../../src/lib/errors';
import { almaWebhookMessage, almaWebhooks } from '../../src/testing';
import { makeDeps, nowSeconds } from './helpers';

describe('Class: RecordLoan', () => {
  it('caches the loan with every Alma field and links it to the cached patron in two writes', async () => {
    // Prepare
    const { store, deps, clock } = makeDeps();
    store.seedUser('pat0042x');

    // Act
    const outcome = await new RecordLoan(deps).execute(almaWebhookMessage('LOAN_CREATED'));

    // Assess
    expect(outcome).toMatchObject({ item: 'written', user: 'linked' });
    expect(store.calls).toEqual(['writeItem', 'linkItem']);
    const loan = store.items.loan.get('7391500230004561');
    expect(loan).toMatchObject({
      eventId: '5500110001',
      eventType: 'LOAN_CREATED',
      eventTime: '2026-11-21T10:15:03.120Z',
      tombstone: false,
      expiresAt: nowSeconds(clock) + DEFAULT_EXPIRY_POLICY.itemSeconds,
    });
    expect(loan?.fields).toEqual(almaWebhooks.LOAN_CREATED['item_loan']);
    expect([...store.users.get('pat0042x')!.ids.loan]).toEqual(['7391500230004561']);
  });

  it('does not expire a loan at its due date: an overdue loan is still a loan', async () => {
    // Prepare
    const { store, deps } = makeDeps();

    // Act
    await new RecordLoan(deps).execute(almaWebhookMessage('LOAN_CREATED'));

    // Assess
    const dueSeconds = Date.parse('2026-12-05T23:59:00Z') / 1000;
    expect(store.items.loan.get('7391500230004561')!.expiresAt).toBeGreaterThan(dueSeconds + 180 * 24 * 3600);
  });

  it('writes the loan of an unknown patron and asks for one refresh with the id as Alma sent it', async () => {
    // Prepare
    const { store, refreshQueue, deps } = makeDeps();

    // Act
    const outcome = await new RecordLoan(deps).execute(almaWebhookMessage('LOAN_CREATED'));

    // Assess
    expect(outcome.user).toBe('refresh-requested');
    expect(store.items.loan.has('7391500230004561')).toBe(true);
    expect(store.users.has('pat0042x')).toBe(false);
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
  });

  it('coalesces refreshes: many events for one unknown patron queue one message per window', async () => {
    // Prepare
    const { refreshQueue, deps, clock } = makeDeps();
    const useCase = new RecordLoan({ ...deps, expiry: resolveExpiryPolicy({ USER_REFRESH_WINDOW_SECONDS: '60' }) });
    const burst = (from: number) =>
      Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          useCase.execute(almaWebhookMessage('LOAN_CREATED', { eventId: `e${from + i}`, itemId: `loan-${from + i}` })),
        ),
      );

    // Act
    const first = await burst(0);
    clock.advanceSeconds(59);
    await burst(50);
    clock.advanceSeconds(2);
    await burst(100);

    // Assess
    expect(refreshQueue.messages).toEqual(['PAT0042X', 'PAT0042X']);
    expect(first.filter((outcome) => outcome.user === 'refresh-already-requested')).toHaveLength(49);
  });

  it('re-sends the refresh when the same event is retried after the send failed', async () => {
    // Prepare
    const { refreshQueue, deps, clock } = makeDeps();
    const useCase = new RecordLoan(deps);
    refreshQueue.failNext(new Error('SQS unavailable'));

    // Act: the failed message comes back after its backoff (60 s)
    await expect(useCase.execute(almaWebhookMessage('LOAN_CREATED'))).rejects.toThrow('SQS unavailable');
    clock.advanceSeconds(60);
    const retried = await useCase.execute(almaWebhookMessage('LOAN_CREATED'));
    const other = await useCase.execute(almaWebhookMessage('LOAN_RENEWED'));

    // Assess
    expect(retried.user).toBe('refresh-requested');
    expect(other.user).toBe('refresh-already-requested');
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
  });

  it('queues one refresh for copies of one event handled at the same time (Alma resent it, SNS or SQS delivered it twice)', async () => {
    // Prepare: the second copy claims while the first is still sending
    const { refreshQueue, store, deps, clock } = makeDeps();
    const useCase = new RecordLoan(deps);
    let copy: Promise<unknown> = Promise.resolve();
    store.beforeNext('markRefreshSent', async () => {
      clock.advanceSeconds(CLAIM_RETRY_AFTER_SECONDS - 1);
      copy = useCase.execute(almaWebhookMessage('LOAN_CREATED'));
      await copy;
    });

    // Act
    const first = await useCase.execute(almaWebhookMessage('LOAN_CREATED'));

    // Assess
    expect(first.user).toBe('refresh-requested');
    expect(await copy).toMatchObject({ item: 'duplicate', user: 'refresh-already-requested' });
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
  });

  it('claims again, and queues, when the claim it was refused is given up before its note lands, even a second later', async () => {
    // Prepare: a query holds the patron's claim and gives it up, on its own clock a second later, between this
    // event's refused claim and its note
    const { refreshQueue, store, deps, clock } = makeDeps();
    const start = nowSeconds(clock);
    await store.claimUserRefresh({ userKey: 'pat0042x', claimant: 'query-1', nowSeconds: start, untilSeconds: start + 300 });
    store.beforeNext('noteRefreshWanted', async () => {
      clock.advanceSeconds(1);
      await store.releaseUserRefresh('pat0042x', 'query-1', nowSeconds(clock) - RELEASED_CLAIM_BACKDATE_SECONDS);
    });

    // Act
    const outcome = await new RecordLoan(deps).execute(almaWebhookMessage('LOAN_CREATED'));

    // Assess
    expect(outcome.user).toBe('refresh-requested');
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
    expect(store.calls.filter((call) => call === 'claimUserRefresh')).toHaveLength(3);
  });

  it('does not send the refresh again when the event that took the claim is redelivered after its send', async () => {
    // Prepare
    const { refreshQueue, deps } = makeDeps();
    const useCase = new RecordLoan(deps);
    const first = await useCase.execute(almaWebhookMessage('LOAN_CREATED'));

    // Act
    const redelivered = await useCase.execute(almaWebhookMessage('LOAN_CREATED'));

    // Assess
    expect(first.user).toBe('refresh-requested');
    expect(redelivered).toMatchObject({ item: 'duplicate', user: 'refresh-already-requested' });
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
  });

  it('re-sends on redelivery when the send succeeded but recording it failed (a duplicate refresh, never a lost one)', async () => {
    // Prepare
    const { refreshQueue, store, deps, clock } = makeDeps();
    const useCase = new RecordLoan(deps);
    store.failNext('markRefreshSent', new Error('DynamoDB throttled'));

    // Act
    await expect(useCase.execute(almaWebhookMessage('LOAN_CREATED'))).rejects.toThrow('DynamoDB throttled');
    clock.advanceSeconds(60);
    const retried = await useCase.execute(almaWebhookMessage('LOAN_CREATED'));
    const again = await useCase.execute(almaWebhookMessage('LOAN_CREATED'));

    // Assess
    expect([retried.user, again.user]).toEqual(['refresh-requested', 'refresh-already-requested']);
    expect(refreshQueue.messages).toEqual(['PAT0042X', 'PAT0042X']);
  });

  it('applies a replayed event again harmlessly, and names it a duplicate', async () => {
    // Prepare
    const { store, deps } = makeDeps();
    store.seedUser('pat0042x', { loan_ids: ['other-loan'] });
    const useCase = new RecordLoan(deps);

    // Act
    await useCase.execute(almaWebhookMessage('LOAN_RENEWED'));
    const replay = await useCase.execute(almaWebhookMessage('LOAN_RENEWED'));

    // Assess
    expect(replay).toMatchObject({ item: 'duplicate', user: 'linked' });
    expect([...store.users.get('pat0042x')!.ids.loan].sort()).toEqual(['7391500230004561', 'other-loan']);
    expect(store.items.loan.get('7391500230004561')!.eventType).toBe('LOAN_RENEWED');
  });

  it('finishes linking when a retry follows a failed link', async () => {
    // Prepare
    const { store, deps } = makeDeps();
    store.seedUser('pat0042x');
    store.failNext('linkItem', new Error('ProvisionedThroughputExceededException'));
    const useCase = new RecordLoan(deps);

    // Act
    await expect(useCase.execute(almaWebhookMessage('LOAN_CREATED'))).rejects.toThrow('ProvisionedThroughputExceeded');
    const retried = await useCase.execute(almaWebhookMessage('LOAN_CREATED'));

    // Assess
    expect(retried.user).toBe('linked');
    expect(store.users.get('pat0042x')!.ids.loan.has('7391500230004561')).toBe(true);
  });

  it('never lets an older event overwrite newer state, and then touches nothing else', async () => {
    // Prepare
    const { store, deps } = makeDeps();
    store.seedUser('pat0042x');
    const useCase = new RecordLoan(deps);
    await useCase.execute(almaWebhookMessage('LOAN_DUE_DATE'));
    store.calls.length = 0;

    // Act
    const late = await useCase.execute(almaWebhookMessage('LOAN_RENEWED'));

    // Assess
    expect(late).toMatchObject({ item: 'stale', user: 'untouched' });
    expect(store.calls).toEqual(['writeItem']);
    expect(store.items.loan.get('7391500230004561')!.fields['due_date']).toBe('2026-12-12T23:59:00Z');
  });

  it('rejects a LOAN_RETURNED event before writing anything', async () => {
    // Prepare
    const { store, refreshQueue, deps } = makeDeps();

    // Act
    const act = new RecordLoan(deps).execute(almaWebhookMessage('LOAN_RETURNED'));

    // Assess
    await expect(act).rejects.toBeInstanceOf(UnsupportedEventTypeError);
    expect(store.calls).toEqual([]);
    expect(refreshQueue.messages).toEqual([]);
  });

  it('writes nothing for a malformed message', async () => {
    // Prepare
    const { store, deps } = makeDeps();

    // Act
    const act = new RecordLoan(deps).execute('{"id":"1","event":{"value":"LOAN_CREATED"},"time":"2026-11-21T10:00:00Z"}');

    // Assess
    await expect(act).rejects.toThrow('Alma event 1: "item_loan" is missing or not an object');
    expect(store.calls).toEqual([]);
  });
});
