import {
  AlmaBudgetExhaustedError,
  AlmaCallerShareExceededError,
  AlmaRequestError,
  AlmaUnavailableError,
  DEFAULT_EXPIRY_POLICY,
  GetPatron,
  PatronDataUnavailableError,
  type PatronQueryDeps,
  RecordLoan,
  RefreshUser,
  RELEASED_CLAIM_BACKDATE_SECONDS,
} from '../../src';
import {
  almaWebhookMessage,
  InMemoryAlmaApi,
  InMemoryCacheStore,
  InMemoryUnknownPatrons,
  InMemoryUserRefreshQueue,
  ManualClock,
} from '../../src/testing';

const NOW = '2026-11-21T10:00:00.000Z';
const NOW_SECONDS = Date.parse(NOW) / 1000;

/** The miss path as the query API wires it, on fakes: one store rebuilt by RefreshUser and read back. */
const makeMissQuery = () => {
  const store = new InMemoryCacheStore();
  const alma = new InMemoryAlmaApi();
  const refreshQueue = new InMemoryUserRefreshQueue();
  const clock = new ManualClock(NOW);
  const unknownPatrons = new InMemoryUnknownPatrons();
  const expiry = DEFAULT_EXPIRY_POLICY;
  let claimants = 0;
  const deps: PatronQueryDeps = {
    cache: store.reader(),
    alma,
    refreshQueue,
    clock,
    miss: {
      store,
      unknownPatrons,
      refreshUser: new RefreshUser({ store, alma, clock, expiry, unknownPatrons }),
      expiry,
      newClaimant: () => `query-${++claimants}`,
      sleep: async () => undefined,
      waitForRefreshMs: 100,
      pollIntervalMs: 50,
    },
  };
  alma.seed('PAT0042X', { loan: [{ loan_id: 'l1', user_id: 'PAT0042X' }], request: [], fee: [] });
  return { store, alma, refreshQueue, deps, query: new GetPatron(deps) };
};

/** Whether another caller (here a webhook) could take the patron's refresh claim right now. */
const claimableByWebhook = (store: InMemoryCacheStore) =>
  store.claimUserRefresh({ userKey: 'pat0042x', claimant: 'webhook-event-1', nowSeconds: NOW_SECONDS, untilSeconds: NOW_SECONDS + 60 });

const throttledGuardTable = () => Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ThrottlingException' });

