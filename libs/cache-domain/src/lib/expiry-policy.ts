/**
 * How long each kind of cache record lives, in seconds. The one place these numbers are decided.
 *
 * - `user`: short, so that a patron is rebuilt from Alma regularly and drift cannot last.
 * - `item`: loans and requests live long after their last event: an overdue loan is still a loan, so the
 *   expiry never follows the due date.
 * - `tombstone`: a removed loan or request is remembered just long enough to outlast every retry of an older
 *   event (Alma retries after 1, 3 and 6 hours; Lambda's async retries stop after 6 hours).
 * - `refreshWindow`: at most one refresh request per unknown patron per window.
 * - `clockSkew`: a refresh dates its snapshot this much before it started, so that a webhook stamped by Alma's
 *   clock just after the snapshot still wins over it even if Alma's clock runs behind ours.
 * - `unknownPatron`: how long an id Alma said it does not know is answered 404 without asking Alma again.
 */
export interface ExpiryPolicy {
  readonly userSeconds: number;
  readonly itemSeconds: number;
  readonly tombstoneSeconds: number;
  readonly refreshWindowSeconds: number;
  readonly clockSkewSeconds: number;
  readonly unknownPatronSeconds: number;
}

const DAY = 24 * 60 * 60;

export const DEFAULT_EXPIRY_POLICY: ExpiryPolicy = {
  userSeconds: 3 * DAY,
  itemSeconds: 365 * DAY,
  tombstoneSeconds: 2 * DAY,
  refreshWindowSeconds: 5 * 60,
  clockSkewSeconds: 60,
  unknownPatronSeconds: 5 * 60,
};

/** The environment variables that override {@link DEFAULT_EXPIRY_POLICY}, by field. */
export const EXPIRY_POLICY_ENV = {
  userSeconds: 'CACHE_USER_TTL_SECONDS',
  itemSeconds: 'CACHE_ITEM_TTL_SECONDS',
  tombstoneSeconds: 'CACHE_TOMBSTONE_TTL_SECONDS',
  refreshWindowSeconds: 'USER_REFRESH_WINDOW_SECONDS',
  clockSkewSeconds: 'ALMA_CLOCK_SKEW_SECONDS',
  unknownPatronSeconds: 'ALMA_UNKNOWN_PATRON_TTL_SECONDS',
} as const satisfies Record<keyof ExpiryPolicy, string>;

/**
 * Reads the expiry policy from an environment-like map, falling back to the defaults.
 *
 * @example
 * const policy = resolveExpiryPolicy(process.env); // USER_REFRESH_WINDOW_SECONDS=60 shortens the window
 * @throws Error naming the variable when a value is not a positive whole number
 */
export const resolveExpiryPolicy = (env: Readonly<Record<string, string | undefined>>): ExpiryPolicy => {
  const resolved = { ...DEFAULT_EXPIRY_POLICY };
  for (const [field, name] of Object.entries(EXPIRY_POLICY_ENV) as [keyof ExpiryPolicy, string][]) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) {
      throw new Error(`${name} must be a positive whole number of seconds, got "${raw}"`);
    }
    resolved[field] = value;
  }
  return resolved;
};
