import { ConfigurationError } from '@alma-cache/aws-adapters';
import { loadConfig } from '../../src/config';

describe('Function: loadConfig', () => {
  it('names the missing topic variable', () => {
    // Act
    const act = () => loadConfig({});

    // Assess
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow('Missing environment variables: CHANGE_TOPIC_ARN');
  });

  it('refuses a value that is not an SNS topic ARN, such as a queue URL', () => {
    // Act
    const act = () => loadConfig({ CHANGE_TOPIC_ARN: 'https://sqs.eu-west-1.amazonaws.com/000000000000/changes' });

    // Assess
    expect(act).toThrow('CHANGE_TOPIC_ARN is not an SNS topic ARN: "https://sqs.eu-west-1.amazonaws.com/000000000000/changes"');
  });

  it('reads the topic ARN', () => {
    // Act
    const config = loadConfig({ CHANGE_TOPIC_ARN: ' arn:aws:sns:eu-west-1:000000000000:alma-cache-stg-cache-changes ' });

    // Assess
    expect(config).toEqual({ changeTopicArn: 'arn:aws:sns:eu-west-1:000000000000:alma-cache-stg-cache-changes' });
  });
});
