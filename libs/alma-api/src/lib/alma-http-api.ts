import {
  AlmaRequestError,
  AlmaUnavailableError,
  AlmaUserNotFoundError,
  isJsonObject,
  ITEM_SHAPES,
  type AlmaApi,
  type AlmaRecord,
  type AlmaUnavailableKind,
  type ItemKind,
} from '@alma-cache/cache-domain';
import {
  describeAlmaErrors,
  describesMissingRecord,
  LIST_USER_NOT_FOUND_CODES,
  parseAlmaErrors,
  RECORD_NOT_FOUND_CODES,
  USER_NOT_FOUND_CODES,
} from './alma-error-reply';
import {
  resolveAlmaHttpApiOptions,
  type AlmaHttpApiOptions,
  type AlmaRetryInfo,
  type AlmaRetryReason,
  type ResolvedAlmaHttpApiOptions,
} from './alma-http-api.options';
import { ALMA_MAX_PAGE_SIZE, ALMA_RESOURCES, ALMA_USERS_PATH, almaUserPath } from './alma-resources';
import { fullJitterDelayMs, parseRetryAfterSeconds } from './backoff';
import { ConcurrencyLimiter } from './concurrency-limiter';

/** Counters since the instance was created; diff two snapshots to report the Alma calls of one refresh. */
export interface AlmaHttpApiStats {
  /** HTTP requests sent to Alma, retries included: what Alma counts against the thresholds. */
  readonly requestsSent: number;
  /** Attempts that were followed by another one (429, 5xx, timeout, network). */
  readonly retries: number;
  /** Replies with HTTP 429, per-second and daily threshold alike. */
  readonly throttled: number;
}

/**
 * A bogus `total_record_count` must not turn into thousands of calls: no patron has this many active records.
 * 100 pages of 100.
 */
const MAX_RECORDS_PER_LIST = 10_000;

/** Where one HTTP request points, for building its URL and reading Alma's 4xx replies. */
interface Target {
  readonly userPrimaryId: string;
  readonly kind: ItemKind;
  readonly recordId?: string;
  readonly path: string;
  /** The institution's users list (`GET /almaws/v1/users`): names no patron, so a 4xx is never "patron not found". */
  readonly usersList?: true;
}

/**
 * A target's route with placeholders for its ids (`/almaws/v1/users/{id}/loans/{recordId}`): what a trace, a retry
 * log line or an error message may carry, as the ids are patrons' and their records' (the caller knows which ids it
 * asked for; a log reader must not).
 */
const routeOf = (target: Target): string => {
  if (target.usersList) return ALMA_USERS_PATH;
  const list = `/almaws/v1/users/{id}/${ALMA_RESOURCES[target.kind].pathSegment}`;
  return target.recordId === undefined ? list : `${list}/{recordId}`;
};

/** One page of Alma's users list: the primary ids on it, and how many users Alma says there are in all. */
export interface AlmaUsersPage {
  readonly primaryIds: readonly string[];
  /** `total_record_count`: the list's length when the page was served (it may change while a long walk goes on). */
  readonly total: number;
}

interface RetryOutcome {
  readonly retry: AlmaRetryReason;
  readonly description: string;
  readonly retryAfterSeconds?: number;
  /** What the AlmaUnavailableError says if this is the last attempt. */
  readonly kind: AlmaUnavailableKind;
}

/** Alma refused the key (401) and the caller can re-read it: the request may be sent once more with a new one. */
interface KeyRejected {
  readonly keyRejected: string;
}

type AttemptOutcome = { readonly value: unknown } | { readonly recordMissing: true } | KeyRejected | RetryOutcome;

/** What a single-record GET resolves to when Alma says the record does not exist. */
const RECORD_MISSING = Symbol('record missing');

interface RawReply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** Thrown inside sibling page requests once one page of the same list failed; never reaches the caller. */
class ListAbandoned extends Error {}

