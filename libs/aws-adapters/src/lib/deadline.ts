/**
 * `work`'s result, or `expired()`'s error once `ms` have passed, whichever comes first. The timer is cleared either
 * way, so a Lambda container is not kept busy by it; `work` itself is not cancelled (its late answer is dropped).
 * The one deadline race of the functions that must answer before their caller gives up (the query API, the webhook
 * receiver).
 *
 * @example
 * const answer = await raceDeadline(readPatron(id), 3_000, () => new DeadlineExceededError(3_000));
 */
export const raceDeadline = async <T>(work: Promise<T>, ms: number, expired: () => Error): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(expired()), Math.max(0, ms));
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
};
