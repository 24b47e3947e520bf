import { CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetFunctionConfigurationCommand, LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startMoto, type MotoServer } from '@alma-cache/local-aws';
import { childEnv, FUNCTIONS, namesFor, NX_BIN, overrideEnv, REGION, runNode, tail, type RunResult } from './support';

// `nx run refresh-lambdas:deploy` and `:remove` for real against moto, with the cache-update stack's resources named through
// the per-stage override variables. Not through its exports: moto 5.2.1 records a stack's exports only when
// CreateStack makes them, and osls creates a stack with its deployment bucket alone and adds the rest with
// UpdateStack, so a cache-update stack deployed to moto exports nothing (tried: "No export named alma-cache-stg-UsersTableName
// found"). Deploying the cache-update stack here would also package apps/sns-lambdas/.serverless while its own deploy spec
// may. So the cache-update stack's Users queue is made directly, under its real name; template.spec.ts checks the
// Fn::ImportValue path, and what moto ignores (reserved concurrency, scaling config, TTL).

const DEPLOY_TIMEOUT_MS = 300_000;
const REMOVE_TIMEOUT_MS = 180_000;
const names = namesFor('stg');
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
/** What the cache-update stack (apps/sns-lambdas) names its resources for stage stg. */
const CACHE_UPDATE = {
  usersQueue: 'alma-cache-stg-users',
  usersTable: 'alma-cache-stg-users',
  loansTable: 'alma-cache-stg-loans',
  requestsTable: 'alma-cache-stg-requests',
};

