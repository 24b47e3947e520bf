import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  AlmaBudgetExhaustedError,
  type AlmaBudgetCaller,
  type AlmaBudgetShare,
  type AlmaCallBudget,
  AlmaCallerShareExceededError,
  almaBudgetShares,
  type UnknownPatrons,
} from '@alma-cache/cache-domain';
import { ALMA_GUARD_ATTRIBUTES } from './table-schema';

/**
 * The Alma guard table (one per stage, owned by the refresh stack): small items that protect the institution's
 * Alma budget. Key `guard_key`:
 * - `rate/<share>/<n>` (`rate/refresh/0` … and `rate/query/0` …): one slot of a share of the stage's budget, holding
 *   when it was last granted (`granted_at`, epoch ms);
 * - `rate/caller/<hash>/<n>`: one slot of a query API caller's share (the hash: SHA-256 of the caller, see
 *   `AlmaBudgetCaller`, so no client id or patron id is a key);
 * - `unknown/<patron key>`: a patron Alma said it does not know, until `expires_at` (TTL).
 * `/` cannot occur in a patron id (the identifier rule), so the kinds never collide. The query API uses the
 * prefixes `rate/query/`, `rate/caller/` and `unknown/`; the refresh functions `rate/refresh/` and `unknown/`.
 */
const { key: GUARD_KEY, grantedAt: GRANTED_AT, expiresAt: EXPIRES_AT } = ALMA_GUARD_ATTRIBUTES;

/** A slot is held a second and this long after its grant, by default (`DynamoDbAlmaCallBudgetOptions.graceMs`). */
export const SLOT_GRACE_MS = 100;
/** How long after its grant a slot frees: a second and the grace. The budget and the gauge read slots alike. */
export const slotPeriodMs = (graceMs = SLOT_GRACE_MS): number => 1000 + graceMs;
/** The guard key of slot `slot` of the ring under `prefix` (`rate/refresh`, `rate/caller/<hash>`). */
export const slotKey = (prefix: string, slot: number): string => `${prefix}/${slot}`;
/** The ring of one share of the stage's budget: `rate/refresh`, `rate/query`. */
export const shareSlotPrefix = (share: AlmaBudgetShare): string => `rate/${share}`;

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
  /** The stage's whole budget (`ALMA_CALLS_PER_SECOND`); this instance takes from its `share` of it. */
  readonly callsPerSecond: number;
  /**
   * Which share of the budget this instance takes from (see `almaBudgetShares`). Default `refresh`, the background
   * share: a caller that does not say is never one a patron waits for.
   */
  readonly share?: AlmaBudgetShare;
  /** Longest a caller waits for a call before `AlmaBudgetExhaustedError`. Default 20 000 ms. */
  readonly maxWaitMs?: number;
  /**
   * The query API's current request (who, and until when it may wait), read at each `take()`. When it answers, the
   * call is first taken from that caller's own share (`perCaller` of `almaBudgetShares`), then from the share's.
   */
  readonly caller?: () => AlmaBudgetCaller | undefined;
  /** Longest a caller waits for a call of its own share before `AlmaCallerShareExceededError`. Default 1000 ms. */
  readonly callerMaxWaitMs?: number;
  /**
   * How far a call may leave after the time its slot was stamped with (the time asked plus the expected DynamoDB
   * write time); a slot is held this much longer than a second, so that a slot's calls always leave at least a
   * second apart. A grant back later than that is stamped again (or dropped). Default 100 ms.
   */
  readonly graceMs?: number;
  /** For tests: milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  /** For tests. Default a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** For tests: a number in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
}

/** Caller slot rings kept per container, so a warm container knows its callers' slots; beyond this, forgotten. */
const MAX_KNOWN_CALLERS = 256;
/** A grant that came back late is stamped again this many times at most before it is given up. */
const MAX_RESTAMPS = 3;
/** Slots are reused for ever; one idle for a day is left to TTL, and written again when next granted. */
const SLOT_TTL_SECONDS = 86_400;

type SlotOutcome = { readonly granted: true } | { readonly granted: false; readonly freeAtMs: number };

