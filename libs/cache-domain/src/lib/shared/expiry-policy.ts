/**
 * How long each kind of cache record lives, in seconds. The one place these numbers are decided.
 *
 * - `user`: short, so that a patron is rebuilt from Alma regularly and drift cannot last.
 * - `item`: loans and requests live long after their last event: an overdue loan is still a loan, so the
 *   expiry never follows the due date.
 * - `tombstone`: a removed loan or request is remembered for as long as an older event can still be applied: the
 *   replay horizon (see {@link REPLAY_HORIZON_SECONDS}) plus the future-time allowance. Never shorter, or redriving an
 *   old LOAN_CREATED would bring a returned loan back.
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

/**
 * How long every queue keeps a message: the source queues (Users, Loans, Requests, Fees), the failure queues and the
 * DLQs, SQS's maximum. The serverless.yml files say `MessageRetentionPeriod: 1209600`; their template specs check it
 * against this constant.
 */
export const QUEUE_RETENTION_SECONDS = 14 * DAY;

/**
 * The replay horizon: the oldest event (by its Alma `time`) the cache still applies. Every path by which an old event
 * can still arrive ends inside it: Alma resends a webhook for up to 10 hours (after 1, 3 and 6 h), Lambda retries an
 * asynchronous invocation for up to 6 hours, then the event waits on the failure queue or a DLQ for up to 14 days
 * ({@link QUEUE_RETENTION_SECONDS}), and a redrive adds Lambda's 6 hours again. A week on top of the 14 days covers all
 * of that with room for the operator. An older event is refused as malformed (its tombstone may be gone, so applying
 * it could revive a removed record), by the functions and by the redrive command alike.
 */
export const REPLAY_HORIZON_SECONDS = QUEUE_RETENTION_SECONDS + 7 * DAY;

/**
 * How far in the future an event's `time` may be (Alma's clock running ahead of ours). Further than that, it is refused
 * as malformed: a bogus future time would pin its record against every later real event.
 */
export const FUTURE_EVENT_ALLOWANCE_SECONDS = 300;

/**
 * The shortest tombstone lifetime that is safe: an event dated up to {@link FUTURE_EVENT_ALLOWANCE_SECONDS} ahead can
 * leave a tombstone that older events, accepted for {@link REPLAY_HORIZON_SECONDS}, must still meet.
 */
export const MIN_TOMBSTONE_SECONDS = REPLAY_HORIZON_SECONDS + FUTURE_EVENT_ALLOWANCE_SECONDS;

export const DEFAULT_EXPIRY_POLICY: ExpiryPolicy = {
  userSeconds: 3 * DAY,
  itemSeconds: 365 * DAY,
  // The horizon and a day: the least that is safe, rounded up to whole days.
  tombstoneSeconds: REPLAY_HORIZON_SECONDS + DAY,
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
 * Reads the expiry policy an environment-like map asks for, with what is wrong with it, one message per variable
 * (empty when {@link resolveExpiryPolicy} would accept it). The domain knows no configuration error type, so the apps'
 * config readers fold these messages into theirs and name them together with every other variable to fix. Use
 * `policy` only when `problems` is empty: it then holds the defaults with the overrides applied.
 *
 * @example
 * readExpiryPolicy({ CACHE_USER_TTL_SECONDS: 'soon' }).problems; // ['CACHE_USER_TTL_SECONDS must be a positive whole number of seconds, got "soon"']
 */
export const readExpiryPolicy = (
  env: Readonly<Record<string, string | undefined>>,
): { readonly policy: ExpiryPolicy; readonly problems: readonly string[] } => {
  const policy = { ...DEFAULT_EXPIRY_POLICY };
  const problems: string[] = [];
  for (const [field, name] of Object.entries(EXPIRY_POLICY_ENV) as [keyof ExpiryPolicy, string][]) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) {
      problems.push(`${name} must be a positive whole number of seconds, got "${raw}"`);
      continue;
    }
    policy[field] = value;
  }
  if (policy.tombstoneSeconds < MIN_TOMBSTONE_SECONDS) {
    problems.push(
      `${EXPIRY_POLICY_ENV.tombstoneSeconds} must be at least ${MIN_TOMBSTONE_SECONDS} (the replay horizon of ${REPLAY_HORIZON_SECONDS} s ` +
        `plus ${FUTURE_EVENT_ALLOWANCE_SECONDS} s for future times), got ${policy.tombstoneSeconds}: an older event would outlive the tombstone and revive the record`,
    );
  }
  return { policy, problems };
};

/**
 * Reads the expiry policy from an environment-like map, falling back to the defaults.
 *
 * @example
 * const policy = resolveExpiryPolicy(process.env); // USER_REFRESH_WINDOW_SECONDS=60 shortens the window
 * @throws Error naming each variable whose value is not a positive whole number, and the tombstone lifetime when it
 *   is shorter than {@link MIN_TOMBSTONE_SECONDS} (the replay horizon plus the future-time allowance); see
 *   {@link readExpiryPolicy} to have the messages instead
 */
export const resolveExpiryPolicy = (env: Readonly<Record<string, string | undefined>>): ExpiryPolicy => {
  const { policy, problems } = readExpiryPolicy(env);
  if (problems.length > 0) throw new Error(problems.join('; '));
  return policy;
};

/**
 * Why an event dated `eventMillis` cannot be applied at `now`, or `undefined` when it can: older than the replay
 * horizon, or further in the future than the allowance. The functions (through `parseItemEvent`) and the redrive
 * command give this same reason.
 *
 * @example
 * eventTimeProblem(Date.parse('2026-11-21T10:15:03Z'), new Date('2026-11-21T10:16:00Z')); // undefined
 * eventTimeProblem(Date.parse('2025-01-01T00:00:00Z'), new Date('2026-11-21T10:16:00Z')); // '"time" … is older than the replay horizon …'
 */
export const eventTimeProblem = (eventMillis: number, now: Date): string | undefined => {
  const ageSeconds = (now.getTime() - eventMillis) / 1000;
  const time = new Date(eventMillis).toISOString();
  if (ageSeconds > REPLAY_HORIZON_SECONDS) {
    return `"time" ${time} is older than the replay horizon (${REPLAY_HORIZON_SECONDS / DAY} days): its tombstone may be gone, so applying it could revive a removed record`;
  }
  if (-ageSeconds > FUTURE_EVENT_ALLOWANCE_SECONDS) {
    return `"time" ${time} is more than ${FUTURE_EVENT_ALLOWANCE_SECONDS} s in the future: it would pin the record against every later event`;
  }
  return undefined;
};
