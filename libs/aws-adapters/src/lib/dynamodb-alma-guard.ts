import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { AlmaBudgetExhaustedError, type AlmaCallBudget, type UnknownPatrons } from '@alma-cache/cache-domain';
import { ALMA_GUARD_ATTRIBUTES } from './table-schema';

/**
 * The Alma guard table (one per stage, owned by the cache-update stack): small items that protect the institution's
 * Alma budget, each expiring through `expires_at` (TTL). Key `guard_key`:
 * - `calls/<epoch second>`: the stage's Alma calls taken in that second (`calls`, a number);
 * - `unknown/<patron key>`: a patron Alma said it does not know, until `expires_at`.
 * `/` cannot occur in a patron id (the identifier rule), so the two kinds never collide.
 */
const { key: GUARD_KEY, calls: CALLS, expiresAt: EXPIRES_AT } = ALMA_GUARD_ATTRIBUTES;

/**
 * The negative cache on the Alma guard table: one `PutItem` to remember, one `GetItem` to ask. A verdict counts until
 * its `expires_at`, judged by its time: TTL deletes late.
 *
 * @example
 * const unknown = new DynamoDbUnknownPatrons(client, 'alma-cache-stg-alma-guard');
 * await unknown.remember('nobody', nowSeconds + 300);
 */
export class DynamoDbUnknownPatrons implements UnknownPatrons {
  public constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  public async isUnknown(userKey: string, nowSeconds: number): Promise<boolean> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { [GUARD_KEY]: `unknown/${userKey}` } }));
    return typeof Item?.[EXPIRES_AT] === 'number' && Item[EXPIRES_AT] > nowSeconds;
  }

  public async remember(userKey: string, untilSeconds: number): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: { [GUARD_KEY]: `unknown/${userKey}`, [EXPIRES_AT]: untilSeconds } }));
  }
}

/** How {@link DynamoDbAlmaCallBudget} behaves. */
export interface DynamoDbAlmaCallBudgetOptions {
  /** The stage's budget (`ALMA_CALLS_PER_SECOND`). */
  readonly callsPerSecond: number;
  /** Longest a caller waits for a call before `AlmaBudgetExhaustedError`. Default 20 000 ms. */
  readonly maxWaitMs?: number;
  /** For tests: milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  /** For tests. Default a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** For tests: a number in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
}

/**
 * The stage's Alma budget on the Alma guard table: each call is one conditional `UpdateItem` (`ADD calls :one` on the
 * current second's counter, only while it is under the budget), good only within that second. A full second makes the caller sleep until the next
 * one (plus a little jitter, so waiters do not all retry at the same instant) and try again. Every function of the
 * stage shares the counters, so together they stay under the budget whatever their concurrency.
 *
 * @example
 * const budget = new DynamoDbAlmaCallBudget(client, 'alma-cache-stg-alma-guard', { callsPerSecond: 10 });
 * const alma = new AlmaHttpApi({ baseUrl, apiKey, budget });
 */
export class DynamoDbAlmaCallBudget implements AlmaCallBudget {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  public constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: DynamoDbAlmaCallBudgetOptions,
  ) {
    if (!Number.isInteger(options.callsPerSecond) || options.callsPerSecond < 1) {
      throw new RangeError(`DynamoDbAlmaCallBudget: callsPerSecond must be a whole number of at least 1, got ${options.callsPerSecond}`);
    }
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  public async take(): Promise<void> {
    const started = this.now();
    const maxWaitMs = this.options.maxWaitMs ?? 20_000;
    for (;;) {
      const now = this.now();
      const second = Math.floor(now / 1000);
      if (await this.takeIn(second)) {
        // A call is good only in the second it was counted in: granted after that second ended (DynamoDB was slow),
        // it would land among the next second's calls, so it is dropped and one of the new second is taken.
        if (Math.floor(this.now() / 1000) === second) return;
        continue;
      }
      const nextSecondMs = (second + 1) * 1000;
      if (nextSecondMs - started > maxWaitMs) throw new AlmaBudgetExhaustedError(this.options.callsPerSecond, now - started);
      await this.sleep(nextSecondMs - now + Math.floor(this.random() * 50));
    }
  }

  private async takeIn(second: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [GUARD_KEY]: `calls/${second}` },
          UpdateExpression: `ADD ${CALLS} :one SET #expires = if_not_exists(#expires, :expires)`,
          ConditionExpression: `attribute_not_exists(${CALLS}) OR ${CALLS} < :limit`,
          ExpressionAttributeNames: { '#expires': EXPIRES_AT },
          // A counter is useless a second later; TTL removes it within a day or two.
          ExpressionAttributeValues: { ':one': 1, ':limit': this.options.callsPerSecond, ':expires': second + 60 },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
