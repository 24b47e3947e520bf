import { AlmaBudgetExhaustedError } from '../lib/errors';
import type { AlmaCallBudget } from '../lib/refresh/alma-call-budget.port';

/** How {@link InMemoryAlmaCallBudget} keeps time and how long it lets a caller wait. */
export interface InMemoryAlmaCallBudgetOptions {
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  /** Default a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Longest wait for a call before {@link AlmaBudgetExhaustedError}. Default: no limit. */
  readonly maxWaitMs?: number;
}

/**
 * An {@link AlmaCallBudget} in one process, simpler than the DynamoDB adapter (which holds a sliding window, split in
 * shares): at most `callsPerSecond` calls per wall-clock second; a caller finding the second full waits for the
 * next one. Enough for tests of what a caller does while it waits or is refused.
 *
 * @example
 * const budget = new InMemoryAlmaCallBudget(10);
 * await Promise.all(Array.from({ length: 25 }, () => budget.take())); // takes about 2 s
 */
export class InMemoryAlmaCallBudget implements AlmaCallBudget {
  /** When each call was granted (ms), in order. */
  public readonly granted: number[] = [];
  private readonly perSecond = new Map<number, number>();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  public constructor(
    public readonly callsPerSecond: number,
    private readonly options: InMemoryAlmaCallBudgetOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  public async take(): Promise<void> {
    const started = this.now();
    for (;;) {
      const now = this.now();
      const second = Math.floor(now / 1000);
      const used = this.perSecond.get(second) ?? 0;
      if (used < this.callsPerSecond) {
        this.perSecond.set(second, used + 1);
        this.granted.push(now);
        return;
      }
      const waitMs = (second + 1) * 1000 - now;
      if (this.options.maxWaitMs !== undefined && now + waitMs - started > this.options.maxWaitMs) {
        throw new AlmaBudgetExhaustedError(this.callsPerSecond, now - started);
      }
      await this.sleep(waitMs);
    }
  }
}
