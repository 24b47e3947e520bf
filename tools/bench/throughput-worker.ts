// A child process that plays the role of a Lambda container for the throughput figure: it loads the built
// sns-lambdas bundles (their composition roots build at require time, from this process's environment) and, in
// the same process and against the same DynamoDB Local, a plain PutItem loop. Its stdout is /dev/null, so the
// handlers' Powertools log lines cost what they cost in Lambda without flooding the bench output.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { userCacheKey } from '@alma-cache/cache-domain';
import { almaWebhooks } from '@alma-cache/cache-domain/testing';
import { EVENTS_IN_TIME_ORDER, functionOf, sampleMessage, SNS_FUNCTIONS, type SnsFunctionName } from './sample-events';
import { forEachBounded } from './stats';

/** What the parent asks for (as JSON in BENCH_THROUGHPUT). */
export interface ThroughputRequest {
  readonly bundleDir: string;
  readonly tables: { users: string; loans: string; requests: string };
  readonly concurrency: number;
  readonly operations: number;
  readonly repeats: number;
  readonly warmupOperations: number;
}

/** One repeat: both rates measured back to back, in alternating order. */
export interface ThroughputSample {
  readonly eventsPerSecond: number;
  readonly putsPerSecond: number;
  readonly firstMeasured: 'handlers' | 'puts';
  /** CPU this process spent per event / per put (user + system), to tell client cost from emulator cost. */
  readonly cpuMsPerEvent: number;
  readonly cpuMsPerPut: number;
}

/** The worker's answer over IPC. */
export type ThroughputReply = { readonly samples: ThroughputSample[] } | { readonly error: string };

type QueueHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;
const PATRONS_PER_REPEAT = 64;
const SLICES_PER_REPEAT = 4;

const timed = async (work: () => Promise<void>) => {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - started) / 1000, cpuMs: (used.user + used.system) / 1000 };
};

/** One message as the function's queue hands it over: the raw webhook body (the topics' subscriptions are raw). */
const queueEvent = (message: string, id: string): SQSEvent =>
  ({
    Records: [
      {
        messageId: id,
        receiptHandle: `receipt-${id}`,
        body: message,
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()) },
        messageAttributes: {},
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:bench',
        awsRegion: 'eu-west-1',
      },
    ],
  }) as unknown as SQSEvent;

/** A handler that answered with a failed item did not apply the event: the run stops rather than time nothing. */
const applied = (response: SQSBatchResponse): void => {
  if (response.batchItemFailures.length > 0) throw new Error(`a handler reported ${response.batchItemFailures.length} failed message(s)`);
};

// Bundles are CommonJS files outside the TypeScript graph, loaded exactly as Lambda's runtime loads index.js.
const load = createRequire(__filename);

const main = async (request: ThroughputRequest): Promise<ThroughputSample[]> => {
  const handlers = Object.fromEntries(
    SNS_FUNCTIONS.map((fn) => [fn, (load(join(request.bundleDir, fn, 'index.js')) as { handler: QueueHandler }).handler]),
  ) as Record<SnsFunctionName, QueueHandler>;
  // The same client setup the store uses, but no store: the most a handler could do per request.
  const raw = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  // Raw items as large as the records the handlers write: the webhook's item object under a fresh key.
  const loanFields = almaWebhooks.LOAN_RENEWED['item_loan'] as Record<string, unknown>;
  const requestFields = almaWebhooks.REQUEST_CREATED['user_request'] as Record<string, unknown>;

  const runHandlers = async (round: string, count: number) => {
    const patrons = Array.from({ length: PATRONS_PER_REPEAT }, (_, i) => `BENCH-T${round}-${i}`);
    // Cached patrons, as after a refresh: the common path. Seeding is not timed.
    await forEachBounded(patrons, request.concurrency, async (patron) => {
      await raw.send(new PutCommand({ TableName: request.tables.users, Item: { primary_id: userCacheKey(patron), refreshed_at: 1 } }));
    });
    const events = Array.from({ length: count }, (_, i) => {
      const type = EVENTS_IN_TIME_ORDER[i % EVENTS_IN_TIME_ORDER.length];
      return { fn: functionOf(type), event: queueEvent(sampleMessage(type, `-t${round}-${i}`, patrons[i % patrons.length]), `sqs-${round}-${i}`) };
    });
    return timed(() => forEachBounded(events, request.concurrency, async ({ fn, event }) => applied(await handlers[fn](event))));
  };
  const runPuts = async (round: string, count: number) => {
    const items = Array.from({ length: count }, (_, i) =>
      i % 2 === 0
        ? { TableName: request.tables.loans, Item: { ...loanFields, loan_id: `raw-${round}-${i}` } }
        : { TableName: request.tables.requests, Item: { ...requestFields, request_id: `raw-${round}-${i}` } },
    );
    return timed(() =>
      forEachBounded(items, request.concurrency, async (input) => {
        await raw.send(new PutCommand(input));
      }),
    );
  };

  // DynamoDB Local runs with C1 only and both code paths need their connections and JIT warm before timing.
  await runPuts('warm', request.warmupOperations);
  await runHandlers('warm', request.warmupOperations);
  const samples: ThroughputSample[] = [];
  const slice = Math.max(1, Math.floor(request.operations / SLICES_PER_REPEAT));
  for (let repeat = 0; repeat < request.repeats; repeat += 1) {
    // Slices alternate (handlers, puts, puts, handlers, …) so that a slow stretch of this shared machine lands on
    // both sides of the ratio rather than on one.
    const handlersFirst = repeat % 2 === 0;
    const totals = { handlers: { count: 0, seconds: 0, cpuMs: 0 }, puts: { count: 0, seconds: 0, cpuMs: 0 } };
    for (let part = 0; part < SLICES_PER_REPEAT; part += 1) {
      const round = `${repeat}-${part}-${Date.now()}`;
      const order = (part % 2 === 0) === handlersFirst ? (['handlers', 'puts'] as const) : (['puts', 'handlers'] as const);
      for (const side of order) {
        const run = side === 'handlers' ? await runHandlers(round, slice) : await runPuts(round, slice);
        totals[side].count += slice;
        totals[side].seconds += run.seconds;
        totals[side].cpuMs += run.cpuMs;
      }
    }
    samples.push({
      eventsPerSecond: totals.handlers.count / totals.handlers.seconds,
      putsPerSecond: totals.puts.count / totals.puts.seconds,
      firstMeasured: handlersFirst ? 'handlers' : 'puts',
      cpuMsPerEvent: totals.handlers.cpuMs / totals.handlers.count,
      cpuMsPerPut: totals.puts.cpuMs / totals.puts.count,
    });
  }
  raw.destroy();
  return samples;
};

const reply = (message: ThroughputReply) => new Promise<void>((resolve) => process.send?.(message, () => resolve()));

main(JSON.parse(process.env['BENCH_THROUGHPUT'] ?? '{}') as ThroughputRequest)
  .then((samples) => reply({ samples }))
  .catch((error: unknown) => reply({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }))
  .finally(() => process.exit(0));
