import type { Clock } from '../lib/shared/clock.port';

/**
 * A clock that moves only when told to.
 *
 * @example
 * const clock = new ManualClock('2026-11-21T10:00:00Z');
 * clock.advanceSeconds(301);
 */
export class ManualClock implements Clock {
  private current: Date;

  public constructor(start: string | Date = '2026-11-21T10:00:00.000Z') {
    this.current = new Date(start);
  }

  public now(): Date {
    return new Date(this.current);
  }

  public advanceSeconds(seconds: number): void {
    this.current = new Date(this.current.getTime() + seconds * 1000);
  }
}