// Issue 18 §4: a rebuild that fails for any reason the Users queue is not for gives its claim up and removes its
// placeholder, so neither the next miss nor a webhook's refresh is blocked for the refresh window.
describe('Function: answerMiss, when the inline rebuild fails', () => {
  it.each([
    ['an Alma 4xx other than not-found', () => new AlmaRequestError(400, 'INVALID_PARAMETER'), AlmaRequestError],
    ['DynamoDB throttling on the Alma guard table (the budget)', throttledGuardTable, Error],
    ['an unexpected error', () => new TypeError('cannot read properties of undefined'), TypeError],
  ])('releases the claim on %s: the next miss rebuilds at once, a webhook may claim', async (_, failure, type) => {
    // Prepare
    const { store, alma, refreshQueue, query } = makeMissQuery();
    alma.failNext(failure());

    // Act
    const first = await query.execute('PAT0042X').catch((error: unknown) => error);
    const placeholderLeft = store.users.has('pat0042x');
    const claimReleased = store.claims.get('pat0042x');
    const second = await query.execute('PAT0042X');

    // Assess
    expect(first).toBeInstanceOf(type);
    expect(first).not.toBeInstanceOf(PatronDataUnavailableError);
    expect(placeholderLeft).toBe(false);
    expect(claimReleased).toMatchObject({ claimant: 'query-1', untilSeconds: NOW_SECONDS - RELEASED_CLAIM_BACKDATE_SECONDS });
    expect(second.source).toBe('alma');
    expect(refreshQueue.messages).toEqual([]);
  });

  it('releases the claim when a DynamoDB write of the rebuild is throttled: a webhook may claim the patron', async () => {
    // Prepare
    const { store, query } = makeMissQuery();
    store.failNext('writeItem', throttledGuardTable());

    // Act
    const outcome = await query.execute('PAT0042X').catch((error: unknown) => error);

    // Assess
    expect(outcome).toMatchObject({ name: 'ThrottlingException' });
    expect(store.users.has('pat0042x')).toBe(false);
    expect(await claimableByWebhook(store)).toBe(true);
  });

  it("answers 'caller-share' when the caller's share is spent: claim released, patron not queued", async () => {
    // Prepare
    const { store, alma, refreshQueue, query } = makeMissQuery();
    alma.failNext(new AlmaCallerShareExceededError(4, 1000, 2));

    // Act
    const outcome = await query.execute('PAT0042X').catch((error: unknown) => error);

    // Assess
    expect(outcome).toBeInstanceOf(PatronDataUnavailableError);
    expect(outcome).toMatchObject({ unavailability: 'caller-share', retryAfterSeconds: 2 });
    expect(refreshQueue.messages).toEqual([]);
    expect(store.users.has('pat0042x')).toBe(false);
    expect(await claimableByWebhook(store)).toBe(true);
  });

  it("answers 'budget-busy' when the stage's budget had no call in time: patron queued, claim kept and marked sent", async () => {
    // Prepare
    const { store, alma, refreshQueue, query } = makeMissQuery();
    alma.failNext(new AlmaBudgetExhaustedError(7, 14_000, 1));

    // Act
    const outcome = await query.execute('PAT0042X').catch((error: unknown) => error);

    // Assess
    expect(outcome).toMatchObject({ unavailability: 'budget-busy', retryAfterSeconds: 1 });
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
    expect(store.claims.get('pat0042x')).toMatchObject({ claimant: 'query-1', sent: true });
    expect(await claimableByWebhook(store)).toBe(false);
  });

  it('releases the claim when Alma is down and the patron cannot be queued either: nobody would run the rebuild', async () => {
    // Prepare
    const { store, alma, refreshQueue, query } = makeMissQuery();
    alma.failNext(new AlmaUnavailableError('HTTP 503: down', 30));
    refreshQueue.failNext(new Error('SQS unavailable'));

    // Act
    const first = await query.execute('PAT0042X').catch((error: unknown) => error);
    const claimAfter = { ...store.claims.get('pat0042x') };
    const second = await query.execute('PAT0042X');

    // Assess
    expect(first).toMatchObject({ unavailability: 'unavailable', retryAfterSeconds: 30 });
    expect(claimAfter).toEqual({ claimant: 'query-1', untilSeconds: NOW_SECONDS - RELEASED_CLAIM_BACKDATE_SECONDS, claimedAt: NOW_SECONDS });
    expect(second.source).toBe('alma');
    expect(refreshQueue.messages).toEqual([]);
  });

  it('still answers with the rebuild failure when releasing the claim fails too', async () => {
    // Prepare
    const { store, alma, query } = makeMissQuery();
    alma.failNext(new AlmaRequestError(400, 'INVALID_PARAMETER'));
    store.failNext('releaseUserRefresh', throttledGuardTable());

    // Act
    const outcome = await query.execute('PAT0042X').catch((error: unknown) => error);

    // Assess
    expect(outcome).toBeInstanceOf(AlmaRequestError);
    expect(store.claims.get('pat0042x')).toMatchObject({
      claimant: 'query-1',
      untilSeconds: NOW_SECONDS + DEFAULT_EXPIRY_POLICY.refreshWindowSeconds,
    });
    expect(store.users.has('pat0042x')).toBe(false);
  });
  it('queues the patron instead of giving the claim up when a webhook linked an item to the placeholder meanwhile', async () => {
    // Prepare: while the rebuild asks Alma, a webhook for the patron links its loan to the placeholder (which it takes
    // for a cached patron, so it asks for no refresh of its own); then Alma refuses the rebuild
    const { store, refreshQueue, deps } = makeMissQuery();
    const linkingAlma = {
      listRecords: async () => {
        await store.linkItem('pat0042x', 'loan', 'l9');
        throw new AlmaRequestError(400, 'INVALID_PARAMETER');
      },
      getRecord: async () => undefined,
    };
    const { miss } = deps;
    if (miss === undefined) throw new Error('makeMissQuery wires the miss path');
    const refreshUser = new RefreshUser({
      store,
      alma: linkingAlma,
      clock: deps.clock,
      expiry: DEFAULT_EXPIRY_POLICY,
      unknownPatrons: miss.unknownPatrons,
    });
    const query = new GetPatron({ ...deps, alma: linkingAlma, miss: { ...miss, refreshUser } });

    // Act
    const answer = await query.execute('PAT0042X').catch((error: unknown) => error);

    // Assess: the caller still gets the rebuild's failure; the webhook's refresh is on the queue, its link kept
    expect(answer).toBeInstanceOf(AlmaRequestError);
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
    expect(store.users.get('pat0042x')?.ids.loan).toEqual(new Set(['l9']));
    // The claim was given up before the placeholder: the next webhook links into the kept row and needs no claim
    expect(store.claims.get('pat0042x')).toMatchObject({ claimant: 'query-1', untilSeconds: NOW_SECONDS - RELEASED_CLAIM_BACKDATE_SECONDS });
  });

  it('queues the refresh of a webhook that came after the claim but before the placeholder, when the rebuild then fails', async () => {
    // Prepare: the webhook finds no row to link to and the query's claim taken, so it is coalesced into that claim
    const { store, alma, refreshQueue, deps, query } = makeMissQuery();
    alma.failNext(new AlmaRequestError(400, 'INVALID_PARAMETER'));
    const webhook = new RecordLoan({ store, refreshQueue, clock: deps.clock, expiry: DEFAULT_EXPIRY_POLICY });
    let coalesced: unknown;
    store.beforeNext('beginUserRefresh', async () => {
      const time = new Date(Date.parse(NOW) - 60_000).toISOString();
      coalesced = await webhook.execute(almaWebhookMessage('LOAN_CREATED', { userPrimaryId: 'PAT0042X', itemId: 'l7', time }));
    });

    // Act
    const answer = await query.execute('PAT0042X').catch((error: unknown) => error);

    // Assess: the query still answers with its failure; the webhook's refresh is queued once, the claim kept, sent
    expect(coalesced).toMatchObject({ user: 'refresh-already-requested' });
    expect(answer).toBeInstanceOf(AlmaRequestError);
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
    expect(store.claims.get('pat0042x')).toMatchObject({ claimant: 'query-1', sent: true });
  });

  it("still gives the claim up, and removes its placeholder, when the queue refuses the coalesced webhook's refresh", async () => {
    // Prepare: as above, but the Users queue is down when the query hands the refresh over
    const { store, alma, refreshQueue, deps, query } = makeMissQuery();
    alma.failNext(new AlmaRequestError(400, 'INVALID_PARAMETER'));
    const webhook = new RecordLoan({ store, refreshQueue, clock: deps.clock, expiry: DEFAULT_EXPIRY_POLICY });
    store.beforeNext('beginUserRefresh', async () => {
      const time = new Date(Date.parse(NOW) - 60_000).toISOString();
      await webhook.execute(almaWebhookMessage('LOAN_CREATED', { userPrimaryId: 'PAT0042X', itemId: 'l7', time }));
      refreshQueue.failNext(new Error('SQS unavailable'));
    });

    // Act
    const answer = await query.execute('PAT0042X').catch((error: unknown) => error);

    // Assess: nothing queued, but the patron is free: the next miss or webhook rebuilds at once
    expect(answer).toBeInstanceOf(AlmaRequestError);
    expect(refreshQueue.messages).toEqual([]);
    expect(store.users.has('pat0042x')).toBe(false);
    expect(await claimableByWebhook(store)).toBe(true);
  });

  it('does not coalesce away the refresh of a webhook that lands while the claim is given up', async () => {
    // Prepare: Alma refuses the rebuild; a webhook for the patron arrives just as the query gives its claim up
    const { store, alma, refreshQueue, deps, query } = makeMissQuery();
    alma.failNext(new AlmaRequestError(400, 'INVALID_PARAMETER'));
    const webhook = new RecordLoan({ store, refreshQueue, clock: deps.clock, expiry: DEFAULT_EXPIRY_POLICY });
    const message = almaWebhookMessage('LOAN_CREATED', {
      userPrimaryId: 'PAT0042X',
      itemId: 'l7',
      time: new Date(Date.parse(NOW) - 60_000).toISOString(),
    });
    store.beforeNext('releaseUserRefresh', async () => {
      await webhook.execute(message);
    });

    // Act
    const answer = await query.execute('PAT0042X').catch((error: unknown) => error);

    // Assess: one refresh is queued for the patron, and its link is kept
    expect(answer).toBeInstanceOf(AlmaRequestError);
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
    expect(store.users.get('pat0042x')?.ids.loan).toEqual(new Set(['l7']));
  });
});
