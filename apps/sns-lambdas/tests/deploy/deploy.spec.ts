import { CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startMoto, type MotoServer } from '@alma-cache/local-aws';
import { childEnv, EVENTS, FUNCTIONS, namesFor, NX_BIN, REGION, runNode, tail, topicEnv, type AlmaEvent, type RunResult } from './support';

// The `deploy` and `remove` Nx targets run for real against moto: bundle, osls deploy (S3 upload,
// CloudFormation), then osls remove. Moto creates no SQS event source mapping from a template (ListEventSourceMappings
// is empty), skips TTL and never runs the functions; template.spec.ts checks those in the template instead.

const DEPLOY_TIMEOUT_MS = 300_000;
const REMOVE_TIMEOUT_MS = 180_000;
const names = namesFor('stg');
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
/** `loan-updated` → `LoanUpdated`, the prefix of its queues' outputs. */
const pascal = (fn: string) => fn.replace(/(^|-)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());

describe('Deploy: sns-lambdas', () => {
  let moto: MotoServer;
  let childEnvironment: NodeJS.ProcessEnv;
  let deployed: RunResult;
  let stack: Stack;
  let cloudFormation: CloudFormationClient;
  let dynamodb: DynamoDBClient;
  let sqs: SQSClient;
  let lambda: LambdaClient;

  const output = (key: string) => {
    const value = stack.Outputs?.find((o) => o.OutputKey === key)?.OutputValue;
    if (!value) throw new Error(`stack output ${key} missing; outputs: ${JSON.stringify(stack.Outputs)}`);
    return value;
  };
  const queueAttributes = async (queueUrl: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }))).Attributes ?? {};
  const describeStack = async () => (await cloudFormation.send(new DescribeStacksCommand({ StackName: names.stack }))).Stacks?.[0];

  beforeAll(async () => {
    // Prepare: a moto of our own, holding the eight topics the stack subscribes to
    moto = await startMoto();
    const config = { endpoint: moto.endpoint, region: REGION, credentials };
    cloudFormation = new CloudFormationClient(config);
    dynamodb = new DynamoDBClient(config);
    // moto's queue URLs name the real AWS host: send to the configured endpoint instead.
    sqs = new SQSClient({ ...config, useQueueUrlAsEndpoint: false });
    lambda = new LambdaClient(config);
    const sns = new SNSClient(config);
    const topicArns = new Map<AlmaEvent, string>();
    for (const event of EVENTS) {
      const created = await sns.send(new CreateTopicCommand({ Name: `alma-${event.toLowerCase().replace(/_/g, '-')}` }));
      topicArns.set(event, created.TopicArn as string);
    }
    sns.destroy();
    childEnvironment = childEnv({
      ...topicEnv('stg', (event) => topicArns.get(event) as string),
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: REGION,
    });

    // Act
    // This stack alone: its `deploy` target also runs the preflight and deploys the stacks it reads from first (the
    // whole system is tools/system's test), so build it, then deploy it without its task dependencies.
    const built = await runNode([NX_BIN, 'run', 'sns-lambdas:build'], childEnvironment, DEPLOY_TIMEOUT_MS);
    if (built.code !== 0) throw new Error(`build failed (exit ${built.code}):\n${tail(built.output, 60)}`);
    deployed = await runNode([NX_BIN, 'run', 'sns-lambdas:deploy', '--stage=stg', '--excludeTaskDependencies'], childEnvironment, DEPLOY_TIMEOUT_MS);
    const oslsSeconds = /Service deployed to stack \S+ \((\d+)s\)/.exec(deployed.output)?.[1] ?? '?';
    const buildCached = /sns-lambdas:build\s+\[(local|remote) cache\]|existing outputs match the cache/.test(built.output);
    console.log(
      `nx run sns-lambdas:deploy --stage=stg took ${(deployed.ms / 1000).toFixed(1)} s: ` +
        `build ${buildCached ? 'from the Nx cache' : 'run'}, osls deploy ${oslsSeconds} s`,
    );
    if (deployed.code !== 0) throw new Error(`deploy failed (exit ${deployed.code}):\n${tail(deployed.output, 60)}`);
    stack = (await describeStack()) as Stack;
  }, DEPLOY_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    for (const client of [cloudFormation, dynamodb, sqs, lambda]) client?.destroy();
    await moto?.stop();
  });

  it('creates the stack', () => {
    // Assess
    expect(deployed.output).toContain(`Service deployed to stack ${names.stack}`);
    expect(stack.StackStatus).toMatch(/^(CREATE|UPDATE)_COMPLETE$/);
  });

  it('creates the four cache tables, named in the stack outputs', async () => {
    // Assess
    const expected: Record<string, [string, string]> = {
      UsersTableName: [names.tables.users, 'primary_id'],
      LoansTableName: [names.tables.loans, 'loan_id'],
      RequestsTableName: [names.tables.requests, 'request_id'],
      UserRefreshClaimsTableName: [names.tables.userRefreshClaims, 'primary_id'],
    };
    for (const [outputKey, [tableName, key]] of Object.entries(expected)) {
      expect(output(outputKey)).toBe(tableName);
      const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
      expect({ tableName, status: Table?.TableStatus, keys: Table?.KeySchema }).toEqual({
        tableName,
        status: 'ACTIVE',
        keys: [{ AttributeName: key, KeyType: 'HASH' }],
      });
      expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    }
  });

  it('creates the Users queue with its DLQ, and the failure queue', async () => {
    // Assess
    const users = await queueAttributes(output('UsersQueueUrl'));
    const dlq = await queueAttributes(output('UsersDeadLetterQueueUrl'));
    const failures = await queueAttributes(output('FailureQueueUrl'));
    expect(users['QueueArn']).toBe(output('UsersQueueArn'));
    expect(output('UsersQueueUrl')).toMatch(new RegExp(`/${names.queues.users}$`));
    expect(JSON.parse(users['RedrivePolicy'] ?? '{}')).toEqual({ deadLetterTargetArn: dlq['QueueArn'], maxReceiveCount: 3 });
    expect(dlq['QueueArn']).toMatch(new RegExp(`:${names.queues.usersDlq}$`));
    expect(dlq['MessageRetentionPeriod']).toBe('1209600');
    expect(failures['QueueArn']).toBe(output('FailureQueueArn'));
    expect(failures['QueueArn']).toMatch(new RegExp(`:${names.queues.failures}$`));
    expect(failures['MessageRetentionPeriod']).toBe('1209600');
  });

  it("reads each function from its own queue: redriven to its own DLQ after 12 receives, both kept 14 days, the DLQ's ARN and the queue's URL in the function's environment", async () => {
    // Assess
    for (const fn of FUNCTIONS) {
      const queue = await queueAttributes(output(`${pascal(fn)}QueueUrl`));
      const dlq = await queueAttributes(output(`${pascal(fn)}DeadLetterQueueUrl`));
      expect({ fn, arn: queue['QueueArn'], dlq: dlq['QueueArn'] }).toEqual({
        fn,
        arn: expect.stringMatching(new RegExp(`:alma-cache-stg-${fn}$`)),
        dlq: expect.stringMatching(new RegExp(`:alma-cache-stg-${fn}-dlq$`)),
      });
      expect(JSON.parse(queue['RedrivePolicy'] ?? '{}')).toEqual({ deadLetterTargetArn: dlq['QueueArn'], maxReceiveCount: 12 });
      expect([queue['MessageRetentionPeriod'], dlq['MessageRetentionPeriod'], queue['VisibilityTimeout']]).toEqual(['1209600', '1209600', '70']);
      const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: names.function(fn) }));
      expect(configuration.Environment?.Variables?.['DEAD_LETTER_QUEUE_ARN']).toBe(dlq['QueueArn']);
      expect(configuration.Environment?.Variables?.['SOURCE_QUEUE_URL']).toBe(output(`${pascal(fn)}QueueUrl`));
    }
  });

  it('creates the four functions on nodejs22.x, wired to the tables and the Users queue, not to the failure queue', async () => {
    // Assess
    for (const fn of FUNCTIONS) {
      const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: names.function(fn) }));
      expect({ fn, runtime: configuration.Runtime, handler: configuration.Handler }).toEqual({
        fn,
        runtime: 'nodejs22.x',
        handler: 'index.handler',
      });
      expect(configuration.Environment?.Variables).toMatchObject({
        USER_CACHE_TABLE_NAME: names.tables.users,
        LOAN_CACHE_TABLE_NAME: names.tables.loans,
        REQUEST_CACHE_TABLE_NAME: names.tables.requests,
        USER_REFRESH_CLAIM_TABLE_NAME: names.tables.userRefreshClaims,
        USER_QUEUE_URL: output('UsersQueueUrl'),
      });
      expect(configuration.Environment?.Variables).not.toHaveProperty('FAILURE_QUEUE_URL');
    }
  });

  it(
    'removes the stack and what it created through `nx run sns-lambdas:remove`',
    async () => {
      // Act
      const removed = await runNode(
        [NX_BIN, 'run', 'sns-lambdas:remove', '--stage=stg', '--excludeTaskDependencies'],
        childEnvironment,
        REMOVE_TIMEOUT_MS,
      );
      console.log(`nx run sns-lambdas:remove --stage=stg took ${(removed.ms / 1000).toFixed(1)} s`);

      // Assess
      if (removed.code !== 0) throw new Error(`remove failed (exit ${removed.code}):\n${tail(removed.output, 60)}`);
      await expect(describeStack()).rejects.toThrow(/does not exist/);
      await expect(dynamodb.send(new DescribeTableCommand({ TableName: names.tables.users }))).rejects.toThrow(/not found|ResourceNotFound/i);
      await expect(lambda.send(new GetFunctionConfigurationCommand({ FunctionName: names.function('loan-updated') }))).rejects.toThrow();
    },
    REMOVE_TIMEOUT_MS + 30_000,
  );
});
