import { AlmaRequestError, AlmaUnavailableError } from '@alma-cache/cache-domain';
import { AlmaHttpApi } from '../../src';
import { InMemoryAlmaCallBudget } from '@alma-cache/cache-domain/testing';
import { generatePatron, startFakeAlmaServer, type FakeAlmaServer } from '../../src/testing';

const API_KEY = 'fake-users-list-key';

describe('Method: AlmaHttpApi.listUsers (Alma\'s "Retrieve users", against the fake Alma)', () => {
  let alma: FakeAlmaServer;

  beforeEach(async () => {
    alma = await startFakeAlmaServer({ apiKey: API_KEY });
  });

  afterEach(async () => {
    await alma.close();
  });

  const almaApi = (overrides: Partial<ConstructorParameters<typeof AlmaHttpApi>[0]> = {}) =>
    new AlmaHttpApi({ baseUrl: alma.url, apiKey: async () => API_KEY, backoffBaseMs: 2, backoffMaxMs: 10, ...overrides });

  it('walks 250 users in 3 pages of 100, ordered by primary id, with the total on every page', async () => {
    // Prepare: seeded out of order, so the order is the server's
    const ids = Array.from({ length: 250 }, (_, index) => `PAT${String(249 - index).padStart(4, '0')}`);
    for (const id of ids) alma.seedPatron(generatePatron(id));
    const api = almaApi();

    // Act
    const pages = [await api.listUsers({ offset: 0 }), await api.listUsers({ offset: 100 }), await api.listUsers({ offset: 200 })];

    // Assess
    expect(pages.map((page) => page.total)).toEqual([250, 250, 250]);
    expect(pages.flatMap((page) => page.primaryIds)).toEqual([...ids].sort());
    expect(alma.calls.map((call) => [call.path, call.query])).toEqual(
      [0, 100, 200].map((offset) => ['/almaws/v1/users', { format: 'json', limit: '100', offset: String(offset), order_by: 'primary_id' }]),
    );
  });

  it('answers an empty page past the end (Alma leaves the "user" key out) and honours a smaller limit', async () => {
    // Prepare
    for (const id of ['PAT-A', 'PAT-B', 'PAT-C']) alma.seedPatron(generatePatron(id));
    const api = almaApi();

    // Act
    const small = await api.listUsers({ offset: 1, limit: 1 });
    const past = await api.listUsers({ offset: 3 });

    // Assess
    expect(small).toEqual({ primaryIds: ['PAT-B'], total: 3 });
    expect(past).toEqual({ primaryIds: [], total: 3 });
  });

  it('takes one call from the stage budget per page, as for every other Alma request', async () => {
    // Prepare
    alma.seedPatron(generatePatron('PAT-A'));
    const budget = new InMemoryAlmaCallBudget(10);

    // Act
    await almaApi({ budget }).listUsers({ offset: 0 });

    // Assess
    expect(budget.granted).toHaveLength(1);
    expect(alma.calls).toHaveLength(1);
  });

  it('retries a throttled page, and refuses a 401 as a request error, never as "patron not found"', async () => {
    // Prepare
    alma.seedPatron(generatePatron('PAT-A'));
    alma.throttleNext(1);
    const api = almaApi();

    // Act
    const retried = await api.listUsers({ offset: 0 });
    const wrongKey = await almaApi({ apiKey: async () => 'not-the-key' })
      .listUsers({ offset: 0 })
      .then(
        () => undefined,
        (error: Error) => error,
      );

    // Assess
    expect(retried.primaryIds).toEqual(['PAT-A']);
    // The throttled page, its retry, and the one 401 (same key again: no second try).
    expect(alma.calls).toHaveLength(3);
    expect(wrongKey).toBeInstanceOf(AlmaRequestError);
    expect((wrongKey as AlmaRequestError).status).toBe(401);
    expect(wrongKey).not.toBeInstanceOf(AlmaUnavailableError);
  });

  it('refuses a limit outside 1 to 100 or a negative offset before calling Alma', async () => {
    // Prepare
    const api = almaApi();

    // Act
    const attempts = [api.listUsers({ offset: 0, limit: 0 }), api.listUsers({ offset: 0, limit: 101 }), api.listUsers({ offset: -1 })];

    // Assess
    for (const attempt of attempts) await expect(attempt).rejects.toBeInstanceOf(RangeError);
    expect(alma.calls).toHaveLength(0);
  });
});
