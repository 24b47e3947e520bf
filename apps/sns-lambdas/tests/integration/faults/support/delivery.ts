import type { SeededRandom } from './prng';

export interface Delivery<T> {
  readonly event: T;
  /** True for the second delivery of an event (same Alma event id, same body). */
  readonly redelivery: boolean;
}

/**
 * What SNS and Alma's retries make of an ordered stream: a share of events delivered twice (the copy a little
 * later), then every delivery moved by up to `window` positions (sort on position + a random offset in [0, window]).
 *
 * @example
 * const deliveries = deliverChaotically(random, events, { duplicateShare: 0.2, window: 64 });
 */
export const deliverChaotically = <T>(
  random: SeededRandom,
  events: readonly T[],
  options: { duplicateShare: number; window: number },
): Delivery<T>[] => {
  const positioned: { delivery: Delivery<T>; key: number }[] = [];
  events.forEach((event, index) => {
    positioned.push({ delivery: { event, redelivery: false }, key: index + random.next() * options.window });
    if (random.chance(options.duplicateShare)) {
      positioned.push({ delivery: { event, redelivery: true }, key: index + random.int(1, options.window) + random.next() * options.window });
    }
  });
  return positioned.sort((a, b) => a.key - b.key).map(({ delivery }) => delivery);
};

/** Pairs of deliveries of one item that arrive in the opposite order to their Alma times: how much reordering bit. */
export const countInversions = <T extends { itemId: string; time: string }>(deliveries: readonly Delivery<T>[]): number => {
  const latestSeen = new Map<string, string[]>();
  let inversions = 0;
  for (const { event } of deliveries) {
    const seen = latestSeen.get(event.itemId) ?? [];
    inversions += seen.filter((time) => time > event.time).length;
    seen.push(event.time);
    latestSeen.set(event.itemId, seen);
  }
  return inversions;
};

/**
 * Runs `work` over `items` with at most `concurrency` in flight, in order of start.
 *
 * @example
 * await withConcurrency(deliveries, 32, (delivery) => deliver(delivery));
 */
export const withConcurrency = async <T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> => {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
};
