/** Time, behind a port so that expiry and refresh windows are testable. */
export interface Clock {
  now(): Date;
}

/** The real clock. */
export const systemClock: Clock = { now: () => new Date() };
