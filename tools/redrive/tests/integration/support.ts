import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { invokeAsync, type LambdaHandler, snsEvent } from '@alma-cache/local-aws';
import { runRedrive, type CliIo } from '../../cli';

/** A stage of its own per test, so each test's `alma-cache-<stage>-…` queues start empty. */
export const freshStage = (): string => `t${randomBytes(4).toString('hex')}`;

export const clients = () => ({ sqs: new SQSClient({ useQueueUrlAsEndpoint: false }), sns: new SNSClient({}) });

export const createQueue = async (sqs: SQSClient, name: string, attributes: Record<string, string> = {}): Promise<string> =>
  (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!;

export const queueArn = async (sqs: SQSClient, url: string): Promise<string> =>
  (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes!['QueueArn']!;

/** Visible plus in-flight messages: what a queue still holds. */
export const queueDepth = async (sqs: SQSClient, url: string): Promise<number> => {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes['ApproximateNumberOfMessages']) + Number(Attributes['ApproximateNumberOfMessagesNotVisible']);
};

/** Every message body on a queue (received, not deleted). */
export const drainBodies = async (sqs: SQSClient, url: string): Promise<string[]> => {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }),
    );
    if (Messages.length === 0) return bodies;
    bodies.push(...Messages.map((message) => message.Body ?? ''));
  }
};

/** A topic with a queue subscribed (raw delivery off, as SNS-to-SQS is by default): what a publish reaches. */
export const topicWithQueue = async (sqs: SQSClient, sns: SNSClient, name: string) => {
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name }));
  const queueUrl = await createQueue(sqs, `${name}-delivery`);
  await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: await queueArn(sqs, queueUrl) }));
  return { topicArn: TopicArn!, queueUrl };
};

/**
 * Parks `message` on the failure queue as Lambda does: the handler fails every attempt, and the on-failure
 * record (with the error as its reason) is sent to the queue.
 */
export const parkFailedEvent = async (
  sqs: SQSClient,
  failureQueueUrl: string,
  topicArn: string,
  message: string,
  failing: LambdaHandler,
  stage: string,
) => {
  const result = await invokeAsync(failing, snsEvent(topicArn, message), {
    functionArn: `arn:aws:lambda:eu-west-1:000000000000:function:alma-cache-sns-${stage}-loan-updated`,
    onFailure: async (record) => {
      await sqs.send(new SendMessageCommand({ QueueUrl: failureQueueUrl, MessageBody: JSON.stringify(record) }));
    },
  });
  if (result.succeeded) throw new Error('the failing handler succeeded');
};

/** A handler that always fails with `name: message`. */
export const failingWith =
  (name: string, message: string): LambdaHandler =>
  async () => {
    throw Object.assign(new Error(message), { name });
  };

/** Runs the CLI in this process, with its output captured. */
export const redrive = async (argv: string[], extra: Partial<CliIo> = {}) => {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, callback) {
        append(String(chunk));
        callback();
      },
    });
  const code = await runRedrive(argv, {
    stdout: sink((text) => (stdout += text)),
    stderr: sink((text) => (stderr += text)),
    ...extra,
  });
  return { code, stdout, stderr };
};