/**
 * {@link AlmaApi} over Alma's REST API (`/almaws/v1/users/{user_id}/loans|requests|fees`).
 *
 * - **Paging**: lists ask for 100 per page (Alma's default is 10). The first page gives `total_record_count`; the
 *   remaining pages are then fetched in parallel. A patron with up to 100 records of a kind costs one call.
 * - **Retries**: 429 `PER_SECOND_THRESHOLD`, 5xx, timeouts and network errors are retried with full-jitter
 *   backoff (or after the reply's `Retry-After`), and after `maxAttempts` attempts become `AlmaUnavailableError`.
 *   A `Retry-After` longer than `backoffMaxMs` is not waited out in-process: it is thrown at once as
 *   `AlmaUnavailableError` with `retryAfterSeconds`. 429 `DAILY_THRESHOLD` is not retried: nothing will succeed
 *   before the quota resets.
 * - **Ceiling**: at most `maxConcurrentRequests` requests in flight through one instance; the wait between retries
 *   does not hold a slot.
 * - **Not found**: a missing patron (400 with 401861/401890, or Alma's 404 on a list) is `AlmaUserNotFoundError`. A
 *   missing single record (400/404 with a code from `RECORD_NOT_FOUND_CODES`, or whose message says the loan,
 *   request or fee was not found / does not exist) is `undefined`. These codes are an assumption built from
 *   Alma's published error tables; see `alma-error-reply.ts`.
 * - **The key** is read from `apiKey()` per attempt, sent only in the `Authorization` header, and cut out of any
 *   text of Alma's that ends up in an error message. On a 401, `refreshApiKey()` (when given) re-reads it once per
 *   request, and the request is sent again only with a key that changed (a rotation); otherwise `AlmaRequestError(401)`.
 *
 * @example
 * const alma = new AlmaHttpApi({
 *   baseUrl: 'https://api-eu.hosted.exlibrisgroup.com',
 *   apiKey: () => cachedSecret('/alma/api-key'),
 *   onRetry: (info) => logger.warn('Alma call retried', { ...info }),
 * });
 * const before = alma.stats.requestsSent;
 * const loans = await alma.listRecords('PAT0042X', 'loan');
 * logger.info('refreshed', { loans: loans.length, almaCalls: alma.stats.requestsSent - before });
 */
export class AlmaHttpApi implements AlmaApi {
  private readonly options: ResolvedAlmaHttpApiOptions;
  private readonly limiter: ConcurrencyLimiter;
  private readonly counters = { requestsSent: 0, retries: 0, throttled: 0 };
  /** Where a traced exchange says it went (`protocol` and `host` of `baseUrl`), parsed once rather than per call. */
  private readonly origin: { readonly protocol: string; readonly host: string };

  public constructor(options: AlmaHttpApiOptions) {
    this.options = resolveAlmaHttpApiOptions(options);
    const { protocol, host } = new URL(this.options.baseUrl);
    this.origin = { protocol, host };
    this.limiter = new ConcurrencyLimiter(this.options.maxConcurrentRequests);
  }

  /** A snapshot of the counters. */
  public get stats(): AlmaHttpApiStats {
    return { ...this.counters };
  }

  /**
   * Every record of `kind` Alma lists for the patron, all pages, without duplicates (a record that moved between
   * pages while they were read is kept once).
   *
   * @example
   * const fees = await alma.listRecords('PAT0042X', 'fee'); // [] when the patron owes nothing
   */
  public async listRecords(userPrimaryId: string, kind: ItemKind): Promise<readonly AlmaRecord[]> {
    requireId('userPrimaryId', userPrimaryId);
    const target: Target = { userPrimaryId, kind, path: almaUserPath(userPrimaryId, kind) };
    // One failed page fails the list: the sibling pages stop instead of spending Alma calls on a lost cause.
    const abandon = new AbortController();
    const fetchPage = async (offset: number) => {
      const query = { limit: String(ALMA_MAX_PAGE_SIZE), offset: String(offset) };
      return readListPage(await this.request(target, query, abandon.signal), kind);
    };
    try {
      const first = await fetchPage(0);
      const records = [...first.records];
      if (first.records.length > 0 && first.total > first.records.length) {
        if (first.total > MAX_RECORDS_PER_LIST) {
          throw new AlmaRequestError(
            200,
            `Alma reports ${first.total} ${kind} records for one patron; ` + `more than ${MAX_RECORDS_PER_LIST} is not believed`,
          );
        }
        // Step by what Alma actually served, in case it caps `limit` below what was asked.
        const pageSize = first.records.length;
        const offsets: number[] = [];
        for (let offset = pageSize; offset < first.total; offset += pageSize) offsets.push(offset);
        for (const page of await Promise.all(offsets.map(fetchPage))) records.push(...page.records);
      }
      return withoutDuplicates(records, ITEM_SHAPES[kind].idField);
    } catch (error) {
      abandon.abort();
      throw error;
    }
  }

