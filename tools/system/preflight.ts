import { CROSS_STACK_VALUES, type Stage } from './stacks';

/** One input the system's deploy needs, and what it is for. */
export interface RequiredInput {
  readonly name: string;
  readonly kind: 'variable' | 'ssm-parameter';
  readonly purpose: string;
}

/** What is wrong with one input; `fix` says what to do. */
export interface InputProblem extends RequiredInput {
  readonly problem: string;
  readonly fix: string;
}

/** Whether an SSM parameter exists; throws when it cannot tell (no credentials, no network). */
export type ParameterExists = (name: string) => Promise<boolean>;

const suffixOf = (stage: Stage) => stage.toUpperCase();

/** The SSM parameter names the stacks read, as their serverless.yml defaults them. */
export const parameterNames = (stage: Stage, env: NodeJS.ProcessEnv) => ({
  almaApiKey: env['ALMA_API_KEY_NAME']?.trim() || `/alma-cache/${stage}/alma-api-key`,
  webhookSecret: env['ALMA_WEBHOOK_SECRET_NAME']?.trim() || `/alma-cache/${stage}/alma-webhook-secret`,
  queryLogPepper: env['QUERY_LOG_PEPPER_NAME']?.trim() || `/alma-cache/${stage}/query-log-pepper`,
});

/**
 * Every input a deploy of the whole system needs, checked at once, so one run names all that is missing: the query
 * API's JWT issuer and audience, the SSM parameters holding the Alma API key, the webhook secret and the query log
 * pepper, and the shape of
 * any override given (an override that is not an ARN would only fail halfway through the deploy).
 *
 * @example
 * const problems = await checkDeployInputs('stg', process.env, async (name) => name === '/alma-cache/stg/alma-api-key');
 * // [{ name: 'QUERY_API_JWT_ISSUER_STG', … }, …]
 */
export const checkDeployInputs = async (stage: Stage, env: NodeJS.ProcessEnv, parameterExists: ParameterExists): Promise<InputProblem[]> => {
  const problems: InputProblem[] = [];
  const suffix = suffixOf(stage);
  const issuerName = `QUERY_API_JWT_ISSUER_${suffix}`;
  const issuer = env[issuerName]?.trim();
  const issuerInput = {
    name: issuerName,
    kind: 'variable',
    purpose: "the query API's JWT authorizer: the identity provider whose access tokens it accepts (the tokens' iss claim)",
  } as const;
  if (!issuer) problems.push({ ...issuerInput, problem: 'not set', fix: `export ${issuerName}=https://<your identity provider>` });
  else if (!/^https:\/\/[^\s/]+/.test(issuer))
    problems.push({ ...issuerInput, problem: `"${issuer}" is not an https URL`, fix: 'API Gateway accepts only an https issuer' });

  const audienceName = `QUERY_API_JWT_AUDIENCE_${suffix}`;
  if (!env[audienceName]?.trim()) {
    problems.push({
      name: audienceName,
      kind: 'variable',
      purpose: "the query API's JWT authorizer: the audience (aud claim, or client id) the library's apps' tokens carry",
      problem: 'not set',
      fix: `export ${audienceName}=<audience>`,
    });
  }

  const parameters = parameterNames(stage, env);
  const wanted: [string, string, string][] = [
    [parameters.almaApiKey, 'ALMA_API_KEY_NAME', 'the Alma API key (SecureString), read by the bulk refresh and by the query API on a cache miss'],
    [
      parameters.webhookSecret,
      'ALMA_WEBHOOK_SECRET_NAME',
      "the secret of Alma's webhook integration profile (SecureString), checked on every webhook",
    ],
    [
      parameters.queryLogPepper,
      'QUERY_LOG_PEPPER_NAME',
      "the query API's log pepper (SecureString, e.g. 32 random bytes in base64): the key of the patron id hashes in its log lines, without which every query answers 500",
    ],
  ];
  for (const [name, variable, purpose] of wanted) {
    const input = { name, kind: 'ssm-parameter', purpose } as const;
    if (!name.startsWith('/')) {
      problems.push({ ...input, problem: `${variable} must be a path starting with "/"`, fix: `export ${variable}=/alma-cache/${stage}/…` });
      continue;
    }
    try {
      if (!(await parameterExists(name))) {
        problems.push({
          ...input,
          problem: 'no such SSM parameter',
          fix: `aws ssm put-parameter --type SecureString --name ${name} --value '<value>'`,
        });
      }
    } catch (error) {
      problems.push({ ...input, problem: `could not be checked: ${(error as Error).message}`, fix: 'check the AWS credentials and region' });
    }
  }

  const arnOverrides = [...CROSS_STACK_VALUES.filter((value) => value.override.endsWith('_ARN')).map((value) => value.override), 'ALARM_TOPIC_ARN'];
  for (const override of arnOverrides) {
    const name = `${override}_${suffix}`;
    const value = env[name]?.trim();
    if (value && !/^arn:aws[a-z-]*:(sns|sqs|dynamodb):[a-z0-9-]+:\d{12}:\S+$/.test(value)) {
      problems.push({
        name,
        kind: 'variable',
        purpose: 'an override of a value another stack provides',
        problem: `"${value}" is not an SNS, SQS or DynamoDB ARN`,
        fix: `unset ${name} to use the stack's own`,
      });
    }
  }
  return problems;
};

/**
 * The one message a failed preflight prints: every problem, what the input is for, and the fix.
 *
 * @example
 * console.error(formatProblems('stg', problems));
 */
export const formatProblems = (stage: Stage, problems: readonly InputProblem[]): string =>
  [
    `preflight (stage ${stage}): ${problems.length} input${problems.length === 1 ? '' : 's'} missing or wrong; nothing was deployed.`,
    ...problems.map(
      (p) => `  - ${p.kind === 'ssm-parameter' ? 'SSM parameter ' : ''}${p.name}: ${p.problem}\n      for: ${p.purpose}\n      fix: ${p.fix}`,
    ),
  ].join('\n');
