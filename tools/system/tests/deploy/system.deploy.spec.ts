import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { childEnv, NX_BIN, runNode, startMoto, tail, WORKSPACE_ROOT, type MotoServer, type RunResult } from '@alma-cache/local-aws';
import { spawn } from 'node:child_process';
import { CROSS_STACK_VALUES, SYSTEM_STACKS, stackName, TOPIC_EVENTS } from '../../stacks';

// The README's runbook, run as written against an empty moto account of this test's own: the preflight refusing a
// stage with inputs missing, `npx nx run-many -t deploy --stage=stg` deploying every stack in dependency order (the
// cross-stack values resolved by osls through DescribeStacks), `npm run status`, then `npx nx run-many -t remove`.
// Moto skips SNS subscriptions, EventInvokeConfig and TTL and never runs the functions: the template specs cover those.

const DEPLOY_TIMEOUT_MS = 420_000;
const REMOVE_TIMEOUT_MS = 240_000;
const REGION = 'eu-west-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const stacks = SYSTEM_STACKS.map(({ project }) => ({ project, name: stackName(project, 'stg') }));
const topicName = (event: string) => `alma-cache-stg-${event.toLowerCase().replaceAll('_', '-')}`;
/** Everything that would change what the stacks resolve, so only the test's own inputs count. */
const STACK_INPUTS = [
  ...CROSS_STACK_VALUES.map(({ override }) => new RegExp(`^${override}(_|$)`)),
  /_TOPIC_ARN(_|$)/,
  /^QUERY_API_/,
  /^ALMA_/,
  /^TRACING_/,
  /_ARTIFACT_DIR$/,
];

/** Runs a command of the runbook (npm, not node) as a person would, from the workspace root. */
const runCommand = (command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RunResult> => {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: WORKSPACE_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output, ms: Date.now() - started });
    });
  });
};
const seconds = (result: RunResult) => `${(result.ms / 1000).toFixed(1)} s`;
/** The stacks in the order osls finished deploying (or removing) them. */
const finished = (output: string, pattern: RegExp): string[] => [...output.matchAll(pattern)].map((match) => match[1] as string);

