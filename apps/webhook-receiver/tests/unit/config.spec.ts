import { ConfigurationError } from '@alma-cache/aws-adapters';
import { AlmaEventType } from '@alma-cache/cache-domain';
import { loadConfig, SECRET_NAME_ENV, topicArnEnv } from '../../src/config';

const arnOf = (eventType: string) => `arn:aws:sns:eu-west-1:123456789012:alma-${eventType.toLowerCase().replace(/_/g, '-')}`;
const fullEnv = (): Record<string, string> => ({
  [SECRET_NAME_ENV]: '/alma-cache/stg/alma-webhook-secret',
  ...Object.fromEntries(Object.values(AlmaEventType).map((eventType) => [topicArnEnv(eventType), arnOf(eventType)])),
});

describe('Function: loadConfig', () => {
  it('reads the secret name and one topic ARN per event type', () => {
    // Act
    const config = loadConfig(fullEnv());

    // Assess
    expect(config.secretName).toBe('/alma-cache/stg/alma-webhook-secret');
    expect(config.topicArns).toEqual(Object.fromEntries(Object.values(AlmaEventType).map((eventType) => [eventType, arnOf(eventType)])));
  });

  it('names every missing variable at once', () => {
    // Prepare
    const env = fullEnv();
    delete env[SECRET_NAME_ENV];
    delete env['LOAN_RETURNED_TOPIC_ARN'];
    env['REQUEST_CLOSED_TOPIC_ARN'] = '  ';

    // Act
    const act = () => loadConfig(env);

    // Assess
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow('Missing environment variables: ALMA_WEBHOOK_SECRET_NAME, LOAN_RETURNED_TOPIC_ARN, REQUEST_CLOSED_TOPIC_ARN');
  });

  it('refuses a secret name that is not a path and a topic that is not an SNS ARN', () => {
    // Prepare
    const env = { ...fullEnv(), [SECRET_NAME_ENV]: 'alma-webhook-secret', LOAN_CREATED_TOPIC_ARN: 'arn:aws:sqs:eu-west-1:123456789012:queue' };

    // Act
    const act = () => loadConfig(env);

    // Assess
    expect(act).toThrow(
      'Invalid environment variables: ALMA_WEBHOOK_SECRET_NAME must be an SSM parameter path starting with "/", got "alma-webhook-secret"; ' +
        'LOAN_CREATED_TOPIC_ARN must be an SNS topic ARN, got "arn:aws:sqs:eu-west-1:123456789012:queue"',
    );
  });
});
