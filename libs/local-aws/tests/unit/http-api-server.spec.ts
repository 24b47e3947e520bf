import { request as httpRequest } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyEventV2WithJWTAuthorizer, Context } from 'aws-lambda';
import { type HttpApiRoute, HttpApiRouteError, type HttpApiServer, startHttpApiServer } from '../../src';

type Seen = { event: APIGatewayProxyEventV2; context: Context };

/** A route that records the event it was called with and answers it back. */
const recording = (method: string, path: string, seen: Seen[], extra: Partial<HttpApiRoute> = {}): HttpApiRoute => ({
  method,
  path,
  handler: async (event, context) => {
    seen.push({ event, context });
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ routeKey: event.routeKey }) };
  },
  ...extra,
});

/** A raw request, for what fetch cannot send: repeated headers in a chosen case. */
const rawRequest = (url: string, path: string, headers: [string, string][]): Promise<number> =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const rawHeaders = [['Host', `${hostname}:${port}`], ...headers].flat();
    const req = httpRequest({ hostname, port, path, method: 'GET', headers: rawHeaders as unknown as Record<string, string> }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });

describe('Function: startHttpApiServer', () => {
  let server: HttpApiServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('hands the handler a payload 2.0 event built from the request', async () => {
    // Prepare
    const seen: Seen[] = [];
    server = await startHttpApiServer({ routes: [recording('GET', '/users/{id}/loans/{loanId}', seen)] });

    // Act
    const status = await rawRequest(server.url, '/users/PAT%200042X/loans/7391?b=2&a=1&a=3&empty=&q=a%20b', [
      ['X-Custom', 'one'],
      ['x-custom', 'two'],
      ['Cookie', 'session=abc; theme=dark'],
      ['User-Agent', 'spec/1.0'],
    ]);

    // Assess
    expect(status).toBe(200);
    const [{ event, context }] = seen;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /users/{id}/loans/{loanId}',
      rawPath: '/users/PAT%200042X/loans/7391',
      rawQueryString: 'b=2&a=1&a=3&empty=&q=a%20b',
      cookies: ['session=abc', 'theme=dark'],
      queryStringParameters: { a: '1,3', b: '2', empty: '', q: 'a b' },
      pathParameters: { id: 'PAT 0042X', loanId: '7391' },
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        http: { method: 'GET', path: '/users/PAT%200042X/loans/7391', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'spec/1.0' },
        routeKey: 'GET /users/{id}/loans/{loanId}',
        stage: '$default',
      },
    });
    expect(event.headers).toMatchObject({
      'x-custom': 'one,two',
      'user-agent': 'spec/1.0',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
    });
    expect(event.headers['cookie']).toBeUndefined();
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(event.body).toBeUndefined();
    expect(event.requestContext.requestId).toMatch(/^[A-Za-z0-9_-]{15}=$/);
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });

  it('leaves out the query, path parameters and cookies when the request has none', async () => {
    // Prepare
    const seen: Seen[] = [];
    server = await startHttpApiServer({ routes: [recording('GET', '/', seen)] });

    // Act
    await fetch(`${server.url}/`);

    // Assess
    const [{ event }] = seen;
    expect(event.rawPath).toBe('/');
    expect(event.rawQueryString).toBe('');
    expect(event).not.toHaveProperty('queryStringParameters');
    expect(event).not.toHaveProperty('pathParameters');
    expect(event).not.toHaveProperty('cookies');
  });

  it.each([
    ['application/json', 'application/json', false],
    ['application/json with a charset', 'application/json; charset=UTF-8', false],
    ['text/plain', 'text/plain', false],
    ['application/xml', 'application/xml', false],
    ['application/octet-stream', 'application/octet-stream', true],
    ['a form', 'application/x-www-form-urlencoded', true],
    ['no content type', undefined, true],
  ])('passes a body sent as %s as text, or base64 where API Gateway does (base64: %s)', async (_label, contentType, base64) => {
    // Prepare
    const seen: Seen[] = [];
    server = await startHttpApiServer({ routes: [recording('POST', '/', seen)] });
    const bytes = Buffer.from('{"ü":"\u00e9"}', 'utf8');

    // Act
    await fetch(`${server.url}/`, {
      method: 'POST',
      body: bytes,
      headers: contentType ? { 'content-type': contentType } : {},
    });

    // Assess
    const [{ event }] = seen;
    expect(event.isBase64Encoded).toBe(base64);
    expect(Buffer.from(event.body ?? '', base64 ? 'base64' : 'utf8').equals(bytes)).toBe(true);
  });

  it('answers a structured result with its status, headers, cookies and (base64) body', async () => {
    // Prepare
    server = await startHttpApiServer({
      routes: [
        {
          method: 'GET',
          path: '/file',
          handler: async () => ({
            statusCode: 201,
            headers: { 'Content-Type': 'application/octet-stream', 'X-Count': 3 },
            cookies: ['a=1; Path=/', 'b=2'],
            isBase64Encoded: true,
            body: Buffer.from([0, 1, 2, 255]).toString('base64'),
          }),
        },
      ],
    });

    // Act
    const response = await fetch(`${server.url}/file`);

    // Assess
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(response.headers.get('x-count')).toBe('3');
    expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2']);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it('answers a result without statusCode as a 200 JSON body, as payload 2.0 infers it', async () => {
    // Prepare
    server = await startHttpApiServer({
      routes: [
        { method: 'GET', path: '/text', handler: async () => 'Hello from Lambda!' },
        { method: 'GET', path: '/object', handler: async () => ({ message: 'hi' }) },
      ],
    });

    // Act
    const [text, object] = await Promise.all([fetch(`${server.url}/text`), fetch(`${server.url}/object`)]);

    // Assess
    expect([text.status, text.headers.get('content-type'), await text.text()]).toEqual([200, 'application/json', 'Hello from Lambda!']);
    expect([object.status, await object.json()]).toEqual([200, { message: 'hi' }]);
  });

  it("answers 404 {message: 'Not Found'} for a path or a method no route has, with API Gateway's request id", async () => {
    // Prepare
    const seen: Seen[] = [];
    server = await startHttpApiServer({ routes: [recording('GET', '/users/{id}', seen)] });

    // Act
    const responses = await Promise.all([
      fetch(`${server.url}/users`),
      fetch(`${server.url}/users/`),
      fetch(`${server.url}/users/1/loans`),
      fetch(`${server.url}/users/1`, { method: 'DELETE' }),
    ]);

    // Assess
    for (const response of responses) {
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ message: 'Not Found' });
      expect(response.headers.get('apigw-requestid')).toMatch(/=$/);
    }
    expect(seen).toHaveLength(0);
  });

  it('picks the most specific route: literal before variable before greedy, an exact method before ANY', async () => {
    // Prepare
    const seen: Seen[] = [];
    server = await startHttpApiServer({
      routes: [
        recording('ANY', '/files/{proxy+}', seen),
        recording('GET', '/files/{name}', seen),
        recording('GET', '/files/readme', seen),
        recording('ANY', '/files/{name}', seen),
      ],
    });
    const keyOf = async (method: string, path: string) =>
      ((await (await fetch(`${server!.url}${path}`, { method })).json()) as { routeKey: string }).routeKey;

    // Act
    const keys = [
      await keyOf('GET', '/files/readme'),
      await keyOf('GET', '/files/other'),
      await keyOf('POST', '/files/other'),
      await keyOf('GET', '/files/a/b%2Fc'),
    ];

    // Assess
    expect(keys).toEqual(['GET /files/readme', 'GET /files/{name}', 'ANY /files/{name}', 'ANY /files/{proxy+}']);
    expect(seen[3].event.pathParameters).toEqual({ proxy: 'a/b/c' });
  });

  it('answers 401 {message: Unauthorized} without calling the handler when authorize refuses an auth route', async () => {
    // Prepare
    const seen: Seen[] = [];
    const authorize = jest.fn((event: APIGatewayProxyEventV2) =>
      event.headers['authorization'] === 'Bearer good' ? { sub: 'tester', scope: 'loans:read requests:read' } : undefined,
    );
    server = await startHttpApiServer({
      routes: [recording('GET', '/users/{id}/loans', seen, { auth: true }), recording('GET', '/health', seen)],
      authorize,
    });

    // Act
    const refused = await fetch(`${server.url}/users/1/loans`, { headers: { authorization: 'Bearer bad' } });
    const missing = await fetch(`${server.url}/users/1/loans`);
    const allowed = await fetch(`${server.url}/users/1/loans`, { headers: { Authorization: 'Bearer good' } });
    const open = await fetch(`${server.url}/health`);

    // Assess
    expect([refused.status, await refused.json()]).toEqual([401, { message: 'Unauthorized' }]);
    expect([missing.status, await missing.json()]).toEqual([401, { message: 'Unauthorized' }]);
    expect([allowed.status, open.status]).toEqual([200, 200]);
    expect(authorize).toHaveBeenCalledTimes(3);
    expect(seen).toHaveLength(2);
    const authorized = seen[0].event as APIGatewayProxyEventV2WithJWTAuthorizer;
    expect(authorized.requestContext.authorizer.jwt).toEqual({
      claims: { sub: 'tester', scope: 'loans:read requests:read' },
      scopes: ['loans:read', 'requests:read'],
    });
    expect(seen[1].event.requestContext).not.toHaveProperty('authorizer');
  });

  it("answers 403 {message: Forbidden} when the token holds none of the route's scopes, as the JWT authorizer does", async () => {
    // Prepare
    const seen: Seen[] = [];
    const tokens: Record<string, { scope: string }> = { 'Bearer reader': { scope: 'cache/read' }, 'Bearer admin': { scope: 'cache/admin other' } };
    server = await startHttpApiServer({
      routes: [
        recording('GET', '/users/{id}', seen, { auth: true, scopes: ['cache/read', 'cache/admin'] }),
        recording('POST', '/users/{id}/refresh', seen, { auth: true, scopes: ['cache/admin'] }),
      ],
      authorize: (event) => tokens[event.headers['authorization'] ?? ''],
    });
    const call = (method: string, path: string, token: string) => fetch(`${server!.url}${path}`, { method, headers: { authorization: token } });

    // Act
    const statuses = [
      (await call('GET', '/users/1', 'Bearer reader')).status,
      (await call('GET', '/users/1', 'Bearer admin')).status,
      (await call('POST', '/users/1/refresh', 'Bearer admin')).status,
    ];
    const forbidden = await call('POST', '/users/1/refresh', 'Bearer reader');

    // Assess
    expect(statuses).toEqual([200, 200, 200]);
    expect([forbidden.status, await forbidden.json()]).toEqual([403, { message: 'Forbidden' }]);
    expect(seen).toHaveLength(3);
  });

  it("answers 500 {message: 'Internal Server Error'} when the handler throws or returns a bad statusCode, and logs why", async () => {
    // Prepare
    const lines: string[] = [];
    server = await startHttpApiServer({
      routes: [
        { method: 'GET', path: '/throws', handler: async () => Promise.reject(new Error('boom')) },
        { method: 'GET', path: '/nonsense', handler: async () => ({ statusCode: 'soon' }) },
      ],
      log: (line) => lines.push(line),
    });

    // Act
    const responses = [await fetch(`${server.url}/throws`), await fetch(`${server.url}/nonsense`)];

    // Assess
    for (const response of responses) expect([response.status, await response.json()]).toEqual([500, { message: 'Internal Server Error' }]);
    expect(lines.join('\n')).toContain('GET /throws failed: Error: boom');
    expect(lines.join('\n')).toContain('statusCode "soon" is not an HTTP status');
  });

  it("answers 503 {message: 'Service Unavailable'} when the handler outlasts the integration timeout", async () => {
    // Prepare
    server = await startHttpApiServer({
      routes: [{ method: 'GET', path: '/slow', handler: () => new Promise((resolve) => setTimeout(() => resolve('late'), 2_000).unref()) }],
      timeoutMs: 100,
    });

    // Act
    const started = Date.now();
    const response = await fetch(`${server.url}/slow`);

    // Assess
    expect([response.status, await response.json()]).toEqual([503, { message: 'Service Unavailable' }]);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('answers 413 for a body over 10 MB without calling the handler', async () => {
    // Prepare
    const seen: Seen[] = [];
    server = await startHttpApiServer({ routes: [recording('POST', '/', seen)] });

    // Act
    const response = await fetch(`${server.url}/`, { method: 'POST', body: Buffer.alloc(10 * 1024 * 1024 + 1, 97) });

    // Assess
    expect([response.status, await response.json()]).toEqual([413, { message: 'Request Entity Too Large' }]);
    expect(seen).toHaveLength(0);
  });

  it('refuses what API Gateway refuses: bad route syntax, a route defined twice, auth routes without authorize', async () => {
    // Prepare
    const handler = async () => 'ok';

    // Act & Assess
    await expect(startHttpApiServer({ routes: [{ method: 'GET', path: 'users', handler }] })).rejects.toThrow(HttpApiRouteError);
    await expect(startHttpApiServer({ routes: [{ method: 'FETCH', path: '/', handler }] })).rejects.toThrow('method must be one of');
    await expect(startHttpApiServer({ routes: [{ method: 'GET', path: '/{proxy+}/x', handler }] })).rejects.toThrow('must be the last segment');
    await expect(
      startHttpApiServer({
        routes: [
          { method: 'GET', path: '/a', handler },
          { method: 'get', path: '/a', handler },
        ],
      }),
    ).rejects.toThrow('route "get /a": defined twice');
    await expect(startHttpApiServer({ routes: [{ method: 'GET', path: '/a', handler, auth: true }] })).rejects.toThrow('need an `authorize`');
  });

  it('listens on loopback only', async () => {
    // Act & Assess
    await expect(startHttpApiServer({ routes: [], host: '0.0.0.0' })).rejects.toThrow('loopback only');
    server = await startHttpApiServer({ routes: [] });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('closes while a keep-alive connection is open', async () => {
    // Prepare
    server = await startHttpApiServer({ routes: [{ method: 'GET', path: '/', handler: async () => 'ok' }] });
    await fetch(`${server.url}/`, { headers: { connection: 'keep-alive' } });

    // Act
    const started = Date.now();
    await server.close();

    // Assess
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(fetch(`${server.url}/`)).rejects.toThrow();
    server = undefined;
  });
});
