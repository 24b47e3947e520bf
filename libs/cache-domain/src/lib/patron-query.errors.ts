import { ALMA_UNAVAILABLE_KINDS } from './alma-api.errors';
import type { ItemKind } from './cache-record';

/** A query names a patron or record id that no patron or record can have (empty, too long, control characters). */
export class InvalidPatronQueryError extends Error {
  public constructor(public readonly reason: string) {
    super(reason);
    this.name = 'InvalidPatronQueryError';
  }
}

/** Neither the cache nor Alma knows the patron. */
export class PatronNotFoundError extends Error {
  public constructor(public readonly userPrimaryId: string) {
    super(`no patron ${JSON.stringify(userPrimaryId)}`);
    this.name = 'PatronNotFoundError';
  }
}

/** The patron has no such record: none at all, a removed one (tombstone), or one that is another patron's. */
export class PatronItemNotFoundError extends Error {
  public constructor(
    public readonly userPrimaryId: string,
    public readonly kind: ItemKind,
    public readonly itemId: string,
  ) {
    super(`patron ${JSON.stringify(userPrimaryId)} has no ${kind} ${JSON.stringify(itemId)}`);
    this.name = 'PatronItemNotFoundError';
  }
}

/**
 * Why Alma could not answer a query the cache could not: the `kind` of an `AlmaUnavailableError` (`throttled`,
 * `daily-limit`, `unavailable`) or `refreshing` (another caller is rebuilding the patron from Alma right now: Alma was
 * not asked again).
 */
export const ALMA_UNAVAILABILITY = [...ALMA_UNAVAILABLE_KINDS, 'refreshing'] as const;
export type AlmaUnavailability = (typeof ALMA_UNAVAILABILITY)[number];

/**
 * The cache could not answer and neither could Alma, for now. `retryAfterSeconds` is always set: Alma's own hint
 * when it gave one, otherwise the default for the reason (see `DEFAULT_RETRY_AFTER_SECONDS`).
 */
export class PatronDataUnavailableError extends Error {
  public constructor(
    public readonly userPrimaryId: string,
    public readonly unavailability: AlmaUnavailability,
    public readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(`patron ${JSON.stringify(userPrimaryId)} is not cached and Alma is ${unavailability}; retry after ${retryAfterSeconds} s`, options);
    this.name = 'PatronDataUnavailableError';
  }
}
