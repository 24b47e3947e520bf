import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { classifyMessage } from './classify';
import { useLocalStack } from './endpoints';
import { type FunctionRef, lambdaInvoker, type LambdaHandler, localInvoker } from './invokers';
import { localBundleLoader } from './local-functions';
import { moveWithMessageMoveTask } from './move-task';
import { type CliOptions, parseCli, type ReplayCommandOptions } from './options';
import { type EventFunction, eventQueueName, eventQueueUrl, queueArnOf, queueNameOf, resolveQueueUrl, resolveSourceQueueUrl } from './queue-names';
import { refusalNow } from './recheck';
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
    lambda: new LambdaClient({ region }),
    local,
  };
};

const list = async (clients: Clients, options: CliOptions, io: CliIo): Promise<number> => {
  const queueUrl = await resolveQueueUrl(clients.sqs, options.queue, options.stage);
  const { visible } = await countMessages(clients.sqs, queueUrl);
  const now = new Date();
  // The replay's own check on the machine's clock: an event past the replay horizon is listed as not replayable now.
  const messages = (await peekMessages(clients.sqs, queueUrl, options.max)).map((received) => {
    const message = classifyMessage(received, queueNameOf(queueUrl));
    const refusal = message.notReplayable ? undefined : refusalNow(message, now);
    return refusal ? { ...message, refusedNow: refusal } : message;
  });
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
    const eventQueues = new Map<EventFunction, Promise<string>>();
    return sourceTarget({
      sqs: clients.sqs,
      sourceQueueUrl: () => (source ??= resolveSourceQueueUrl(clients.sqs, queueUrl, options.sourceQueue, options.stage)),
      // --source-queue names where a failure-queue record goes too; else its function's queue in the failure queue's stage.
      eventQueue: (fn) => ({
        name: options.sourceQueue ?? eventQueueName(fn, queueNameOf(queueUrl), options.stage),
        url: () => {
          const known = eventQueues.get(fn);
          if (known) return known;
          const url = options.sourceQueue
            ? resolveQueueUrl(clients.sqs, options.sourceQueue, options.stage)
            : eventQueueUrl(clients.sqs, fn, queueNameOf(queueUrl), options.stage);
          eventQueues.set(fn, url);
          return url;
        },
      }),
    });
  }
  const invoker = clients.local ? localInvoker(io.loadHandler ?? localBundleLoader(clients.sqs)) : lambdaInvoker(clients.lambda, options.stage);
  return handlerTarget({ invoker, functionName: options.functionName, eventSourceArn: await queueArnOf(clients.sqs, queueUrl) });
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
    clients.lambda.destroy();
  }
};