/**
 * The stage's Alma budget on the Alma guard table, as a sliding window: a share of `n` calls per second is `n` slot
 * items, each granting at most one call per second (plus the grace). A call is one conditional `UpdateItem` setting
 * a slot's `granted_at` to when the call will leave (now plus this container's measured write time), only if its
 * last stamp is at least that long ago, and the call must leave by its stamp plus the grace; so no sliding second
 * ever holds more than `n` calls leaving, whatever the concurrency of the functions sharing the table (the per-second
 * counters it replaces let up to twice the budget through around the turn of a second). Containers' clocks must
 * agree to well within the grace (Lambda's are NTP-synchronised). A refused slot answers with its last
 * grant (`ReturnValuesOnConditionCheckFailure`), which the instance remembers: it asks next for the slot it knows
 * to be free, or sleeps until the first one frees (plus a little jitter, so waiters do not all come back at once).
 * Writes only: one `UpdateItem` per call on the common path, no read.
 *
 * With a `caller` (the query API), a call is first taken from the caller's own slots (`rate/caller/<hash>/<n>`),
 * without a long wait: past its share the caller gets `AlmaCallerShareExceededError` (a 429), leaving the rest of
 * the misses' share to everyone else. The wait for a share slot ends at the caller's `waitUntilMs` when sooner than
 * `maxWaitMs`, so a saturated budget is answered before the request's deadline.
 *
 * @example
 * const budget = new DynamoDbAlmaCallBudget(client, 'alma-cache-stg-alma-guard', { callsPerSecond: 10, share: 'refresh' });
 * const alma = new AlmaHttpApi({ baseUrl, apiKey, budget });
 * @throws RangeError when `callsPerSecond` is under 2 (the budget cannot be split in shares)
 */
export class DynamoDbAlmaCallBudget implements AlmaCallBudget {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly shareCalls: number;
  private readonly perCaller: number;
  private readonly slots: SlotRing;
  private readonly callers = new Map<string, SlotRing>();
  private readonly latency = new WriteLatency();

  public constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: DynamoDbAlmaCallBudgetOptions,
  ) {
    const shares = almaBudgetShares(options.callsPerSecond);
    const share = options.share ?? 'refresh';
    this.shareCalls = shares[share];
    this.perCaller = shares.perCaller;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.slots = this.ring(shareSlotPrefix(share), this.shareCalls);
  }

  public async take(): Promise<void> {
    const started = this.now();
    const caller = this.options.caller?.();
    const until = Math.min(started + (this.options.maxWaitMs ?? 20_000), caller?.waitUntilMs ?? Number.POSITIVE_INFINITY);
    if (caller !== undefined) {
      const own = await this.callerRing(caller.id).take(Math.min(until, started + (this.options.callerMaxWaitMs ?? 1000)));
      if (!own.granted) throw new AlmaCallerShareExceededError(this.perCaller, this.now() - started, retryAfterSeconds(own.freeAtMs - this.now()));
    }
    const outcome = await this.slots.take(until);
    if (!outcome.granted) throw new AlmaBudgetExhaustedError(this.shareCalls, this.now() - started, retryAfterSeconds(outcome.freeAtMs - this.now()));
  }

  private callerRing(callerId: string): SlotRing {
    const hash = createHash('sha256').update(callerId, 'utf8').digest('hex').slice(0, 32);
    let ring = this.callers.get(hash);
    if (ring === undefined) {
      if (this.callers.size >= MAX_KNOWN_CALLERS) this.callers.clear();
      ring = this.ring(`rate/caller/${hash}`, this.perCaller);
      this.callers.set(hash, ring);
    }
    return ring;
  }

  private ring(prefix: string, size: number): SlotRing {
    return new SlotRing(this.client, this.tableName, prefix, size, this.options.graceMs ?? SLOT_GRACE_MS, this.latency, {
      now: this.now,
      sleep: this.sleep,
      random: this.random,
    });
  }
}

const retryAfterSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/**
 * How long this container's writes to the guard table take, as a moving average: a grant is stamped that far ahead,
 * the time its call will actually leave, so that a slow DynamoDB does not make grants late.
 */
class WriteLatency {
  private averageMs = 20;

  public get estimateMs(): number {
    return Math.round(this.averageMs);
  }

  public observe(ms: number): void {
    this.averageMs = Math.min(1000, 0.7 * this.averageMs + 0.3 * Math.max(0, ms));
  }
}

/** `size` slots under `prefix`, and what this instance last learnt of each one's grant time. */
class SlotRing {
  private readonly known: number[];
  private readonly periodMs: number;

