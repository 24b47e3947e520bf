import { checkDeployInputs, formatProblems } from '../../preflight';

// The preflight's rules, with the SSM lookup as a function; the system deploy test runs it against moto for real.

const COMPLETE = { QUERY_API_JWT_ISSUER_STG: 'https://login.example.org/', QUERY_API_JWT_AUDIENCE_STG: 'alma-cache' };
const everyParameter = async () => true;

describe('Function: checkDeployInputs', () => {
  it('passes a stage with the JWT settings and the three SSM parameters', async () => {
    // Act
    const problems = await checkDeployInputs('stg', COMPLETE, everyParameter);

    // Assess
    expect(problems).toEqual([]);
  });

  it('names every missing input at once, each with what it is for and the fix', async () => {
    // Prepare
    const asked: string[] = [];

    // Act
    const problems = await checkDeployInputs('prod', {}, async (name) => {
      asked.push(name);
      return false;
    });

    // Assess
    expect(problems.map((p) => [p.name, p.problem])).toEqual([
      ['QUERY_API_JWT_ISSUER_PROD', 'not set'],
      ['QUERY_API_JWT_AUDIENCE_PROD', 'not set'],
      ['/alma-cache/prod/alma-api-key', 'no such SSM parameter'],
      ['/alma-cache/prod/alma-webhook-secret', 'no such SSM parameter'],
      ['/alma-cache/prod/query-log-pepper', 'no such SSM parameter'],
    ]);
    expect(asked).toEqual(['/alma-cache/prod/alma-api-key', '/alma-cache/prod/alma-webhook-secret', '/alma-cache/prod/query-log-pepper']);
    for (const problem of problems) expect(problem.purpose.length).toBeGreaterThan(20);
    expect(problems[2]?.fix).toBe("aws ssm put-parameter --type SecureString --name /alma-cache/prod/alma-api-key --value '<value>'");
  });

  it('checks the parameters the variables name, and refuses names that are not paths without asking SSM', async () => {
    // Prepare
    const asked: string[] = [];

    // Act
    const problems = await checkDeployInputs(
      'stg',
      { ...COMPLETE, ALMA_API_KEY_NAME: '/legacy/alma-key', ALMA_WEBHOOK_SECRET_NAME: 'no-slash' },
      async (name) => {
        asked.push(name);
        return true;
      },
    );

    // Assess
    expect(asked).toEqual(['/legacy/alma-key', '/alma-cache/stg/query-log-pepper']);
    expect(problems.map((p) => [p.name, p.problem])).toEqual([['no-slash', 'ALMA_WEBHOOK_SECRET_NAME must be a path starting with "/"']]);
  });

  it('refuses an issuer that is not https and an override that is not an ARN, and reports an SSM it cannot reach', async () => {
    // Act
    const problems = await checkDeployInputs(
      'stg',
      {
        ...COMPLETE,
        QUERY_API_JWT_ISSUER_STG: 'http://login.example.org',
        LOAN_CREATED_TOPIC_ARN_STG: 'loan-created',
        USER_QUEUE_ARN_STG: 'arn:aws:sqs:eu-west-1:123456789012:users',
      },
      async () => {
        throw new Error('Could not load credentials from any providers');
      },
    );

    // Assess
    expect(problems.map((p) => [p.name, p.problem])).toEqual([
      ['QUERY_API_JWT_ISSUER_STG', '"http://login.example.org" is not an https URL'],
      ['/alma-cache/stg/alma-api-key', 'could not be checked: Could not load credentials from any providers'],
      ['/alma-cache/stg/alma-webhook-secret', 'could not be checked: Could not load credentials from any providers'],
      ['/alma-cache/stg/query-log-pepper', 'could not be checked: Could not load credentials from any providers'],
      ['LOAN_CREATED_TOPIC_ARN_STG', '"loan-created" is not an SNS, SQS or DynamoDB ARN'],
    ]);
  });
});

describe('Function: formatProblems', () => {
  it('prints one message: the count, then each input with its problem, purpose and fix', async () => {
    // Prepare
    const problems = await checkDeployInputs('stg', { QUERY_API_JWT_ISSUER_STG: 'https://login.example.org/' }, everyParameter);

    // Act
    const message = formatProblems('stg', problems);

    // Assess
    expect(message.split('\n')).toEqual([
      'preflight (stage stg): 1 input missing or wrong; nothing was deployed.',
      '  - QUERY_API_JWT_AUDIENCE_STG: not set',
      "      for: the query API's JWT authorizer: the audience (aud claim, or client id) the library's apps' tokens carry",
      '      fix: export QUERY_API_JWT_AUDIENCE_STG=<audience>',
    ]);
  });
});
