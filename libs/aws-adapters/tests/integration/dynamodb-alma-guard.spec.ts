import { createDocumentClient, DynamoDbAlmaCallBudget, DynamoDbUnknownPatrons } from '../../src';
import { createAlmaGuardTable } from '../../src/testing';
import { AlmaBudgetExhaustedError } from '@alma-cache/cache-domain';

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

  it('lets 60 concurrent callers through at most 10 per second, across two instances sharing the table', async () => {
    // Prepare
    const table = await createAlmaGuardTable();
    const budgets = [0, 1].map(() => new DynamoDbAlmaCallBudget(client, table, { callsPerSecond: 10 }));
    const granted: number[] = [];

    // Act
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        await budgets[i % 2].take();
        granted.push(Date.now());
      }),
    );

    // Assess
    const perSecond = new Map<number, number>();
    for (const at of granted) perSecond.set(Math.floor(at / 1000), (perSecond.get(Math.floor(at / 1000)) ?? 0) + 1);
    expect(granted).toHaveLength(60);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(10);
    expect(perSecond.size).toBeGreaterThanOrEqual(6);
  }, 30_000);

  it('gives up with AlmaBudgetExhaustedError when no call frees up within the wait allowed', async () => {
    // Prepare
    const table = await createAlmaGuardTable();
    let now = 1_000_000_000_000;
    const budget = new DynamoDbAlmaCallBudget(client, table, {
      callsPerSecond: 1,
      maxWaitMs: 500,
      now: () => now,
      sleep: async (ms) => void (now += ms),
    });
    await budget.take();

    // Act
    const outcome = await budget.take().catch((error: unknown) => error);

    // Assess
    expect(outcome).toBeInstanceOf(AlmaBudgetExhaustedError);
  });
});
