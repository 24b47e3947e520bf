import { GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { request as httpRequest } from 'node:http';
import { isIdentifier, MAX_IDENTIFIER_LENGTH } from '@alma-cache/cache-domain';
import { type FakeAlmaServer, fakeRecordId, generatePatron } from '@alma-cache/alma-api/testing';
import { createDocumentClient } from '@alma-cache/aws-adapters';
import { type HttpApiServer, startHttpApiServer } from '@alma-cache/local-aws';
import { ACCESS_ENV, ENV } from '../../src/config';
import { mintLocalToken, verifyLocalToken } from '../../src/local-auth';
import { patronLogHash } from '../../src/query-audit';
import { createQueryApi, type QueryApi } from '../../src/query-api';
import { loadOpenApi } from '../support/openapi';
import { documentedRequest, type HttpAnswer, patronId, type QueryStack, startQueryStack } from '../support/query-stack';

interface Answer {
  status: number;
  body: any;
}

const openapi = loadOpenApi();
const READER = mintLocalToken('reader');
const ADMIN = mintLocalToken('admin');
const PEPPER = `pepper-${randomUUID()}`;

/** The only Alma paths the query API may ever ask for: a patron's list, or one record of it, each id a valid one. */
const ALMA_ROUTE = /^\/almaws\/v1\/users\/([^/]+)\/(?:loans|requests|fees)(?:\/([^/]+))?$/;
const isListOrRecordCall = (path: string): boolean => {
  const match = ALMA_ROUTE.exec(path);
  return match !== null && [match[1], match[2]].every((segment) => segment === undefined || isIdentifier(decodeURIComponent(segment)));
};

/**
 * The probes, exactly as they go on the wire (sent with node:http, which leaves the path alone: fetch and curl would
 * resolve `.` and `..` before sending). The local server, like API Gateway, decodes each path parameter once.
 */
const PROBES: readonly [label: string, wire: string][] = [
  ['.', '.'],
  ['..', '..'],
  ['%2E%2E', '%2E%2E'],
  ['%2e', '%2e'],
  ['a%2Fb', 'a%2Fb'],
  ['a%5Cb', 'a%5Cb'],
  ['..%2F..', '..%2F..'],
  ['256 characters', 'x'.repeat(MAX_IDENTIFIER_LENGTH + 1)],
  ['a control character (%07)', 'PAT%070042X'],
];

/** Every route, with the probe in each id position it has. */
const ROUTES_WITH = (probe: string, patron: string, token: { reader: string; admin: string }) => [
  { method: 'GET', path: `/users/${probe}`, token: token.reader },
  ...['loans', 'requests', 'fees'].flatMap((plural) => [
    { method: 'GET', path: `/users/${probe}/${plural}`, token: token.reader },
    { method: 'GET', path: `/users/${probe}/${plural}/1`, token: token.reader },
    { method: 'GET', path: `/users/${patron}/${plural}/${probe}`, token: token.reader },
  ]),
  { method: 'POST', path: `/users/${probe}/refresh`, token: token.admin },
];

// Security of the read path through the real route table on the local HTTP API server, against DynamoDB Local, SQS
// and SSM in the emulators and the fake Alma server: identifiers refused at every route before Alma is asked, the
// roles (reader, admin, patron) and their denials, the client allow-list, and one log line per query that says who
// read whom without the id in clear.
describe('HTTP: query-api security', () => {
  jest.setTimeout(60_000);
  let stack: QueryStack;
  let alma: FakeAlmaServer;
  let env: Record<string, string>;
  let api: QueryApi;
  let server: HttpApiServer;
  let captureMetrics: QueryStack['captureMetrics'];
  let cachePatron: QueryStack['cachePatron'];
  let drainQueue: QueryStack['drainQueue'];

  /** One request with the path exactly as given. */
  const raw = (method: string, path: string, token: string | null, base = server.url): Promise<Answer> =>
    new Promise((resolve, reject) => {
      noteIdsOf(path);
      const url = new URL(base);
      const outgoing = httpRequest(
        { host: url.hostname, port: url.port, method, path, headers: token === null ? {} : { authorization: `Bearer ${token}` } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: response.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) });
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end();
    });
  /** Through fetch, checked against openapi.yaml (the route is known there). */
  const call = (method: string, path: string, token: string | null, base = server.url): Promise<HttpAnswer> => {
    noteIdsOf(path);
    return documentedRequest(openapi, base, method, path, token);
  };
  /** What the function logged, every level, as one JSON text per call. */
  const logLines = (target: QueryApi) => {
    const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
    for (const level of ['info', 'warn', 'error'] as const) {
      jest.spyOn(target.logger, level).mockImplementation(((message: string, fields: Record<string, unknown>) => {
        lines.push({ level, message, fields });
        written.push(JSON.stringify({ level, message, fields }, withErrors));
      }) as never);
    }
    return lines;
  };

  // The whole suite runs with every log line and every trace document captured, and ends by searching them for the
  // ids it used (the last describe). Logs: everything written to stdout and stderr (Powertools' JSON lines at DEBUG,
  // from every query API the suite builds), plus the lines the log-line tests intercept. Traces: X-Ray active as in a
  // traced Lambda (a sampled trace id, the Lambda facade segment), its documents sent to a daemon address on
  // 127.0.0.1 that this suite listens on: every subsegment the function closes, AWS calls and Alma calls alike.
  const written: string[] = [];
  const traceDocuments: string[] = [];
  const idsUsed = new Set<string>();
  const withErrors = (_key: string, value: unknown) =>
    value instanceof Error ? { name: value.name, message: value.message, stack: value.stack, cause: value.cause } : value;
  /** The patron and record ids in a request path (as decoded once, as API Gateway does), when they are identifiers. */
  const noteIdsOf = (path: string) => {
    const [patron, , record] = path.split('?')[0].split('/').slice(2);
    for (const segment of [patron, record]) {
      let id: string;
      try {
        id = decodeURIComponent(segment ?? '');
      } catch {
        continue;
      }
      // Ids under 4 characters ("1") cannot be searched for in a text; the suite's patron and record ids are longer.
      if (isIdentifier(id) && id.length >= 4) idsUsed.add(id);
    }
  };
  const daemon = createSocket('udp4');
  daemon.on('message', (message) => traceDocuments.push(message.toString('utf8')));
  const [stdoutWrite, stderrWrite] = [process.stdout.write, process.stderr.write];
  const capture = (chunk: unknown) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };

  beforeAll(async () => {
    await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
    Object.assign(process.env, {
      POWERTOOLS_TRACE_ENABLED: 'true',
      // What Powertools and the X-Ray SDK take for a Lambda invocation traced by X-Ray.
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      LAMBDA_TASK_ROOT: process.cwd(),
      _X_AMZN_TRACE_ID: `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)};Parent=53995c3f42cd8ad8;Sampled=1`,
      AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
      AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
    });
    process.stdout.write = capture as typeof process.stdout.write;
    process.stderr.write = capture as typeof process.stderr.write;
    stack = await startQueryStack({ pepper: PEPPER });
    ({ alma, env, api, server, captureMetrics, cachePatron, drainQueue } = stack);
    // Every log line, at every level, of this API and of those the tests build from the environment.
    process.env['POWERTOOLS_LOG_LEVEL'] = 'DEBUG';
    api.logger.setLogLevel('DEBUG');
    const seed = alma.seedPatron.bind(alma);
    alma.seedPatron = (patron) => {
      idsUsed.add(patron.primaryId);
      for (const [kind, records] of [
        ['loan', patron.loans],
        ['request', patron.requests],
        ['fee', patron.fees],
      ] as const)
        records.forEach((_, index) => idsUsed.add(fakeRecordId(patron.primaryId, kind, index)));
      return seed(patron);
    };
  });

  beforeEach(async () => {
    await drainQueue();
    alma.resetCalls();
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
    daemon.close();
    await stack?.close();
  });

  describe('identifiers', () => {
    it.each(PROBES)(
      'refuses the id %s on every route and in every id position with 400, asking Alma nothing and queueing nothing',
      async (_label, probe) => {
        // Prepare: a cached patron, so a record probe under a good patron id would otherwise be answered
        const patron = patronId('probe');
        await cachePatron(patron, { loans: 1, requests: 1, fees: 1 });

        // Act
        const answers = [];
        for (const route of ROUTES_WITH(probe, patron, { reader: READER, admin: ADMIN })) {
          answers.push({ route: `${route.method} ${route.path.slice(0, 60)}`, status: (await raw(route.method, route.path, route.token)).status });
        }

        // Assess
        expect(answers).toEqual(answers.map((answer) => ({ ...answer, status: 400 })));
        expect(alma.calls).toEqual([]);
        expect(await drainQueue()).toEqual([]);
      },
    );

    it('names the rule in the 400, never the id', async () => {
      // Act
      const [dots, separator, control] = await Promise.all([
        raw('GET', '/users/PAT0042X/loans/%2E%2E', READER),
        raw('GET', '/users/a%2Fb', READER),
        raw('GET', '/users/PAT%070042X/fees', READER),
      ]);

      // Assess
      expect(dots.body.message).toBe('Invalid request: the loan id is a dot segment ("." or "..")');
      expect(separator.body.message).toBe('Invalid request: the patron id holds a path separator ("/" or "\\")');
      expect(control.body.message).toBe('Invalid request: the patron id holds control characters');
      expect(alma.calls).toEqual([]);
    });

    it('asks Alma only for list and record routes with valid ids when a client resolves dot segments itself (fetch, curl)', async () => {
      // Prepare: what a WHATWG client sends for these: `/users/P/` (no route: 404), `/users/loans` (the patron "loans")
      const patron = patronId('normalised');

      // Act
      const statuses = [
        (await fetch(`${server.url}/users/${patron}/loans/..`, { headers: { authorization: `Bearer ${READER}` } })).status,
        (await fetch(`${server.url}/users/./loans`, { headers: { authorization: `Bearer ${READER}` } })).status,
        (await fetch(`${server.url}/users/${patron}/loans/%2e%2e`, { headers: { authorization: `Bearer ${READER}` } })).status,
      ];

      // Assess
      expect(statuses).toEqual([404, 404, 404]);
      expect(alma.calls.every((call) => isListOrRecordCall(call.path))).toBe(true);
      // The patron "loans" is unknown to Alma: the rebuild's first call (the loans, alone) says so, and nothing more is asked.
      expect(alma.calls.map((call) => call.path)).toEqual(['/almaws/v1/users/loans/loans']);
    });

    it('answers an Alma 400 it cannot explain and an Alma 403, met while rebuilding a patron for one record, with 502 and a correlation id, never 500', async () => {
      // Prepare: two patrons, as a failed rebuild keeps its claim for the refresh window (no second try on Alma)
      const [first, second] = [patronId('alma400'), patronId('alma403')];
      for (const patron of [first, second]) alma.seedPatron(generatePatron(patron, { loans: 1 }));

      // Act
      alma.failNext(1, 400);
      const unexplained = await call('GET', `/users/${first}/loans/${fakeRecordId(first, 'loan', 0)}`, READER);
      alma.failNext(1, 403);
      const refused = await call('GET', `/users/${second}/loans/${fakeRecordId(second, 'loan', 0)}`, READER);

      // Assess
      expect(unexplained.status).toBe(502);
      expect(unexplained.body.correlationId).toEqual(expect.any(String));
      expect(refused.status).toBe(502);
      expect(refused.body).toEqual({
        message: "Alma refused this service's request; quote the correlation id when reporting it",
        correlationId: expect.any(String),
      });
      expect(refused.headers.get('x-correlation-id')).toBe(refused.body.correlationId);
      expect(alma.calls.every((c) => isListOrRecordCall(c.path))).toBe(true);
    });
  });

  describe('look-alike ids (one canonical identity per patron)', () => {
    /**
     * Each look-alike of an id as it goes on the wire, with the id it looks like. Before the canonical rule, the
     * first eight (whitespace trimmed, U+212A lower-cased to `k`) reached the real patron's cache key while Alma was
     * asked about the odd id, answered "not found", and the real patron was forgotten.
     */
    const LOOKALIKES: readonly [label: string, lookalike: (id: string) => string][] = [
      ['U+00A0 at the end', (id) => `${id}%C2%A0`],
      ['U+00A0 at the start', (id) => `%C2%A0${id}`],
      ['U+2003 at the end', (id) => `${id}%E2%80%83`],
      ['U+2003 at the start', (id) => `%E2%80%83${id}`],
      ['U+3000 at the end', (id) => `${id}%E3%80%80`],
      ['U+3000 at the start', (id) => `%E3%80%80${id}`],
      ['U+FEFF at the end', (id) => `${id}%EF%BB%BF`],
      ['U+FEFF at the start', (id) => `%EF%BB%BF${id}`],
      ['U+212A KELVIN SIGN for K', (id) => id.replace(/K/i, '%E2%84%AA')],
      [
        'a fullwidth first character (U+FF21 and on)',
        (id) => `${encodeURIComponent(String.fromCodePoint(id.codePointAt(0)! - 0x20 + 0xff00))}${id.slice(1)}`,
      ],
      ['U+FFFE at the end', (id) => `${id}%EF%BF%BE`],
      ['U+FFFF at the end', (id) => `${id}%EF%BF%BF`],
    ];

    const scanAll = async (): Promise<Record<string, unknown[]>> => {
      const names = { ...stack.tables, almaGuard: env[ENV.almaGuardTable] };
      const scanned: Record<string, unknown[]> = {};
      for (const [role, table] of Object.entries(names)) {
        const { Items = [] } = await documents.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
        scanned[role] = Items.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
      }
      return scanned;
    };
    const userRow = async (id: string) =>
      (await documents.send(new GetCommand({ TableName: stack.tables.users, Key: { primary_id: id.toLowerCase() }, ConsistentRead: true }))).Item;
    const claimRow = async (id: string) =>
      (await documents.send(new GetCommand({ TableName: stack.tables.refreshClaims, Key: { primary_id: id.toLowerCase() }, ConsistentRead: true })))
        .Item;

    /** Every route, each id position holding the look-alike of a real id: the patron's, or the patron's record's. */
    const probesFor = (patron: string, lookalike: (id: string) => string) => [
      { method: 'GET', path: `/users/${lookalike(patron)}`, token: READER },
      ...(['loan', 'request', 'fee'] as const).flatMap((kind) => {
        const record = fakeRecordId(patron, kind, 0);
        return [
          { method: 'GET', path: `/users/${lookalike(patron)}/${kind}s`, token: READER },
          { method: 'GET', path: `/users/${lookalike(patron)}/${kind}s/${record}`, token: READER },
          // Record ids are digits: a form that stands for a letter (U+212A) has no look-alike of them.
          ...(lookalike(record) === record ? [] : [{ method: 'GET', path: `/users/${patron}/${kind}s/${lookalike(record)}`, token: READER }]),
        ];
      }),
      { method: 'POST', path: `/users/${lookalike(patron)}/refresh`, token: ADMIN },
    ];

    let documents: ReturnType<typeof createDocumentClient>;
    beforeAll(() => {
      documents = createDocumentClient();
    });
    afterAll(() => documents?.destroy());

    it.each(LOOKALIKES)(
      'refuses a look-alike id (%s) in every id position of every route with 400, asks Alma nothing, and leaves the real patrons exactly as they were',
      async (_label, lookalike) => {
        // Prepare: a cached patron, and a patron whose row has expired with no claim on it (the next reader rebuilds
        // it); both ids hold a K so that U+212A has one to stand for
        const [cached, expired] = [patronId('kcached'), patronId('kexpired')];
        await cachePatron(cached, { loans: 1, requests: 1, fees: 1 });
        await cachePatron(expired, { loans: 1, requests: 1, fees: 1 });
        await documents.send(
          new UpdateCommand({
            TableName: stack.tables.users,
            Key: { primary_id: expired.toLowerCase() },
            UpdateExpression: 'SET expires_at = :past',
            ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 60 },
          }),
        );
        const before = await scanAll();
        const [cachedRow, expiredRow] = [await userRow(cached), await userRow(expired)];
        const probes = [...probesFor(cached, lookalike), ...probesFor(expired, lookalike)];

        // Act
        const answers = [];
        for (const probe of probes) {
          const answer = await raw(probe.method, probe.path, probe.token);
          answers.push({ route: `${probe.method} ${probe.path}`, status: answer.status, message: answer.body?.message });
        }

        // Assess
        expect(answers).toEqual(
          answers.map((answer) => ({
            ...answer,
            status: 400,
            message: expect.stringMatching(/^Invalid request: the (patron|loan|request|fee) id /),
          })),
        );
        expect(alma.calls).toEqual([]);
        expect(await drainQueue()).toEqual([]);
        expect(await scanAll()).toEqual(before);
        expect(await userRow(cached)).toEqual(cachedRow);
        expect(cachedRow).toMatchObject({ refreshed_at: expect.anything() });
        expect(await userRow(expired)).toEqual(expiredRow);
        expect(await claimRow(expired)).toBeUndefined();
        // And the real patrons still answer: the expired one is rebuilt from Alma, the cached one from the cache.
        expect((await raw('GET', `/users/${cached}/loans`, READER)).status).toBe(200);
        expect((await raw('GET', `/users/${expired}/loans`, READER)).status).toBe(200);
      },
    );

    it('refuses a patron token whose patron is the real one, asking for a look-alike (403), and one whose claim is a look-alike (403), asking Alma nothing', async () => {
      // Prepare
      const real = patronId('kself');
      await cachePatron(real, { loans: 1 });
      const before = await scanAll();
      const own = mintLocalToken('patron', { subject: real });
      const oddClaims = [`${real}\u00a0`, `\ufeff${real}`, real.replace(/K/i, '\u212a'), `${real}\uffff`].map((subject) =>
        mintLocalToken('patron', { subject }),
      );

      // Act
      const lookingAlike = await Promise.all(LOOKALIKES.map(([, lookalike]) => raw('GET', `/users/${lookalike(real)}/loans`, own)));
      const withOddClaims = await Promise.all(oddClaims.map((token) => raw('GET', `/users/${real}/loans`, token)));

      // Assess
      expect([...lookingAlike, ...withOddClaims].map((answer) => answer.status)).toEqual([...LOOKALIKES.map(() => 403), ...oddClaims.map(() => 403)]);
      expect(alma.calls).toEqual([]);
      expect(await scanAll()).toEqual(before);
    });
  });

  describe('roles', () => {
    it('lets a reader read any patron and refuses it the refresh (403)', async () => {
      // Prepare
      const [one, two] = [patronId('r1'), patronId('r2')];
      await cachePatron(one, { loans: 1 });
      await cachePatron(two, { fees: 1 });

      // Act
      const answers = await Promise.all([
        call('GET', `/users/${one}/loans`, READER),
        call('GET', `/users/${two}`, READER),
        call('POST', `/users/${one}/refresh`, READER),
      ]);

      // Assess
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 403]);
      expect(await drainQueue()).toEqual([]);
    });

    it('lets an admin read any patron and queue a refresh', async () => {
      // Prepare
      const one = patronId('a1');
      await cachePatron(one, { requests: 1 });

      // Act
      const answers = await Promise.all([call('GET', `/users/${one}/requests`, ADMIN), call('POST', `/users/${one}/refresh`, ADMIN)]);

      // Assess
      expect(answers.map((answer) => answer.status)).toEqual([200, 202]);
      expect(await drainQueue()).toEqual([one]);
    });

    it("lets a patron read their own data on every read route, in any case, and nobody else's (403, before any lookup)", async () => {
      // Prepare
      const [self, other] = [patronId('self'), patronId('other')];
      await cachePatron(self, { loans: 1, requests: 1, fees: 1 });
      await cachePatron(other, { loans: 1 });
      const token = mintLocalToken('patron', { subject: self });
      const own = [
        `/users/${self}`,
        `/users/${self.toLowerCase()}/loans`,
        `/users/${self}/requests`,
        `/users/${self}/fees`,
        `/users/${self}/loans/${fakeRecordId(self, 'loan', 0)}`,
        `/users/${self}/requests/${fakeRecordId(self, 'request', 0)}`,
        `/users/${self}/fees/${fakeRecordId(self, 'fee', 0)}`,
      ];

      // Act
      const mine = await Promise.all(own.map((path) => call('GET', path, token)));
      const theirs = await Promise.all([
        call('GET', `/users/${other}`, token),
        call('GET', `/users/${other}/loans/${fakeRecordId(other, 'loan', 0)}`, token),
        call('GET', `/users/NOBODY-${randomUUID().slice(0, 6)}`, token),
      ]);
      const underMine = await call('GET', `/users/${self}/loans/${fakeRecordId(other, 'loan', 0)}`, token);

      // Assess
      expect(mine.map((answer) => answer.status)).toEqual(own.map(() => 200));
      expect(theirs.map((answer) => answer.status)).toEqual([403, 403, 403]);
      expect(theirs[0].body.message).toBe("A patron token reads only its own patron's data");
      expect(underMine.status).toBe(404);
      expect(alma.calls).toEqual([]);
    });

    it('never lets a patron queue a refresh, not even their own (403)', async () => {
      // Prepare
      const self = patronId('selfrefresh');
      const token = mintLocalToken('patron', { subject: self });

      // Act
      const answer = await call('POST', `/users/${self}/refresh`, token);

      // Assess
      expect(answer.status).toBe(403);
      expect(answer.body.message).toBe('This token does not allow POST /users/{id}/refresh: it needs one of the scopes alma-cache/admin');
      expect(await drainQueue()).toEqual([]);
    });

    it('reads the patron id from the configured claim (QUERY_PATRON_ID_CLAIM) and no longer from sub', async () => {
      // Prepare
      const self = patronId('claim');
      await cachePatron(self, { fees: 1 });
      const claimed = createQueryApi({ ...env, [ACCESS_ENV.patronIdClaim]: 'primary_id' }, { configure: captureMetrics });
      const claimedServer = await startHttpApiServer({ routes: claimed.routes, authorize: verifyLocalToken });
      const token = mintLocalToken('patron', { subject: 'cognito-user-uuid', claims: { primary_id: self } });

      // Act
      const [own, bySub] = await Promise.all([
        call('GET', `/users/${self}/fees`, token, claimedServer.url),
        call('GET', '/users/cognito-user-uuid', token, claimedServer.url),
      ]);

      // Assess
      expect([own.status, bySub.status]).toEqual([200, 403]);
      await claimedServer.close();
    });
  });

  describe('client allow-list', () => {
    it('refuses a token from a client the stage does not list (403, logged), whatever its role, and serves the listed ones', async () => {
      // Prepare
      const self = patronId('allow');
      await cachePatron(self, { loans: 1 });
      const narrowed = createQueryApi({ ...env, [ACCESS_ENV.allowedClientIds]: 'library-app, patron-app' }, { configure: captureMetrics });
      const narrowedServer = await startHttpApiServer({ routes: narrowed.routes, authorize: verifyLocalToken });
      const lines = logLines(narrowed);

      // Act
      const answers = await Promise.all([
        call('GET', `/users/${self}/loans`, mintLocalToken('reader', { clientId: 'library-app' }), narrowedServer.url),
        call('GET', `/users/${self}/loans`, mintLocalToken('patron', { subject: self, clientId: 'patron-app' }), narrowedServer.url),
        call('GET', `/users/${self}/loans`, mintLocalToken('admin', { clientId: 'intruder' }), narrowedServer.url),
        call('POST', `/users/${self}/refresh`, mintLocalToken('admin', { clientId: 'intruder' }), narrowedServer.url),
      ]);

      // Assess
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 403, 403]);
      expect(answers[2].body.message).toBe('This token was issued to a client this API does not serve');
      const refused = lines.filter((line) => line.message === 'Query refused');
      expect(refused.map((line) => [line.fields['clientId'], line.fields['denial'], line.fields['status']])).toEqual([
        ['intruder', 'client-not-allowed', 403],
        ['intruder', 'client-not-allowed', 403],
      ]);
      expect(await drainQueue()).toEqual([]);
      await narrowedServer.close();
    });
  });

  describe('the log line', () => {
    it('writes exactly one line per query with caller, client, route, hashed patron and outcome, and never the id in clear', async () => {
      // Prepare
      const [cached, uncached, other] = [patronId('log-hit'), patronId('log-miss'), patronId('log-other')];
      await cachePatron(cached, { loans: 1 });
      alma.seedPatron(generatePatron(uncached, { fees: 1 }));
      const lines = logLines(api);
      const patronToken = mintLocalToken('patron', { subject: cached, clientId: 'patron-app' });

      // Act
      const statuses = [
        (await call('GET', `/users/${cached}/loans`, mintLocalToken('reader', { subject: 'svc-discovery' }))).status,
        (await call('GET', `/users/${uncached}/fees`, READER)).status,
        (await call('GET', `/users/${other}/loans/1`, patronToken)).status,
        (await call('GET', `/users/NOBODY-${uncached}`, READER)).status,
        (await call('POST', `/users/${cached}/refresh`, ADMIN)).status,
        (await raw('GET', `/users/${cached}/loans/%2E%2E`, READER)).status,
      ];

      // Assess
      expect(statuses).toEqual([200, 200, 403, 404, 202, 400]);
      const perQuery = lines.filter((line) => line.message.startsWith('Query '));
      expect(perQuery).toHaveLength(statuses.length);
      expect(perQuery.map((line) => ({ ...line.fields, ms: undefined, correlationId: undefined, awsRequestId: undefined }))).toEqual([
        expect.objectContaining({
          caller: 'svc-discovery',
          clientId: 'alma-cache-local-client',
          route: 'listPatronLoans',
          patron: patronLogHash(PEPPER, cached),
          outcome: 'hit',
          status: 200,
        }),
        expect.objectContaining({
          caller: 'local-reader',
          route: 'listPatronFees',
          patron: patronLogHash(PEPPER, uncached),
          outcome: 'miss',
          status: 200,
        }),
        expect.objectContaining({
          caller: patronLogHash(PEPPER, cached),
          clientId: 'patron-app',
          route: 'getPatronLoan',
          patron: patronLogHash(PEPPER, other),
          outcome: 'forbidden',
          status: 403,
          denial: 'not-this-patron',
        }),
        expect.objectContaining({
          caller: 'local-reader',
          route: 'getPatron',
          patron: patronLogHash(PEPPER, `NOBODY-${uncached}`),
          outcome: 'not-found',
          status: 404,
        }),
        expect.objectContaining({
          caller: 'local-admin',
          route: 'queuePatronRefresh',
          patron: patronLogHash(PEPPER, cached),
          outcome: 'queued',
          status: 202,
        }),
        expect.objectContaining({
          caller: 'local-reader',
          route: 'getPatronLoan',
          patron: patronLogHash(PEPPER, cached),
          outcome: 'bad-request',
          status: 400,
        }),
      ]);
      // The patron token's subject is a patron id too: it appears only hashed, like every other id.
      const text = JSON.stringify(lines);
      for (const id of [cached, uncached, other]) expect(text.toLowerCase()).not.toContain(id.toLowerCase());
      await drainQueue();
    });

    it('keeps the ids out of an error line too, while the 404 body may echo them to the caller', async () => {
      // Prepare
      const patron = patronId('log-err');
      alma.seedPatron(generatePatron(patron, { loans: 1 }));
      const lines = logLines(api);
      alma.failNext(1, 403);

      // Act
      const refused = await call('GET', `/users/${patron}/loans`, READER);
      const missing = await call('GET', `/users/NOBODY-${patron}/fees`, READER);

      // Assess
      expect([refused.status, missing.status]).toEqual([502, 404]);
      expect(missing.body.message).toBe(`No patron "NOBODY-${patron}"`);
      expect(lines.map((line) => line.message)).toEqual(['Query failed', 'Query not answered']);
      expect(
        JSON.stringify(lines, (_key, value) =>
          value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value,
        ).toLowerCase(),
      ).not.toContain(patron.toLowerCase());
    });
  });
  describe('what the suite left in the logs and the traces', () => {
    it('holds none of the patron and record ids the suite used, in any case, as given or URL-encoded', async () => {
      // Prepare: the last trace documents are still on their way over UDP
      await new Promise((resolve) => setTimeout(resolve, 300));
      const text = [...written, ...traceDocuments].join('\n').toLowerCase();

      // Act
      const found = [...idsUsed].flatMap((id) => [id, encodeURIComponent(id)]).filter((id) => text.includes(id.toLowerCase()));

      // Assess: the capture saw the suite (the query lines, Powertools' own output, AWS and Alma subsegments), and no id in it
      expect(idsUsed.size).toBeGreaterThan(50);
      expect(written.filter((line) => line.includes('"message":"Query ')).length).toBeGreaterThan(100);
      expect(written.filter((line) => line.includes('"service":"alma-cache-query"')).length).toBeGreaterThan(100);
      expect(traceDocuments.some((document) => document.includes('"namespace":"aws"'))).toBe(true);
      expect(traceDocuments.filter((document) => document.includes('/almaws/v1/users/{id}/')).length).toBeGreaterThan(5);
      expect(found).toEqual([]);
    });
  });
});
