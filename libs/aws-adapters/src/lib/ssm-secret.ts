import { GetParameterCommand, GetParametersCommand, SSMClient, type SSMClientConfig } from '@aws-sdk/client-ssm';
import { ConfigurationError } from './configuration-error';
import { traced } from './tracing';

/**
 * An SSM client. Region, credentials and `AWS_ENDPOINT_URL(_SSM)` come from the SDK's own environment variables,
 * so the same code talks to AWS, LocalStack or moto. Traced when tracing is on (see `traced`).
 *
 * @example
 * const apiKey = cachedSsmSecret(createSsmClient(), process.env.ALMA_API_KEY_NAME!);
 */
export const createSsmClient = (config: SSMClientConfig = {}): SSMClient => traced(new SSMClient(config));

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

/** How long a secret read from SSM is served from memory before it is read again: minutes, so a rotation spreads. */
export const DEFAULT_SECRET_CACHE_TTL_SECONDS = 300;
/** The environment variable that overrides {@link DEFAULT_SECRET_CACHE_TTL_SECONDS} (whole seconds, 1 to 3600). */
export const SECRET_CACHE_TTL_ENV = 'SECRET_CACHE_TTL_SECONDS';
/**
 * The shortest time between two reads asked for by {@link CachedValue.refresh} (a signature that does not match, a
 * 401 from Alma): a flood of bad signatures costs SSM at most one request per this many ms per container.
 */
export const SECRET_REREAD_MIN_INTERVAL_MS = 5_000;

/** How a cached secret ages. */
export interface SecretCacheOptions {
  /** Seconds a value is served from memory before the next call reads it again. Default {@link DEFAULT_SECRET_CACHE_TTL_SECONDS}. */
  readonly ttlSeconds?: number;
  /** Least ms between two reads started by `refresh()`. Default {@link SECRET_REREAD_MIN_INTERVAL_MS}. */
  readonly minRereadIntervalMs?: number;
  /** For tests: the clock, in ms. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * The secret cache's options from the environment: {@link SECRET_CACHE_TTL_ENV}, or the default when unset.
 *
 * @example
 * const apiKey = cachedSsmSecret(ssm, config.alma.apiKeyName, secretCacheOptionsFromEnv(process.env));
 * @throws ConfigurationError when the variable is set but not a whole number of seconds from 1 to 3600
 */
export const secretCacheOptionsFromEnv = (env: Readonly<Record<string, string | undefined>>): SecretCacheOptions => {
  const raw = (env[SECRET_CACHE_TTL_ENV] ?? '').trim();
  if (raw === '') return { ttlSeconds: DEFAULT_SECRET_CACHE_TTL_SECONDS };
  const ttlSeconds = Number(raw);
  if (!/^\d+$/.test(raw) || ttlSeconds < 1 || ttlSeconds > 3600) {
    throw new ConfigurationError([], [`${SECRET_CACHE_TTL_ENV} must be a whole number of seconds from 1 to 3600, got "${raw}"`]);
  }
  return { ttlSeconds };
};

/** A value read from SSM, kept for a TTL, and read again on demand (at most once per interval). */
export interface CachedValue<T> {
  /** The value: from memory while younger than the TTL, else read again (a failed re-read keeps serving the old one). */
  (): Promise<T>;
  /**
   * Reads again now, because the value in memory was just refused (a signature that does not match, a 401): callers
   * asking at the same time share one read, and a read started less than the minimum interval ago is not repeated
   * (its value is returned). Throws when the read fails, so the caller can answer "try later" rather than "wrong".
   */
  refresh(): Promise<T>;
  /** GetParameter(s) requests sent so far: 1 in a warm container whose first read succeeded and whose TTL has not run out. */
  readonly reads: number;
}

/** A secret held in one SSM parameter. */
export type CachedSecret = CachedValue<string>;

/**
 * The parameter holding the previous webhook secret during a rotation: the current one's name with `-previous`.
 *
 * @example
 * previousSecretName('/alma-cache/prod/alma-webhook-secret'); // '/alma-cache/prod/alma-webhook-secret-previous'
 */
export const previousSecretName = (parameterName: string): string => `${parameterName}-previous`;

/** The secrets a webhook may be signed with: the current one, and during a rotation the one it replaced. */
export interface RotatingSecret {
  readonly current: string;
  readonly previous?: string;
  /** When `previous` stops being accepted (epoch ms); present exactly when `previous` is. */
  readonly previousExpiresAt?: number;
}

/**
 * How long the previous webhook secret is accepted when the rotation states no expiry: 24 h after its parameter was
 * last written, past Alma's 10 h of webhook retries.
 */
export const DEFAULT_PREVIOUS_SECRET_LIFETIME_SECONDS = 86_400;

/**
 * The value to store in `<name>-previous` when rotating: the old secret and when it stops being accepted, as JSON.
 * A plain value (the old secret alone) is accepted too, for {@link DEFAULT_PREVIOUS_SECRET_LIFETIME_SECONDS} after
 * the parameter was last written.
 *
 * @example
 * previousSecretValue('old-secret', new Date('2026-12-07T06:00:00Z'));
 * // '{"secret":"old-secret","expiresAt":"2026-12-07T06:00:00.000Z"}'
 */
export const previousSecretValue = (secret: string, expiresAt: Date): string => JSON.stringify({ secret, expiresAt: expiresAt.toISOString() });

/**
 * The previous secret and its end from the parameter's value: `{"secret": "...", "expiresAt": "<ISO 8601>"}`, or a
 * plain secret. A missing or unreadable `expiresAt` takes the default lifetime from `writtenAt`: the secret is never
 * accepted without an end.
 */
const readPreviousSecret = (value: string, writtenAt: number): { readonly secret: string; readonly expiresAt: number } | undefined => {
  const fallback = writtenAt + DEFAULT_PREVIOUS_SECRET_LIFETIME_SECONDS * 1000;
  let parsed: unknown;
  try {
    parsed = value.trimStart().startsWith('{') ? JSON.parse(value) : undefined;
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { secret?: unknown }).secret !== 'string') {
    return value.trim() === '' ? undefined : { secret: value, expiresAt: fallback };
  }
  const { secret, expiresAt } = parsed as { secret: string; expiresAt?: unknown };
  if (secret.trim() === '') return undefined;
  const stated = typeof expiresAt === 'string' ? Date.parse(expiresAt) : Number.NaN;
  return { secret, expiresAt: Number.isNaN(stated) ? fallback : stated };
};

