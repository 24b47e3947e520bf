/**
 * A function's environment cannot work. Thrown at cold start, naming every missing or invalid variable at once,
 * so a misconfigured deploy fails on its first event with the whole list to fix.
 *
 * @example
 * throw new ConfigurationError(['USER_QUEUE_URL'], ['ALMA_MAX_CONCURRENT_REQUESTS must be at least 1, got "0"']);
 * // Missing environment variables: USER_QUEUE_URL. Invalid environment variables: ALMA_MAX_CONCURRENT_REQUESTS …
 */
export class ConfigurationError extends Error {
  public constructor(
    public readonly missing: readonly string[],
    public readonly invalid: readonly string[] = [],
  ) {
    const parts = [
      ...(missing.length > 0 ? [`Missing environment variables: ${missing.join(', ')}`] : []),
      ...(invalid.length > 0 ? [`Invalid environment variables: ${invalid.join('; ')}`] : []),
    ];
    super(parts.join('. '));
    this.name = 'ConfigurationError';
  }
}
