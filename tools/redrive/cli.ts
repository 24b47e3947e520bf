import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { LambdaHandler } from '@alma-cache/local-aws';
import { classifyMessage } from './classify';
import { useLocalStack } from './endpoints';
import { type FunctionRef, lambdaInvoker, localInvoker } from './invokers';
import { localBundleLoader } from './local-functions';
import { moveWithMessageMoveTask } from './move-task';
import { type CliOptions, parseCli, type ReplayCommandOptions } from './options';
import { queueArnOf, queueNameOf, resolveQueueUrl, resolveSourceQueueUrl } from './queue-names';
import { replayQueue } from './replay';
import { formatListing, formatSummary } from './report';
import { countMessages, peekMessages } from './sqs-messages';
import { handlerTarget, type ReplayTarget, sourceTarget } from './targets';

/** Where the CLI writes, and what tests may replace. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Loads a function's handler for a local `--to handler` (default: the local stack's built bundles). */
  loadHandler?: (fn: FunctionRef) => Promise<LambdaHandler>;
  signal?: AbortSignal;
}

interface Clients {
  sqs: SQSClient;
  sns: SNSClient;
  lambda: LambdaClient;
  local: boolean;
}

const clientsFor = (options: CliOptions): Clients => {
  const local = options.local || Boolean(process.env['AWS_ENDPOINT_URL']);
  if (options.local) useLocalStack();
  const region = options.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'eu-west-1';
  // Against an emulator the configured endpoint must win over the host in the queue URL.
  return {
    sqs: new SQSClient({ region, useQueueUrlAsEndpoint: !local }),
    sns: new SNSClient({ region }),
    lambda: new LambdaClient({ region }),
    local,
  };
};

const list = async (clients: Clients, options: CliOptions, io: CliIo): Promise<number> => {
  const queueUrl = await resolveQueueUrl(clients.sqs, options.queue, options.stage);
  const { visible } = await countMessages(clients.sqs, queueUrl);
  const messages = (await peekMessages(clients.sqs, queueUrl, options.max)).map((message) => classifyMessage(message, queueNameOf(queueUrl)));
  if (options.command === 'list' && options.json) {
    io.stdout.write(`${JSON.stringify(messages, (key, value: unknown) => (key === 'receiptHandle' ? undefined : value), 2)}\n`);
  } else {
    io.stdout.write(`${formatListing(queueNameOf(queueUrl), messages, visible > messages.length)}\n`);
  }
  return 0;
};

const targetFor = async (clients: Clients, options: ReplayCommandOptions, queueUrl: string, io: CliIo): Promise<ReplayTarget> => {
  if (options.to === 'source') {
    let source: Promise<string> | undefined;
    return sourceTarget({
      sns: clients.sns,
      sqs: clients.sqs,
      sourceQueueUrl: () => (source ??= resolveSourceQueueUrl(clients.sqs, queueUrl, options.sourceQueue, options.stage)),
    });
  }
  const invoker = clients.local ? localInvoker(io.loadHandler ?? localBundleLoader(clients.sqs)) : lambdaInvoker(clients.lambda, options.stage);
  return handlerTarget({ invoker, sync: options.sync, functionName: options.functionName, eventSourceArn: await queueArnOf(clients.sqs, queueUrl) });
};

const replay = async (clients: Clients, options: ReplayCommandOptions, io: CliIo): Promise<number> => {
  const queueUrl = await resolveQueueUrl(clients.sqs, options.queue, options.stage);
  const name = queueNameOf(queueUrl);
  if (options.moveTask && !options.dryRun) {
    const sourceUrl = await resolveSourceQueueUrl(clients.sqs, queueUrl, options.sourceQueue, options.stage);
    io.stderr.write(`${name} → ${queueNameOf(sourceUrl)} with StartMessageMoveTask\n`);
    const moved = await moveWithMessageMoveTask(clients.sqs, await queueArnOf(clients.sqs, queueUrl), await queueArnOf(clients.sqs, sourceUrl), {
      progress: io.stderr,
    });
    if ('moved' in moved) {
      io.stdout.write(`StartMessageMoveTask ${moved.status}: moved ${moved.moved}${moved.failureReason ? ` (${moved.failureReason})` : ''}\n`);
      return moved.status === 'COMPLETED' ? 0 : 2;
    }
    // Nothing moved: the message-by-message way below is just as safe, only slower.
    io.stderr.write(`StartMessageMoveTask unavailable (${moved.unavailable}); replaying message by message\n`);
  }
  const target = await targetFor(clients, options, queueUrl, io);
  const results = await replayQueue({
    sqs: clients.sqs,
    queueUrl,
    target,
    max: options.max,
    dryRun: options.dryRun,
    visibilitySeconds: options.visibilitySeconds,
    progress: io.stderr,
    signal: io.signal,
    reason: options.reason,
  });
  for (const result of results) {
    io.stdout.write(`${result.outcome.padEnd(8)} ${result.message.messageId.slice(0, 8)}  ${result.message.subject}: ${result.detail}\n`);
  }
  io.stdout.write(`${formatSummary(results, options.dryRun)}\n`);
  return results.some((result) => result.outcome === 'failed' || result.notDeleted) ? 2 : 0;
};

/**
 * Runs one `redrive` command line and resolves with the exit code: 0 done, 2 some message failed (it was kept),
 * 1 a usage or setup error (nothing was changed).
 */
export const runRedrive = async (argv: string[], io: CliIo): Promise<number> => {
  let options: CliOptions;
  try {
    options = parseCli(argv);
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
  let clients: Clients;
  try {
    clients = clientsFor(options);
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
  try {
    return options.command === 'list' ? await list(clients, options, io) : await replay(clients, options, io);
  } catch (error) {
    io.stderr.write(`${(error as Error).name}: ${(error as Error).message}\n`);
    return 1;
  } finally {
    clients.sqs.destroy();
    clients.sns.destroy();
    clients.lambda.destroy();
  }
};
