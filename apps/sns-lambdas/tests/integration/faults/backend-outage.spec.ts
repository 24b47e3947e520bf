import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SNSEvent } from 'aws-lambda';
import { createDocumentClient, createSqsClient } from '@alma-cache/aws-adapters';
import { createCacheTables, createQueue } from '@alma-cache/aws-adapters/testing';
import { type AsyncInvokeResult, type DynamoDbLocalServer, freePort, startDynamoDbLocal } from '@alma-cache/local-aws';
import { cacheCounts, differences, readCache } from './support/cache-snapshot';
import { deliverChaotically, withConcurrency } from './support/delivery';
import { drainFailureRecords, drainQueue, functionEnv, snsLambdas } from './support/lambda-harness';
import { snsEventFor } from '../support/sns-functions';
import { faultSeed, seededRandom } from './support/prng';
import { generateScenario, type ScenarioEvent } from './support/scenario';
import { cacheTruth } from './support/truth-model';
import { TOKENS } from '../../../src/tokens';

const SEED = faultSeed(20261103);
const SIZE = {
  cachedPatrons: 70,
  unknownPatrons: 0,
  loansPerPatron: [1, 3] as [number, number],
  requestsPerPatron: [0, 2] as [number, number],
  spreadMinutes: 120,
};
const CONCURRENCY = 24;
// Lambda waits about 1 and 2 minutes between attempts; scaled down so that events failing early in the outage use up
// their retries while it lasts (parked) and those failing near its end recover on a retry.
const RETRY_DELAYS_MS = [500, 1_000];
const DOWN_FOR_MS = 3_000;
const KILL_AFTER_SHARE = 0.25;
// Deliveries past this share wait for the restart, so the stream always continues on the restarted backend.
const RESUME_SHARE = 0.7;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Faults: DynamoDB outage mid-stream', () => {
  const sqs = createSqsClient();
  let dbPath: string;
  let port: number;
  let server: DynamoDbLocalServer | undefined;

  beforeAll(async () => {
    // A private DynamoDB Local that keeps its tables on disk: the shared in-memory one would lose them on restart.
    dbPath = await mkdtemp(join(tmpdir(), 'alma-cache-outage-'));
    port = await freePort();
    server = await startDynamoDbLocal({ port, dbPath });
    // Only this test file's environment: every DynamoDB client created from here on talks to the private server.
    process.env['AWS_ENDPOINT_URL_DYNAMODB'] = server.endpoint;
    process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
  }, 60_000);

  afterAll(async () => {
    sqs.destroy();
    await server?.stop();
    await rm(dbPath, { recursive: true, force: true });
  }, 30_000);

  it('ends with every event applied or parked on the failure queue, none lost, and the parked ones replay cleanly', async () => {
    // Prepare
    const tables = await createCacheTables();
    const userQueueUrl = await createQueue();
    const failureQueueUrl = await createQueue();
    const client = createDocumentClient();
    const random = seededRandom(SEED);
    const scenario = generateScenario(random, SIZE);
    const deliveries = deliverChaotically(random, scenario.events, { duplicateShare: 0.1, window: 20 });
    await withConcurrency(scenario.cachedPatrons, 16, (primaryId) =>
      client.send(
        new PutCommand({
          TableName: tables.users,
          Item: { primary_id: primaryId.toLowerCase(), user_version: 0, refreshed_at: '2026-11-02T07:00:00.000Z' },
        }),
      ),
    );
    const lambdas = snsLambdas(functionEnv(tables, userQueueUrl, failureQueueUrl), {
      sqs,
      failureQueueUrl,
      retryDelaysMs: RETRY_DELAYS_MS,
      functionTimeoutMs: 5_000,
      // The SDK's defaults would let an attempt hang on a dead backend: no connection timeout, and a requestTimeout
      // that only warns. Short, throwing timeouts make an attempt during the outage fail within seconds, as a Lambda
      // attempt would at its function timeout; the SDK keeps its own quick retry (2 attempts) for a reset socket.
      configure: (container) =>
        container.rebindSync(TOKENS.DocumentClient).toConstantValue(
          createDocumentClient({
            maxAttempts: 2,
            requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true },
          }),
        ),
    });
    console.log(`[measured] outage seed ${SEED} (FAULT_SEED=${SEED} replays this run); DynamoDB Local on 127.0.0.1:${port}, -sharedDb -dbPath`);

    // Act: the stream runs while the backend is stopped and started again on the same port and files.
    let sent = 0;
    let restarted: () => void = () => undefined;
    const backUp = new Promise<void>((resolve) => (restarted = resolve));
    const timeline: Record<string, number> = {};
    const started = Date.now();
    const outage = (async () => {
      while (sent < deliveries.length * KILL_AFTER_SHARE) await sleep(20);
      timeline['killedAt'] = Date.now() - started;
      await server?.stop();
      server = undefined;
      timeline['goneAt'] = Date.now() - started;
      await sleep(DOWN_FOR_MS);
      server = await startDynamoDbLocal({ port, dbPath });
      timeline['upAt'] = Date.now() - started;
      restarted();
    })();
    const sentEvents: { event: ScenarioEvent; sns: SNSEvent; result: AsyncInvokeResult }[] = [];
    await withConcurrency(deliveries, CONCURRENCY, async ({ event }, index) => {
      if (index >= deliveries.length * RESUME_SHARE) await backUp;
      sent += 1;
      const sns = snsEventFor(event.type, event.message);
      sentEvents.push({ event, sns, result: await lambdas.invoke(event.type, sns) });
    });
    await outage;
    const streamSeconds = (Date.now() - started) / 1000;

    // Assess: every delivery ended applied or parked, and the failure queue holds exactly the parked ones.
    const firstTry = sentEvents.filter(({ result }) => result.succeeded && result.attempts === 1);
    const afterRetry = sentEvents.filter(({ result }) => result.succeeded && result.attempts > 1);
    const parked = sentEvents.filter(({ result }) => !result.succeeded);
    const records = await drainFailureRecords(sqs, failureQueueUrl);
    expect(sentEvents).toHaveLength(deliveries.length);
    expect(firstTry.length + afterRetry.length + parked.length).toBe(deliveries.length);
    expect(parked.length).toBeGreaterThan(0);
    const parkedIds = (events: readonly { Records: { Sns: { MessageId: string } }[] }[]) =>
      events.map((event) => event.Records[0].Sns.MessageId).sort();
    expect(parkedIds(records.map((record) => record.requestPayload as SNSEvent))).toEqual(parkedIds(parked.map(({ sns }) => sns)));
    const reasons = new Set(records.map((record) => `${record.responsePayload.errorType}: ${record.responsePayload.errorMessage.slice(0, 80)}`));
    // Applied events survived the restart: each item is at least as new as every applied event of it.
    const beforeReplay = await readCache(client, tables);
    const lostWrites = [...firstTry, ...afterRetry].filter(({ event }) => {
      const item = (event.kind === 'loan' ? beforeReplay.loans : beforeReplay.requests).get(event.itemId);
      return !item || item.eventTime < event.time;
    });
    expect(lostWrites.map(({ event }) => event.eventId)).toEqual([]);

    // Act: the operator's redrive, once the backend is healthy.
    const replayed = await withConcurrency(records, 8, (record) => {
      const type = (JSON.parse((record.requestPayload as SNSEvent).Records[0].Sns.Message) as { event: { value: ScenarioEvent['type'] } }).event
        .value;
      return lambdas.invoke(type, record.requestPayload);
    });

    // Assess: the parked events applied cleanly and the cache is exactly what all the events imply.
    expect(replayed.filter((result) => !result.succeeded).map((result) => result.error?.message)).toEqual([]);
    expect(await drainFailureRecords(sqs, failureQueueUrl)).toEqual([]);
    const cache = await readCache(client, tables);
    expect(differences(cacheTruth(scenario.events, scenario.cachedPatrons), cache).slice(0, 20)).toEqual([]);
    expect(await drainQueue(sqs, userQueueUrl)).toEqual([]);
    const counts = cacheCounts(cache);
    console.log(
      [
        `[measured] outage: ${deliveries.length} deliveries (${scenario.events.length} events + ${deliveries.length - scenario.events.length} duplicates) for ${scenario.cachedPatrons.length} patrons, concurrency ${CONCURRENCY}, Lambda retries ${RETRY_DELAYS_MS.length} after ${RETRY_DELAYS_MS.join('/')} ms`,
        `[measured] outage: DynamoDB Local stopped at ${(timeline['killedAt'] / 1000).toFixed(1)} s (process gone at ${(timeline['goneAt'] / 1000).toFixed(1)} s), answering again at ${(timeline['upAt'] / 1000).toFixed(1)} s (down ${((timeline['upAt'] - timeline['killedAt']) / 1000).toFixed(1)} s incl. restart); stream ${streamSeconds.toFixed(1)} s`,
        `[measured] outage: applied first try ${firstTry.length}, applied after Lambda retries ${afterRetry.length}, parked ${parked.length} (failure queue ${records.length}); applied + parked = ${firstTry.length + afterRetry.length + parked.length} = sent; lost 0`,
        `[measured] outage: parked reasons: ${[...reasons].join(' | ')}`,
        `[measured] outage: replayed ${replayed.length} parked, ${replayed.filter((result) => result.succeeded).length} applied; cache equals the model (live loans ${counts.liveLoans}, loan tombstones ${counts.loanTombstones}, live requests ${counts.liveRequests}, request tombstones ${counts.requestTombstones})`,
      ].join('\n'),
    );
    client.destroy();
  }, 120_000);

  // Issue 19: the same outage with each function reading its queue. A failed receive is backed off (ChangeMessageVisibility,
  // here the harness waits RETRY_DELAYS_MS, then its last value, per receive) over the queue's 12 receives, which
  // outlast the outage: nothing is parked and nothing needs replaying.
  it('via the function queues: every event applied once the backend is back, none parked, no replay, the cache exactly the model', async () => {
    // Prepare
    const tables = await createCacheTables();
    const userQueueUrl = await createQueue();
    const failureQueueUrl = await createQueue();
    const client = createDocumentClient();
    const random = seededRandom(SEED + 1);
    const scenario = generateScenario(random, SIZE);
    const deliveries = deliverChaotically(random, scenario.events, { duplicateShare: 0.1, window: 20 });
    await withConcurrency(scenario.cachedPatrons, 16, (primaryId) =>
      client.send(
        new PutCommand({
          TableName: tables.users,
          Item: { primary_id: primaryId.toLowerCase(), user_version: 0, refreshed_at: '2026-11-02T07:00:00.000Z' },
        }),
      ),
    );
    const lambdas = snsLambdas(functionEnv(tables, userQueueUrl, failureQueueUrl), {
      sqs,
      failureQueueUrl,
      via: 'sqs',
      retryDelaysMs: RETRY_DELAYS_MS,
      functionTimeoutMs: 5_000,
      configure: (container) =>
        container.rebindSync(TOKENS.DocumentClient).toConstantValue(
          createDocumentClient({
            maxAttempts: 2,
            requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true },
          }),
        ),
    });

    // Act
    let sent = 0;
    let restarted: () => void = () => undefined;
    const backUp = new Promise<void>((resolve) => (restarted = resolve));
    const started = Date.now();
    let downSeconds = 0;
    const outage = (async () => {
      while (sent < deliveries.length * KILL_AFTER_SHARE) await sleep(20);
      const killedAt = Date.now();
      await server?.stop();
      server = undefined;
      await sleep(DOWN_FOR_MS);
      server = await startDynamoDbLocal({ port, dbPath });
      downSeconds = (Date.now() - killedAt) / 1000;
      restarted();
    })();
    const results = await withConcurrency(deliveries, CONCURRENCY, async ({ event }, index) => {
      if (index >= deliveries.length * RESUME_SHARE) await backUp;
      sent += 1;
      return lambdas.deliver(event.type, event.message);
    });
    await outage;

    // Assess: nothing parked, nothing lost, no replay needed.
    const afterBackoff = results.filter((result) => result.succeeded && result.attempts > 1);
    expect(results.filter((result) => !result.succeeded).map((result) => result.error?.message)).toEqual([]);
    expect(afterBackoff.length).toBeGreaterThan(0);
    expect(lambdas.askedBackoffs.length).toBeGreaterThan(0);
    expect(await drainQueue(sqs, failureQueueUrl)).toEqual([]);
    const cache = await readCache(client, tables);
    expect(differences(cacheTruth(scenario.events, scenario.cachedPatrons), cache).slice(0, 20)).toEqual([]);
    expect(await drainQueue(sqs, userQueueUrl)).toEqual([]);
    console.log(
      `[measured] outage via sqs: ${deliveries.length} deliveries, DynamoDB down ${downSeconds.toFixed(1)} s; applied first receive ${results.length - afterBackoff.length}, ` +
        `after backoff ${afterBackoff.length} (most receives ${Math.max(...results.map((result) => result.attempts))}), parked 0, replayed 0; ` +
        `backoffs asked ${lambdas.askedBackoffs.length} (longest ${Math.max(...lambdas.askedBackoffs)} s); stream ${((Date.now() - started) / 1000).toFixed(1)} s; cache equals the model`,
    );
    client.destroy();
  }, 120_000);
});
