import { GetParameterCommand, SSMClient, type SSMClientConfig } from '@aws-sdk/client-ssm';

/**
 * An SSM client. Region, credentials and `AWS_ENDPOINT_URL(_SSM)` come from the SDK's own environment variables,
 * so the same code talks to AWS, LocalStack or moto.
 *
 * @example
 * const apiKey = cachedSsmSecret(createSsmClient(), process.env.ALMA_API_KEY_NAME!);
 */
export const createSsmClient = (config: SSMClientConfig = {}): SSMClient => new SSMClient(config);

/** The secret could not be read. The message names the parameter, never a value. */
export class SsmSecretError extends Error {
  public constructor(
    public readonly parameterName: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`SSM parameter ${JSON.stringify(parameterName)} ${reason}`, options);
    this.name = 'SsmSecretError';
  }
}

/** A secret read on first use and kept for the life of the container. */
export interface CachedSecret {
  (): Promise<string>;
  /** GetParameter requests sent so far: 1 in a warm container whose first read succeeded. */
  readonly reads: number;
}

/**
 * A secret held in an SSM parameter (normally a SecureString), read with decryption on first use and then served
 * from memory. Callers that ask while the first read is in flight share it, so a batch processed in parallel still
 * sends one request. A failed read is forgotten: the next call tries again rather than failing every later message
 * of a warm container.
 *
 * The value is never logged and never put in an error; errors name the parameter only.
 *
 * @example
 * const apiKey = cachedSsmSecret(createSsmClient(), '/alma-cache/stg/alma-api-key');
 * const key = await apiKey(); // GetParameter once; later calls resolve from memory
 * console.log(apiKey.reads);  // 1
 * @throws SsmSecretError (from the returned function) when the parameter does not exist or is empty
 */
export const cachedSsmSecret = (client: SSMClient, parameterName: string): CachedSecret => {
  let reads = 0;
  let cached: Promise<string> | undefined;

  const read = async (): Promise<string> => {
    reads += 1;
    let value: string | undefined;
    try {
      const { Parameter } = await client.send(new GetParameterCommand({ Name: parameterName, WithDecryption: true }));
      value = Parameter?.Value;
    } catch (error) {
      if ((error as Error).name === 'ParameterNotFound') throw new SsmSecretError(parameterName, 'does not exist', { cause: error });
      throw error;
    }
    if (value === undefined || value.trim() === '') throw new SsmSecretError(parameterName, 'is empty');
    return value;
  };

  const secret = (): Promise<string> => {
    if (cached === undefined) {
      const attempt = read();
      cached = attempt;
      // Only this attempt may clear the cache: a later, successful one must stay.
      attempt.catch(() => {
        if (cached === attempt) cached = undefined;
      });
    }
    return cached;
  };
  return Object.defineProperty(secret, 'reads', { get: () => reads, enumerable: true }) as CachedSecret;
};
