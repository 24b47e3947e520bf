import type { AlmaCallBudget } from '@alma-cache/cache-domain';

/** Why an attempt is retried: Alma's HTTP status (429, 5xx), no reply within `timeoutMs`, or a failed connection. */
export type AlmaRetryReason = number | 'timeout' | 'network';

/**
 * What `onRetry` hears before each wait: safe to log as it is. Never holds the API key (the key only ever travels in
 * the `Authorization` header) nor an id: the route's shape stands for the path.
 */
export interface AlmaRetryInfo {
  /** e.g. `/almaws/v1/users/{id}/loans`, never `/almaws/v1/users/PAT0042X/loans` */
  readonly route: string;
  readonly reason: AlmaRetryReason;
  /** The attempt that failed, from 1; the next one is `attempt + 1`. */
  readonly attempt: number;
  /** How long the client waits before that next attempt. */
  readonly delayMs: number;
}

/**
 * One HTTP exchange with Alma as a tracer may record it: the route's shape, never an id, the query string or the key.
 */
export interface AlmaExchange {
  readonly method: 'GET';
  /** Alma's host, e.g. `api-eu.hosted.exlibrisgroup.com`. */
  readonly host: string;
  /** The route with its ids as placeholders: `/almaws/v1/users/{id}/loans`, `/almaws/v1/users/{id}/fees/{recordId}`. */
  readonly route: string;
  /** `<protocol>//<host><route>` */
  readonly url: string;
}

/** What one exchange came to: Alma's HTTP status, or no reply at all (`retry`: `timeout`, `network`). */
export type AlmaExchangeResult = { readonly status: number } | { readonly retry: AlmaRetryReason };

/**
 * Runs one exchange (`send`) inside whatever the caller opens around it, e.g. an X-Ray subsegment, and returns what
 * `send` returns (or lets its error through) unchanged.
 *
 * @example
 * // e.g. aws-adapters' tracedHttpExchange (an X-Ray subsegment); or timing each route:
 * const traceExchange: AlmaExchangeTracer = async (exchange, send) => {
 *   const started = Date.now();
 *   try {
 *     return await send();
 *   } finally {
 *     timings.push({ route: exchange.route, ms: Date.now() - started });
 *   }
 * };
 */
export type AlmaExchangeTracer = <T extends AlmaExchangeResult>(exchange: AlmaExchange, send: () => Promise<T>) => Promise<T>;

/**
 * How `AlmaHttpApi` reaches Alma. Only `baseUrl` and `apiKey` are required.
 *
 * @example
 * const options: AlmaHttpApiOptions = {
 *   baseUrl: 'https://api-eu.hosted.exlibrisgroup.com',
 *   apiKey: () => secrets.get('/alma/api-key'), // the caller caches it
 *   maxConcurrentRequests: 4,
 *   onRetry: (info) => logger.warn('Alma call retried', { ...info }),
 * };
 */
export interface AlmaHttpApiOptions {
  /** Alma's regional API host, e.g. `https://api-eu.hosted.exlibrisgroup.com`; plain http only on loopback (tests). */
  readonly baseUrl: string;
  /** Called before each attempt; caching (SSM, Secrets Manager) is the caller's job. */
  readonly apiKey: () => Promise<string>;
  /**
   * Called when Alma answers 401, at most once per request: re-reads the key (e.g. `CachedSecret.refresh`, which is
   * shared and rate-limited) and returns it. The request is sent again only when the key changed, so a rotated key
   * costs one extra call and a wrong one none. Without it, a 401 fails the request at once.
   */
  readonly refreshApiKey?: () => Promise<string>;
  /** Requests in flight at once through this instance (one per Lambda container). Default 4. */
  readonly maxConcurrentRequests?: number;
  /** Per attempt, headers and body. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Attempts per HTTP request, the first included. Default 6. */
  readonly maxAttempts?: number;
  /** Full-jitter window after the first failure; it doubles per attempt. Default 250 ms. */
  readonly backoffBaseMs?: number;
  /** Cap of the window, and the longest `Retry-After` worth waiting for in-process. Default 8000 ms. */
  readonly backoffMaxMs?: number;
  /** For tests: a number in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
  /** For tests: how to wait. Default a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Told about every retry, before the wait, so handlers can log it. */
  readonly onRetry?: (info: AlmaRetryInfo) => void;
  /**
   * The stage's shared Alma budget: one call is taken before every HTTP request (retries included), inside the
   * concurrency slot, so the request follows its token at once. None: no budget.
   */
  readonly budget?: AlmaCallBudget;
  /**
   * Wraps each HTTP exchange (each attempt), told only the route's shape: how tracing records Alma calls without the
   * patron ids their paths hold. None: the exchange runs bare.
   */
  readonly traceExchange?: AlmaExchangeTracer;
}

