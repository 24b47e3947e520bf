import { DEFAULT_EXPIRY_POLICY, type ExpiryPolicy, readExpiryPolicy } from '@alma-cache/cache-domain';
import { ConfigurationError } from './configuration-error';

/** The environment a function reads its configuration from (`process.env` or a test's map). */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Reads a function's environment variable by variable, collecting what is missing or invalid instead of stopping at
 * the first problem, so that {@link readConfig} can throw one {@link ConfigurationError} naming everything to fix.
 * Every value is trimmed; a reader returns `''` or the fallback for a variable it refused, and the caller's result is
 * never seen because the error is thrown first.
 */
export class ConfigReader {
  private readonly missing: string[] = [];
  private readonly problems: string[] = [];

  public constructor(private readonly env: Environment) {}

  /** The variable's value, trimmed; `''` when unset or blank. */
  public optional(name: string): string {
    return (this.env[name] ?? '').trim();
  }

  /**
   * The value of every variable of `names`, by key, noting as missing (in the map's order) each one unset or blank.
   *
   * @example
   * const { usersTable } = reader.required({ usersTable: 'USER_CACHE_TABLE_NAME' } as const);
   */
  public required<const K extends string>(names: Readonly<Record<K, string>>): Record<K, string> {
    const values = {} as Record<K, string>;
    for (const [key, name] of Object.entries(names) as [K, string][]) {
      values[key] = this.optional(name);
      if (values[key] === '') this.missing.push(name);
    }
    return values;
  }

  /**
   * Checks that a parameter name read from `name` is a path (`/…`): the IAM grants in serverless.yml are built as
   * `parameter${name}`, which only matches the parameter's ARN for a name that starts with a slash. A blank value is
   * left to {@link ConfigReader.required}.
   */
  public ssmParameterPath(name: string, value: string): string {
    if (value && !value.startsWith('/')) this.invalid(`${name} must be an SSM parameter path starting with "/", got "${value}"`);
    return value;
  }

  /**
   * An optional whole number of at least `min`: the fallback when unset or blank, and when refused.
   *
   * @example
   * reader.wholeNumber('ALMA_MAX_CONCURRENT_REQUESTS', 4, 1); // 4 unless the variable says otherwise
   */
  public wholeNumber(name: string, fallback: number, min: number): number {
    const raw = this.env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = Number(raw);
    if (Number.isInteger(value) && value >= min) return value;
    this.invalid(`${name} must be a whole number of at least ${min}, got "${raw}"`);
    return fallback;
  }

  /** The expiry policy (`CACHE_*_TTL_SECONDS` and the rest), its problems named with every other variable. */
  public expiryPolicy(): ExpiryPolicy {
    const { policy, problems } = readExpiryPolicy(this.env);
    if (problems.length === 0) return policy;
    this.problems.push(...problems);
    return DEFAULT_EXPIRY_POLICY;
  }

  /**
   * Runs another reader that throws {@link ConfigurationError} on its own (such as `secretCacheOptionsFromEnv`),
   * folding its problems into these; the fallback when it refused.
   */
  public include<T>(read: (env: Environment) => T, fallback: T): T {
    try {
      return read(this.env);
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      this.missing.push(...error.missing);
      this.problems.push(...error.invalid);
      return fallback;
    }
  }

  /** Notes a problem a reader of this class cannot see (an ARN's shape, say), worded as the message to show. */
  public invalid(message: string): void {
    this.problems.push(message);
  }

  /** @throws ConfigurationError naming every missing and invalid variable, when there is any */
  public throwIfAnyProblem(): void {
    if (this.missing.length > 0 || this.problems.length > 0) throw new ConfigurationError(this.missing, this.problems);
  }
}

/**
 * Builds a function's configuration with a {@link ConfigReader}, then throws one {@link ConfigurationError} naming
 * every missing or invalid variable, so a misconfigured deploy fails at cold start with the whole list to fix.
 *
 * @example
 * export const loadConfig = (env: Environment) =>
 *   readConfig(env, (reader) => {
 *     const { topicArn } = reader.required({ topicArn: 'CHANGE_TOPIC_ARN' } as const);
 *     return { topicArn, expiry: reader.expiryPolicy() };
 *   });
 * @throws ConfigurationError naming every variable to fix
 */
export const readConfig = <T>(env: Environment, build: (reader: ConfigReader) => T): T => {
  const reader = new ConfigReader(env);
  const config = build(reader);
  reader.throwIfAnyProblem();
  return config;
};