describe('Deploy: refresh-lambdas', () => {
  let moto: MotoServer;
  let childEnvironment: NodeJS.ProcessEnv;
  let deployed: RunResult;
  let stack: Stack;
  let usersQueueUrl: string;
  let usersQueueArn: string;
  let usersDeadLetterQueueArn: string;
  let cloudFormation: CloudFormationClient;
  let dynamodb: DynamoDBClient;
  let sqs: SQSClient;
  let lambda: LambdaClient;

  const outputOf = (of: Stack, key: string) => {
    const value = of.Outputs?.find((o) => o.OutputKey === key)?.OutputValue;
    if (!value) throw new Error(`stack output ${key} missing; outputs: ${JSON.stringify(of.Outputs)}`);
    return value;
  };
  const queueAttributes = async (queueUrl: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }))).Attributes ?? {};
  const describeStack = async (name: string) => (await cloudFormation.send(new DescribeStacksCommand({ StackName: name }))).Stacks?.[0];

  beforeAll(async () => {
    // Prepare: a moto of our own, holding the cache-update stack's Users queue as the cache-update stack names it
    moto = await startMoto();
    const config = { endpoint: moto.endpoint, region: REGION, credentials };
    cloudFormation = new CloudFormationClient(config);
    dynamodb = new DynamoDBClient(config);
    sqs = new SQSClient({ ...config, useQueueUrlAsEndpoint: false });
    lambda = new LambdaClient(config);
    usersQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: CACHE_UPDATE.usersQueue }))).QueueUrl as string;
    usersQueueArn = (await queueAttributes(usersQueueUrl))['QueueArn'] as string;
    const usersDeadLetterQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${CACHE_UPDATE.usersQueue}-dlq` }))).QueueUrl as string;
    usersDeadLetterQueueArn = (await queueAttributes(usersDeadLetterQueueUrl))['QueueArn'] as string;
    childEnvironment = childEnv({
      ...overrideEnv('stg', {
        usersQueueArn,
        usersDeadLetterQueueArn,
        usersTable: CACHE_UPDATE.usersTable,
        loansTable: CACHE_UPDATE.loansTable,
        requestsTable: CACHE_UPDATE.requestsTable,
      }),
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: REGION,
    });

    // Act
    // This stack alone: its `deploy` target also runs the preflight and deploys the stacks it reads from first (the
    // whole system is tools/system's test), so build it, then deploy it without its task dependencies.
    const built = await runNode([NX_BIN, 'run', 'refresh-lambdas:build'], childEnvironment, DEPLOY_TIMEOUT_MS);
    if (built.code !== 0) throw new Error(`build failed (exit ${built.code}):\n${tail(built.output, 60)}`);
    deployed = await runNode(
      [NX_BIN, 'run', 'refresh-lambdas:deploy', '--stage=stg', '--excludeTaskDependencies'],
      childEnvironment,
      DEPLOY_TIMEOUT_MS,
    );
    const oslsSeconds = /Service deployed to stack \S+ \((\d+)s\)/.exec(deployed.output)?.[1] ?? '?';
    console.log(`nx run refresh-lambdas:deploy --stage=stg took ${(deployed.ms / 1000).toFixed(1)} s (osls deploy ${oslsSeconds} s)`);
    if (deployed.code !== 0) throw new Error(`deploy failed (exit ${deployed.code}):\n${tail(deployed.output, 60)}`);
    stack = (await describeStack(names.stack)) as Stack;
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

  it('creates the Fees table, named in the stack outputs', async () => {
    // Assess
    expect(outputOf(stack, 'FeesTableName')).toBe(names.feesTable);
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: names.feesTable }));
    expect({ status: Table?.TableStatus, keys: Table?.KeySchema, billing: Table?.BillingModeSummary?.BillingMode }).toEqual({
      status: 'ACTIVE',
      keys: [{ AttributeName: 'fee_id', KeyType: 'HASH' }],
      billing: 'PAY_PER_REQUEST',
    });
  });

  it('creates the Loans, Requests and Fees queues, each redriving to its DLQ after 3 receives', async () => {
    // Assess
    for (const [queue, prefix] of [
      ['loans', 'Loans'],
      ['requests', 'Requests'],
      ['fees', 'Fees'],
    ] as const) {
      const main = await queueAttributes(outputOf(stack, `${prefix}QueueUrl`));
      const dlq = await queueAttributes(outputOf(stack, `${prefix}DeadLetterQueueUrl`));
      expect(main['QueueArn']).toBe(outputOf(stack, `${prefix}QueueArn`));
      expect(main['QueueArn']).toMatch(new RegExp(`:${names.queues[queue]}$`));
      expect(main['VisibilityTimeout']).toBe('370');
      expect(JSON.parse(main['RedrivePolicy'] ?? '{}')).toEqual({ deadLetterTargetArn: dlq['QueueArn'], maxReceiveCount: 3 });
      expect(dlq['MessageRetentionPeriod']).toBe('1209600');
    }
  });

  it("wires the four functions to the cache-update stack's tables and each to its own queue's DLQ", async () => {
    // Assess
    const deadLetterQueueOf = {
      'update-user': usersDeadLetterQueueArn,
      'update-loan': (await queueAttributes(outputOf(stack, 'LoansDeadLetterQueueUrl')))['QueueArn'],
      'update-request': (await queueAttributes(outputOf(stack, 'RequestsDeadLetterQueueUrl')))['QueueArn'],
      'update-fee': (await queueAttributes(outputOf(stack, 'FeesDeadLetterQueueUrl')))['QueueArn'],
    };
    for (const fn of FUNCTIONS) {
      const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: names.function(fn) }));
      expect({ fn, runtime: configuration.Runtime, env: configuration.Environment?.Variables }).toEqual({
        fn,
        runtime: 'nodejs22.x',
        env: expect.objectContaining({
          USER_CACHE_TABLE_NAME: CACHE_UPDATE.usersTable,
          LOAN_CACHE_TABLE_NAME: CACHE_UPDATE.loansTable,
          REQUEST_CACHE_TABLE_NAME: CACHE_UPDATE.requestsTable,
          FEE_CACHE_TABLE_NAME: names.feesTable,
          ALMA_API_KEY_NAME: names.defaultApiKeyName,
          DEAD_LETTER_QUEUE_ARN: deadLetterQueueOf[fn],
        }),
      });
    }
  });

  it("triggers update-user from the cache-update stack's Users queue and the item functions from their own", async () => {
    // Act: all of them, as moto does not filter by function name
    const { EventSourceMappings = [] } = await lambda.send(new ListEventSourceMappingsCommand({}));

    // Assess
    const bySource = EventSourceMappings.map((mapping) => [mapping.FunctionArn?.split(':').pop(), mapping.EventSourceArn, mapping.BatchSize]);
    expect(bySource).toContainEqual([names.function('update-user'), usersQueueArn, 5]);
    expect(bySource).toContainEqual([names.function('update-loan'), outputOf(stack, 'LoansQueueArn'), 5]);
    expect(bySource).toHaveLength(FUNCTIONS.length);
  });

  it(
    'removes the stack and what it created through `nx run refresh-lambdas:remove`',
    async () => {
      // Act
      const removed = await runNode(
        [NX_BIN, 'run', 'refresh-lambdas:remove', '--stage=stg', '--excludeTaskDependencies'],
        childEnvironment,
        REMOVE_TIMEOUT_MS,
      );
      console.log(`nx run refresh-lambdas:remove --stage=stg took ${(removed.ms / 1000).toFixed(1)} s`);

      // Assess
      if (removed.code !== 0) throw new Error(`remove failed (exit ${removed.code}):\n${tail(removed.output, 60)}`);
      await expect(describeStack(names.stack)).rejects.toThrow(/does not exist/);
      await expect(dynamodb.send(new DescribeTableCommand({ TableName: names.feesTable }))).rejects.toThrow(/not found|ResourceNotFound/i);
      await expect(lambda.send(new GetFunctionConfigurationCommand({ FunctionName: names.function('update-user') }))).rejects.toThrow();
      // The cache-update stack's queue is not this stack's to remove.
      expect((await queueAttributes(usersQueueUrl))['QueueArn']).toBe(usersQueueArn);
    },
    REMOVE_TIMEOUT_MS + 30_000,
  );
});