/**
 * The TTL, single-flight and rate-limit logic shared by both kinds of secret. A read that fails is forgotten: with no
 * value yet, the next call tries again; with an expired value, that value is served until a later read succeeds (an
 * SSM hiccup must not fail every request of a warm container), and the next attempt waits the minimum interval.
 */
const cachedValue = <T>(read: () => Promise<T>, options: SecretCacheOptions = {}): CachedValue<T> => {
  const ttlMs = (options.ttlSeconds ?? DEFAULT_SECRET_CACHE_TTL_SECONDS) * 1000;
  const minIntervalMs = options.minRereadIntervalMs ?? SECRET_REREAD_MIN_INTERVAL_MS;
  const now = options.now ?? Date.now;
  let reads = 0;
  let value: { readonly value: T; readonly readAt: number } | undefined;
  let inFlight: Promise<T> | undefined;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;

  const start = (): Promise<T> => {
    if (inFlight !== undefined) return inFlight;
    reads += 1;
    const startedAt = now();
    lastAttemptAt = startedAt;
    const attempt = read().then((fresh) => {
      value = { value: fresh, readAt: startedAt };
      return fresh;
    });
    inFlight = attempt;
    // Only this attempt may clear the slot: a later one must stay.
    const clear = () => {
      if (inFlight === attempt) inFlight = undefined;
    };
    attempt.then(clear, clear);
    return attempt;
  };

  const get = async (): Promise<T> => {
    if (value !== undefined && now() - value.readAt < ttlMs) return value.value;
    if (value === undefined) return start();
    const stale = value.value;
    if (inFlight === undefined && now() - lastAttemptAt < minIntervalMs) return stale;
    return start().catch(() => stale);
  };

  const refresh = async (): Promise<T> => {
    if (inFlight !== undefined) return inFlight;
    if (value !== undefined && now() - lastAttemptAt < minIntervalMs) return value.value;
    return start();
  };

  return Object.defineProperties(get, {
    refresh: { value: refresh, enumerable: true },
    reads: { get: () => reads, enumerable: true },
  }) as CachedValue<T>;
};

