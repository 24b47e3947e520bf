/**
 * A seeded PRNG (mulberry32): the same seed gives the same scenario, so a failing run is reproduced by its printed seed.
 *
 * @example
 * const random = seededRandom(42);
 * random.int(1, 6); // a die roll, the same on every run with seed 42
 */
export const seededRandom = (seed: number) => {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    /** An integer in [min, max]. */
    int: (min: number, max: number): number => min + Math.floor(next() * (max - min + 1)),
    chance: (probability: number): boolean => next() < probability,
    pick: <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)],
  };
};

export type SeededRandom = ReturnType<typeof seededRandom>;

/** The seed of this run: FAULT_SEED when set (to replay a failure), else a fixed default so CI is deterministic. */
export const faultSeed = (fallback: number): number => {
  const fromEnv = Number.parseInt(process.env['FAULT_SEED'] ?? '', 10);
  return Number.isFinite(fromEnv) ? fromEnv : fallback;
};
