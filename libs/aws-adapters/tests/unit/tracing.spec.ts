import { SNSClient } from '@aws-sdk/client-sns';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { activeTracer, isTracingEnabled, traced, tracedHttpExchange } from '../../src/lib/tracing';

const middlewareNames = (client: SNSClient) => client.middlewareStack.identify().join(' ');

describe('Function: isTracingEnabled', () => {
  it('is on only for POWERTOOLS_TRACE_ENABLED=true', () => {
    // Act
    const answers = [{ POWERTOOLS_TRACE_ENABLED: 'true' }, { POWERTOOLS_TRACE_ENABLED: 'false' }, { POWERTOOLS_TRACE_ENABLED: 'TRUE ' }, {}].map(
      (env) => isTracingEnabled(env),
    );

    // Assess
    expect(answers).toEqual([true, false, false, false]);
  });
});

describe('Function: traced', () => {
  afterEach(() => {
    delete process.env['AWS_EXECUTION_ENV'];
  });

  it('leaves the client untouched and the tracer unloaded when tracing is off', () => {
    // Prepare
    const client = new SNSClient({ region: 'eu-west-1' });
    const before = middlewareNames(client);

    // Act
    const result = traced(client, {});

    // Assess
    expect(result).toBe(client);
    expect(middlewareNames(client)).toBe(before);
    expect(activeTracer({})).toBeUndefined();
    expect(Object.keys(require.cache).some((file) => file.includes('aws-xray-sdk-core'))).toBe(false);
  });

  it('adds the X-Ray middleware to the client when tracing is on', () => {
    // Prepare
    // Powertools itself traces only inside Lambda, which it recognises by AWS_EXECUTION_ENV.
    process.env['AWS_EXECUTION_ENV'] = 'AWS_Lambda_nodejs22.x';
    const client = new SNSClient({ region: 'eu-west-1' });
    const env = { POWERTOOLS_TRACE_ENABLED: 'true' };

    // Act
    const result = traced(client, env);

    // Assess
    expect(result).toBe(client);
    expect(middlewareNames(client)).toMatch(/XRaySDKInstrumentation/);
    expect(activeTracer(env)).toBe(activeTracer(env));
  });
});

describe('Function: tracedHttpExchange', () => {
  afterEach(() => {
    delete process.env['AWS_EXECUTION_ENV'];
  });

  it('runs the exchange bare when tracing is off', async () => {
    // Act
    const result = await tracedHttpExchange({ host: 'alma', method: 'GET', url: 'https://alma/{id}' }, async () => ({ status: 204 }), {});

    // Assess
    expect(result).toEqual({ status: 204 });
  });

  it('records the exchange under the URL it is given, with its status and flags, and no fetch on its own', async () => {
    // Prepare: a traced Lambda invocation's segment, and a loopback server answering as Alma would
    process.env['AWS_EXECUTION_ENV'] = 'AWS_Lambda_nodejs22.x';
    const env = { POWERTOOLS_TRACE_ENABLED: 'true' };
    const tracer = activeTracer(env)!;
    const xray = require('aws-xray-sdk-core') as typeof import('aws-xray-sdk-core');
    const server = createServer((request, response) => {
      response.writeHead(request.url?.endsWith('/fees') ? 429 : request.url?.endsWith('/requests') ? 503 : 200);
      response.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/almaws/v1/users/PAT0042X`;
    const segment = new xray.Segment('query-api');
    const exchange = (kind: string) =>
      tracedHttpExchange(
        { host: 'api-eu.hosted.exlibrisgroup.com', method: 'GET', url: `https://api-eu.hosted.exlibrisgroup.com/almaws/v1/users/{id}/${kind}` },
        async () => ({ status: (await fetch(`${base}/${kind}`)).status }),
        env,
      );

    // Act
    const statuses = await xray.getNamespace().runPromise(async () => {
      tracer.setSegment(segment);
      const answers = [];
      for (const kind of ['loans', 'fees', 'requests']) answers.push((await exchange(kind)).status);
      const failed = await tracedHttpExchange(
        { host: 'alma', method: 'GET', url: 'https://alma/{id}' },
        () => Promise.reject(new Error('PAT0042X')),
        env,
      ).catch((error: Error) => error.message);
      return [...answers, failed];
    });
    server.close();

    // Assess
    expect(statuses).toEqual([200, 429, 503, 'PAT0042X']);
    const recorded = JSON.parse(JSON.stringify(segment.subsegments)) as Record<string, unknown>[];
    expect(recorded.map(({ name, http, namespace, throttle, error, fault }) => ({ name, http, namespace, throttle, error, fault }))).toEqual([
      {
        name: 'api-eu.hosted.exlibrisgroup.com',
        namespace: 'remote',
        http: { request: { method: 'GET', url: 'https://api-eu.hosted.exlibrisgroup.com/almaws/v1/users/{id}/loans' }, response: { status: 200 } },
      },
      {
        name: 'api-eu.hosted.exlibrisgroup.com',
        namespace: 'remote',
        http: { request: { method: 'GET', url: 'https://api-eu.hosted.exlibrisgroup.com/almaws/v1/users/{id}/fees' }, response: { status: 429 } },
        throttle: true,
        error: true,
      },
      {
        name: 'api-eu.hosted.exlibrisgroup.com',
        namespace: 'remote',
        http: { request: { method: 'GET', url: 'https://api-eu.hosted.exlibrisgroup.com/almaws/v1/users/{id}/requests' }, response: { status: 503 } },
        fault: true,
      },
      { name: 'alma', namespace: 'remote', http: { request: { method: 'GET', url: 'https://alma/{id}' } }, fault: true },
    ]);
    expect(JSON.stringify(segment).toLowerCase()).not.toContain('pat0042x');
  });
});
