import type { ScenarioEvent } from './scenario';

/** What one cached item must look like at the end: its latest event by Alma time. */
export interface ItemTruth {
  readonly owner: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly eventTime: string;
  readonly tombstone: boolean;
  readonly state: string;
}

/** What one cached patron's id sets must hold at the end. */
export interface PatronTruth {
  readonly loanIds: readonly string[];
  readonly removedLoanIds: readonly string[];
  readonly requestIds: readonly string[];
  readonly removedRequestIds: readonly string[];
}

export interface CacheTruth {
  readonly loans: ReadonlyMap<string, ItemTruth>;
  readonly requests: ReadonlyMap<string, ItemTruth>;
  /** Keyed by the Users table key (lower-cased primary id); only patrons that were cached before the run. */
  readonly patrons: ReadonlyMap<string, PatronTruth>;
}

/**
 * The cache every correct run must end with, computed from the events alone, without the code under test: each
 * item is its latest event (Alma time; a removal is final), and a cached patron holds an item's id in the live set
 * when that latest event is not a removal, in the removed set when it is. Unknown patrons get no User record.
 *
 * @example
 * const truth = cacheTruth(scenario.events, scenario.cachedPatrons);
 */
export const cacheTruth = (events: readonly ScenarioEvent[], cachedPatrons: readonly string[]): CacheTruth => {
  const latest = new Map<string, ScenarioEvent>();
  for (const event of events) {
    const known = latest.get(event.itemId);
    if (!known || event.time > known.time) latest.set(event.itemId, event);
  }
  const loans = new Map<string, ItemTruth>();
  const requests = new Map<string, ItemTruth>();
  const sets = new Map(
    cachedPatrons.map((id) => [
      id.toLowerCase(),
      { loanIds: [], removedLoanIds: [], requestIds: [], removedRequestIds: [] } as Record<keyof PatronTruth, string[]>,
    ]),
  );
  for (const event of latest.values()) {
    const truth: ItemTruth = {
      owner: event.userPrimaryId,
      eventId: event.eventId,
      eventType: event.type,
      eventTime: event.time,
      tombstone: event.removal,
      state: event.stateValue,
    };
    (event.kind === 'loan' ? loans : requests).set(event.itemId, truth);
    const patron = sets.get(event.userPrimaryId.toLowerCase());
    if (!patron) continue;
    const set: keyof PatronTruth =
      event.kind === 'loan' ? (event.removal ? 'removedLoanIds' : 'loanIds') : event.removal ? 'removedRequestIds' : 'requestIds';
    patron[set].push(event.itemId);
  }
  const patrons = new Map<string, PatronTruth>();
  for (const [key, patron] of sets) {
    patrons.set(key, Object.fromEntries(Object.entries(patron).map(([name, ids]) => [name, [...ids].sort()])) as unknown as PatronTruth);
  }
  return { loans, requests, patrons };
};
