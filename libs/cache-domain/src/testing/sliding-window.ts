/**
 * The most events in any sliding second: every window [t, t + 1000) that starts at an event. The Alma budget is a
 * rate in every such window, not per clock second, so budget tests count this way (a burst at the end of one clock
 * second and the start of the next is one window).
 *
 * @example
 * maxInSlidingSecond([0, 900, 1100, 1200]); // 3 (900, 1100 and 1200 lie within 1000 ms)
 */
export const maxInSlidingSecond = (times: readonly number[]): number => {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let first = 0, last = 0; last < sorted.length; last += 1) {
    while (sorted[last] - sorted[first] >= 1000) first += 1;
    most = Math.max(most, last - first + 1);
  }
  return most;
};
