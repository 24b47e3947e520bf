import { createDocumentClient, DynamoDbAlmaBudgetGauge, DynamoDbAlmaCallBudget } from '../../src';
import { createAlmaGuardTable } from '../../src/testing';

describe('Class: DynamoDbAlmaBudgetGauge', () => {
  const client = createDocumentClient();
  afterAll(() => client.destroy());

  it('reads a share as free, then full once every slot is taken, and free again a second and the grace later', async () => {
    // Prepare: budget 10 = refresh 3 + query 7
    const table = await createAlmaGuardTable();
    let nowMs = Date.parse('2026-12-06T10:00:00.000Z');
    const now = () => nowMs;
    const budget = new DynamoDbAlmaCallBudget(client, table, { callsPerSecond: 10, share: 'refresh', now, sleep: async (ms) => void (nowMs += ms) });
    const gauge = new DynamoDbAlmaBudgetGauge(client, table, { callsPerSecond: 10, now });
    const queryGauge = new DynamoDbAlmaBudgetGauge(client, table, { callsPerSecond: 10, share: 'query', now });

    // Act
    const before = await gauge.load();
    await budget.take();
    await budget.take();
    const twoOfThree = await gauge.load();
    await budget.take();
    nowMs += 400;
    const full = await gauge.load();
    const otherShare = await queryGauge.load();
    nowMs += 1200;
    const after = await gauge.load();

    // Assess: taking looks at the refresh share's slots only, and the gauge takes nothing itself
    expect(before).toEqual({ used: 0, of: 3, freeInMs: 0 });
    expect(twoOfThree).toEqual({ used: 2, of: 3, freeInMs: 0 });
    expect(full.used).toBe(3);
    // The first slot frees 1100 ms after its grant (a second and the grace), 400 ms of which have passed; the budget
    // may stamp a grant a few ms ahead, when it expects its write to take that long.
    expect(full.freeInMs).toBeGreaterThanOrEqual(700);
    expect(full.freeInMs).toBeLessThanOrEqual(800);
    expect(otherShare).toEqual({ used: 0, of: 7, freeInMs: 0 });
    expect(after).toEqual({ used: 0, of: 3, freeInMs: 0 });
  });

  it('reads a share of more than 100 slots in batches', async () => {
    // Prepare: budget 400 → refresh share 120; the clock stands still, so every grant is of the same instant
    const table = await createAlmaGuardTable();
    const now = () => Date.parse('2026-12-06T10:00:00.000Z');
    const budget = new DynamoDbAlmaCallBudget(client, table, { callsPerSecond: 400, now });
    await Promise.all(Array.from({ length: 110 }, () => budget.take()));

    // Act
    const load = await new DynamoDbAlmaBudgetGauge(client, table, { callsPerSecond: 400, now }).load();

    // Assess
    expect(load).toEqual({ used: 110, of: 120, freeInMs: 0 });
  });
});
