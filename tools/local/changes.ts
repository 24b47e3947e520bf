// `npm run changes -- [--patron ID] [--record ID] [--change NAME] [--entity loan|request] [--once] [--max-seconds N]`:
// tails the change notifications of the running local stack (`npm start`). It subscribes a queue of its own to the
// cache-changes topic, with a filter policy built from the flags (the same attributes a real subscriber filters on),
// prints each event as it arrives, and removes its subscription and queue when it stops: on Ctrl-C, after the first
// events with --once, or after --max-seconds.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { SNSClient, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageBatchCommand, DeleteQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describeChange, filterPolicyOf, readChangeMessage } from './change-view';
import { readSession } from './local-client';
import { queueArn } from './template';

const USAGE = 'Usage: npm run changes -- [--patron ID] [--record ID] [--change loan.renewed] [--entity loan|request] [--once] [--max-seconds N]';
/** How long one receive waits: short enough that Ctrl-C and --max-seconds are honoured promptly. */
const POLL_SECONDS = 2;

/** Only the emulators of a local run: a session file pointing anywhere else is refused, never followed. */
const loopbackEndpoint = (env: Record<string, string>, name: string): string => {
  const endpoint = env[name] ?? env['AWS_ENDPOINT_URL'];
  let host = '';
  try {
    host = new URL(endpoint ?? '').hostname;
  } catch {
    // reported below
  }
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host))
    throw new Error(`The session's ${name} is not a loopback endpoint (${endpoint ?? 'none'}): restart \`npm start\`.`);
  return endpoint as string;
};

const main = async () => {
  const { values } = parseArgs({
    options: {
      patron: { type: 'string', multiple: true },
      record: { type: 'string', multiple: true },
      change: { type: 'string', multiple: true },
      entity: { type: 'string', multiple: true },
      once: { type: 'boolean', default: false },
      'max-seconds': { type: 'string' },
    },
  });
  const maxSeconds = values['max-seconds'] === undefined ? undefined : Number(values['max-seconds']);
  if (maxSeconds !== undefined && !(Number.isInteger(maxSeconds) && maxSeconds > 0 && maxSeconds <= 86_400)) {
    throw new Error(`--max-seconds must be a whole number of seconds from 1 to 86400\n${USAGE}`);
  }
  let policy: Record<string, string[]>;
  try {
    policy = filterPolicyOf(values);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${USAGE}`);
  }
  const session = readSession();
  if (!session.changeTopicArn)
    throw new Error('The running local stack has no change topic (its session predates change-lambdas): restart `npm start`.');
  const credentials = {
    accessKeyId: session.awsEnv['AWS_ACCESS_KEY_ID'] ?? 'test',
    secretAccessKey: session.awsEnv['AWS_SECRET_ACCESS_KEY'] ?? 'test',
  };
  const region = session.awsEnv['AWS_REGION'] ?? 'eu-west-1';
  const sns = new SNSClient({ region, credentials, endpoint: loopbackEndpoint(session.awsEnv, 'AWS_ENDPOINT_URL_SNS') });
  const sqs = new SQSClient({
    region,
    credentials,
    endpoint: loopbackEndpoint(session.awsEnv, 'AWS_ENDPOINT_URL_SQS'),
    useQueueUrlAsEndpoint: false,
  });

  let stopping = false;
  const abort = new AbortController();
  const stop = () => {
    stopping = true;
    abort.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `alma-cache-local-changes-tail-${randomBytes(4).toString('hex')}` }));
  const queueUrl = QueueUrl as string;
  let subscriptionArn: string | undefined;
  let received = 0;
  try {
    ({ SubscriptionArn: subscriptionArn } = await sns.send(
      new SubscribeCommand({
        TopicArn: session.changeTopicArn,
        Protocol: 'sqs',
        Endpoint: queueArn(queueUrl),
        ReturnSubscriptionArn: true,
        // Raw: the body is the event itself, and its SNS message attributes arrive as the message's attributes.
        Attributes: { RawMessageDelivery: 'true', ...(Object.keys(policy).length > 0 ? { FilterPolicy: JSON.stringify(policy) } : {}) },
      }),
    ));
    const filter = Object.keys(policy).length > 0 ? `filter ${JSON.stringify(policy)}` : 'no filter';
    const bound = values.once ? 'until the first events' : maxSeconds ? `for ${maxSeconds} s` : 'until Ctrl-C';
    process.stdout.write(
      `Tailing ${session.changeTopicArn.split(':').pop()} (${filter}) ${bound}${maxSeconds && values.once ? `, at most ${maxSeconds} s` : ''}.\n`,
    );

    const deadline = maxSeconds === undefined ? Number.POSITIVE_INFINITY : Date.now() + maxSeconds * 1000;
    while (!stopping && Date.now() < deadline) {
      const wait = Math.max(0, Math.min(POLL_SECONDS, Math.floor((deadline - Date.now()) / 1000)));
      const { Messages = [] } = await sqs
        .send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: wait, MessageAttributeNames: ['All'] }), {
          abortSignal: abort.signal,
        })
        .catch((error: Error) => {
          if (stopping) return { Messages: [] };
          throw error;
        });
      for (const message of Messages) {
        const line = readChangeMessage(message);
        process.stdout.write(`${line ? describeChange(line) : `(not a change notification: ${(message.Body ?? '').length} bytes)`}\n`);
      }
      if (Messages.length > 0) {
        received += Messages.length;
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
          }),
        );
        if (values.once) break;
      }
      if (wait === 0 && Messages.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    if (subscriptionArn) await sns.send(new UnsubscribeCommand({ SubscriptionArn: subscriptionArn }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    sns.destroy();
    sqs.destroy();
  }
  process.stdout.write(`${received} change event${received === 1 ? '' : 's'} received; subscription and queue removed.\n`);
  if (values.once && received === 0 && !stopping) {
    process.stderr.write(`No change event within ${maxSeconds} s.\n`);
    process.exitCode = 2;
  }
};

main().catch((error: Error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
