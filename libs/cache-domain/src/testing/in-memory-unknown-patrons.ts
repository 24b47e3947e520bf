import type { UnknownPatrons } from '../lib/shared/unknown-patrons.port';

/**
 * The negative cache in memory, with the adapter's rule: a verdict counts until its time, whether or not it was
 * deleted.
 *
 * @example
 * const unknown = new InMemoryUnknownPatrons();
 * await unknown.remember('nobody', 1300);
 * await unknown.isUnknown('nobody', 1299); // true
 */
export class InMemoryUnknownPatrons implements UnknownPatrons {
  /** Epoch seconds until which each patron key is known to be unknown. */
  public readonly until = new Map<string, number>();

  public async isUnknown(userKey: string, nowSeconds: number): Promise<boolean> {
    return (this.until.get(userKey) ?? 0) > nowSeconds;
  }

  public async remember(userKey: string, untilSeconds: number): Promise<void> {
    this.until.set(userKey, untilSeconds);
  }
}
