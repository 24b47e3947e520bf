// A child process that plays the role of a Lambda container for the throughput figure: it loads the built
// sns-lambdas bundles (their composition roots build at require time, from this process's environment) and, in the
// same process and against the same DynamoDB Local, the bare floor bundle (baseline/sns-baseline.ts: the same two
// conditional writes per event, nothing else). Both are handed the same kind of SQS batches for the same patrons at
// the same concurrency. Its stdout is /dev/null, so the handlers' Powertools log lines cost what they cost in Lambda
// without flooding the bench output.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { userCacheKey } from '@alma-cache/cache-domain';
import { EVENTS_IN_TIME_ORDER, functionOf, sampleMessage, SNS_FUNCTIONS, type SnsFunctionName } from './sample-events';
import { forEachBounded } from './stats';

/** How the queue hands events over: `batchSize` messages per invocation, `inFlight` invocations at once. */
export interface BatchShape {
  readonly batchSize: number;
  readonly inFlight: number;
}

/** What the parent asks for (as JSON in BENCH_THROUGHPUT). */
export interface ThroughputRequest {
  readonly bundleDir: string;
  readonly floorBundle: string;
  readonly tables: { users: string; loans: string; requests: string };
  readonly shapes: readonly BatchShape[];
  /** Events per side per repeat and shape. */
  readonly operations: number;
  readonly repeats: number;
  readonly warmupOperations: number;
}

/** One repeat of one shape: both rates measured in alternating slices. */
export interface ThroughputSample {
  readonly shape: BatchShape;
  readonly eventsPerSecond: number;
  readonly floorEventsPerSecond: number;
  /** CPU this process spent per event (user + system) on each side, to tell handler cost from emulator cost. */
  readonly cpuMsPerEvent: number;
  readonly cpuMsPerFloorEvent: number;
}

/** The worker's answer over IPC. */
export type ThroughputReply = { readonly samples: ThroughputSample[] } | { readonly error: string };

type QueueHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;
const PATRONS_PER_ROUND = 64;
const SLICES_PER_REPEAT = 4;

const timed = async (work: () => Promise<void>) => {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - started) / 1000, cpuMs: (used.user + used.system) / 1000 };
};

/** One message as the function's queue hands it over: the raw webhook body (the topics' subscriptions are raw). */
const queueRecord = (message: string, id: string): SQSRecord =>
  ({
    messageId: id,
    receiptHandle: `receipt-${id}`,
    body: message,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()) },
    messageAttributes: {},
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:bench',
    awsRegion: 'eu-west-1',
  }) as unknown as SQSRecord;

/** A handler that answered with a failed item did not apply the event: the run stops rather than time nothing. */
const applied = (side: string, response: SQSBatchResponse): void => {
  if (response.batchItemFailures.length > 0) throw new Error(`${side} reported ${response.batchItemFailures.length} failed message(s)`);
};

// Bundles are CommonJS files outside the TypeScript graph, loaded exactly as Lambda's runtime loads index.js.
const load = createRequire(__filename);

