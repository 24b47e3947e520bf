import { DEFAULT_EXPIRY_POLICY, type ItemSyncDeps } from '../src';
import { InMemoryCacheStore, InMemoryUserRefreshQueue, ManualClock } from '../src/testing';

/** A fresh set of fakes wired as the composition root wires the real ports. */
export const makeDeps = () => {
  const store = new InMemoryCacheStore();
  const refreshQueue = new InMemoryUserRefreshQueue();
  const clock = new ManualClock('2026-11-21T10:00:00.000Z');
  const deps: ItemSyncDeps = { store, refreshQueue, clock, expiry: DEFAULT_EXPIRY_POLICY };
  return { store, refreshQueue, clock, deps };
};

export const nowSeconds = (clock: ManualClock): number => Math.floor(clock.now().getTime() / 1000);
