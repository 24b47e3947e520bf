import { SNSClient } from '@aws-sdk/client-sns';
import { activeTracer, isTracingEnabled, traced } from '../../src/lib/tracing';

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