  /**
   * One record of the patron, or `undefined` when Alma says it does not exist.
   *
   * @example
   * const loan = await alma.getRecord('PAT0042X', 'loan', '7391500230004561');
   * if (loan === undefined) await cache.removeLoan('7391500230004561');
   */
  public async getRecord(userPrimaryId: string, kind: ItemKind, recordId: string): Promise<AlmaRecord | undefined> {
    requireId('userPrimaryId', userPrimaryId);
    requireId('recordId', recordId);
    const target: Target = { userPrimaryId, kind, recordId, path: almaUserPath(userPrimaryId, kind, recordId) };
    const body = await this.request(target, {});
    if (body === RECORD_MISSING) return undefined;
    if (!isJsonObject(body)) throw new AlmaRequestError(200, `Alma's ${kind} reply is not a JSON object`);
    return body;
  }

  /**
   * One page of the institution's users (`GET /almaws/v1/users`, ordered by `primary_id` so that the pages of a walk
   * line up), for a warm-up of the whole cache. One HTTP request per page, taken from the budget like any other; a
   * user without a `primary_id` is left out of `primaryIds` (Alma always sends one, a proxy might not).
   *
   * @example
   * const { primaryIds, total } = await alma.listUsers({ offset: 0, limit: 100 }); // ['PAT0001', …], 48213
   * @throws RangeError when `limit` is not 1 to 100 or `offset` not a whole number of at least 0
   */
  public async listUsers(page: { readonly offset: number; readonly limit?: number }): Promise<AlmaUsersPage> {
    const limit = page.limit ?? ALMA_MAX_PAGE_SIZE;
    if (!Number.isInteger(limit) || limit < 1 || limit > ALMA_MAX_PAGE_SIZE)
      throw new RangeError(`AlmaHttpApi.listUsers: limit must be 1 to 100, got ${limit}`);
    if (!Number.isInteger(page.offset) || page.offset < 0)
      throw new RangeError(`AlmaHttpApi.listUsers: offset must be a whole number, got ${page.offset}`);
    const target: Target = { userPrimaryId: '', kind: 'loan', path: ALMA_USERS_PATH, usersList: true };
    const body = await this.request(target, { limit: String(limit), offset: String(page.offset), order_by: 'primary_id' });
    if (body === RECORD_MISSING || !isJsonObject(body)) throw new AlmaRequestError(200, "Alma's users list reply is not a JSON object");
    const raw = body['user'];
    // As for the patron lists: the key is left out of an empty page, and a lone user may come unwrapped.
    const users: unknown[] = raw === undefined || raw === null ? [] : Array.isArray(raw) ? raw : [raw];
    const primaryIds = users.flatMap((user) =>
      isJsonObject(user) && typeof user['primary_id'] === 'string' && user['primary_id'] !== '' ? [user['primary_id']] : [],
    );
    const count = Number(body['total_record_count']);
    return { primaryIds, total: Number.isInteger(count) && count >= 0 ? count : page.offset + users.length };
  }