describe('Deploy: the whole system with one command', () => {
  let moto: MotoServer;
  let env: NodeJS.ProcessEnv;
  let refused: RunResult;
  let topicsStackAfterRefusal: string;
  let deployed: RunResult;
  let cloudFormation: CloudFormationClient;
  let sns: SNSClient;
  let lambda: LambdaClient;

  const stackStatus = async (name: string): Promise<string> => {
    try {
      return (await cloudFormation.send(new DescribeStacksCommand({ StackName: name }))).Stacks?.[0]?.StackStatus ?? 'none';
    } catch (error) {
      if (/does not exist/.test((error as Error).message)) return 'none';
      throw error;
    }
  };
  const topicArns = async (): Promise<string[]> => ((await sns.send(new ListTopicsCommand({}))).Topics ?? []).map((topic) => topic.TopicArn ?? '');

  beforeAll(
    async () => {
      // Prepare: an empty moto account; the JWT settings only (the SSM parameters come after the preflight test)
      moto = await startMoto();
      const config = { endpoint: moto.endpoint, region: REGION, credentials };
      cloudFormation = new CloudFormationClient(config);
      sns = new SNSClient(config);
      lambda = new LambdaClient(config);
      const aws = {
        AWS_ENDPOINT_URL: moto.endpoint,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_REGION: REGION,
      };
      const withoutJwt = childEnv({ ...aws, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, STACK_INPUTS);
      env = { ...withoutJwt, QUERY_API_JWT_ISSUER_STG: 'https://login.example.org/', QUERY_API_JWT_AUDIENCE_STG: 'alma-cache' };

      // Act: the one command on a stage with nothing set up
      refused = await runNode([NX_BIN, 'run-many', '-t', 'deploy', '--stage=stg', '--outputStyle=static'], withoutJwt, DEPLOY_TIMEOUT_MS);
      console.log(`[measured] nx run-many -t deploy with no inputs: exit ${refused.code} after ${seconds(refused)}`);
      topicsStackAfterRefusal = await stackStatus(stackName('alma-topics', 'stg'));

      const ssm = new SSMClient(config);
      await ssm.send(new PutParameterCommand({ Name: '/alma-cache/stg/alma-api-key', Type: 'SecureString', Value: 'test-api-key' }));
      await ssm.send(new PutParameterCommand({ Name: '/alma-cache/stg/alma-webhook-secret', Type: 'SecureString', Value: 'test-webhook-secret' }));
      await ssm.send(
        new PutParameterCommand({
          Name: '/alma-cache/stg/query-log-pepper',
          Type: 'SecureString',
          Value: 'dGVzdC1wZXBwZXItMzItYnl0ZXMtb2YtYmFzZTY0IQ==',
        }),
      );
      ssm.destroy();
      deployed = await runNode([NX_BIN, 'run-many', '-t', 'deploy', '--stage=stg', '--outputStyle=static'], env, DEPLOY_TIMEOUT_MS);
      const order = finished(deployed.output, /Service deployed to stack (\S+) \(\d+s\)/g);
      const perStack = [...deployed.output.matchAll(/Service deployed to stack (\S+) \((\d+)s\)/g)].map((m) => `${m[1]} ${m[2]} s`);
      console.log(
        `[measured] npx nx run-many -t deploy --stage=stg: exit ${deployed.code} after ${seconds(deployed)}; osls per stack, in finishing order: ${perStack.join(', ')}`,
      );
      if (deployed.code !== 0) throw new Error(`deploy failed (exit ${deployed.code}):\n${tail(deployed.output, 80)}`);
      expect(order).toHaveLength(stacks.length);
    },
    2 * DEPLOY_TIMEOUT_MS + 60_000,
  );

  afterAll(async () => {
    for (const client of [cloudFormation, sns, lambda]) client?.destroy();
    await moto?.stop();
  });

  it('refuses a stage with inputs missing, naming all of them with what each is for, before any stack exists', async () => {
    // Assess
    expect(refused.code).not.toBe(0);
    const message = refused.output.slice(refused.output.indexOf('preflight (stage stg)'));
    expect(message).toMatch(/^preflight \(stage stg\): 5 inputs missing or wrong; nothing was deployed\./);
    for (const name of [
      'QUERY_API_JWT_ISSUER_STG',
      'QUERY_API_JWT_AUDIENCE_STG',
      'SSM parameter /alma-cache/stg/alma-api-key',
      'SSM parameter /alma-cache/stg/alma-webhook-secret',
      'SSM parameter /alma-cache/stg/query-log-pepper',
    ]) {
      expect(message).toContain(`  - ${name}: `);
    }
    expect(message).toContain('for: the Alma API key');
    expect(refused.output).not.toContain('Service deployed to stack');
    expect(topicsStackAfterRefusal).toBe('none');
  });

  it('deploys every stack, each after the stacks whose outputs it reads', async () => {
    // Act
    const order = finished(deployed.output, /Service deployed to stack (\S+) \(\d+s\)/g);
    const statuses = Object.fromEntries(await Promise.all(stacks.map(async ({ name }) => [name, await stackStatus(name)] as const)));

    // Assess
    console.log(
      `[measured] stacks after deploy: ${Object.entries(statuses)
        .map(([name, status]) => `${name}=${status}`)
        .join(', ')}`,
    );
    for (const { name } of stacks)
      expect({ name, status: statuses[name] }).toEqual({ name, status: expect.stringMatching(/^(CREATE|UPDATE)_COMPLETE$/) });
    for (const { project, dependsOn } of SYSTEM_STACKS) {
      for (const dependency of dependsOn) {
        expect({
          stack: project,
          after: dependency,
          deployedBefore: order.indexOf(stackName(dependency, 'stg')) < order.indexOf(stackName(project, 'stg')),
        }).toEqual({
          stack: project,
          after: dependency,
          deployedBefore: true,
        });
      }
    }
  });

  it("creates the eight topics, and the receiver and the cache update use them, read from the topics stack's outputs", async () => {
    // Act
    const arns = await topicArns();
    const receiver = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'alma-cache-webhooks-stg-receive-webhook' }));

    // Assess
    console.log(
      `[measured] topics after deploy: ${arns
        .filter((arn) => arn.includes(':alma-cache-stg-'))
        .map((arn) => arn.split(':').pop())
        .join(', ')}`,
    );
    for (const event of TOPIC_EVENTS) {
      const arn = arns.find((candidate) => candidate.endsWith(`:${topicName(event)}`));
      expect({ event, arn }).toEqual({ event, arn: expect.stringMatching(/^arn:aws:sns:eu-west-1:\d{12}:/) });
      expect(receiver.Environment?.Variables?.[`${event}_TOPIC_ARN`]).toBe(arn);
    }
  });

  it("wires the later stacks to the earlier stacks' resources through ${cf:…}", async () => {
    // Act
    const query = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'alma-cache-query-stg-query-api' }));
    const refresh = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'alma-cache-refresh-stg-update-user' }));

    // Assess
    expect(query.Environment?.Variables).toMatchObject({
      USER_CACHE_TABLE_NAME: 'alma-cache-stg-users',
      FEE_CACHE_TABLE_NAME: 'alma-cache-stg-fees',
    });
    expect(query.Environment?.Variables?.['USER_QUEUE_URL']).toMatch(/\/alma-cache-stg-users$/);
    expect(refresh.Environment?.Variables).toMatchObject({
      USER_CACHE_TABLE_NAME: 'alma-cache-stg-users',
      LOAN_CACHE_TABLE_NAME: 'alma-cache-stg-loans',
    });
  });

  it('`npm run status` prints the two URLs and every stack healthy, then an alarm and a dead letter once there are some', async () => {
    // Act
    const healthy = await runCommand('npm', ['run', '--silent', 'status', '--', '--stage', 'stg'], env, 60_000);
    const sqs = new SQSClient({ endpoint: moto.endpoint, region: REGION, credentials, useQueueUrlAsEndpoint: false });
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'alma-cache-stg-users-dlq' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'PAT0042X' }));
    sqs.destroy();
    const cloudWatch = new CloudWatchClient({ endpoint: moto.endpoint, region: REGION, credentials });
    // moto 5.2.1 creates no AWS::CloudWatch::Alarm from a template: put this one as the sns-lambdas template declares it.
    await cloudWatch.send(
      new PutMetricAlarmCommand({
        AlarmName: 'alma-cache-stg-users-dlq-not-empty',
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: 'alma-cache-stg-users-dlq' }],
        Statistic: 'Maximum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      }),
    );
    await cloudWatch.send(new SetAlarmStateCommand({ AlarmName: 'alma-cache-stg-users-dlq-not-empty', StateValue: 'ALARM', StateReason: 'test' }));
    cloudWatch.destroy();
    const attention = await runCommand('npm', ['run', '--silent', 'status', '--', '--stage', 'stg'], env, 60_000);

    // Assess
    console.log(`[measured] npm run status -- --stage stg (exit ${healthy.code}, ${seconds(healthy)}):\n${healthy.output.trimEnd()}`);
    console.log(`[measured] the same with a DLQ message and an alarm set (exit ${attention.code}):\n${attention.output.trimEnd()}`);
    expect(healthy.code).toBe(0);
    expect(healthy.output).toMatch(/webhook URL for Alma \(integration profile > Webhook listener URL\): https:\/\/\S+\/\n/);
    expect(healthy.output).toMatch(/query API URL \(append \/users\/\{id\}\): +https:\/\/\S+/);
    for (const { name } of stacks) expect(healthy.output).toMatch(new RegExp(`^${name}: (CREATE|UPDATE)_COMPLETE$`, 'm'));
    expect(healthy.output).toMatch(/^ {2}queue alma-cache-stg-users-dlq \(dead letters\): 0 waiting, 0 in flight$/m);
    expect(healthy.output).toMatch(/^ {2}alarms: 0 of \d+ in ALARM$/m);
    expect(attention.code).toBe(2);
    expect(attention.output).toMatch(/^ {2}queue alma-cache-stg-users-dlq \(dead letters\): 1 waiting, 0 in flight {2}<- given up on/m);
    expect(attention.output).toMatch(/^ {2}alarms: 1 of \d+ in ALARM: alma-cache-stg-users-dlq-not-empty$/m);
  }, 150_000);

  it('replays failures as the runbook says: `npm run redrive` lists the dead letter and, without --yes, only says where it would go', async () => {
    // Act: the DLQ message the status test left
    const listed = await runCommand('npm', ['run', '--silent', 'redrive', '--', 'list', '--queue', 'users-dlq', '--stage', 'stg'], env, 60_000);
    const dryRun = await runCommand(
      'npm',
      ['run', '--silent', 'redrive', '--', 'replay', '--queue', 'users-dlq', '--to', 'source', '--stage', 'stg'],
      env,
      60_000,
    );
    const sqs = new SQSClient({ endpoint: moto.endpoint, region: REGION, credentials, useQueueUrlAsEndpoint: false });
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'alma-cache-stg-users-dlq' }));
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    sqs.destroy();

    // Assess
    console.log(`[measured] npm run redrive -- list --queue users-dlq --stage stg (exit ${listed.code}):\n${listed.output.trimEnd()}`);
    console.log(`[measured] npm run redrive -- replay --queue users-dlq --to source --stage stg (exit ${dryRun.code}):\n${dryRun.output.trimEnd()}`);
    expect(listed.code).toBe(0);
    expect(listed.output).toContain('alma-cache-stg-users-dlq: 1 message(s)');
    expect(listed.output).toContain('PAT0042X');
    expect(dryRun.code).toBe(0);
    expect(dryRun.output).toContain('dry run: 1 would be replayed, 0 skipped; nothing was sent or deleted (add --yes to act)');
    expect(dryRun.output).toContain('alma-cache-stg-users');
    expect(Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible)).toBe(1);
  }, 150_000);

  it(
    'removes every stack and the topics with `npx nx run-many -t remove`, dependents first; status then names what is missing',
    async () => {
      // Act
      const removed = await runNode([NX_BIN, 'run-many', '-t', 'remove', '--stage=stg', '--outputStyle=static'], env, REMOVE_TIMEOUT_MS);
      const order = finished(removed.output, /sls\.mjs: osls remove for apps\/(\S+) /g);
      console.log(
        `[measured] npx nx run-many -t remove --stage=stg: exit ${removed.code} after ${seconds(removed)}; osls remove started for, in order: ${order.join(', ')}`,
      );
      if (removed.code !== 0) throw new Error(`remove failed (exit ${removed.code}):\n${tail(removed.output, 80)}`);
      const statuses = await Promise.all(stacks.map(async ({ name }) => [name, await stackStatus(name)]));
      const arns = (await topicArns()).filter((arn) => arn.includes(':alma-cache-stg-'));
      const after = await runCommand('npm', ['run', '--silent', 'status', '--', '--stage', 'stg'], env, 60_000);

      // Assess
      console.log(`[measured] stacks after remove: ${statuses.map(([name, status]) => `${name}=${status}`).join(', ')}; topics left: ${arns.length}`);
      console.log(`[measured] npm run status after remove (exit ${after.code}):\n${after.output.trimEnd()}`);
      expect(statuses.filter(([, status]) => status !== 'none')).toEqual([]);
      expect(arns).toEqual([]);
      for (const { project, dependsOn } of SYSTEM_STACKS) {
        for (const dependency of dependsOn)
          expect({ project, removedBefore: dependency, ok: order.indexOf(project) < order.indexOf(dependency) }).toMatchObject({ ok: true });
      }
      expect(after.code).toBe(1);
      expect(after.output).toContain(`6 of 6 stacks missing: deploy the whole system with npx nx run-many -t deploy --stage=stg`);
      expect(after.output).toContain('alma-cache-topics-stg: MISSING (no such stack; deploy it: npx nx run alma-topics:deploy --stage=stg)');
    },
    REMOVE_TIMEOUT_MS + 90_000,
  );
});
