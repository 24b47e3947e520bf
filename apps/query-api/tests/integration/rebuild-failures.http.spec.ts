import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '@alma-cache/aws-adapters';
import { generatePatron } from '@alma-cache/alma-api/testing';
import { type HttpApiServer, startHttpApiServer } from '@alma-cache/local-aws';
import { ENV } from '../../src/config';
import { mintLocalToken, verifyLocalToken } from '../../src/local-auth';
import { createQueryApi } from '../../src/query-api';
import { TOKENS } from '../../src/composition-root';
import { patronId, type QueryStack, startQueryStack } from '../support/query-stack';

// Issue 18 §4, through the real composition root on DynamoDB Local and the fake Alma: an inline rebuild that fails
// for a reason the Users queue is not for gives the patron's claim up, so the next miss (or a webhook) rebuilds it at
// once instead of meeting 503 for the whole refresh window.
describe('Query API: a failed rebuild never blocks the patron for the window', () => {
  jest.setTimeout(60_000);
  let stack: QueryStack;
  let server: HttpApiServer;
  /** While true, every write to the Alma guard table's budget slots is refused as DynamoDB throttling. */
  let guardThrottled = false;

  beforeAll(async () => {
    stack = await startQueryStack();
    const guardTable = stack.env[ENV.almaGuardTable];
    const client = createDocumentClient();
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { TableName?: string; UpdateExpression?: string };
        if (guardThrottled && input.TableName === guardTable && input.UpdateExpression !== undefined) {
          throw new ProvisionedThroughputExceededException({
            message: 'The level of configured provisioned throughput for the table was exceeded',
            $metadata: {},
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'throttleAlmaGuard' },
    );
    const api = createQueryApi(stack.env, {
      configure: (container) => {
        stack.captureMetrics(container);
        container.rebindSync(TOKENS.DocumentClient).toConstantValue(client);
      },
    });
    server = await startHttpApiServer({ routes: api.routes, authorize: verifyLocalToken });
  });
  afterAll(async () => {
    await server?.close();
    await stack?.close();
  });

  // One OAuth client per patron, so per test: each test's misses start with that client's whole share of the Alma
  // budget. With one client for the file, a test started within the second after the last one's Alma calls found its
  // share spent and was answered 429 before reaching what it tests (the guard table's throttling, a 500).
  const get = async (id: string) => {
    const token = mintLocalToken('reader', { clientId: `rebuild-failures-${id}` });
    const response = await fetch(`${server.url}/users/${id}`, { headers: { authorization: `Bearer ${token}` } });
    await response.text();
    return response.status;
  };
  /** Whether a webhook for the patron could take its refresh claim now (it would be coalesced away otherwise). */
  const webhookMayClaim = (id: string) => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    return stack.store.claimUserRefresh({ userKey: id.toLowerCase(), claimant: `webhook-${id}`, nowSeconds, untilSeconds: nowSeconds + 1 });
  };

  it('an Alma 4xx: 502, claim released; the next read rebuilds the patron (200)', async () => {
    // Prepare
    const id = patronId('alma400');
    stack.alma.seedPatron(generatePatron(id, { loans: 2 }));
    stack.alma.resetCalls();
    stack.alma.failNext(1, 400);

    // Act
    const first = await get(id);
    const callsAfterFirst = stack.alma.calls.length;
    const second = await get(id);

    // Assess
    expect([first, second]).toEqual([502, 200]);
    expect(callsAfterFirst).toBe(1);
    expect(stack.alma.calls).toHaveLength(4);
    expect(await stack.drainQueue()).toEqual([]);
  });

  it('DynamoDB throttling on the Alma guard table: 500, no Alma call, claim released; a webhook may claim the patron', async () => {
    // Prepare
    const id = patronId('throttled');
    stack.alma.seedPatron(generatePatron(id, { loans: 1 }));
    stack.alma.resetCalls();
    guardThrottled = true;

    // Act
    const first = await get(id).finally(() => (guardThrottled = false));
    const claimable = await webhookMayClaim(id);

    // Assess
    expect(first).toBe(500);
    expect(stack.alma.calls).toEqual([]);
    expect(claimable).toBe(true);
    expect(await stack.store.readUser(id.toLowerCase())).toBeUndefined();
  });

  it('DynamoDB throttling on the Alma guard table: the next read after it rebuilds the patron (200)', async () => {
    // Prepare
    const id = patronId('throttled2');
    stack.alma.seedPatron(generatePatron(id, { loans: 1 }));
    guardThrottled = true;
    const first = await get(id).finally(() => (guardThrottled = false));
    stack.alma.resetCalls();

    // Act
    const second = await get(id);

    // Assess
    expect([first, second]).toEqual([500, 200]);
    expect(stack.alma.calls).toHaveLength(3);
  });
});