const main = async (request: ThroughputRequest): Promise<ThroughputSample[]> => {
  const handlers = Object.fromEntries(
    SNS_FUNCTIONS.map((fn) => [fn, (load(join(request.bundleDir, fn, 'index.js')) as { handler: QueueHandler }).handler]),
  ) as Record<SnsFunctionName, QueueHandler>;
  // One floor per function, as the real side has four bundles: each its own module instance, so its own SDK client,
  // connection pool and compiled code. A single floor shared by the four kinds of batch warms one client where the
  // functions warm four, which the ratio would count as the handlers' overhead (measured: 0.78 → 0.83, 0.70 → 0.89).
  const floorPath = load.resolve(request.floorBundle);
  const floors = Object.fromEntries(
    SNS_FUNCTIONS.map((fn) => {
      delete load.cache[floorPath];
      return [fn, (load(floorPath) as { handler: QueueHandler }).handler];
    }),
  ) as Record<SnsFunctionName, QueueHandler>;
  const seeder = DynamoDBDocumentClient.from(new DynamoDBClient({}));

  /**
   * One slice: `count` events for cached patrons (seeded, untimed, as after a refresh), cut into queue batches of one
   * function each (a queue feeds one function), `inFlight` batches at a time. The real side hands each batch to the
   * function its topic routes to; the floor side hands the same batch to that function's copy of the bare handler.
   */
  const runSlice = async (side: 'handlers' | 'floor', round: string, count: number, shape: BatchShape) => {
    const patrons = Array.from({ length: PATRONS_PER_ROUND }, (_, i) => `BENCH-T${round}-${side}-${i}`);
    await forEachBounded(patrons, 16, async (patron) => {
      await seeder.send(new PutCommand({ TableName: request.tables.users, Item: { primary_id: userCacheKey(patron), refreshed_at: 1 } }));
    });
    const byFunction = new Map<SnsFunctionName, SQSRecord[]>(SNS_FUNCTIONS.map((fn) => [fn, []]));
    for (let i = 0; i < count; i += 1) {
      const type = EVENTS_IN_TIME_ORDER[i % EVENTS_IN_TIME_ORDER.length];
      byFunction
        .get(functionOf(type))
        ?.push(queueRecord(sampleMessage(type, `-t${round}-${side}-${i}`, patrons[i % patrons.length]), `sqs-${round}-${i}`));
    }
    const batches = [...byFunction].flatMap(([fn, records]) =>
      Array.from({ length: Math.ceil(records.length / shape.batchSize) }, (_, b) => ({
        fn,
        event: { Records: records.slice(b * shape.batchSize, (b + 1) * shape.batchSize) } as SQSEvent,
      })),
    );
    // Interleaved, as four queues feeding four functions at once would deliver them.
    batches.sort((a, b) => a.event.Records[0].messageId.localeCompare(b.event.Records[0].messageId));
    return timed(() =>
      forEachBounded(batches, shape.inFlight, async ({ fn, event }) =>
        side === 'handlers' ? applied(fn, await handlers[fn](event)) : applied(`the floor of ${fn}`, await floors[fn](event)),
      ),
    );
  };

  const samples: ThroughputSample[] = [];
  for (const shape of request.shapes) {
    // DynamoDB Local runs with C1 only and both code paths need their connections and JIT warm before timing.
    await runSlice('floor', `warm-${shape.batchSize}`, request.warmupOperations, shape);
    await runSlice('handlers', `warm-${shape.batchSize}`, request.warmupOperations, shape);
  }
  const slice = Math.max(1, Math.floor(request.operations / SLICES_PER_REPEAT));
  for (let repeat = 0; repeat < request.repeats; repeat += 1) {
    for (const shape of request.shapes) {
      // Slices alternate (handlers, floor, floor, handlers, …) so that a slow stretch of this shared machine lands on
      // both sides of the ratio rather than on one.
      const handlersFirst = repeat % 2 === 0;
      const totals = { handlers: { count: 0, seconds: 0, cpuMs: 0 }, floor: { count: 0, seconds: 0, cpuMs: 0 } };
      for (let part = 0; part < SLICES_PER_REPEAT; part += 1) {
        const round = `${repeat}-${shape.batchSize}-${part}-${Date.now()}`;
        const order = (part % 2 === 0) === handlersFirst ? (['handlers', 'floor'] as const) : (['floor', 'handlers'] as const);
        for (const side of order) {
          const run = await runSlice(side, round, slice, shape);
          totals[side].count += slice;
          totals[side].seconds += run.seconds;
          totals[side].cpuMs += run.cpuMs;
        }
      }
      samples.push({
        shape,
        eventsPerSecond: totals.handlers.count / totals.handlers.seconds,
        floorEventsPerSecond: totals.floor.count / totals.floor.seconds,
        cpuMsPerEvent: totals.handlers.cpuMs / totals.handlers.count,
        cpuMsPerFloorEvent: totals.floor.cpuMs / totals.floor.count,
      });
    }
  }
  seeder.destroy();
  return samples;
};

const reply = (message: ThroughputReply) => new Promise<void>((resolve) => process.send?.(message, () => resolve()));

main(JSON.parse(process.env['BENCH_THROUGHPUT'] ?? '{}') as ThroughputRequest)
  .then((samples) => reply({ samples }))
  .catch((error: unknown) => reply({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }))
  .finally(() => process.exit(0));
