import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { SqsFailureParking } from '@alma-cache/aws-adapters';
import { snsEvent } from '@alma-cache/local-aws';
import { runRedrive, type CliIo } from '../../cli';
import type { LambdaHandler } from '../../invokers';
import type { EventFunction } from '../../queue-names';

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
 * Parks `message` on the failure queue of the SNS path as Lambda's on-failure destination did before the upgrade to
 * queues: the SNS event `fn` was invoked with, the error of its last attempt, three attempts.
 */
export const parkFailedEvent = async (
  sqs: SQSClient,
  failureQueueUrl: string,
  record: { stage: string; fn: EventFunction; topicArn: string; message: string; errorType: string; errorMessage: string },
) => {
  const body = {
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId: randomBytes(8).toString('hex'),
      functionArn: `arn:aws:lambda:eu-west-1:000000000000:function:alma-cache-sns-${record.stage}-${record.fn}`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
    },
    requestPayload: snsEvent(record.topicArn, record.message),
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: record.errorType, errorMessage: record.errorMessage, trace: [] },
  };
  await sqs.send(new SendMessageCommand({ QueueUrl: failureQueueUrl, MessageBody: JSON.stringify(body) }));
};

/** The number of receives after which a cache-update queue moves a message to its DLQ (apps/sns-lambdas/serverless.yml). */
export const EVENT_MAX_RECEIVE_COUNT = 12;

/** A cache-update function's queue and DLQ, named and linked as apps/sns-lambdas/serverless.yml declares them. */
export const eventQueues = async (sqs: SQSClient, stage: string, fn: EventFunction) => {
  const dlqUrl = await createQueue(sqs, `alma-cache-${stage}-${fn}-dlq`);
  const queueUrl = await createQueue(sqs, `alma-cache-${stage}-${fn}`, {
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await queueArn(sqs, dlqUrl), maxReceiveCount: EVENT_MAX_RECEIVE_COUNT }),
  });
  return { queueUrl, dlqUrl };
};

/**
 * Sends `body` to a cache-update queue and lets it fail on every receive, as a function whose DynamoDB is down does:
 * received and never deleted, 12 times, until SQS moves it to the DLQ on the next receive.
 */
export const failOnEveryReceive = async (sqs: SQSClient, queueUrl: string, body: string, attributes?: Record<string, MessageAttributeValue>) => {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, MessageAttributes: attributes }));
  for (let receive = 0; receive <= EVENT_MAX_RECEIVE_COUNT; receive += 1) {
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0, WaitTimeSeconds: 0 }));
  }
};

/** Sends `body` to a DLQ as the cache-update function does when it refuses an event (aws-adapters SqsFailureParking). */
export const parkRefused = (
  sqs: SQSClient,
  dlqUrl: string,
  body: string,
  errorType: string,
  reason: string,
  attributes?: Record<string, MessageAttributeValue>,
) => new SqsFailureParking(sqs, dlqUrl).park(body, { errorType, reason }, attributes);

/** The raw bodies a cache-update function's SQS event carried, in order. */
export const sqsBodies = (event: unknown): string[] => (event as { Records: { body: string }[] }).Records.map((record) => record.body);

/** A handler that records each SQS event's body and answers as `answer` says. */
export const recordingHandler = (answer: (body: string) => Promise<unknown>): { handler: LambdaHandler; received: string[] } => {
  const received: string[] = [];
  return {
    received,
    handler: async (event) => {
      const [body] = sqsBodies(event);
      received.push(body);
      return answer(body);
    },
  };
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
