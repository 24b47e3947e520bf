import { ConfigurationError, type SecretCacheOptions, secretCacheOptionsFromEnv } from '@alma-cache/aws-adapters';
import { AlmaEventType } from '@alma-cache/cache-domain';

/** The SSM SecureString holding the secret of Alma's webhook integration profile: its name, never its value. */
export const SECRET_NAME_ENV = 'ALMA_WEBHOOK_SECRET_NAME';

/** `LOAN_CREATED_TOPIC_ARN` …: the topic of each event type, as serverless.yml resolves them per stage. */
export const topicArnEnv = (eventType: AlmaEventType): string => `${eventType}_TOPIC_ARN`;

export interface WebhookReceiverConfig {
  readonly secretName: string;
  /** How long the secrets are served from memory (`SECRET_CACHE_TTL_SECONDS`, default 300). */
  readonly secretCache: SecretCacheOptions;
  readonly topicArns: Readonly<Record<AlmaEventType, string>>;
}

/**
 * Reads the receiver's configuration from the environment, reporting every missing or invalid variable at once.
 *
 * The secret's name must be a path (`/…`): the IAM grant in serverless.yml is `parameter${name}`, the parameter's ARN
 * only for a name with a leading slash.
 *
 * @example
 * const config = loadConfig(process.env);
 * config.topicArns.LOAN_RETURNED; // 'arn:aws:sns:eu-west-1:123456789012:alma-loan-returned'
 */
export const loadConfig = (env: Readonly<Record<string, string | undefined>>): WebhookReceiverConfig => {
  const read = (name: string) => (env[name] ?? '').trim();
  const names = [SECRET_NAME_ENV, ...Object.values(AlmaEventType).map(topicArnEnv)];
  const missing = names.filter((name) => read(name) === '');
  const invalid: string[] = [];
  const secretName = read(SECRET_NAME_ENV);
  if (secretName && !secretName.startsWith('/')) {
    invalid.push(`${SECRET_NAME_ENV} must be an SSM parameter path starting with "/", got "${secretName}"`);
  }
  for (const eventType of Object.values(AlmaEventType)) {
    const arn = read(topicArnEnv(eventType));
    if (arn && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/.test(arn)) {
      invalid.push(`${topicArnEnv(eventType)} must be an SNS topic ARN, got "${arn}"`);
    }
  }
  let secretCache: SecretCacheOptions = {};
  try {
    secretCache = secretCacheOptionsFromEnv(env);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    invalid.push(...error.invalid);
  }
  if (missing.length > 0 || invalid.length > 0) throw new ConfigurationError(missing, invalid);
  const topicArns = Object.fromEntries(Object.values(AlmaEventType).map((eventType) => [eventType, read(topicArnEnv(eventType))]));
  return { secretName, secretCache, topicArns: topicArns as Record<AlmaEventType, string> };
};
