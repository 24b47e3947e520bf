import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, createSqsClient } from '@alma-cache/aws-adapters';
import { createCacheTables, createQueue } from '@alma-cache/aws-adapters/testing';
import { type DynamoDbLocalServer, freePort, startDynamoDbLocal } from '@alma-cache/local-aws';
import { differences, readCache } from './support/cache-snapshot';
import { deliverChaotically, withConcurrency } from './support/delivery';
import { drainQueue, functionEnv, snsLambdas } from './support/lambda-harness';
import { faultSeed, seededRandom } from './support/prng';
import { generateScenario } from './support/scenario';
import { cacheTruth } from './support/truth-model';
import { TOKENS } from '../../../src/composition-root';

const SEED = faultSeed(20261103);
const SIZE = {
  cachedPatrons: 70,
  unknownPatrons: 0,
  loansPerPatron: [1, 3] as [number, number],
  requestsPerPatron: [0, 2] as [number, number],
  spreadMinutes: 120,
};
const CONCURRENCY = 24;
// The waits between receives, scaled down from the handler's backoff (1 minute, doubling): the harness waits these (the
// last one repeating) instead of what the handler asks of SQS, so the queue's 12 receives outlast the outage.
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

  // Each function reads its queue. A failed receive is backed off (ChangeMessageVisibility; here the harness waits
  // RETRY_DELAYS_MS, then its last value, per receive) over the queue's 12 receives, which outlast the outage: nothing
  // is parked and nothing needs replaying. (The SNS path this replaced parked every event that failed 3 attempts, and
  // needed the operator's replay.)
  it('every event applied once the backend is back, none parked, no replay, the cache exactly the model', async () => {
    // Prepare
    const tables = await createCacheTables();
    const userQueueUrl = await createQueue();
    const deadLetterQueueUrl = await createQueue();
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
    const lambdas = snsLambdas(functionEnv(tables, userQueueUrl, deadLetterQueueUrl), {
      sqs,
      deadLetterQueueUrl,
      retryDelaysMs: RETRY_DELAYS_MS,
      functionTimeoutMs: 5_000,
      // The SDK's defaults would let an attempt hang on a dead backend: no connection timeout, and a requestTimeout
      // that only warns. Short, throwing timeouts make a receive during the outage fail within seconds, as a Lambda
      // invocation would at its function timeout; the SDK keeps its own quick retry (2 attempts) for a reset socket.
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
    expect(await drainQueue(sqs, deadLetterQueueUrl)).toEqual([]);
    const cache = await readCache(client, tables);
    expect(differences(cacheTruth(scenario.events, scenario.cachedPatrons), cache).slice(0, 20)).toEqual([]);
    expect(await drainQueue(sqs, userQueueUrl)).toEqual([]);
    console.log(
      `[measured] outage seed ${SEED} (FAULT_SEED=${SEED} replays this run): ${deliveries.length} deliveries, DynamoDB down ${downSeconds.toFixed(1)} s; applied first receive ${results.length - afterBackoff.length}, ` +
        `after backoff ${afterBackoff.length} (most receives ${Math.max(...results.map((result) => result.attempts))}), parked 0, replayed 0; ` +
        `backoffs asked ${lambdas.askedBackoffs.length} (longest ${Math.max(...lambdas.askedBackoffs)} s); stream ${((Date.now() - started) / 1000).toFixed(1)} s; cache equals the model`,
    );
    client.destroy();
  }, 120_000);
});
