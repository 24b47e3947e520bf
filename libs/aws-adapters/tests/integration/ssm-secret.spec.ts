import { DeleteParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { randomUUID } from 'node:crypto';
import {
  cachedRotatingSsmSecret,
  cachedSsmSecret,
  ConfigurationError,
  createSsmClient,
  DEFAULT_PREVIOUS_SECRET_LIFETIME_SECONDS,
  previousSecretName,
  previousSecretValue,
  SECRET_REREAD_MIN_INTERVAL_MS,
  secretCacheOptionsFromEnv,
} from '../../src';
import { SsmSecretError } from '../../src/lib/ssm-secret';

// Against moto's SSM (the global setup points AWS_ENDPOINT_URL at it): SecureString encryption and decryption included.
describe('Function: cachedSsmSecret', () => {
  const ssm = createSsmClient();
  const VALUE = 'l8xx-secret-api-key-0042';
  let name: string;

  const putSecret = (value: string, parameterName = name) =>
    ssm.send(new PutParameterCommand({ Name: parameterName, Value: value, Type: 'SecureString', Overwrite: true }));

  beforeEach(() => {
    name = `/alma-cache/test/${randomUUID().slice(0, 8)}/alma-api-key`;
  });

  afterAll(() => ssm.destroy());

  it('reads the SecureString once, decrypted, and serves later calls from memory', async () => {
    // Prepare
    await putSecret(VALUE);
    const secret = cachedSsmSecret(ssm, name);

    // Act
    const values = [await secret(), await secret(), await secret()];

    // Assess
    expect(values).toEqual([VALUE, VALUE, VALUE]);
    expect(secret.reads).toBe(1);
  });

  it('sends one request for callers that ask while the first read is in flight', async () => {
    // Prepare
    await putSecret(VALUE);
    const secret = cachedSsmSecret(ssm, name);

    // Act
    const values = await Promise.all(Array.from({ length: 10 }, () => secret()));

    // Assess
    expect(new Set(values)).toEqual(new Set([VALUE]));
    expect(secret.reads).toBe(1);
  });

  it('names a missing parameter, and reads again on the next call rather than caching the failure', async () => {
    // Prepare
    const secret = cachedSsmSecret(ssm, name);

    // Act
    const first = secret();
    await expect(first).rejects.toBeInstanceOf(SsmSecretError);
    await putSecret(VALUE);
    const second = await secret();

    // Assess
    await expect(first).rejects.toThrow(`SSM parameter "${name}" does not exist`);
    expect(second).toBe(VALUE);
    expect(secret.reads).toBe(2);
  });

  it('refuses a blank value without putting it in the error', async () => {
    // Prepare
    await putSecret('   ');
    const secret = cachedSsmSecret(ssm, name);

    // Act
    const act = secret();

    // Assess
    await expect(act).rejects.toThrow(new SsmSecretError(name, 'is empty'));
    expect(secret.reads).toBe(1);
  });

  it('keeps the value it read even when the parameter later disappears', async () => {
    // Prepare
    await putSecret(VALUE);
    const secret = cachedSsmSecret(ssm, name);
    await secret();
    await ssm.send(new DeleteParameterCommand({ Name: name }));

    // Act
    const again = await secret();

    // Assess
    expect(again).toBe(VALUE);
    expect(secret.reads).toBe(1);
  });

  it('passes other SSM errors through unchanged, naming no value', async () => {
    // Prepare: a client whose every request is refused, as without ssm:GetParameter
    const denied = Object.assign(new Error('User is not authorized to perform: ssm:GetParameter'), { name: 'AccessDeniedException' });
    const client = { send: jest.fn().mockRejectedValue(denied) } as unknown as SSMClient;
    const secret = cachedSsmSecret(client, name);

    // Act
    const act = secret();

    // Assess
    await expect(act).rejects.toBe(denied);
    await expect(secret()).rejects.toBe(denied);
    expect(secret.reads).toBe(2);
  });
});

describe('Function: cachedSsmSecret, over time', () => {
  const ssm = createSsmClient();
  let name: string;
  let clock: number;
  const now = () => clock;

  const putSecret = (value: string, parameterName = name) =>
    ssm.send(new PutParameterCommand({ Name: parameterName, Value: value, Type: 'SecureString', Overwrite: true }));

  beforeEach(() => {
    name = `/alma-cache/test/${randomUUID().slice(0, 8)}/alma-api-key`;
    clock = 1_000_000;
  });

  afterAll(() => ssm.destroy());

  it('serves the value for the TTL, then reads the rotated one', async () => {
    // Prepare
    await putSecret('key-1');
    const secret = cachedSsmSecret(ssm, name, { ttlSeconds: 60, now });
    await secret();
    await putSecret('key-2');

    // Act
    clock += 59_999;
    const withinTtl = await secret();
    clock += 1;
    const afterTtl = await secret();

    // Assess
    expect([withinTtl, afterTtl]).toEqual(['key-1', 'key-2']);
    expect(secret.reads).toBe(2);
  });

  it('re-reads on refresh() once for callers asking together, and not again within the minimum interval', async () => {
    // Prepare
    await putSecret('key-1');
    const secret = cachedSsmSecret(ssm, name, { ttlSeconds: 300, now });
    await secret();
    await putSecret('key-2');
    clock += SECRET_REREAD_MIN_INTERVAL_MS;

    // Act: a flood of refused keys
    const together = await Promise.all(Array.from({ length: 20 }, () => secret.refresh()));
    const readsAfterFlood = secret.reads;
    await putSecret('key-3');
    clock += SECRET_REREAD_MIN_INTERVAL_MS - 1;
    const tooSoon = await secret.refresh();
    clock += 1;
    const later = await secret.refresh();

    // Assess
    expect(new Set(together)).toEqual(new Set(['key-2']));
    expect(readsAfterFlood).toBe(2);
    expect(tooSoon).toBe('key-2');
    expect(later).toBe('key-3');
    expect(secret.reads).toBe(3);
  });

  it('keeps serving the expired value when the re-read fails, and tries again only after the minimum interval', async () => {
    // Prepare: a client that answers once, then is throttled
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const send = jest
      .fn()
      .mockResolvedValueOnce({ Parameter: { Value: 'key-1' } })
      .mockRejectedValue(throttled);
    const secret = cachedSsmSecret({ send } as unknown as SSMClient, name, { ttlSeconds: 60, now });
    await secret();

    // Act
    clock += 60_000;
    const values = [await secret(), await secret(), await secret()];
    clock += SECRET_REREAD_MIN_INTERVAL_MS;
    values.push(await secret());

    // Assess
    expect(values).toEqual(['key-1', 'key-1', 'key-1', 'key-1']);
    expect(send).toHaveBeenCalledTimes(3);
  });

  it('rejects refresh() when the re-read fails, so a caller can answer "later" rather than "wrong"', async () => {
    // Prepare
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const send = jest
      .fn()
      .mockResolvedValueOnce({ Parameter: { Value: 'key-1' } })
      .mockRejectedValue(throttled);
    const secret = cachedSsmSecret({ send } as unknown as SSMClient, name, { now });
    await secret();
    clock += SECRET_REREAD_MIN_INTERVAL_MS;

    // Act
    const act = secret.refresh();

    // Assess
    await expect(act).rejects.toBe(throttled);
    expect(await secret()).toBe('key-1');
  });
});

describe('Function: cachedRotatingSsmSecret', () => {
  const ssm = createSsmClient();
  let name: string;

  const putSecret = (parameterName: string, value: string) =>
    ssm.send(new PutParameterCommand({ Name: parameterName, Value: value, Type: 'SecureString', Overwrite: true }));

  beforeEach(() => {
    name = `/alma-cache/test/${randomUUID().slice(0, 8)}/alma-webhook-secret`;
  });

  afterAll(() => ssm.destroy());

  it('reads the current secret alone outside a rotation', async () => {
    // Prepare
    await putSecret(name, 'secret-1');

    // Act
    const secrets = await cachedRotatingSsmSecret(ssm, name)();

    // Assess
    expect(secrets).toEqual({ current: 'secret-1' });
  });

  it('reads the current and the previous secret in one request during a rotation', async () => {
    // Prepare
    await putSecret(previousSecretName(name), 'secret-1');
    await putSecret(name, 'secret-2');
    const secret = cachedRotatingSsmSecret(ssm, name);

    // Act
    const secrets = await secret();

    // Assess
    expect(previousSecretName(name)).toBe(`${name}-previous`);
    expect(secrets).toEqual({ current: 'secret-2', previous: 'secret-1', previousExpiresAt: expect.any(Number) });
    expect(secret.reads).toBe(1);
  });

  it('gives a plain previous secret 24 h from when its parameter was written, and refuses it after', async () => {
    // Prepare: a warm container whose clock we move
    const writtenAt = Date.now();
    await putSecret(previousSecretName(name), 'secret-1');
    await putSecret(name, 'secret-2');
    let clock = Date.now();
    const secret = cachedRotatingSsmSecret(ssm, name, { ttlSeconds: 3600, now: () => clock });
    const during = await secret();

    // Act: one second before and one after the default end, the TTL not yet run out
    clock = during.previousExpiresAt! - 1000;
    const justBefore = await secret();
    clock = during.previousExpiresAt! + 1000;
    const after = await secret();
    const afterRefresh = await secret.refresh();

    // Assess
    expect(during.previousExpiresAt! - writtenAt).toBeGreaterThanOrEqual(DEFAULT_PREVIOUS_SECRET_LIFETIME_SECONDS * 1000 - 5_000);
    expect(during.previousExpiresAt! - writtenAt).toBeLessThanOrEqual(DEFAULT_PREVIOUS_SECRET_LIFETIME_SECONDS * 1000 + 5_000);
    expect(justBefore.previous).toBe('secret-1');
    expect([after, afterRefresh]).toEqual([{ current: 'secret-2' }, { current: 'secret-2' }]);
    expect(secret.reads).toBe(2);
  });

  it('keeps the expiry stated with the previous secret, and refuses it past that in a warm container without reading SSM', async () => {
    // Prepare
    const expiresAt = new Date(Date.now() + 30 * 60_000);
    await putSecret(previousSecretName(name), previousSecretValue('secret-1', expiresAt));
    await putSecret(name, 'secret-2');
    let clock = Date.now();
    const secret = cachedRotatingSsmSecret(ssm, name, { ttlSeconds: 3600, now: () => clock });

    // Act
    const during = await secret();
    clock = expiresAt.getTime();
    const after = await secret();

    // Assess
    expect(during).toEqual({ current: 'secret-2', previous: 'secret-1', previousExpiresAt: expiresAt.getTime() });
    expect(after).toEqual({ current: 'secret-2' });
    expect(secret.reads).toBe(1);
  });

  it('notices the previous parameter deleted at the first read after the TTL', async () => {
    // Prepare
    await putSecret(previousSecretName(name), previousSecretValue('secret-1', new Date(Date.now() + 3600_000)));
    await putSecret(name, 'secret-2');
    let clock = Date.now();
    const secret = cachedRotatingSsmSecret(ssm, name, { ttlSeconds: 60, now: () => clock });
    const during = await secret();
    await ssm.send(new DeleteParameterCommand({ Name: previousSecretName(name) }));

    // Act
    clock += 59_000;
    const withinTtl = await secret();
    clock += 1_000;
    const afterTtl = await secret();

    // Assess
    expect([during.previous, withinTtl.previous]).toEqual(['secret-1', 'secret-1']);
    expect(afterTtl).toEqual({ current: 'secret-2' });
    expect(secret.reads).toBe(2);
  });

  it('takes the default lifetime when the stated expiry cannot be read, and the whole value as the secret when it is not that JSON', async () => {
    // Prepare
    const [plain, unreadable] = [`${name}-a`, `${name}-b`];
    await putSecret(previousSecretName(plain), '{"not":"the shape"}');
    await putSecret(plain, 'secret-2');
    await putSecret(previousSecretName(unreadable), JSON.stringify({ secret: 'secret-1', expiresAt: 'tomorrow' }));
    await putSecret(unreadable, 'secret-2');

    // Act
    const [asPlain, withDefault] = await Promise.all([cachedRotatingSsmSecret(ssm, plain)(), cachedRotatingSsmSecret(ssm, unreadable)()]);

    // Assess
    expect(asPlain.previous).toBe('{"not":"the shape"}');
    expect(withDefault.previous).toBe('secret-1');
    for (const secrets of [asPlain, withDefault]) {
      expect(secrets.previousExpiresAt! - Date.now()).toBeGreaterThan(DEFAULT_PREVIOUS_SECRET_LIFETIME_SECONDS * 1000 - 60_000);
      expect(secrets.previousExpiresAt! - Date.now()).toBeLessThanOrEqual(DEFAULT_PREVIOUS_SECRET_LIFETIME_SECONDS * 1000);
    }
  });

  it('names a missing current parameter, never a value, even when the previous one exists', async () => {
    // Prepare
    await putSecret(previousSecretName(name), 'secret-1');

    // Act
    const act = cachedRotatingSsmSecret(ssm, name)();

    // Assess
    await expect(act).rejects.toThrow(new SsmSecretError(name, 'does not exist'));
    await expect(act).rejects.not.toThrow(/secret-1/);
  });
});

describe('Function: secretCacheOptionsFromEnv', () => {
  it('defaults to 5 minutes and takes SECRET_CACHE_TTL_SECONDS', () => {
    // Act
    const options = [secretCacheOptionsFromEnv({}), secretCacheOptionsFromEnv({ SECRET_CACHE_TTL_SECONDS: ' 60 ' })];

    // Assess
    expect(options).toEqual([{ ttlSeconds: 300 }, { ttlSeconds: 60 }]);
  });

  it.each(['0', '3601', '1.5', '-5', 'five'])('refuses SECRET_CACHE_TTL_SECONDS=%s, naming the variable', (value) => {
    // Act
    const act = () => secretCacheOptionsFromEnv({ SECRET_CACHE_TTL_SECONDS: value });

    // Assess
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(`SECRET_CACHE_TTL_SECONDS must be a whole number of seconds from 1 to 3600, got "${value}"`);
  });
});
