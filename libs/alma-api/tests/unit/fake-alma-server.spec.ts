import { fakeRecordId, generatePatron, startFakeAlmaServer, type FakeAlmaServer } from '../../src/testing';

describe('Function: startFakeAlmaServer', () => {
  let alma: FakeAlmaServer;

  beforeEach(async () => {
    alma = await startFakeAlmaServer({ apiKey: 'test-key' });
  });

  afterEach(async () => {
    await alma.close();
  });

  async function get(path: string, key = 'test-key'): Promise<{ status: number; body: any }> {
    const response = await fetch(`${alma.url}${path}`, { headers: { Authorization: `apikey ${key}`, Accept: 'application/json' } });
    return { status: response.status, body: await response.json() };
  }

  it('serves 10 records per page by default, like Alma', async () => {
    // Prepare
    alma.seedPatron(generatePatron('PAT0042X', { loans: 25 }));

    // Act
    const { status, body } = await get('/almaws/v1/users/PAT0042X/loans?format=json&offset=20');

    // Assess
    expect(status).toBe(200);
    expect(body.total_record_count).toBe(25);
    expect(body.item_loan.map((loan: any) => loan.loan_id)).toEqual([20, 21, 22, 23, 24].map((index) => fakeRecordId('PAT0042X', 'loan', index)));
  });

  it('leaves the array key out of an empty page, like Alma', async () => {
    // Prepare
    alma.seedPatron(generatePatron('PAT0042X', { loans: 2 }));

    // Act
    const [requests, pastTheEnd, fees] = await Promise.all([
      get('/almaws/v1/users/PAT0042X/requests?limit=100'),
      get('/almaws/v1/users/PAT0042X/loans?limit=100&offset=100'),
      get('/almaws/v1/users/PAT0042X/fees'),
    ]);

    // Assess
    expect(requests.body).toEqual({ total_record_count: 0 });
    expect(pastTheEnd.body).toEqual({ total_record_count: 2 });
    expect(fees.body).toEqual({ total_record_count: 0, total_sum: 0, currency: 'EUR' });
  });

  it('refuses a limit above 100', async () => {
    // Prepare
    alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));

    // Act
    const { status, body } = await get('/almaws/v1/users/PAT0042X/loans?limit=101');

    // Assess
    expect(status).toBe(400);
    expect(body.errorList.error[0].errorCode).toBe('401666');
  });

  it("answers an unknown user with Alma's 400 and errorCode 401861", async () => {
    // Act
    const { status, body } = await get('/almaws/v1/users/NOBODY/loans');

    // Assess
    expect(status).toBe(400);
    expect(body).toEqual({
      errorsExist: true,
      errorList: { error: [{ errorCode: '401861', errorMessage: 'User with identifier NOBODY was not found.', trackingId: expect.any(String) }] },
      result: null,
    });
  });

  it('matches primary ids in ASCII case only, as the stack assumes of Alma: no trimming, no Unicode folding', async () => {
    // Prepare
    alma.seedPatron(generatePatron('KPAT0042X', { loans: 1 }));
    alma.seedPatron(generatePatron('ÉMILE', { loans: 1 }));

    // Act
    const answers = await Promise.all(
      ['kpat0042x', 'KPAT0042X', '%E2%84%AAPAT0042X', 'KPAT0042X%C2%A0', '%EF%BC%ABPAT0042X', '%C3%89MILE', '%C3%A9MILE'].map(
        async (id) => (await get(`/almaws/v1/users/${id}/loans`)).status,
      ),
    );

    // Assess
    expect(answers).toEqual([200, 200, 400, 400, 400, 200, 400]);
    expect(alma.patron('\u212aPAT0042X')).toBeUndefined();
    expect(alma.patron('kpat0042x')?.primaryId).toBe('KPAT0042X');
  });

  it('refuses another key with an UNAUTHORIZED error, and never records a key', async () => {
    // Prepare
    alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));

    // Act
    const wrong = await get('/almaws/v1/users/PAT0042X/loans', 'other-key');
    const byQuery = await fetch(`${alma.url}/almaws/v1/users/PAT0042X/loans?format=json&apikey=test-key`);

    // Assess
    expect(wrong.status).toBe(401);
    expect(wrong.body.errorList.error[0].errorCode).toBe('UNAUTHORIZED');
    expect(byQuery.status).toBe(200);
    expect(alma.calls.map((call) => call.query)).toEqual([{}, { format: 'json' }]);
  });

  it('plays scripted throttling and failures in arrival order, then answers normally', async () => {
    // Prepare
    alma.seedPatron(generatePatron('PAT0042X', { loans: 1 }));
    alma.throttleNext(1, { retryAfterSeconds: 3 });
    alma.failNext(1, 502);

    // Act
    const throttled = await fetch(`${alma.url}/almaws/v1/users/PAT0042X/loans?format=json`, { headers: { Authorization: 'apikey test-key' } });
    const failed = await get('/almaws/v1/users/PAT0042X/loans');
    const ok = await get('/almaws/v1/users/PAT0042X/loans');

    // Assess
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('3');
    expect(((await throttled.json()) as any).errorList.error[0].errorCode).toBe('PER_SECOND_THRESHOLD');
    expect(failed.status).toBe(502);
    expect(ok.status).toBe(200);
    expect(alma.calls).toHaveLength(3);
  });

  it('generates the same realistic patron for the same id', () => {
    // Act
    const patron = generatePatron('PAT0042X', { loans: 2, requests: 2, fees: 2 });

    // Assess
    expect(generatePatron('PAT0042X', { loans: 2, requests: 2, fees: 2 })).toEqual(patron);
    expect(fakeRecordId('PAT0042X', 'loan', 0)).toMatch(/^73\d{13}4561$/);
    expect(fakeRecordId('PAT0042X', 'loan', 0)).not.toBe(fakeRecordId('PAT0043X', 'loan', 0));
    expect(patron.loans[1]).toMatchObject({
      loan_id: fakeRecordId('PAT0042X', 'loan', 1),
      user_id: 'PAT0042X',
      loan_status: 'ACTIVE',
      due_date: expect.stringMatching(/^\d{4}-\d\d-\d\dT23:59:00Z$/),
      title: expect.any(String),
      item_barcode: expect.any(String),
    });
    expect(patron.requests[0]).toMatchObject({
      request_id: fakeRecordId('PAT0042X', 'request', 0),
      user_primary_id: 'PAT0042X',
      request_type: 'HOLD',
      request_status: 'NOT_STARTED',
      place_in_queue: 1,
    });
    expect(patron.fees[0]).toMatchObject({
      id: fakeRecordId('PAT0042X', 'fee', 0),
      user_primary_id: { value: 'PAT0042X' },
      type: { value: 'OVERDUEFINE', desc: 'Overdue fine' },
      status: { value: 'ACTIVE' },
      balance: 0.5,
      original_amount: 0.5,
    });
  });
});
