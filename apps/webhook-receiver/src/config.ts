import { type Environment, isSnsTopicArn, readConfig, type SecretCacheOptions, secretCacheOptionsFromEnv } from '@alma-cache/aws-adapters';
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
export const loadConfig = (env: Environment): WebhookReceiverConfig =>
  readConfig(env, (reader) => {
    const { secretName, ...topicArns } = reader.required({
      secretName: SECRET_NAME_ENV,
      ...(Object.fromEntries(Object.values(AlmaEventType).map((eventType) => [eventType, topicArnEnv(eventType)])) as Record<AlmaEventType, string>),
    });
    reader.ssmParameterPath(SECRET_NAME_ENV, secretName);
    for (const eventType of Object.values(AlmaEventType)) {
      const arn = topicArns[eventType];
      if (arn && !isSnsTopicArn(arn)) {
        reader.invalid(`${topicArnEnv(eventType)} must be an SNS topic ARN, got "${arn}"`);
      }
    }
    const secretCache: SecretCacheOptions = reader.include(secretCacheOptionsFromEnv, {});
    return { secretName, secretCache, topicArns };
  });
