import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
  UpdateStackCommand,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { almaWebhookMessageAsOf } from '@alma-cache/cache-domain/testing';
import { startMoto, type MotoServer, type Template } from '@alma-cache/local-aws';
import {
  childEnv,
  EVENTS,
  FUNCTIONS,
  namesFor,
  NX_BIN,
  REGION,
  runNode,
  tail,
  topicEnv,
  WORKSPACE_ROOT,
  type AlmaEvent,
  type RunResult,
} from './support';

// Issue 19's upgrade: a stage deployed from the release before the SNS → SQS change (fixtures/release-4b8f474, the
// packaged templates of commit 4b8f474) holds an event parked on its failure queue; today's stack is deployed over it
// with the repo's deploy target. The failure queue must survive the update with the message on it, and the message
// must still be replayable. Moto never runs the functions and creates no SNS subscription from a template, so the
// replay is checked where it lands: the function's new queue.

const DEPLOY_TIMEOUT_MS = 300_000;
const REDRIVE_TIMEOUT_MS = 60_000;
/** `npm run redrive --`, as package.json runs it. */
const REDRIVE = [join(WORKSPACE_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), '--tsconfig', 'tsconfig.base.json', 'tools/redrive/main.ts'];
const names = namesFor('stg');
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const FIXTURE_DIR = join(__dirname, 'fixtures', 'release-4b8f474');
const previousRelease = {
  create: readFileSync(join(FIXTURE_DIR, 'cloudformation-template-create-stack.json'), 'utf8'),
  update: readFileSync(join(FIXTURE_DIR, 'cloudformation-template-update-stack.json'), 'utf8'),
};
/** The topics the fixture was packaged with (package-templates.mjs names each from its variable). */
const fixtureTopicName = (event: AlmaEvent) => `${event.toLowerCase().replace(/_/g, '-')}-topic-arn-stg`;
const ALARM_TOPIC_NAME = 'alma-cache-alarms-stg';
/** `loan-updated` → `LoanUpdated`, the prefix of its queues' outputs. */
const pascal = (fn: string) => fn.replace(/(^|-)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());
/** An empty zip archive: moto checks that a function's S3 artifact exists, and never runs it. */
const EMPTY_ZIP = Buffer.from(`504b0506${'00'.repeat(18)}`, 'hex');

