import { inspect } from 'node:util';
import { AlmaRequestError, AlmaUnavailableError, AlmaUserNotFoundError, type ItemKind } from '@alma-cache/cache-domain';
import { AlmaHttpApi } from '../../src';
import type { AlmaExchange, AlmaExchangeResult, AlmaExchangeTracer, AlmaHttpApiOptions, AlmaRetryInfo } from '../../src/lib/alma-http-api.options';
import { fakeRecordId, generatePatron, startFakeAlmaServer, type FakeAlmaServer } from '../../src/testing';

// Distinctive, so a leak anywhere (message, stack, retry info) is found by a plain substring search.
const API_KEY = 'l8xx-SECRET-alma-key-0042';

describe('Class: AlmaHttpApi', () => {
  let alma: FakeAlmaServer;

  beforeEach(async () => {
    alma = await startFakeAlmaServer({ apiKey: API_KEY });
  });

  afterEach(async () => {
    await alma.close();
  });

  /** Real timers but tiny backoff windows keep the retry tests fast. */
  function almaApi(overrides: Partial<AlmaHttpApiOptions> = {}): AlmaHttpApi {
    return new AlmaHttpApi({ baseUrl: alma.url, apiKey: async () => API_KEY, backoffBaseMs: 2, backoffMaxMs: 10, ...overrides });
  }

  function recordingRetries(): { infos: AlmaRetryInfo[]; onRetry: (info: AlmaRetryInfo) => void } {
    const infos: AlmaRetryInfo[] = [];
    return { infos, onRetry: (info) => infos.push(info) };
  }

  async function failure(promise: Promise<unknown>): Promise<Error> {
    try {
      await promise;
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected a rejection');
  }

  describe('listing', () => {
    it('pages through 250 loans in 3 calls of 100', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 250 }));

      // Act
      const loans = await almaApi().listRecords('PAT0042X', 'loan');

      // Assess
      expect(loans.map((loan) => loan['loan_id'])).toEqual(Array.from({ length: 250 }, (_, index) => fakeRecordId('PAT0042X', 'loan', index)));
      expect(alma.calls.map((call) => call.query)).toEqual([
        { format: 'json', limit: '100', offset: '0' },
        { format: 'json', limit: '100', offset: '100' },
        { format: 'json', limit: '100', offset: '200' },
      ]);
    });

    it('costs exactly one call per kind for a patron with 25 loans, 5 requests and 2 fees', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 25, requests: 5, fees: 2 }));
      const api = almaApi();

      // Act
      const [loans, requests, fees] = await Promise.all((['loan', 'request', 'fee'] as const).map((kind) => api.listRecords('PAT0042X', kind)));

      // Assess
      expect([loans.length, requests.length, fees.length]).toEqual([25, 5, 2]);
      expect(alma.calls.map((call) => call.path).sort()).toEqual([
        '/almaws/v1/users/PAT0042X/fees',
        '/almaws/v1/users/PAT0042X/loans',
        '/almaws/v1/users/PAT0042X/requests',
      ]);
      expect(api.stats).toEqual({ requestsSent: 3, retries: 0, throttled: 0 });
    });

    it('returns [] when Alma leaves the array key out of an empty list', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));
      const api = almaApi();

      // Act
      const [requests, fees] = await Promise.all([api.listRecords('PAT0042X', 'request'), api.listRecords('PAT0042X', 'fee')]);

      // Assess
      expect(requests).toEqual([]);
      expect(fees).toEqual([]);
      expect(alma.calls).toHaveLength(2);
    });

    it('gets more than 100 fees in one call, as Alma does not page fees', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { fees: 150 }));

      // Act
      const fees = await almaApi().listRecords('PAT0042X', 'fee');

      // Assess
      expect(fees).toHaveLength(150);
      expect(alma.calls).toHaveLength(1);
    });

    it('URL-encodes the primary id, which Alma matches case-insensitively', async () => {
      // Prepare: characters an id may hold (the identifier rule refuses only separators, dot segments, controls)
      alma.seedPatron(generatePatron('Jane.Doe+42@uni example', { loans: 2 }));

      // Act
      const loans = await almaApi().listRecords('JANE.DOE+42@UNI EXAMPLE', 'loan');

      // Assess
      expect(loans).toHaveLength(2);
      expect(alma.calls[0].path).toBe('/almaws/v1/users/JANE.DOE%2B42%40UNI%20EXAMPLE/loans');
    });

    it('sees the changes made to Alma between two calls', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 3 }));
      const api = almaApi();
      await api.listRecords('PAT0042X', 'loan');

      // Act
      alma.patron('pat0042x')!.loans.splice(1, 1);
      const loans = await api.listRecords('PAT0042X', 'loan');

      // Assess
      expect(loans.map((loan) => loan['loan_id'])).toEqual([fakeRecordId('PAT0042X', 'loan', 0), fakeRecordId('PAT0042X', 'loan', 2)]);
    });

    it('stops the other pages of a list once one page failed for good', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1000 }));
      let keyReads = 0;
      // The key is read just before each request: the second read precedes the first of the nine parallel pages.
      const apiKey = async () => {
        keyReads += 1;
        if (keyReads === 2) alma.failNext(1, 400, 'Bad Request');
        return API_KEY;
      };

      // Act
      const error = await failure(almaApi({ apiKey, maxConcurrentRequests: 1 }).listRecords('PAT0042X', 'loan'));

      // Assess
      expect(error).toBeInstanceOf(AlmaRequestError);
      expect(alma.calls).toHaveLength(2);
    });
  });

  describe('throttling and failures', () => {
    it('retries a burst of 429 PER_SECOND_THRESHOLD and ends complete, counting the retries', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 250 }));
      alma.throttleNext(4);
      const { infos, onRetry } = recordingRetries();
      const api = almaApi({ onRetry });

      // Act
      const loans = await api.listRecords('PAT0042X', 'loan');

      // Assess
      expect(loans).toHaveLength(250);
      expect(api.stats).toEqual({ requestsSent: 7, retries: 4, throttled: 4 });
      expect(infos.map((info) => info.reason)).toEqual([429, 429, 429, 429]);
      expect(infos[0]).toEqual({ route: '/almaws/v1/users/{id}/loans', reason: 429, attempt: 1, delayMs: expect.any(Number) });
    });

    it('waits with full jitter, the window doubling from backoffBaseMs up to backoffMaxMs', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));
      alma.failNext(5);
      const waits: number[] = [];
      const api = almaApi({ backoffBaseMs: 100, backoffMaxMs: 400, random: () => 0.5, sleep: async (ms) => void waits.push(ms) });

      // Act
      const loans = await api.listRecords('PAT0042X', 'loan');

      // Assess
      expect(loans).toHaveLength(1);
      expect(waits).toEqual([50, 100, 200, 200, 200]);
    });

    it('waits as long as Retry-After asks when it is within backoffMaxMs', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));
      alma.throttleNext(1, { retryAfterSeconds: 2 });
      const waits: number[] = [];
      const api = almaApi({ backoffBaseMs: 250, backoffMaxMs: 8000, random: () => 0, sleep: async (ms) => void waits.push(ms) });

      // Act
      await api.listRecords('PAT0042X', 'loan');

      // Assess
      expect(waits).toEqual([2000]);
    });

    it('gives up at once, passing the hint on, when Retry-After is longer than backoffMaxMs', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));
      alma.throttleNext(1, { retryAfterSeconds: 60 });

      // Act
      const error = await failure(almaApi({ backoffMaxMs: 8000 }).listRecords('PAT0042X', 'loan'));

      // Assess
      expect(error).toBeInstanceOf(AlmaUnavailableError);
      expect(error).toMatchObject({ retryAfterSeconds: 60, kind: 'throttled' });
      expect(alma.calls).toHaveLength(1);
    });

    it('gives up as throttled after maxAttempts of 429 PER_SECOND_THRESHOLD', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));
      alma.throttleNext(10);

      // Act
      const error = await failure(almaApi({ maxAttempts: 3 }).listRecords('PAT0042X', 'loan'));

      // Assess
      expect(error).toBeInstanceOf(AlmaUnavailableError);
      expect((error as AlmaUnavailableError).kind).toBe('throttled');
      expect(alma.calls).toHaveLength(3);
    });

    it('does not retry 429 DAILY_THRESHOLD', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));
      alma.throttleNext(3, { errorCode: 'DAILY_THRESHOLD', retryAfterSeconds: 3600 });
      const api = almaApi();

      // Act
      const error = await failure(api.listRecords('PAT0042X', 'loan'));

      // Assess
      expect(error).toBeInstanceOf(AlmaUnavailableError);
      expect(error.message).toMatch(/daily API request threshold/i);
      expect(error).toMatchObject({ retryAfterSeconds: 3600, kind: 'daily-limit' });
      expect(api.stats).toEqual({ requestsSent: 1, retries: 0, throttled: 1 });
    });

    it('retries a 503 and then succeeds', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { requests: 5 }));
      alma.failNext(2, 503);
      const { infos, onRetry } = recordingRetries();

      // Act
      const requests = await almaApi({ onRetry }).listRecords('PAT0042X', 'request');

      // Assess
      expect(requests).toHaveLength(5);
      expect(infos.map(({ reason, attempt }) => [reason, attempt])).toEqual([
        [503, 1],
        [503, 2],
      ]);
    });

    it('gives up with AlmaUnavailableError after maxAttempts of 5xx', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));
      alma.failNext(10, 500);

      // Act
      const error = await failure(almaApi({ maxAttempts: 3 }).listRecords('PAT0042X', 'loan'));

      // Assess
      expect(error).toBeInstanceOf(AlmaUnavailableError);
      expect(error.message).toMatch(/failed 3 time\(s\); last: HTTP 500/);
      expect((error as AlmaUnavailableError).kind).toBe('unavailable');
      expect(alma.calls).toHaveLength(3);
    });

    it.each([
      ['PER_SECOND_THRESHOLD', 'throttled'],
      ['DAILY_THRESHOLD', 'daily-limit'],
    ])("gives up as Alma's code says when 5xx replies name %s", async (errorCode, kind) => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));
      alma.failNext(2, 503, JSON.stringify({ errorsExist: true, errorList: { error: [{ errorCode, errorMessage: 'threshold' }] } }));

      // Act
      const error = await failure(almaApi({ maxAttempts: 2 }).listRecords('PAT0042X', 'loan'));

      // Assess
      expect(error).toBeInstanceOf(AlmaUnavailableError);
      expect((error as AlmaUnavailableError).kind).toBe(kind);
    });

    it('names a non-JSON gateway page as the reason when 502s never stop', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));
      alma.failNext(2, 502, '<html><body>Bad Gateway</body></html>');

      // Act
      const error = await failure(almaApi({ maxAttempts: 2 }).listRecords('PAT0042X', 'loan'));

      // Assess
      expect(error).toBeInstanceOf(AlmaUnavailableError);
      expect(error.message).toMatch(/HTTP 502: a body that is not JSON \(text\/html: <html><body>Bad Gateway/);
    });

    it('refuses a 200 reply that is not JSON without retrying it', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));
      alma.failNext(1, 200, '<html>Maintenance</html>');

      // Act
      const error = await failure(almaApi().listRecords('PAT0042X', 'loan'));

      // Assess
      expect(error).toBeInstanceOf(AlmaRequestError);
      expect(error.message).toMatch(/not JSON/);
      expect(alma.calls).toHaveLength(1);
    });

    it('retries a reply slower than timeoutMs and then succeeds', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 2 }));
      alma.delayMs = 500;
      const reasons: unknown[] = [];
      const onRetry = (info: AlmaRetryInfo) => {
        reasons.push(info.reason);
        alma.delayMs = 0;
      };

      // Act
      const loans = await almaApi({ timeoutMs: 60, onRetry }).listRecords('PAT0042X', 'loan');

      // Assess
      expect(loans).toHaveLength(2);
      expect(reasons).toEqual(['timeout']);
    });

    it('gives up with AlmaUnavailableError when Alma is always slower than timeoutMs', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));
      alma.delayMs = 400;
      const { infos, onRetry } = recordingRetries();
      const started = Date.now();

      // Act
      const error = await failure(almaApi({ timeoutMs: 40, maxAttempts: 3, onRetry }).getRecord('PAT0042X', 'loan', '1'));

      // Assess
      expect(error).toBeInstanceOf(AlmaUnavailableError);
      expect(error.message).toMatch(/no reply within 40 ms/);
      expect((error as AlmaUnavailableError).kind).toBe('unavailable');
      expect(infos.map((info) => info.reason)).toEqual(['timeout', 'timeout']);
      expect(alma.calls).toHaveLength(3);
      expect(Date.now() - started).toBeLessThan(1000);
    });

    it('retries network errors and reports them as such', async () => {
      // Prepare
      const gone = await startFakeAlmaServer();
      const baseUrl = gone.url;
      await gone.close();
      const { infos, onRetry } = recordingRetries();

      // Act
      const error = await failure(almaApi({ baseUrl, maxAttempts: 2, onRetry }).listRecords('PAT0042X', 'loan'));

      // Assess
      expect(error).toBeInstanceOf(AlmaUnavailableError);
      expect(error.message).toMatch(/network error \(ECONNREFUSED\)/);
      expect((error as AlmaUnavailableError).kind).toBe('unavailable');
      expect(infos.map((info) => info.reason)).toEqual(['network']);
    });
  });

  describe('not found', () => {
    it.each<ItemKind>(['loan', 'request', 'fee'])('rejects an unknown user with AlmaUserNotFoundError (%s)', async (kind) => {
      // Prepare
      const api = almaApi();

      // Act
      const [listed, got] = await Promise.all([failure(api.listRecords('NOBODY', kind)), failure(api.getRecord('NOBODY', kind, '1'))]);

      // Assess
      expect(listed).toBeInstanceOf(AlmaUserNotFoundError);
      expect(got).toBeInstanceOf(AlmaUserNotFoundError);
      expect((listed as AlmaUserNotFoundError).userPrimaryId).toBe('NOBODY');
      expect(alma.calls).toHaveLength(2);
    });

    it('rejects a patron Alma no longer has', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));
      alma.removePatron('PAT0042X');

      // Act / Assess
      await expect(almaApi().listRecords('PAT0042X', 'loan')).rejects.toBeInstanceOf(AlmaUserNotFoundError);
    });

    it("reads Alma's 404 on a list as a missing user, but not a bare 404 page from something in between", async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));
      const api = almaApi();

      // Act
      alma.failNext(1, 404);
      const fromAlma = await failure(api.listRecords('PAT0042X', 'loan'));
      alma.failNext(1, 404, '<html><body>Not Found</body></html>');
      const fromProxy = await failure(api.listRecords('PAT0042X', 'loan'));

      // Assess
      expect(fromAlma).toBeInstanceOf(AlmaUserNotFoundError);
      expect(fromProxy).toBeInstanceOf(AlmaRequestError);
      expect((fromProxy as AlmaRequestError).status).toBe(404);
    });

    it.each([
      ['loan', 'loan_id'],
      ['request', 'request_id'],
      ['fee', 'id'],
    ] as const)('gets one %s by id', async (kind, idField) => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 3, requests: 3, fees: 3 }));
      const recordId = fakeRecordId('PAT0042X', kind, 2);

      // Act
      const record = await almaApi().getRecord('PAT0042X', kind, recordId);

      // Assess
      expect(record?.[idField]).toBe(recordId);
      expect(alma.calls).toEqual([expect.objectContaining({ path: `/almaws/v1/users/PAT0042X/${kind}s/${recordId}`, query: { format: 'json' } })]);
    });

    it.each<ItemKind>(['loan', 'request', 'fee'])('answers undefined for a %s Alma does not have', async (kind) => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1, requests: 1, fees: 1 }));
      const api = almaApi();

      // Act
      const record = await api.getRecord('PAT0042X', kind, fakeRecordId('PAT0042X', kind, 7));

      // Assess
      expect(record).toBeUndefined();
      expect(api.stats.retries).toBe(0);
    });

    it('answers undefined for a loan that was returned since the last call', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));
      const api = almaApi();
      const loanId = fakeRecordId('PAT0042X', 'loan', 0);
      expect(await api.getRecord('PAT0042X', 'loan', loanId)).toBeDefined();

      // Act
      alma.patron('PAT0042X')!.loans.length = 0;

      // Assess
      expect(await api.getRecord('PAT0042X', 'loan', loanId)).toBeUndefined();
    });
  });

  describe('the API key', () => {
    it('rejects a wrong key with AlmaRequestError, without retrying and without the key in the message', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));
      const wrongKey = 'l8xx-WRONG-key-9999';

      // Act
      const error = await failure(almaApi({ apiKey: async () => wrongKey }).listRecords('PAT0042X', 'loan'));

      // Assess
      expect(error).toBeInstanceOf(AlmaRequestError);
      expect((error as AlmaRequestError).status).toBe(401);
      expect(error.message).toMatch(/UNAUTHORIZED API-key not defined/);
      expect(inspect(error)).not.toContain(wrongKey);
      expect(alma.calls).toHaveLength(1);
    });

    it('re-reads a key Alma refuses (401) once and sends again with the rotated one', async () => {
      // Prepare: the cached key is the one Alma just stopped accepting; a re-read returns the new one
      alma.seedPatron(generatePatron('PAT0042X', { loans: 2 }));
      let cached = 'l8xx-OLD-rotated-key-0001';
      const refreshApiKey = jest.fn(async () => {
        cached = API_KEY;
        return cached;
      });

      // Act
      const loans = await almaApi({ apiKey: async () => cached, refreshApiKey }).listRecords('PAT0042X', 'loan');

      // Assess
      expect(loans).toHaveLength(2);
      expect(refreshApiKey).toHaveBeenCalledTimes(1);
      expect(alma.calls).toHaveLength(2);
    });

    it('does not send again when the re-read key is the one Alma refused, and fails with the 401', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));
      const wrongKey = 'l8xx-WRONG-key-9999';
      const refreshApiKey = jest.fn(async () => wrongKey);

      // Act
      const error = await failure(almaApi({ apiKey: async () => wrongKey, refreshApiKey }).getRecord('PAT0042X', 'loan', '1'));

      // Assess
      expect(error).toBeInstanceOf(AlmaRequestError);
      expect((error as AlmaRequestError).status).toBe(401);
      expect(inspect(error)).not.toContain(wrongKey);
      expect(refreshApiKey).toHaveBeenCalledTimes(1);
      expect(alma.calls).toHaveLength(1);
    });

    it('re-reads at most once per request: a new key that is refused too ends in the 401', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));
      let cached = 'l8xx-WRONG-key-0001';
      const refreshApiKey = jest.fn(async () => {
        cached = `l8xx-WRONG-key-000${refreshApiKey.mock.calls.length + 1}`;
        return cached;
      });

      // Act
      const error = await failure(almaApi({ apiKey: async () => cached, refreshApiKey }).listRecords('PAT0042X', 'loan'));

      // Assess
      expect((error as AlmaRequestError).status).toBe(401);
      expect(refreshApiKey).toHaveBeenCalledTimes(1);
      expect(alma.calls).toHaveLength(2);
    });

    it('never puts the key in retry info or errors, even when a proxy page echoes it', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));
      const { infos, onRetry } = recordingRetries();
      const api = almaApi({ onRetry, maxAttempts: 2, timeoutMs: 50 });
      const errors: Error[] = [];

      // Act
      alma.throttleNext(1);
      await api.listRecords('PAT0042X', 'loan');
      alma.failNext(2, 502, `<html>upstream refused apikey=${API_KEY}</html>`);
      errors.push(await failure(api.listRecords('PAT0042X', 'loan')));
      alma.delayMs = 200;
      errors.push(await failure(api.getRecord('PAT0042X', 'loan', '1')));
      alma.delayMs = 0;
      errors.push(await failure(api.listRecords('NOBODY', 'loan')));
      alma.failNext(1, 400, `rejected key ${API_KEY}`);
      errors.push(await failure(api.getRecord('PAT0042X', 'fee', '1')));

      // Assess
      expect(infos.map((info) => info.reason)).toEqual([429, 502, 'timeout']);
      expect(errors[0].message).toContain('apikey=[redacted]');
      const everything = JSON.stringify(infos) + errors.map((error) => inspect(error) + JSON.stringify(error)).join('\n');
      expect(everything).not.toContain(API_KEY);
      expect(alma.calls.every((call) => !JSON.stringify(call).includes(API_KEY))).toBe(true);
    });

    it('reads the key before each attempt, leaving caching to the caller', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));
      alma.failNext(1);
      const apiKey = jest.fn(async () => API_KEY);

      // Act
      await almaApi({ apiKey }).listRecords('PAT0042X', 'loan');

      // Assess
      expect(apiKey).toHaveBeenCalledTimes(2);
    });
  });

  describe('tracing', () => {
    it('wraps every exchange, retries included, telling the tracer the route shape and never an id, and returns its reply unchanged', async () => {
      // Prepare: the patron and record ids are distinctive, so a leak is found by a plain substring search
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1, fees: 1 }));
      const traced: { exchange: AlmaExchange; result?: AlmaExchangeResult; error?: unknown }[] = [];
      const traceExchange: AlmaExchangeTracer = async (exchange, send) => {
        const entry: (typeof traced)[number] = { exchange };
        traced.push(entry);
        try {
          const result = await send();
          entry.result = result;
          return result;
        } catch (error) {
          entry.error = error;
          throw error;
        }
      };
      const api = almaApi({ traceExchange });
      alma.failNext(1, 503);

      // Act
      const loans = await api.listRecords('PAT0042X', 'loan');
      const fee = await api.getRecord('PAT0042X', 'fee', fakeRecordId('PAT0042X', 'fee', 0));

      // Assess
      expect(loans).toHaveLength(1);
      expect(fee?.['id']).toBe(fakeRecordId('PAT0042X', 'fee', 0));
      const host = new URL(alma.url).host;
      expect(traced.map(({ exchange, result }) => [exchange, result !== undefined && 'status' in result ? result.status : result])).toEqual([
        [{ method: 'GET', host, route: '/almaws/v1/users/{id}/loans', url: `http://${host}/almaws/v1/users/{id}/loans` }, 503],
        [{ method: 'GET', host, route: '/almaws/v1/users/{id}/loans', url: `http://${host}/almaws/v1/users/{id}/loans` }, 200],
        [{ method: 'GET', host, route: '/almaws/v1/users/{id}/fees/{recordId}', url: `http://${host}/almaws/v1/users/{id}/fees/{recordId}` }, 200],
      ]);
      expect(JSON.stringify(traced.map(({ exchange }) => exchange)).toLowerCase()).not.toMatch(/pat0042x|api_?key|l8xx/);
    });

    it('tells the tracer of each attempt that got no reply (network)', async () => {
      // Prepare: nothing listens on the base URL's port any more
      const url = alma.url;
      await alma.close();
      const results: AlmaExchangeResult[] = [];
      const api = new AlmaHttpApi({
        baseUrl: url,
        apiKey: async () => API_KEY,
        maxAttempts: 2,
        backoffBaseMs: 1,
        backoffMaxMs: 2,
        traceExchange: async (_exchange, send) => {
          const result = await send();
          results.push(result);
          return result;
        },
      });
      alma = await startFakeAlmaServer({ apiKey: API_KEY });

      // Act
      const error = await failure(api.listRecords('PAT0042X', 'request'));

      // Assess
      expect(error).toBeInstanceOf(AlmaUnavailableError);
      expect(results.map((result) => ('retry' in result ? result.retry : result.status))).toEqual(['network', 'network']);
    });
  });

  describe('the concurrency ceiling', () => {
    it('never has more than maxConcurrentRequests in flight, across lists and patrons', async () => {
      // Prepare
      for (const id of ['PAT1', 'PAT2', 'PAT3']) alma.seedPatron(generatePatron(id, { loans: 450, requests: 120, fees: 3 }));
      alma.delayMs = 15;
      const api = almaApi({ maxConcurrentRequests: 3 });

      // Act
      const lists = await Promise.all(
        ['PAT1', 'PAT2', 'PAT3'].flatMap((id) => (['loan', 'request', 'fee'] as const).map((kind) => api.listRecords(id, kind))),
      );

      // Assess
      expect(lists.map((list) => list.length)).toEqual([450, 120, 3, 450, 120, 3, 450, 120, 3]);
      expect(alma.calls).toHaveLength(3 * (5 + 2 + 1));
      expect(alma.maxInFlight).toBe(3);
    });

    it('defaults to 4 in flight, and fetches the pages after the first in parallel', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1000 }));
      alma.delayMs = 20;

      // Act
      const loans = await almaApi().listRecords('PAT0042X', 'loan');

      // Assess
      expect(loans).toHaveLength(1000);
      expect(alma.calls).toHaveLength(10);
      expect(alma.maxInFlight).toBe(4);
    });

    it('keeps the ceiling while retrying under throttling', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1000 }));
      alma.delayMs = 5;
      let keyReads = 0;
      // Throttle the parallel pages, not the first one: their retries then compete with the pages still queued.
      const apiKey = async () => {
        keyReads += 1;
        if (keyReads === 2) alma.throttleNext(6);
        return API_KEY;
      };
      const api = almaApi({ maxConcurrentRequests: 2, apiKey });

      // Act
      const loans = await api.listRecords('PAT0042X', 'loan');

      // Assess
      expect(loans).toHaveLength(1000);
      expect(api.stats).toEqual({ requestsSent: 16, retries: 6, throttled: 6 });
      expect(alma.maxInFlight).toBeLessThanOrEqual(2);
    });
  });

  describe('options', () => {
    const apiKey = async () => 'key';

    it.each([
      ['', /baseUrl is missing/],
      ['api-eu.hosted.exlibrisgroup.com', /is not a URL/],
      ['http://api-eu.hosted.exlibrisgroup.com', /must use https/],
      ['ftp://127.0.0.1', /must use https/],
      ['https://user:pw@api-eu.hosted.exlibrisgroup.com', /without credentials/],
      ['https://api-eu.hosted.exlibrisgroup.com?apikey=x', /without credentials, query/],
      ['https://api-eu.hosted.exlibrisgroup.com/almaws/v1', /stop before \/almaws/],
    ])('refuses baseUrl %j', (baseUrl, message) => {
      // Act / Assess
      expect(() => new AlmaHttpApi({ baseUrl, apiKey })).toThrow(message);
    });

    it('accepts https hosts and plain http on loopback, dropping a trailing slash', async () => {
      // Prepare
      alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));

      // Act
      const loans = await almaApi({ baseUrl: `${alma.url}/` }).listRecords('PAT0042X', 'loan');

      // Assess
      expect(loans).toHaveLength(1);
      expect(alma.calls[0].path).toBe('/almaws/v1/users/PAT0042X/loans');
      expect(() => new AlmaHttpApi({ baseUrl: 'https://api-eu.hosted.exlibrisgroup.com', apiKey })).not.toThrow();
    });

    it.each([
      [{ maxConcurrentRequests: 0 }, /maxConcurrentRequests must be a whole number of at least 1/],
      [{ maxAttempts: 0 }, /maxAttempts/],
      [{ timeoutMs: 2.5 }, /timeoutMs/],
      [{ backoffBaseMs: 500, backoffMaxMs: 100 }, /backoffMaxMs must be a whole number of at least 500/],
    ])('refuses %j', (options, message) => {
      // Act / Assess
      expect(() => new AlmaHttpApi({ baseUrl: 'https://api-eu.hosted.exlibrisgroup.com', apiKey, ...options })).toThrow(message);
    });

    it('refuses an empty user or record id before calling Alma', async () => {
      // Prepare
      const api = almaApi();

      // Act / Assess
      await expect(api.listRecords('', 'loan')).rejects.toThrow(/userPrimaryId must be a non-empty string/);
      await expect(api.getRecord('PAT0042X', 'loan', ' ')).rejects.toThrow(/recordId must be a non-empty string/);
      expect(alma.calls).toHaveLength(0);
    });
  });
});