/**
 * A secret held in an SSM parameter (normally a SecureString), read with decryption on first use and then served
 * from memory for `ttlSeconds` (default 5 minutes), so a rotated value reaches every warm container within the TTL,
 * or at once through `refresh()` when the old value is refused. Callers that ask while a read is in flight share it,
 * so a batch processed in parallel still sends one request.
 *
 * The value is never logged and never put in an error; errors name the parameter only.
 *
 * @example
 * const apiKey = cachedSsmSecret(createSsmClient(), '/alma-cache/stg/alma-api-key', { ttlSeconds: 300 });
 * const key = await apiKey(); // GetParameter once; later calls within 5 minutes resolve from memory
 * await apiKey.refresh();     // Alma said 401: read again (at most once per 5 s)
 * @throws SsmSecretError (from the returned function) when the parameter does not exist or is empty
 */
export const cachedSsmSecret = (client: SSMClient, parameterName: string, options?: SecretCacheOptions): CachedSecret =>
  cachedValue(async () => {
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
  }, options);

/**
 * The webhook secret and, during a rotation, the previous one: `parameterName` and `<parameterName>-previous`, read
 * together in one GetParameters request (so a flood costs one request, not two), cached like {@link cachedSsmSecret}.
 * The previous one is optional: absent or blank, only the current one is returned.
 *
 * The previous one has an end: the `expiresAt` stored with it ({@link previousSecretValue}), else 24 h after its
 * parameter was last written. Past it, every call answers without it, from memory too, so a warm container refuses
 * an expired secret at once rather than when its TTL runs out or its next read succeeds. Deleting the parameter
 * revokes it sooner: the next read, within the TTL, no longer finds it.
 *
 * @example
 * const secrets = cachedRotatingSsmSecret(createSsmClient(), '/alma-cache/prod/alma-webhook-secret');
 * const { current, previous } = await secrets(); // previous: undefined outside a rotation, and once it has expired
 * @throws SsmSecretError (from the returned function) when the current parameter does not exist or is empty
 */
export const cachedRotatingSsmSecret = (client: SSMClient, parameterName: string, options?: SecretCacheOptions): CachedValue<RotatingSecret> => {
  const now = options?.now ?? Date.now;
  const cached = cachedValue(async (): Promise<RotatingSecret> => {
    const previousName = previousSecretName(parameterName);
    const { Parameters = [] } = await client.send(new GetParametersCommand({ Names: [parameterName, previousName], WithDecryption: true }));
    const parameterOf = (name: string) => Parameters.find((parameter) => parameter.Name === name);
    const current = parameterOf(parameterName)?.Value;
    if (current === undefined) throw new SsmSecretError(parameterName, 'does not exist');
    if (current.trim() === '') throw new SsmSecretError(parameterName, 'is empty');
    const stored = parameterOf(previousName);
    // SSM always dates a parameter; were the date missing, counting from this read would still give the secret an end.
    const previous = stored?.Value === undefined ? undefined : readPreviousSecret(stored.Value, stored.LastModifiedDate?.getTime() ?? now());
    return previous === undefined ? { current } : { current, previous: previous.secret, previousExpiresAt: previous.expiresAt };
  }, options);
  const unexpired = (secrets: RotatingSecret): RotatingSecret =>
    secrets.previousExpiresAt === undefined || now() < secrets.previousExpiresAt ? secrets : { current: secrets.current };
  const get = async () => unexpired(await cached());
  return Object.defineProperties(get, {
    refresh: { value: async () => unexpired(await cached.refresh()), enumerable: true },
    reads: { get: () => cached.reads, enumerable: true },
  }) as CachedValue<RotatingSecret>;
};
