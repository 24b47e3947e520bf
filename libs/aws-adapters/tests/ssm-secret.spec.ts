import { DeleteParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { randomUUID } from 'node:crypto';
import { cachedSsmSecret, createSsmClient, SsmSecretError } from '../src';

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
