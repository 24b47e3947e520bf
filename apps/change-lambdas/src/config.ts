import { type Environment, isSnsTopicArn, readConfig } from '@alma-cache/aws-adapters';

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
export const loadConfig = (env: Environment): ChangeLambdasConfig =>
  readConfig(env, (reader) => {
    const { changeTopicArn } = reader.required(ENV);
    if (changeTopicArn && !isSnsTopicArn(changeTopicArn)) {
      reader.invalid(`${ENV.changeTopicArn} is not an SNS topic ARN: "${changeTopicArn}"`);
    }
    return { changeTopicArn };
  });
