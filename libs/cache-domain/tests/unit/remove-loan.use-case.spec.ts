import { type AlmaEventType, DEFAULT_EXPIRY_POLICY, RecordLoan, RemoveLoan } from '../../src';
import { almaWebhookMessage, type InMemoryCacheStore } from '../../src/testing';
import { makeDeps, nowSeconds } from './helpers';

const LOAN_ID = '7391500230004561';
const LOAN_LIFE: AlmaEventType[] = ['LOAN_CREATED', 'LOAN_RENEWED', 'LOAN_DUE_DATE', 'LOAN_RETURNED'];

const permutations = <T>(items: T[]): T[][] =>
  items.length <= 1
    ? [items]
    : items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));

const snapshot = (store: InMemoryCacheStore) => ({
  loan: store.items.loan.get(LOAN_ID),
  loanIds: [...store.users.get('pat0042x')!.ids.loan].sort(),
});

describe('Class: RemoveLoan', () => {
  it('leaves a short-lived tombstone and unlinks the loan from its patron', async () => {
    // Prepare
    const { store, deps, clock } = makeDeps();
    store.seedUser('pat0042x', { loan_ids: [LOAN_ID, 'other-loan'] });

    // Act
    const outcome = await new RemoveLoan(deps).execute(almaWebhookMessage('LOAN_RETURNED'));

    // Assess
    expect(outcome).toMatchObject({ item: 'written', user: 'unlinked' });
    expect(store.calls).toEqual(['writeItem', 'unlinkItem']);
    expect(store.items.loan.get(LOAN_ID)).toMatchObject({
      tombstone: true,
      eventType: 'LOAN_RETURNED',
      expiresAt: nowSeconds(clock) + DEFAULT_EXPIRY_POLICY.tombstoneSeconds,
    });
    expect([...store.users.get('pat0042x')!.ids.loan]).toEqual(['other-loan']);
  });

  it('does not let a late retry of LOAN_RENEWED bring a returned loan back', async () => {
    // Prepare
    const { store, deps } = makeDeps();
    store.seedUser('pat0042x');
    await new RecordLoan(deps).execute(almaWebhookMessage('LOAN_CREATED'));
    await new RemoveLoan(deps).execute(almaWebhookMessage('LOAN_RETURNED'));

    // Act
    const late = await new RecordLoan(deps).execute(almaWebhookMessage('LOAN_RENEWED'));

    // Assess
    expect(late).toMatchObject({ item: 'stale', user: 'untouched' });
    expect(snapshot(store)).toMatchObject({ loan: { tombstone: true }, loanIds: [] });
  });

  it("does not re-link a loan when its return lands between an older update's two writes", async () => {
    // Prepare: hold the renewal after its item write, as a slow concurrent invocation would be held
    const { store, deps } = makeDeps();
    store.seedUser('pat0042x');
    let releaseLink!: () => void;
    const linkReleased = new Promise<void>((resolve) => (releaseLink = resolve));
    const link = store.linkItem.bind(store);
    store.linkItem = async (...args) => {
      await linkReleased;
      return link(...args);
    };

    // Act
    const renewal = new RecordLoan(deps).execute(almaWebhookMessage('LOAN_RENEWED'));
    await new Promise((resolve) => setImmediate(resolve));
    const returned = await new RemoveLoan(deps).execute(almaWebhookMessage('LOAN_RETURNED'));
    releaseLink();
    const renewed = await renewal;

    // Assess
    expect(returned).toMatchObject({ item: 'written', user: 'unlinked' });
    expect(renewed).toMatchObject({ item: 'written', user: 'already-removed' });
    expect(snapshot(store)).toMatchObject({ loan: { tombstone: true }, loanIds: [] });
  });

  it('lets a removal win a tie with an update stamped with the same time, in either order', async () => {
    for (const order of [
      ['update', 'remove'],
      ['remove', 'update'],
    ]) {
      // Prepare
      const { store, deps } = makeDeps();
      store.seedUser('pat0042x');
      const time = '2026-12-01T09:00:12.004Z';
      const steps = {
        update: () => new RecordLoan(deps).execute(almaWebhookMessage('LOAN_RENEWED', { time })),
        remove: () => new RemoveLoan(deps).execute(almaWebhookMessage('LOAN_RETURNED', { time })),
      } as Record<string, () => Promise<unknown>>;

      // Act
      for (const step of order) await steps[step]();

      // Assess
      expect(snapshot(store)).toMatchObject({ loan: { tombstone: true }, loanIds: [] });
    }
  });

  it('reaches the same state whatever order the loan events arrive in, replays included', async () => {
    // Prepare
    const expected = { loan: { tombstone: true, eventType: 'LOAN_RETURNED' }, loanIds: ['other-loan'] };

    for (const order of permutations(LOAN_LIFE)) {
      const { store, deps } = makeDeps();
      store.seedUser('pat0042x', { loan_ids: ['other-loan'] });
      const apply = (type: AlmaEventType) =>
        (type === 'LOAN_RETURNED' ? new RemoveLoan(deps) : new RecordLoan(deps)).execute(almaWebhookMessage(type));

      // Act
      for (const type of order) await apply(type);
      for (const type of order) await apply(type);

      // Assess
      expect({ order, ...snapshot(store) }).toMatchObject({ order, ...expected });
    }
  });

  it('asks for a refresh when the patron is not cached', async () => {
    // Prepare
    const { refreshQueue, deps } = makeDeps();

    // Act
    const outcome = await new RemoveLoan(deps).execute(almaWebhookMessage('LOAN_RETURNED'));

    // Assess
    expect(outcome.user).toBe('refresh-requested');
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
  });

  it('refuses loan updates', async () => {
    const { store, deps } = makeDeps();
    await expect(new RemoveLoan(deps).execute(almaWebhookMessage('LOAN_CREATED'))).rejects.toThrow(
      'event type LOAN_CREATED is not handled here (accepted: LOAN_RETURNED, LOAN_LOST)',
    );
    expect(store.calls).toEqual([]);
  });
});