  /** The parsed JSON body, or {@link RECORD_MISSING}; throws the domain's errors once retrying is over. */
  private async request(target: Target, query: Record<string, string>, abandoned?: AbortSignal): Promise<unknown> {
    const url = `${this.options.baseUrl}${target.path}?${new URLSearchParams({ format: 'json', ...query })}`;
    let lastRetryAfter: number | undefined;
    let keyRefreshed = false;
    for (let attempt = 1; ; attempt += 1) {
      if (abandoned?.aborted) throw new ListAbandoned();
      const key = await this.options.apiKey();
      if (typeof key !== 'string' || key.trim() === '') throw new TypeError('AlmaHttpApi: apiKey() returned no key');
      const outcome = await this.attempt(url, target, key, abandoned);
      if ('value' in outcome) return outcome.value;
      if ('recordMissing' in outcome) return RECORD_MISSING;
      if ('keyRejected' in outcome) {
        // The key may have been rotated since it was cached: re-read it once, and send again only if it changed.
        if (keyRefreshed || this.options.refreshApiKey === undefined || (await this.options.refreshApiKey()) === key) {
          throw new AlmaRequestError(401, `GET ${routeOf(target)}: ${outcome.keyRejected}`);
        }
        keyRefreshed = true;
        attempt -= 1;
        continue;
      }

      lastRetryAfter = outcome.retryAfterSeconds ?? lastRetryAfter;
      const waitAsked = outcome.retryAfterSeconds === undefined ? undefined : outcome.retryAfterSeconds * 1000;
      if (waitAsked !== undefined && waitAsked > this.options.backoffMaxMs) {
        // Sleeping that long inside a Lambda invocation burns its time; the caller can reschedule instead.
        throw new AlmaUnavailableError(
          `GET ${routeOf(target)}: ${outcome.description}; Alma asked to wait ${outcome.retryAfterSeconds} s`,
          outcome.retryAfterSeconds,
          outcome.kind,
        );
      }
      if (attempt >= this.options.maxAttempts) {
        throw new AlmaUnavailableError(
          `GET ${routeOf(target)} failed ${attempt} time(s); last: ${outcome.description}`,
          lastRetryAfter,
          outcome.kind,
        );
      }
      const { backoffBaseMs, backoffMaxMs, random } = this.options;
      // Alma's hint plus a little jitter, so containers told the same second do not all come back at once.
      const delayMs =
        waitAsked === undefined ? fullJitterDelayMs(attempt, backoffBaseMs, backoffMaxMs, random) : waitAsked + Math.floor(random() * backoffBaseMs);
      this.counters.retries += 1;
      this.notifyRetry({ route: routeOf(target), reason: outcome.retry, attempt, delayMs });
      await this.options.sleep(delayMs);
    }
  }

  private async attempt(url: string, target: Target, key: string, abandoned?: AbortSignal): Promise<AttemptOutcome> {
    const reply = await this.limiter.run(() => this.send(url, target, key, abandoned));
    if ('retry' in reply) return reply;
    return this.interpret(reply, target, key);
  }

  /** One HTTP exchange, body included, inside a concurrency slot and the per-attempt timeout. */
  private async send(url: string, target: Target, key: string, abandoned?: AbortSignal): Promise<RawReply | RetryOutcome> {
    // The wait for a slot may have outlasted the list this page belongs to.
    if (abandoned?.aborted) throw new ListAbandoned();
    if (this.options.budget) {
      await this.options.budget.take();
      if (abandoned?.aborted) throw new ListAbandoned();
    }
    this.counters.requestsSent += 1;
    const trace = this.options.traceExchange;
    if (trace === undefined) return this.exchange(url, key, abandoned);
    const { protocol, host } = this.origin;
    const route = routeOf(target);
    return trace({ method: 'GET', host, route, url: `${protocol}//${host}${route}` }, () => this.exchange(url, key, abandoned));
  }