/** {@link AlmaHttpApiOptions} with every default applied and `baseUrl` normalised (no trailing slash). */
export type ResolvedAlmaHttpApiOptions = Required<Omit<AlmaHttpApiOptions, 'onRetry' | 'refreshApiKey' | 'budget' | 'traceExchange'>> &
  Pick<AlmaHttpApiOptions, 'onRetry' | 'refreshApiKey' | 'budget' | 'traceExchange'>;

export const ALMA_HTTP_API_DEFAULTS = {
  maxConcurrentRequests: 4,
  timeoutMs: 10_000,
  maxAttempts: 6,
  backoffBaseMs: 250,
  backoffMaxMs: 8_000,
} as const;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Applies the defaults and refuses options that cannot work, naming the option. Throws `TypeError`/`RangeError`
 * at construction (a cold start), not at the first refresh.
 *
 * @example
 * resolveAlmaHttpApiOptions({ baseUrl: 'https://api-eu.hosted.exlibrisgroup.com/', apiKey }).baseUrl;
 * // 'https://api-eu.hosted.exlibrisgroup.com'
 */
export function resolveAlmaHttpApiOptions(options: AlmaHttpApiOptions): ResolvedAlmaHttpApiOptions {
  if (typeof options.apiKey !== 'function') {
    throw new TypeError('AlmaHttpApi: apiKey must be a function returning a promise of the key');
  }
  const resolved: ResolvedAlmaHttpApiOptions = {
    baseUrl: validateBaseUrl(options.baseUrl),
    apiKey: options.apiKey,
    maxConcurrentRequests: options.maxConcurrentRequests ?? ALMA_HTTP_API_DEFAULTS.maxConcurrentRequests,
    timeoutMs: options.timeoutMs ?? ALMA_HTTP_API_DEFAULTS.timeoutMs,
    maxAttempts: options.maxAttempts ?? ALMA_HTTP_API_DEFAULTS.maxAttempts,
    backoffBaseMs: options.backoffBaseMs ?? ALMA_HTTP_API_DEFAULTS.backoffBaseMs,
    backoffMaxMs: options.backoffMaxMs ?? ALMA_HTTP_API_DEFAULTS.backoffMaxMs,
    random: options.random ?? Math.random,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    onRetry: options.onRetry,
    budget: options.budget,
    refreshApiKey: options.refreshApiKey,
    traceExchange: options.traceExchange,
  };
  requireWhole('maxConcurrentRequests', resolved.maxConcurrentRequests, 1);
  requireWhole('maxAttempts', resolved.maxAttempts, 1);
  requireWhole('timeoutMs', resolved.timeoutMs, 1);
  requireWhole('backoffBaseMs', resolved.backoffBaseMs, 0);
  requireWhole('backoffMaxMs', resolved.backoffMaxMs, resolved.backoffBaseMs);
  return resolved;
}

function validateBaseUrl(baseUrl: unknown): string {
  const hint = 'give Alma\'s API host, e.g. "https://api-eu.hosted.exlibrisgroup.com"';
  if (typeof baseUrl !== 'string' || baseUrl.trim() === '') {
    throw new TypeError(`AlmaHttpApi: baseUrl is missing; ${hint}`);
  }
  let url: URL;
  try {
    url = new URL(baseUrl.trim());
  } catch {
    throw new TypeError(`AlmaHttpApi: baseUrl ${JSON.stringify(baseUrl)} is not a URL; ${hint}`);
  }
  // The key travels in a header: over plain http it would cross the network readable.
  const plainHttpAllowed = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !plainHttpAllowed) {
    throw new TypeError(`AlmaHttpApi: baseUrl must use https (plain http only on loopback), got ${url.protocol}//${url.host}`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new TypeError(`AlmaHttpApi: baseUrl must be a bare host without credentials, query or fragment; ${hint}`);
  }
  if (url.pathname.includes('/almaws')) {
    throw new TypeError(`AlmaHttpApi: baseUrl must stop before /almaws (the client adds the API paths); ${hint}`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

function requireWhole(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`AlmaHttpApi: ${name} must be a whole number of at least ${min}, got ${value}`);
  }
}