  public constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly prefix: string,
    size: number,
    private readonly graceMs: number,
    private readonly latency: WriteLatency,
    private readonly time: { now: () => number; sleep: (ms: number) => Promise<void>; random: () => number },
  ) {
    this.known = Array.from({ length: size }, () => 0);
    this.periodMs = slotPeriodMs(graceMs);
  }

  /**
   * Takes a slot before `untilMs`, or says when the first one it knows of frees. A slot is granted at `now` only if
   * its last stamp is at least the period old, and stamped `now` plus the expected write time; the call must then
   * leave by its stamp plus the grace. So a slot's calls leave at least a second apart: the next grant is asked at
   * least the period (1 s + grace) after this stamp, and cannot leave before it is asked.
   */
  public async take(untilMs: number): Promise<SlotOutcome> {
    for (;;) {
      const now = this.time.now();
      const slot = this.likeliestFree();
      const freeAtMs = this.known[slot] + this.periodMs;
      if (freeAtMs > now) {
        if (freeAtMs > untilMs) return { granted: false, freeAtMs };
        await this.time.sleep(freeAtMs - now + Math.floor(this.time.random() * 25));
        continue;
      }
      if (now > untilMs) return { granted: false, freeAtMs: now };
      const stamp = now + this.latency.estimateMs;
      const lastGrant = await this.write(slot, stamp, { notAfter: now - this.periodMs });
      if (lastGrant === undefined) {
        if (await this.onTime(slot, stamp)) return { granted: true };
        continue;
      }
      // Another caller had it: what it holds now tells when it frees.
      this.known[slot] = Math.max(this.known[slot], lastGrant);
    }
  }

  /**
   * Whether the grant stamped `stamp` may be used now, i.e. by its stamp plus the grace. One that came back later
   * (DynamoDB slower than expected) is stamped again further ahead, if the slot is still ours, a few times at most;
   * otherwise it is dropped (the slot stays spent) and the caller takes another.
   */
  private async onTime(slot: number, stamp: number): Promise<boolean> {
    let stamped = stamp;
    for (let restamp = 0; ; restamp += 1) {
      this.known[slot] = stamped;
      const now = this.time.now();
      if (now <= stamped + this.graceMs) return true;
      if (restamp >= MAX_RESTAMPS) return false;
      const next = now + this.latency.estimateMs;
      if ((await this.write(slot, next, { exactly: stamped })) !== undefined) return false;
      stamped = next;
    }
  }

  /**
   * One conditional stamp of a slot: a grant (the slot's stamp is `notAfter` or older, or it has none) or a re-stamp
   * (the slot still holds `exactly` our stamp). Undefined when written; otherwise the slot's stamp (now, if DynamoDB
   * did not return it).
   */
  private async write(slot: number, stamp: number, condition: { notAfter: number } | { exactly: number }): Promise<number | undefined> {
    const asked = this.time.now();
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [GUARD_KEY]: slotKey(this.prefix, slot) },
          UpdateExpression: 'SET #granted = :stamp, #expires = :expires',
          ConditionExpression: 'notAfter' in condition ? 'attribute_not_exists(#granted) OR #granted <= :limit' : '#granted = :limit',
          ExpressionAttributeNames: { '#granted': GRANTED_AT, '#expires': EXPIRES_AT },
          ExpressionAttributeValues: {
            ':stamp': stamp,
            ':limit': 'notAfter' in condition ? condition.notAfter : condition.exactly,
            ':expires': Math.floor(stamp / 1000) + SLOT_TTL_SECONDS,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return grantedAtOf(error.Item) ?? asked;
      throw error;
    } finally {
      this.latency.observe(this.time.now() - asked);
    }
  }

  /** The slot with the oldest grant this instance knows of; among equals, one at random, so callers spread out. */
  private likeliestFree(): number {
    const oldest = Math.min(...this.known);
    const candidates = this.known.flatMap((at, slot) => (at === oldest ? [slot] : []));
    return candidates[Math.floor(this.time.random() * candidates.length)] ?? candidates[0];
  }
}

/** The document client does not unmarshall the item of a refused condition: it arrives as `{ N: "…" }`. */
const grantedAtOf = (item: Record<string, unknown> | undefined): number | undefined => {
  const value = item?.[GRANTED_AT];
  const raw = typeof value === 'object' && value !== null && 'N' in value ? (value as { N: unknown }).N : value;
  const at = Number(raw);
  return raw !== undefined && Number.isFinite(at) ? at : undefined;
};
