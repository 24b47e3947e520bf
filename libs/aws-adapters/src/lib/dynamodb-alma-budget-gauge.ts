import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type AlmaBudgetShare, almaBudgetShares } from '@alma-cache/cache-domain';
import { shareSlotPrefix, slotKey, slotPeriodMs } from './dynamodb-alma-guard';
import { ALMA_GUARD_ATTRIBUTES } from './table-schema';

const { key: GUARD_KEY, grantedAt: GRANTED_AT } = ALMA_GUARD_ATTRIBUTES;
/** BatchGetItem's most keys per request. */
const BATCH = 100;

/** How full one share of the stage's budget is right now. */
export interface AlmaBudgetLoad {
  /** Slots of the share granted within the last period (a second and the grace): calls of the current sliding second. */
  readonly used: number;
  /** The share's calls per second (its slots). */
  readonly of: number;
  /** Milliseconds until a slot frees: 0 when one is free now. */
  readonly freeInMs: number;
}

/** How {@link DynamoDbAlmaBudgetGauge} reads. */
export interface DynamoDbAlmaBudgetGaugeOptions {
  /** The stage's budget, `ALMA_CALLS_PER_SECOND`, as the functions have it. */
  readonly callsPerSecond: number;
  /** Which share to look at. Default `refresh`. */
  readonly share?: AlmaBudgetShare;
  /** The budget's grace (`DynamoDbAlmaCallBudgetOptions.graceMs`): a slot is held a second and this long. Default 100. */
  readonly graceMs?: number;
  /** For tests: milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Looks at how busy a share of the stage's Alma budget is, without taking a call: it reads the share's slot items
 * that `DynamoDbAlmaCallBudget` writes (`rate/<share>/<n>`, `granted_at`: see dynamodb-alma-guard.ts) with one
 * strongly consistent `BatchGetItem` per 100 slots. For a background caller that does not call Alma itself but makes
 * others call it, such as the warm-up backfill, which queues patrons for `update-user`: taking a call just to learn
 * the share is busy would spend the share it means to leave to others.
 *
 * @example
 * const gauge = new DynamoDbAlmaBudgetGauge(client, 'alma-cache-stg-alma-guard', { callsPerSecond: 10 });
 * await gauge.load(); // { used: 3, of: 3, freeInMs: 420 }: the refresh share is full for another 420 ms
 */
export class DynamoDbAlmaBudgetGauge {
  private readonly keys: Record<string, string>[];
  private readonly periodMs: number;
  private readonly now: () => number;

  public constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoDbAlmaBudgetGaugeOptions,
  ) {
    const share = options.share ?? 'refresh';
    const slots = almaBudgetShares(options.callsPerSecond)[share];
    this.keys = Array.from({ length: slots }, (_, slot) => ({ [GUARD_KEY]: slotKey(shareSlotPrefix(share), slot) }));
    this.periodMs = slotPeriodMs(options.graceMs);
    this.now = options.now ?? Date.now;
  }

  public async load(): Promise<AlmaBudgetLoad> {
    const grants = await this.grantTimes();
    const now = this.now();
    // A slot never granted (or its item expired) is free; a stamp may lie a little ahead of now (see the budget).
    const freeAt = this.keys.map((_, slot) => (grants[slot] === undefined ? 0 : grants[slot] + this.periodMs));
    const used = freeAt.filter((at) => at > now).length;
    return { used, of: this.keys.length, freeInMs: used < this.keys.length ? 0 : Math.max(0, Math.min(...freeAt) - now) };
  }

  private async grantTimes(): Promise<(number | undefined)[]> {
    const bySlot = new Map<string, number>();
    for (let start = 0; start < this.keys.length; start += BATCH) {
      let pending: Record<string, unknown>[] = this.keys.slice(start, start + BATCH);
      // Unprocessed keys (throttling) are asked again a few times; any left count as free, never as busy.
      for (let attempt = 0; attempt < 3 && pending.length > 0; attempt += 1) {
        const reply = await this.client.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }));
        for (const item of reply.Responses?.[this.tableName] ?? []) {
          if (typeof item[GRANTED_AT] === 'number') bySlot.set(String(item[GUARD_KEY]), item[GRANTED_AT]);
        }
        pending = reply.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return this.keys.map((key) => bySlot.get(key[GUARD_KEY]));
  }
}
