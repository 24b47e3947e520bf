import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, createSqsClient } from '@alma-cache/aws-adapters';
import { createCacheTables, createQueue } from '@alma-cache/aws-adapters/testing';
import { cacheCounts, differences, readCache } from './support/cache-snapshot';
import { countInversions, deliverChaotically, withConcurrency } from './support/delivery';
import { drainQueue, functionEnv, snsLambdas } from './support/lambda-harness';
import { faultSeed, seededRandom } from './support/prng';
import { generateScenario } from './support/scenario';
import { cacheTruth } from './support/truth-model';

// Sized so the run stays well under a minute on two shared cores against DynamoDB Local.
const SEED = faultSeed(20261102);
const SIZE = { cachedPatrons: 300, unknownPatrons: 30, loansPerPatron: [1, 3], requestsPerPatron: [0, 3], spreadMinutes: 240 } as const;
const DUPLICATE_SHARE = 0.2;
const REORDER_WINDOW = 100;
const CONCURRENCY = 32;

describe('Faults: chaos replay through the real handlers', () => {
  const client = createDocumentClient();
  const sqs = createSqsClient();

  afterAll(() => {
    client.destroy();
    sqs.destroy();
  });

  // Each function reads its queue through the SQS batch handler, as deployed.
  it('ends, after duplicated and reordered concurrent deliveries, with exactly the cache the events imply', async () => {
    // Prepare: patrons cached as the bulk refresh leaves them; the unknown ones have no User record.
    const tables = await createCacheTables();
    const userQueueUrl = await createQueue();
    const deadLetterQueueUrl = await createQueue(`dlq-${SEED}-${Date.now()}`);
    process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
    const lambdas = snsLambdas(functionEnv(tables, userQueueUrl, deadLetterQueueUrl), { sqs, deadLetterQueueUrl });
    const random = seededRandom(SEED);
    const scenario = generateScenario(random, {
      ...SIZE,
      loansPerPatron: [...SIZE.loansPerPatron],
      requestsPerPatron: [...SIZE.requestsPerPatron],
    });
    const deliveries = deliverChaotically(random, scenario.events, { duplicateShare: DUPLICATE_SHARE, window: REORDER_WINDOW });
    const refreshedAt = '2026-11-02T07:00:00.000Z';
    await withConcurrency(scenario.cachedPatrons, 16, (primaryId) =>
      client.send(
        new PutCommand({
          TableName: tables.users,
          Item: { primary_id: primaryId.toLowerCase(), user_version: 0, refreshed_at: refreshedAt, expires_at: 1_900_000_000 },
        }),
      ),
    );
    console.log(`[measured] chaos seed ${SEED} (FAULT_SEED=${SEED} replays this run)`);

    // Act
    const started = Date.now();
    const results = await withConcurrency(deliveries, CONCURRENCY, ({ event }) => lambdas.deliver(event.type, event.message));
    const wallSeconds = (Date.now() - started) / 1000;

    // Assess: the cache is exactly the model's truth.
    const truth = cacheTruth(scenario.events, scenario.cachedPatrons);
    const cache = await readCache(client, tables);
    const failed = results.filter((result) => !result.succeeded);
    expect(failed.map((result) => result.error?.message)).toEqual([]);
    expect(await drainQueue(sqs, deadLetterQueueUrl)).toEqual([]);
    expect(differences(truth, cache).slice(0, 20)).toEqual([]);
    // Cached patrons keep what the refresh wrote; the unknown ones were not created by a webhook.
    for (const { raw } of cache.patrons.values()) {
      expect(raw).toEqual(expect.objectContaining({ refreshed_at: refreshedAt, user_version: expect.any(Number) }));
    }
    // Refreshes: every unknown patron asked for, no cached one; each message matches one request the use cases
    // reported (which deliveries asked for a refresh: the queue must hold exactly those), and all
    // of a patron's requests come from the one event holding its claim (a redelivery of that event sends again
    // only when it overlaps the first delivery's send, before the claim is marked sent).
    const refreshRequests = lambdas.applied
      .filter((outcome) => outcome.user === 'refresh-requested')
      .map((outcome) => ({
        almaEventId: outcome.event.eventId,
        patron: scenario.events.find((candidate) => candidate.eventId === outcome.event.eventId)?.userPrimaryId ?? '?',
      }));
    const messages = await drainQueue(sqs, userQueueUrl);
    const claims = (await client.send(new ScanCommand({ TableName: tables.refreshClaims }))).Items ?? [];
    expect(new Set(messages)).toEqual(new Set(scenario.unknownPatrons));
    expect([...messages].sort()).toEqual(refreshRequests.map((request) => request.patron).sort());
    expect(claims.map((claim) => claim['primary_id']).sort()).toEqual(scenario.unknownPatrons.map((id) => id.toLowerCase()).sort());
    for (const request of refreshRequests) {
      expect(claims.find((claim) => claim['primary_id'] === request.patron.toLowerCase())?.['claimant']).toBe(request.almaEventId);
    }

    const counts = cacheCounts(cache);
    const duplicates = deliveries.filter((delivery) => delivery.redelivery).length;
    const retried = results.filter((result) => result.attempts > 1).length;
    console.log(
      [
        `[measured] chaos: ${scenario.events.length} events + ${duplicates} duplicates = ${deliveries.length} deliveries, ` +
          `reorder window ${REORDER_WINDOW} (${countInversions(deliveries)} same-item pairs delivered out of time order), concurrency ${CONCURRENCY}`,
        `[measured] chaos: patrons ${scenario.cachedPatrons.length} cached + ${scenario.unknownPatrons.length} unknown; ` +
          `final live loans ${counts.liveLoans}, loan tombstones ${counts.loanTombstones}, live requests ${counts.liveRequests}, request tombstones ${counts.requestTombstones}`,
        `[measured] chaos: refresh messages ${messages.length} for ${scenario.unknownPatrons.length} unknown patrons ` +
          `(${messages.length - scenario.unknownPatrons.length} extra from a redelivered claimant event); received again ${retried}; parked 0`,
        `[measured] chaos: wall time ${wallSeconds.toFixed(1)} s (${(deliveries.length / wallSeconds).toFixed(0)} deliveries/s); cache equals the model`,
      ].join('\n'),
    );
  }, 120_000);
});
