/**
 * "Full jitter" backoff: a uniformly random wait between 0 and `min(maxMs, baseMs × 2^(attempt − 1))`. Spreading
 * waits over the whole window keeps many Lambda containers throttled at the same second from retrying in lockstep
 * and hitting Alma's per-second threshold again together.
 *
 * @param attempt the attempt that just failed, from 1
 * @param random a number in [0, 1), `Math.random` in production
 * @example
 * fullJitterDelayMs(3, 250, 8000, Math.random); // somewhere in [0, 1000)
 */
export function fullJitterDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const window = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * window);
}

/**
 * Seconds from a `Retry-After` header, which is either a number of seconds or an HTTP date; `undefined` when the
 * header is absent or unreadable.
 *
 * @example
 * parseRetryAfterSeconds('2', Date.now()); // 2
 * parseRetryAfterSeconds(new Date(Date.now() + 5000).toUTCString(), Date.now()); // 5 (or 4, rounding)
 */
export function parseRetryAfterSeconds(header: string | null, nowMs: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+(?:\.\d+)?$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}
