import { CloudFormationClient, DescribeStackResourcesCommand, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import type { AlmaEventType } from '@alma-cache/cache-domain';
import { startMoto, type MotoServer } from '@alma-cache/local-aws';
import { childEnv, EVENTS, namesFor, NX_BIN, REGION, runNode, tail, topicEnv, type RunResult } from './support';

// The `deploy` and `remove` Nx targets run for real against moto: bundle, osls deploy (S3 upload, CloudFormation
// with moto's template validation), then osls remove. Moto creates the function, its role and the log groups but
// skips the ApiGatewayV2 resources and never runs the function; template.spec.ts checks the API in the template, and
// the HTTP specs run the handler behind the local HTTP API server.

const DEPLOY_TIMEOUT_MS = 300_000;
const REMOVE_TIMEOUT_MS = 180_000;
const names = namesFor('stg');
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

describe('Deploy: webhook-receiver', () => {
  let moto: MotoServer;
  let childEnvironment: NodeJS.ProcessEnv;
  let deployed: RunResult;
  let stack: Stack;
  let cloudFormation: CloudFormationClient;
  let lambda: LambdaClient;
  const topicArns = new Map<AlmaEventType, string>();

  const describeStack = async () => (await cloudFormation.send(new DescribeStacksCommand({ StackName: names.stack }))).Stacks?.[0];

  beforeAll(async () => {
    // Prepare: a moto of our own, holding the eight topics the receiver publishes to
    moto = await startMoto();
    const config = { endpoint: moto.endpoint, region: REGION, credentials };
    cloudFormation = new CloudFormationClient(config);
    lambda = new LambdaClient(config);
    const sns = new SNSClient(config);
    for (const event of EVENTS) {
      topicArns.set(event, (await sns.send(new CreateTopicCommand({ Name: `alma-${event.toLowerCase().replace(/_/g, '-')}` }))).TopicArn as string);
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
    const built = await runNode([NX_BIN, 'run', 'webhook-receiver:build'], childEnvironment, DEPLOY_TIMEOUT_MS);
    if (built.code !== 0) throw new Error(`build failed (exit ${built.code}):\n${tail(built.output, 60)}`);
    deployed = await runNode(
      [NX_BIN, 'run', 'webhook-receiver:deploy', '--stage=stg', '--excludeTaskDependencies'],
      childEnvironment,
      DEPLOY_TIMEOUT_MS,
    );
    const oslsSeconds = /Service deployed to stack \S+ \((\d+)s\)/.exec(deployed.output)?.[1] ?? '?';
    console.log(`nx run webhook-receiver:deploy --stage=stg took ${(deployed.ms / 1000).toFixed(1)} s, osls deploy ${oslsSeconds} s`);
    if (deployed.code !== 0) throw new Error(`deploy failed (exit ${deployed.code}):\n${tail(deployed.output, 60)}`);
    stack = (await describeStack()) as Stack;
  }, DEPLOY_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    for (const client of [cloudFormation, lambda]) client?.destroy();
    await moto?.stop();
  });

  it('creates the stack, its template passing validation', () => {
    // Assess
    expect(deployed.output).toContain(`Service deployed to stack ${names.stack}`);
    expect(stack.StackStatus).toMatch(/^(CREATE|UPDATE)_COMPLETE$/);
  });

  it('creates the function on nodejs22.x with its own role, the eight topics and the secret name', async () => {
    // Act
    const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: names.function }));

    // Assess
    expect(configuration).toMatchObject({ Runtime: 'nodejs22.x', Handler: 'index.handler', Timeout: 5, MemorySize: 256 });
    expect(configuration.Role).toMatch(/:role\/alma-cache-webhooks-stg-ReceiveWebhookRole-/);
    expect(configuration.Environment?.Variables).toMatchObject({
      ALMA_WEBHOOK_SECRET_NAME: names.defaultSecretName,
      ...Object.fromEntries(EVENTS.map((event) => [`${event}_TOPIC_ARN`, topicArns.get(event)])),
    });
  });

  it('creates the log groups of the function and of the HTTP API access logs', async () => {
    // Act
    const { StackResources = [] } = await cloudFormation.send(new DescribeStackResourcesCommand({ StackName: names.stack }));

    // Assess
    const logGroups = StackResources.filter((resource) => resource.ResourceType === 'AWS::Logs::LogGroup').map(
      (resource) => resource.PhysicalResourceId,
    );
    expect(logGroups.sort()).toEqual([names.accessLogGroup, `/aws/lambda/${names.function}`].sort());
  });

  it(
    'removes the stack and what it created through `nx run webhook-receiver:remove`',
    async () => {
      // Act
      const removed = await runNode(
        [NX_BIN, 'run', 'webhook-receiver:remove', '--stage=stg', '--excludeTaskDependencies'],
        childEnvironment,
        REMOVE_TIMEOUT_MS,
      );
      console.log(`nx run webhook-receiver:remove --stage=stg took ${(removed.ms / 1000).toFixed(1)} s`);

      // Assess
      if (removed.code !== 0) throw new Error(`remove failed (exit ${removed.code}):\n${tail(removed.output, 60)}`);
      await expect(describeStack()).rejects.toThrow(/does not exist/);
      await expect(lambda.send(new GetFunctionConfigurationCommand({ FunctionName: names.function }))).rejects.toThrow();
    },
    REMOVE_TIMEOUT_MS + 30_000,
  );
});
