import { ConfigurationError } from '@alma-cache/aws-adapters';
/** The environment the function reads; serverless.yml sets exactly these (plus the SDK's own variables). */
export const ENV = {
  changeTopicArn: 'CHANGE_TOPIC_ARN',
} as const;

export interface ChangeLambdasConfig {
  /** The `cache-changes` topic every change notification goes to. */
  readonly changeTopicArn: string;
}

/**
 * Reads the function's configuration from the environment, reporting every problem at once.
 *
 * @example
 * const config = loadConfig(process.env); // { changeTopicArn: 'arn:aws:sns:eu-west-1:…:alma-cache-stg-cache-changes' }
 * @throws ConfigurationError naming each missing or malformed variable
 */
export const loadConfig = (env: Readonly<Record<string, string | undefined>>): ChangeLambdasConfig => {
  const topicArn = env[ENV.changeTopicArn]?.trim() ?? '';
  if (topicArn === '') throw new ConfigurationError([ENV.changeTopicArn]);
  if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/.test(topicArn)) {
    throw new ConfigurationError([], [`${ENV.changeTopicArn} is not an SNS topic ARN: "${topicArn}"`]);
  }
  return { changeTopicArn: topicArn };
};