  /** The HTTP exchange itself, within the per-attempt timeout. */
  private async exchange(url: string, key: string, abandoned?: AbortSignal): Promise<RawReply | RetryOutcome> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.timeoutMs);
    const stop = () => controller.abort();
    abandoned?.addEventListener('abort', stop, { once: true });
    try {
      const response = await fetch(url, {
        headers: { Authorization: `apikey ${key}`, Accept: 'application/json' },
        signal: controller.signal,
      });
      return { status: response.status, headers: response.headers, text: await response.text() };
    } catch (error) {
      if (abandoned?.aborted) throw new ListAbandoned();
      if (timedOut) return { retry: 'timeout', description: `no reply within ${this.options.timeoutMs} ms`, kind: 'unavailable' };
      return { retry: 'network', description: `network error (${redact(networkErrorText(error), key)})`, kind: 'unavailable' };
    } finally {
      clearTimeout(timer);
      abandoned?.removeEventListener('abort', stop);
    }
  }

  private interpret(reply: RawReply, target: Target, key: string): AttemptOutcome {
    const { status, headers } = reply;
    const json = parseJson(reply.text);
    const errors = parseAlmaErrors(json);
    const detail = redact(
      errors.length > 0
        ? describeAlmaErrors(errors)
        : json === undefined
          ? `a body that is not JSON (${headers.get('content-type') ?? 'no content-type'}: ${snippet(reply.text)})`
          : 'no error details',
      key,
    );

    if (status >= 200 && status < 300) {
      if (json === undefined) throw new AlmaRequestError(status, `Alma replied with ${detail}`);
      return { value: json };
    }
    const retryAfterSeconds = parseRetryAfterSeconds(headers.get('retry-after'), Date.now());
    const codes = new Set(errors.map((error) => error.errorCode));
    if (status === 429) {
      this.counters.throttled += 1;
      if (codes.has('DAILY_THRESHOLD')) {
        throw new AlmaUnavailableError(`Alma's daily API request threshold is reached (${detail})`, retryAfterSeconds, 'daily-limit');
      }
      return { retry: 429, description: `HTTP 429 throttled: ${detail}`, retryAfterSeconds, kind: 'throttled' };
    }
    if (status >= 500) {
      // Alma's threshold codes say what happened whatever the status they came with.
      const kind = codes.has('DAILY_THRESHOLD') ? 'daily-limit' : codes.has('PER_SECOND_THRESHOLD') ? 'throttled' : 'unavailable';
      return { retry: status, description: `HTTP ${status}: ${detail}`, retryAfterSeconds, kind };
    }
    if (status === 401) return { keyRejected: detail };

    if (target.usersList) throw new AlmaRequestError(status, `GET ${routeOf(target)}: ${detail}`);
    const userMissing = errors.some((error) => /\buser\b.*\bnot found\b/i.test(error.errorMessage));
    if (target.recordId === undefined) {
      // A 404 counts only with Alma's error body: a proxy's or a wrong baseUrl's bare 404 page must not make the
      // caller drop every patron it asks about.
      const almaSaid404 = status === 404 && errors.length > 0;
      if (almaSaid404 || userMissing || [...codes].some((code) => LIST_USER_NOT_FOUND_CODES.has(code))) {
        throw new AlmaUserNotFoundError(target.userPrimaryId);
      }
    } else {
      if (userMissing || [...codes].some((code) => USER_NOT_FOUND_CODES.has(code))) {
        throw new AlmaUserNotFoundError(target.userPrimaryId);
      }
      const recordMissing = errors.some(
        (error) => RECORD_NOT_FOUND_CODES[target.kind].has(error.errorCode) || describesMissingRecord(target.kind, error.errorMessage),
      );
      if ((status === 400 || status === 404) && recordMissing) return { recordMissing: true };
    }
    throw new AlmaRequestError(status, `GET ${routeOf(target)}: ${detail}`);
  }

  private notifyRetry(info: AlmaRetryInfo): void {
    try {
      this.options.onRetry?.(info);
    } catch {
      // A failing log call must not turn a recoverable hiccup into a failed refresh.
    }
  }
}

function readListPage(body: unknown, kind: ItemKind): { records: AlmaRecord[]; total: number } {
  if (body === RECORD_MISSING || !isJsonObject(body)) {
    throw new AlmaRequestError(200, `Alma's ${kind} list reply is not a JSON object`);
  }
  const raw = body[ALMA_RESOURCES[kind].listKey];
  // Alma leaves the key out when the list is empty, and its XML-to-JSON layer may send a lone record unwrapped.
  const items: unknown[] = raw === undefined || raw === null ? [] : Array.isArray(raw) ? raw : [raw];
  if (!items.every(isJsonObject)) {
    throw new AlmaRequestError(200, `Alma's ${kind} list holds entries that are not objects`);
  }
  const count = Number(body['total_record_count']);
  const total = Number.isInteger(count) && count >= 0 ? count : items.length;
  return { records: items as AlmaRecord[], total };
}

function withoutDuplicates(records: readonly AlmaRecord[], idField: string): AlmaRecord[] {
  const seen = new Set<unknown>();
  return records.filter((record) => {
    const id = record[idField];
    if (id === undefined || id === null) return true;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function networkErrorText(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat === '' ? 'empty' : flat.length > 120 ? `${flat.slice(0, 120)}…` : flat;
}

/** Alma does not echo the key, but a proxy's error page might: never let it reach a log. */
function redact(text: string, key: string): string {
  return key.length === 0 ? text : text.split(key).join('[redacted]');
}

function requireId(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`AlmaHttpApi: ${name} must be a non-empty string`);
  }
}