describe('Upgrade: sns-lambdas from the SNS path (release 4b8f474) to the queues', () => {
  let moto: MotoServer;
  let cloudFormation: CloudFormationClient;
  let s3: S3Client;
  let sqs: SQSClient;
  let lambda: LambdaClient;
  let previousStack: Stack;
  let previousFailureQueue: Record<string, string>;
  let previousFunctionEnv: Record<string, string>;
  let parked: { messageId: string; body: string; webhook: string };
  let upgraded: RunResult;
  let env: NodeJS.ProcessEnv;
  let stack: Stack;

  const describeStack = async () => (await cloudFormation.send(new DescribeStacksCommand({ StackName: names.stack }))).Stacks?.[0] as Stack;
  const outputOf = (of: Stack, key: string) => {
    const value = of.Outputs?.find((o) => o.OutputKey === key)?.OutputValue;
    if (!value) throw new Error(`stack output ${key} missing; outputs: ${JSON.stringify(of.Outputs)}`);
    return value;
  };
  const queueAttributes = async (queueUrl: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }))).Attributes ?? {};
  /** Every message on a queue, received with a short visibility and made visible again at once: a look, no consuming. */
  const peek = async (queueUrl: string) => {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 30,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length > 0) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle as string, VisibilityTimeout: 0 })),
        }),
      );
    }
    return Messages;
  };
  const waitForStack = async (done: RegExp) => {
    for (let tries = 0; tries < 120; tries += 1) {
      const status = (await describeStack()).StackStatus ?? '';
      if (done.test(status)) return;
      if (!status.endsWith('_IN_PROGRESS')) throw new Error(`stack ${names.stack} is ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new Error(`stack ${names.stack} not done after 60 s`);
  };

  /**
   * Deploys the fixture as osls deployed the previous release (deploymentMethod direct): CreateStack with the core
   * template (the deployment bucket), the artifacts and the compiled template uploaded under the packaged
   * `serverless/<service>/<stage>/<timestamp>/` folder with their `filesha256`, then UpdateStack from the template's URL.
   */
  const deployPreviousRelease = async () => {
    const common = {
      StackName: names.stack,
      Capabilities: ['CAPABILITY_IAM' as const, 'CAPABILITY_NAMED_IAM' as const],
      Tags: [{ Key: 'STAGE', Value: 'stg' }],
    };
    await cloudFormation.send(new CreateStackCommand({ ...common, TemplateBody: previousRelease.create }));
    await waitForStack(/^CREATE_COMPLETE$/);
    const bucket = outputOf(await describeStack(), 'ServerlessDeploymentBucketName');
    const template = JSON.parse(previousRelease.update) as Template;
    const artifactKeys = Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map((resource) => (resource.Properties?.['Code'] as { S3Key: string }).S3Key);
    const folder = artifactKeys[0].replace(/\/[^/]+$/, '');
    const upload = async (key: string, body: Buffer) =>
      s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: { filesha256: createHash('sha256').update(body).digest('base64') } }),
      );
    for (const key of artifactKeys) await upload(key, EMPTY_ZIP);
    const templateKey = `${folder}/compiled-cloudformation-template.json`;
    await upload(templateKey, Buffer.from(previousRelease.update));
    await cloudFormation.send(new UpdateStackCommand({ ...common, TemplateURL: `https://s3.amazonaws.com/${bucket}/${templateKey}` }));
    await waitForStack(/^UPDATE_COMPLETE$/);
    return describeStack();
  };

  /**
   * What Lambda sent to the on-failure destination when loan-updated failed an SNS event three times: the SNS event as
   * `requestPayload` (the raw Alma body as its Message), the error as `responsePayload`.
   */
  const onFailureRecord = (topicArn: string, webhook: string) => ({
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId: randomUUID(),
      functionArn: `arn:aws:lambda:${REGION}:000000000000:function:${names.function('loan-updated')}`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
    },
    requestPayload: {
      Records: [
        {
          EventSource: 'aws:sns',
          EventVersion: '1.0',
          EventSubscriptionArn: `${topicArn}:${randomUUID()}`,
          Sns: {
            Type: 'Notification',
            MessageId: randomUUID(),
            TopicArn: topicArn,
            Subject: null,
            Message: webhook,
            Timestamp: new Date().toISOString(),
            SignatureVersion: '1',
            Signature: 'EXAMPLE',
            SigningCertUrl: `https://sns.${REGION}.amazonaws.com/SimpleNotificationService-example.pem`,
            UnsubscribeUrl: `https://sns.${REGION}.amazonaws.com/?Action=Unsubscribe`,
            MessageAttributes: {},
          },
        },
      ],
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: {
      errorType: 'ProvisionedThroughputExceededException',
      errorMessage: 'The level of configured provisioned throughput for the table was exceeded.',
      trace: ['ProvisionedThroughputExceededException: The level of configured provisioned throughput for the table was exceeded.'],
    },
  });

  beforeAll(async () => {
    // Prepare: a moto of our own with the topics and the alarm topic the fixture names, the previous release deployed
    moto = await startMoto();
    const config = { endpoint: moto.endpoint, region: REGION, credentials };
    cloudFormation = new CloudFormationClient(config);
    s3 = new S3Client({ ...config, forcePathStyle: true });
    // moto's queue URLs name the real AWS host: send to the configured endpoint instead.
    sqs = new SQSClient({ ...config, useQueueUrlAsEndpoint: false });
    lambda = new LambdaClient(config);
    const sns = new SNSClient(config);
    const topicArns = new Map<AlmaEvent, string>();
    for (const event of EVENTS) {
      topicArns.set(event, (await sns.send(new CreateTopicCommand({ Name: fixtureTopicName(event) }))).TopicArn as string);
    }
    const alarmTopicArn = (await sns.send(new CreateTopicCommand({ Name: ALARM_TOPIC_NAME }))).TopicArn as string;
    sns.destroy();
    previousStack = await deployPreviousRelease();
    previousFailureQueue = await queueAttributes(outputOf(previousStack, 'FailureQueueUrl'));
    const previousFunction = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: names.function('loan-updated') }));
    previousFunctionEnv = previousFunction.Environment?.Variables ?? {};

    // Park a loan-updated event as the previous release did after Lambda's last retry (dated now: the replay horizon
    // counts from the event's time)
    const webhook = almaWebhookMessageAsOf('LOAN_CREATED', new Date());
    const body = JSON.stringify(onFailureRecord(topicArns.get('LOAN_CREATED') as string, webhook));
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: outputOf(previousStack, 'FailureQueueUrl'), MessageBody: body }));
    parked = { messageId: sent.MessageId as string, body, webhook };

    // Act: today's stack over it, through the deploy target as a release is deployed (built first, without the
    // preflight and the stacks it reads from; the topics and alarm topic the same as before)
    env = childEnv({
      ...topicEnv('stg', (event) => topicArns.get(event) as string),
      ALARM_TOPIC_ARN_STG: alarmTopicArn,
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: REGION,
    });
    const built = await runNode([NX_BIN, 'run', 'sns-lambdas:build'], env, DEPLOY_TIMEOUT_MS);
    if (built.code !== 0) throw new Error(`build failed (exit ${built.code}):\n${tail(built.output, 60)}`);
    upgraded = await runNode([NX_BIN, 'run', 'sns-lambdas:deploy', '--stage=stg', '--excludeTaskDependencies'], env, DEPLOY_TIMEOUT_MS);
    console.log(`upgrade: nx run sns-lambdas:deploy --stage=stg over release 4b8f474 took ${(upgraded.ms / 1000).toFixed(1)} s`);
    if (upgraded.code !== 0) throw new Error(`deploy failed (exit ${upgraded.code}):\n${tail(upgraded.output, 60)}`);
    stack = await describeStack();
  }, 2 * DEPLOY_TIMEOUT_MS);

  afterAll(async () => {
    for (const client of [cloudFormation, s3, sqs, lambda]) client?.destroy();
    await moto?.stop();
  });

  it('deploys the previous release first: the SNS path, whose functions name the failure queue', () => {
    // Assess
    expect(previousStack.StackStatus).toBe('UPDATE_COMPLETE');
    expect(previousFailureQueue['QueueArn']).toMatch(new RegExp(`:${names.queues.failures}$`));
    expect(previousStack.Outputs?.map((o) => o.OutputKey)).not.toContain('LoanUpdatedQueueUrl');
    expect(previousFunctionEnv['FAILURE_QUEUE_URL']).toBe(outputOf(previousStack, 'FailureQueueUrl'));
  });

  it('updates the same stack in place', () => {
    // Assess
    expect(upgraded.output).toContain(`Service deployed to stack ${names.stack}`);
    expect(stack.StackStatus).toBe('UPDATE_COMPLETE');
    expect(stack.StackId).toBe(previousStack.StackId);
  });

  it('keeps the failure queue, not a new one of the same name, with the parked event on it unchanged', async () => {
    // Prepare
    const failureQueueUrl = outputOf(stack, 'FailureQueueUrl');

    // Act
    const attributes = await queueAttributes(failureQueueUrl);
    const messages = await peek(failureQueueUrl);

    // Assess
    expect(failureQueueUrl).toBe(outputOf(previousStack, 'FailureQueueUrl'));
    expect(outputOf(stack, 'FailureQueueArn')).toBe(outputOf(previousStack, 'FailureQueueArn'));
    expect({
      arn: attributes['QueueArn'],
      created: attributes['CreatedTimestamp'],
      retention: attributes['MessageRetentionPeriod'],
    }).toEqual({
      arn: previousFailureQueue['QueueArn'],
      created: previousFailureQueue['CreatedTimestamp'],
      retention: '1209600',
    });
    expect(messages.map((message) => ({ id: message.MessageId, body: message.Body }))).toEqual([{ id: parked.messageId, body: parked.body }]);
  });

  it("adds each function's own queue and DLQ, empty, next to the failure queue", async () => {
    // Assess
    for (const fn of FUNCTIONS) {
      const queue = await queueAttributes(outputOf(stack, `${pascal(fn)}QueueUrl`));
      const dlq = await queueAttributes(outputOf(stack, `${pascal(fn)}DeadLetterQueueUrl`));
      expect({
        fn,
        queue: queue['QueueArn'],
        dlq: dlq['QueueArn'],
        waiting: [queue['ApproximateNumberOfMessages'], dlq['ApproximateNumberOfMessages']],
      }).toEqual({
        fn,
        queue: expect.stringMatching(new RegExp(`:alma-cache-stg-${fn}$`)),
        dlq: expect.stringMatching(new RegExp(`:alma-cache-stg-${fn}-dlq$`)),
        waiting: ['0', '0'],
      });
      expect(JSON.parse(queue['RedrivePolicy'] ?? '{}')).toMatchObject({ deadLetterTargetArn: dlq['QueueArn'] });
    }
  });

  it("points each function's SOURCE_QUEUE_URL at its new queue, where it forwards an SNS event still in flight (one release)", async () => {
    // Assess: moto never runs a function; the forwarding itself is in tests/integration/sns-upgrade-forwarder.spec.ts
    for (const fn of FUNCTIONS) {
      const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: names.function(fn) }));
      expect({ fn, source: configuration.Environment?.Variables?.['SOURCE_QUEUE_URL'] }).toEqual({
        fn,
        source: outputOf(stack, `${pascal(fn)}QueueUrl`),
      });
    }
  });

  it('keeps the failure queue, its exported outputs and its alarms as the previous release defined them (one release more)', async () => {
    // Prepare
    const before = JSON.parse(previousRelease.update) as Template;
    const body = (await cloudFormation.send(new GetTemplateCommand({ StackName: names.stack }))).TemplateBody as string;
    const after = JSON.parse(body) as Template;
    /** An alarm without its description, which now says that nothing new arrives on the queue. */
    const withoutDescription = (template: Template, id: string) => {
      const { AlarmDescription, ...properties } = template.Resources[id]?.Properties ?? {};
      expect({ id, described: typeof AlarmDescription }).toEqual({ id, described: 'string' });
      return { type: template.Resources[id]?.Type, properties };
    };

    // Assess
    expect(after.Resources['FailureQueue']).toEqual(before.Resources['FailureQueue']);
    for (const output of ['FailureQueueUrl', 'FailureQueueArn']) {
      expect({ output, after: after.Outputs?.[output] }).toEqual({ output, after: before.Outputs?.[output] });
    }
    expect(after.Outputs?.['FailureQueueUrl']).toEqual({ Value: { Ref: 'FailureQueue' }, Export: { Name: 'alma-cache-stg-FailureQueueUrl' } });
    for (const alarm of ['FailureQueueDepthAlarm', 'FailureQueueAgeAlarm']) {
      expect(withoutDescription(after, alarm)).toEqual(withoutDescription(before, alarm));
    }
  });

  it(
    "replays the parked event with `npm run redrive`: its Alma body goes to loan-updated's new queue, the failure queue is left empty",
    async () => {
      // Prepare
      const failureQueueUrl = outputOf(stack, 'FailureQueueUrl');
      const loanUpdatedQueueUrl = outputOf(stack, 'LoanUpdatedQueueUrl');

      // Act: what the README's upgrade runbook tells an operator to run after the deploy
      const listed = await runNode([...REDRIVE, 'list', '--queue', 'failures', '--stage', 'stg'], env, REDRIVE_TIMEOUT_MS);
      const replayed = await runNode(
        [...REDRIVE, 'replay', '--queue', 'failures', '--stage', 'stg', '--to', 'source', '--yes'],
        env,
        REDRIVE_TIMEOUT_MS,
      );

      // Assess
      expect({ code: listed.code, output: listed.output }).toEqual({
        code: 0,
        output: expect.stringContaining(`${names.queues.failures}: 1 message(s)`),
      });
      expect(listed.output).toMatch(/lambda-failure\s+LOAN_CREATED .*ProvisionedThroughputExceededException/);
      expect({ code: replayed.code, output: replayed.output }).toEqual({ code: 0, output: expect.stringContaining('replayed 1 (deleted 1)') });
      const delivered = await peek(loanUpdatedQueueUrl);
      expect(delivered.map((message) => message.Body)).toEqual([parked.webhook]);
      const left = await queueAttributes(failureQueueUrl);
      expect([left['ApproximateNumberOfMessages'], left['ApproximateNumberOfMessagesNotVisible']]).toEqual(['0', '0']);
      for (const fn of FUNCTIONS.filter((other) => other !== 'loan-updated')) {
        expect({ fn, waiting: (await queueAttributes(outputOf(stack, `${pascal(fn)}QueueUrl`)))['ApproximateNumberOfMessages'] }).toEqual({
          fn,
          waiting: '0',
        });
      }
    },
    2 * REDRIVE_TIMEOUT_MS,
  );
});
