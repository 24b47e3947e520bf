import { DEFAULT_EXPIRY_POLICY, type ItemSyncDeps } from '../../src';
import { InMemoryCacheStore, InMemoryUserRefreshQueue, ManualClock } from '../../src/testing';

/** A fresh set of fakes wired as the composition root wires the real ports. */
export const makeDeps = () => {
  const store = new InMemoryCacheStore();
  const refreshQueue = new InMemoryUserRefreshQueue();
  // Just after the last sample webhook (2026-12-10T16:42Z): every sample is inside the replay horizon and none is
  // dated in the future.
  const clock = new ManualClock('2026-12-10T17:00:00.000Z');
  const deps: ItemSyncDeps = { store, refreshQueue, clock, expiry: DEFAULT_EXPIRY_POLICY };
  return { store, refreshQueue, clock, deps };
};

export const nowSeconds = (clock: ManualClock): number => Math.floor(clock.now().getTime() / 1000);

/**
 * Sets the clock to a minute after the webhook `message` was sent, as if it had just arrived: for samples dated
 * further apart than the replay horizon (LOAN_LOST is from 2027).
 */
export const arriving = (clock: ManualClock, message: string): string => {
  const sentMillis = Date.parse((JSON.parse(message) as { time: string }).time);
  clock.advanceSeconds((sentMillis + 60_000 - clock.now().getTime()) / 1000);
  return message;
};
