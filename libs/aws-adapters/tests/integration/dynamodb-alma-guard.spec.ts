import { createDocumentClient, DynamoDbAlmaCallBudget, DynamoDbUnknownPatrons } from '../../src';
import { createAlmaGuardTable } from '../../src/testing';
import { AlmaBudgetExhaustedError, AlmaCallerShareExceededError, type AlmaBudgetCaller } from '@alma-cache/cache-domain';
import { maxInSlidingSecond } from '@alma-cache/cache-domain/testing';

describe('Class: DynamoDbUnknownPatrons', () => {
  const client = createDocumentClient();
  afterAll(() => client.destroy());

  it('remembers an unknown patron until its time, whether or not TTL has deleted it', async () => {
    // Prepare
    const unknown = new DynamoDbUnknownPatrons(client, await createAlmaGuardTable());

    // Act
    await unknown.remember('nobody', 1300);

    // Assess
    expect([await unknown.isUnknown('nobody', 1299), await unknown.isUnknown('nobody', 1300), await unknown.isUnknown('somebody', 1000)]).toEqual([
      true,
      false,
      false,
    ]);
  });
});

describe('Class: DynamoDbAlmaCallBudget', () => {
  const client = createDocumentClient();
  afterAll(() => client.destroy());

  it('never grants more than the budget in any sliding second, each share within its own, across instances under concurrency', async () => {
    // Prepare: budget 10 = refresh 3 + query 7; two instances of each share (two containers), 45 callers at once.
    const table = await createAlmaGuardTable();
    const make = (share: 'refresh' | 'query') => new DynamoDbAlmaCallBudget(client, table, { callsPerSecond: 10, share });
    const budgets = { refresh: [make('refresh'), make('refresh')], query: [make('query'), make('query')] };
    const granted = { refresh: [] as number[], query: [] as number[] };
    const started = Date.now();

    // Act
    await Promise.all([
      ...Array.from({ length: 15 }, async (_, i) => {
        await budgets.refresh[i % 2].take();
        granted.refresh.push(Date.now());
      }),
      ...Array.from({ length: 30 }, async (_, i) => {
        await budgets.query[i % 2].take();
        granted.query.push(Date.now());
      }),
    ]);

    // Assess
    const all = [...granted.refresh, ...granted.query];
    expect(all).toHaveLength(45);
    expect(maxInSlidingSecond(granted.refresh)).toBeLessThanOrEqual(3);
    expect(maxInSlidingSecond(granted.query)).toBeLessThanOrEqual(7);
    expect(maxInSlidingSecond(all)).toBeLessThanOrEqual(10);
    // And not by being idle: 30 query calls at 7 per second are done in about 4 to 5 s.
    expect(Date.now() - started).toBeLessThan(12_000);
    console.log(
      `[measured] guard: 45 concurrent takes at budget 10 (refresh 3, query 7): max ${maxInSlidingSecond(all)} grants in any sliding second ` +
        `(refresh ${maxInSlidingSecond(granted.refresh)}, query ${maxInSlidingSecond(granted.query)}), all granted in ${Date.now() - started} ms`,
    );
  }, 30_000);

  it("holds one caller to its share of the misses' budget (429 past it) while another caller's calls go through", async () => {
    // Prepare: budget 10, query share 7, 4 per caller; the caller is read per call, as the query API sets it per request.
    const table = await createAlmaGuardTable();
    let current: AlmaBudgetCaller | undefined;
    const budget = new DynamoDbAlmaCallBudget(client, table, { callsPerSecond: 10, share: 'query', caller: () => current, callerMaxWaitMs: 300 });
    const as = (id: string) => {
      current = { id, waitUntilMs: Date.now() + 5000 };
      return budget.take();
    };
    const greedy: number[] = [];
    const other: number[] = [];

    // Act
    const outcomes = await Promise.all([
      ...Array.from({ length: 20 }, () =>
        as('client:greedy').then(
          () => void greedy.push(Date.now()),
          (error: unknown) => error,
        ),
      ),
      ...Array.from({ length: 3 }, () =>
        as('client:other').then(
          () => void other.push(Date.now()),
          (error: unknown) => error,
        ),
      ),
    ]);

    // Assess
    const refused = outcomes.filter((outcome) => outcome instanceof AlmaCallerShareExceededError);
    expect(other).toHaveLength(3);
    expect(greedy.length).toBeGreaterThanOrEqual(4);
    expect(maxInSlidingSecond(greedy)).toBeLessThanOrEqual(4);
    expect(refused.length).toBe(20 - greedy.length);
    expect(refused[0]).toMatchObject({ code: 'ALMA_CALLER_SHARE_EXCEEDED', kind: 'throttled' });
    expect((refused[0] as AlmaCallerShareExceededError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('gives up with AlmaBudgetExhaustedError when no call frees up within the wait allowed, saying when one will', async () => {
    // Prepare: budget 2, so the refresh share is 1 call per second.
    const table = await createAlmaGuardTable();
    let now = 1_000_000_000_000;
    const budget = new DynamoDbAlmaCallBudget(client, table, {
      callsPerSecond: 2,
      maxWaitMs: 500,
      now: () => now,
      sleep: async (ms) => void (now += ms),
    });
    await budget.take();

    // Act
    const outcome = await budget.take().catch((error: unknown) => error);

    // Assess
    expect(outcome).toBeInstanceOf(AlmaBudgetExhaustedError);
    expect(outcome).toMatchObject({ code: 'ALMA_BUDGET_EXHAUSTED', retryAfterSeconds: 2 });
  });

  it("stops waiting at the caller's waitUntilMs when it comes before maxWaitMs", async () => {
    // Prepare
    const table = await createAlmaGuardTable();
    let now = 1_000_000_000_000;
    let requests = 0;
    const budget = new DynamoDbAlmaCallBudget(client, table, {
      callsPerSecond: 2,
      share: 'query',
      maxWaitMs: 20_000,
      // A new caller each time: only the share's wait is in question.
      caller: () => ({ id: `client:c${(requests += 1)}`, waitUntilMs: 1_000_000_000_300 }),
      now: () => now,
      sleep: async (ms) => void (now += ms),
    });
    await budget.take();

    // Act
    const outcome = await budget.take().catch((error: unknown) => error);

    // Assess
    expect(outcome).toBeInstanceOf(AlmaBudgetExhaustedError);
    expect(now).toBe(1_000_000_000_000);
  });

  it("learns from DynamoDB's refusal when another container's slot frees, without reading it", async () => {
    // Prepare: one container took the refresh share's only slot (budget 2) a minute ahead of the other's clock.
    const table = await createAlmaGuardTable();
    const ahead = new DynamoDbAlmaCallBudget(client, table, { callsPerSecond: 2, now: () => 1_000_000_060_000 });
    await ahead.take();
    let now = 1_000_000_000_000;
    const behind = new DynamoDbAlmaCallBudget(client, table, {
      callsPerSecond: 2,
      maxWaitMs: 500,
      now: () => now,
      sleep: async (ms) => void (now += ms),
    });

    // Act
    const outcome = await behind.take().catch((error: unknown) => error);

    // Assess: it frees a minute and a period later, which only the refused write's returned item could tell.
    expect(outcome).toBeInstanceOf(AlmaBudgetExhaustedError);
    expect((outcome as AlmaBudgetExhaustedError).retryAfterSeconds).toBeGreaterThanOrEqual(61);
    expect(now).toBe(1_000_000_000_000);
  });

  it('refuses a budget that cannot be split in shares', () => {
    // Act
    const build = () => new DynamoDbAlmaCallBudget(client, 'any', { callsPerSecond: 1 });

    // Assess
    expect(build).toThrow(RangeError);
  });
});
