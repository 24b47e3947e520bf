import { CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetFunctionConfigurationCommand, LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { GetTopicAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type MotoServer, startMoto } from '@alma-cache/local-aws';
import { childEnv, namesFor, NX_BIN, REGION, runNode, type RunResult, STREAMED_TABLES, type StreamedTable, streamEnvName, tail } from './support';

// The `deploy` and `remove` Nx targets run for real against moto: bundle, osls deploy (S3 upload, CloudFormation),
// then osls remove. The cache-update stack is not deployed here: the stream variables name two streamed tables
// created in moto (moto's Lambda wants the table of a mapped stream in its own DynamoDB). Moto never runs the
// function; the integration spec (tests/integration) runs it against real streams.

const DEPLOY_TIMEOUT_MS = 300_000;
const REMOVE_TIMEOUT_MS = 180_000;
const names = namesFor('stg');
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

describe('Deploy: change-lambdas', () => {
  let moto: MotoServer;
  let childEnvironment: NodeJS.ProcessEnv;
  let deployed: RunResult;
  let stack: Stack;
  let cloudFormation: CloudFormationClient;
  let lambda: LambdaClient;
  const streamArns = {} as Record<StreamedTable, string>;

  const output = (key: string) => {
    const value = stack.Outputs?.find((o) => o.OutputKey === key)?.OutputValue;
    if (!value) throw new Error(`stack output ${key} missing; outputs: ${JSON.stringify(stack.Outputs)}`);
    return value;
  };
  const describeStack = async () => (await cloudFormation.send(new DescribeStacksCommand({ StackName: names.stack }))).Stacks?.[0];

  beforeAll(async () => {
    // Prepare: a moto of our own, holding two streamed tables in place of the cache-update stack's
    moto = await startMoto();
    const config = { endpoint: moto.endpoint, region: REGION, credentials };
    cloudFormation = new CloudFormationClient(config);
    lambda = new LambdaClient(config);
    const dynamodb = new DynamoDBClient(config);
    for (const table of STREAMED_TABLES) {
      const key = table === 'loans' ? 'loan_id' : 'request_id';
      const { TableDescription } = await dynamodb.send(
        new CreateTableCommand({
          TableName: `alma-cache-stg-${table}`,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
          StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
        }),
      );
      streamArns[table] = TableDescription?.LatestStreamArn as string;
    }
    dynamodb.destroy();
    childEnvironment = childEnv({
      ...Object.fromEntries(STREAMED_TABLES.map((table) => [streamEnvName(table, 'stg'), streamArns[table]])),
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: REGION,
    });

    // Act
    // This stack alone: its `deploy` target also runs the preflight and deploys the stacks it reads from first (the
    // whole system is tools/system's test), so build it, then deploy it without its task dependencies.
    const built = await runNode([NX_BIN, 'run', 'change-lambdas:build'], childEnvironment, DEPLOY_TIMEOUT_MS);
    if (built.code !== 0) throw new Error(`build failed (exit ${built.code}):\n${tail(built.output, 60)}`);
    deployed = await runNode(
      [NX_BIN, 'run', 'change-lambdas:deploy', '--stage=stg', '--excludeTaskDependencies'],
      childEnvironment,
      DEPLOY_TIMEOUT_MS,
    );
    console.log(`nx run change-lambdas:deploy --stage=stg took ${(deployed.ms / 1000).toFixed(1)} s`);
    if (deployed.code !== 0) throw new Error(`deploy failed (exit ${deployed.code}):\n${tail(deployed.output, 60)}`);
    stack = (await describeStack()) as Stack;
  }, DEPLOY_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    for (const client of [cloudFormation, lambda]) client?.destroy();
    await moto?.stop();
  });

  it('creates the stack with the cache-changes topic and the failure queue in its outputs', async () => {
    // Prepare
    const sns = new SNSClient({ endpoint: moto.endpoint, region: REGION, credentials });
    const sqs = new SQSClient({ endpoint: moto.endpoint, region: REGION, credentials, useQueueUrlAsEndpoint: false });

    // Act
    const topic = await sns.send(new GetTopicAttributesCommand({ TopicArn: output('CacheChangesTopicArn') }));
    const queue = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: output('ChangeFailureQueueUrl'), AttributeNames: ['All'] }));
    sns.destroy();
    sqs.destroy();

    // Assess
    expect(stack.StackStatus).toMatch(/^(CREATE|UPDATE)_COMPLETE$/);
    expect(output('CacheChangesTopicArn')).toMatch(new RegExp(`:${names.topic}$`));
    expect(topic.Attributes?.['TopicArn']).toBe(output('CacheChangesTopicArn'));
    expect(queue.Attributes?.['QueueArn']).toBe(output('ChangeFailureQueueArn'));
    expect(queue.Attributes?.['MessageRetentionPeriod']).toBe('1209600');
  });

  it('creates the function with the topic in its environment, mapped to both table streams as the template says', async () => {
    // Act
    const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: names.function }));
    // Listed unfiltered: moto matches the FunctionName filter only against the name CloudFormation gave it (an ARN).
    const { EventSourceMappings: all = [] } = await lambda.send(new ListEventSourceMappingsCommand({}));
    const EventSourceMappings = all.filter((mapping) => mapping.FunctionArn === configuration.FunctionArn);

    // Assess
    expect({ runtime: configuration.Runtime, handler: configuration.Handler }).toEqual({ runtime: 'nodejs22.x', handler: 'index.handler' });
    expect(configuration.Environment?.Variables?.['CHANGE_TOPIC_ARN']).toBe(output('CacheChangesTopicArn'));
    expect(EventSourceMappings.map((mapping) => mapping.EventSourceArn).sort()).toEqual(STREAMED_TABLES.map((table) => streamArns[table]).sort());
    for (const mapping of EventSourceMappings) {
      expect(mapping).toMatchObject({
        State: 'Enabled',
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 100,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 10,
        MaximumRecordAgeInSeconds: 21600,
        DestinationConfig: { OnFailure: { Destination: output('ChangeFailureQueueArn') } },
      });
    }
  });

  it(
    'removes the stack through `nx run change-lambdas:remove`',
    async () => {
      // Act
      const removed = await runNode(
        [NX_BIN, 'run', 'change-lambdas:remove', '--stage=stg', '--excludeTaskDependencies'],
        childEnvironment,
        REMOVE_TIMEOUT_MS,
      );
      console.log(`nx run change-lambdas:remove --stage=stg took ${(removed.ms / 1000).toFixed(1)} s`);

      // Assess
      if (removed.code !== 0) throw new Error(`remove failed (exit ${removed.code}):\n${tail(removed.output, 60)}`);
      await expect(describeStack()).rejects.toThrow(/does not exist/);
      await expect(lambda.send(new GetFunctionConfigurationCommand({ FunctionName: names.function }))).rejects.toThrow();
    },
    REMOVE_TIMEOUT_MS + 30_000,
  );
});
