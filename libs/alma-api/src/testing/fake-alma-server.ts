import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ITEM_KINDS, ITEM_SHAPES, type ItemKind } from '@alma-cache/cache-domain';
import { ALMA_RESOURCES } from '../lib/alma-resources';
import type { FakeAlmaPatron, FakeAlmaRecord } from './fake-alma-patron';

/** How {@link startFakeAlmaServer} starts. */
export interface FakeAlmaServerOptions {
  /** 0 (the default) lets the OS pick a free port. */
  readonly port?: number;
  /** The only key the server accepts. Default `fake-alma-api-key`. */
  readonly apiKey?: string;
  /** Delay before every reply, in ms; also settable later through `server.delayMs`. */
  readonly delayMs?: number;
  readonly patrons?: readonly FakeAlmaPatron[];
}

/** One request the server received: what a test counts as one Alma call. */
export interface FakeAlmaCall {
  readonly method: string;
  /** As sent, still URL-encoded, without the query: `/almaws/v1/users/PAT0042X/loans`. */
  readonly path: string;
  /** The query parameters, except `apikey`, which is never recorded. */
  readonly query: Readonly<Record<string, string>>;
  /** `Date.now()` on arrival, for measuring calls per second. */
  readonly receivedAt: number;
}

/** Options of {@link FakeAlmaServer.throttleNext}. */
export interface FakeAlmaThrottleOptions {
  /** Which of Alma's thresholds was hit. Default `PER_SECOND_THRESHOLD`. */
  readonly errorCode?: 'PER_SECOND_THRESHOLD' | 'DAILY_THRESHOLD';
  /** Sent as a `Retry-After` header when given; real Alma usually sends none. */
  readonly retryAfterSeconds?: number;
}

type Fault =
  | { readonly kind: 'throttle'; readonly options: FakeAlmaThrottleOptions }
  | { readonly kind: 'fail'; readonly status: number; readonly body?: string };

const KIND_BY_SEGMENT = new Map<string, ItemKind>(ITEM_KINDS.map((kind) => [ALMA_RESOURCES[kind].pathSegment, kind]));
/** What this server answers when a record id is unknown, per kind (see `RECORD_NOT_FOUND_CODES`). */
const RECORD_NOT_FOUND: Record<ItemKind, (id: string) => [code: string, message: string]> = {
  loan: (id) => ['401823', `Loan ID ${id} does not exist.`],
  request: () => ['401694', 'Request Identifier not found.'],
  fee: (id) => ['401665', `Fine not found: ${id}.`],
};
const USERS_PATH = /^\/almaws\/v1\/users\/([^/]+)\/(loans|requests|fees)(?:\/([^/]+))?\/?$/;
const USERS_LIST_PATH = /^\/almaws\/v1\/users\/?$/;
const ALMA_DEFAULT_LIMIT = 10;
const ALMA_MAX_LIMIT = 100;

/**
 * How this fake matches primary ids: ASCII letters case-insensitively and nothing more (no trimming, no Unicode case
 * mapping, no normalization), which is all the stack assumes of Alma. A fake more forgiving than that would hide a
 * look-alike id (`PAT0042X` + U+00A0, U+212A KELVIN SIGN for `K`) reaching another patron.
 *
 * @example
 * almaIdMatchKey('PAT0042X') === almaIdMatchKey('pat0042x'); // true
 * almaIdMatchKey('\u212aPAT7') === almaIdMatchKey('kpat7');  // false
 */
export const almaIdMatchKey = (primaryId: string): string => primaryId.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());

/**
 * A real HTTP server on 127.0.0.1 that answers the part of Alma's Users API this stack reads, the way Alma does:
 * the same paths, JSON shapes, paging (`limit` default 10, at most 100; `offset`), the array key left out of an
 * empty page, error bodies and codes, and case-insensitive primary ids. Fees come unpaged, all at once, as Alma's
 * fees API has no `limit`/`offset`.
 *
 * Free of Jest: the local demo and the benchmarks start it too.
 *
 * @example
 * const alma = await startFakeAlmaServer();
 * alma.seedPatron(generatePatron('PAT0042X', { loans: 250 }));
 * const api = new AlmaHttpApi({ baseUrl: alma.url, apiKey: async () => alma.apiKey });
 * await api.listRecords('PAT0042X', 'loan'); // 250 loans
 * alma.calls.length; // 3: pages of 100
 * await alma.close();
 */
export class FakeAlmaServer {
  /** Delay before every reply, in ms. Change it at any time. */
  public delayMs: number;
  private readonly recorded: FakeAlmaCall[] = [];
  private readonly patrons = new Map<string, FakeAlmaPatron>();
  private readonly faults: Fault[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private current = 0;
  private highest = 0;
  private trackingIds = 0;

  private constructor(
    private readonly server: Server,
    /** The only API key accepted. */
    public readonly apiKey: string,
    delayMs: number,
  ) {
    this.delayMs = delayMs;
  }

  /** @internal use {@link startFakeAlmaServer} */
  public static async start(options: FakeAlmaServerOptions = {}): Promise<FakeAlmaServer> {
    const server = createServer();
    const fake = new FakeAlmaServer(server, options.apiKey ?? 'fake-alma-api-key', options.delayMs ?? 0);
    for (const patron of options.patrons ?? []) fake.seedPatron(patron);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      fake.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) fake.replyError(response, 500, 'GENERAL_ERROR', `Fake Alma crashed: ${String(error)}`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return fake;
  }

  /** The port the server listens on. */
  public get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The base URL to give `AlmaHttpApi`, e.g. `http://127.0.0.1:41234`. */
  public get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Every request received since the start or the last {@link resetCalls}, in arrival order. */
  public get calls(): readonly FakeAlmaCall[] {
    return this.recorded;
  }

  /** Requests being answered right now. */
  public get inFlight(): number {
    return this.current;
  }

  /** The most requests ever answered at once since the start or the last {@link resetCalls}. */
  public get maxInFlight(): number {
    return this.highest;
  }

  /**
   * Makes Alma know this patron (replacing one with the same id, ASCII-case-insensitively) and returns the stored
   * object itself: editing it changes what the server answers.
   */
  public seedPatron(patron: FakeAlmaPatron): FakeAlmaPatron {
    this.patrons.set(almaIdMatchKey(patron.primaryId), patron);
    return patron;
  }

  /** The stored, mutable patron, matched as the stack assumes Alma matches primary ids (see {@link almaIdMatchKey}). */
  public patron(primaryId: string): FakeAlmaPatron | undefined {
    return this.patrons.get(almaIdMatchKey(primaryId));
  }

  /** Alma forgets the patron (as when a user record is purged); true when there was one. */
  public removePatron(primaryId: string): boolean {
    return this.patrons.delete(almaIdMatchKey(primaryId));
  }

  /** Forgets the recorded calls and restarts {@link maxInFlight} from the requests in flight now. */
  public resetCalls(): void {
    this.recorded.length = 0;
    this.highest = this.current;
  }

  /** The next `n` requests get HTTP 429 with Alma's threshold error (per-second by default). */
  public throttleNext(n: number, options: FakeAlmaThrottleOptions = {}): void {
    for (let i = 0; i < n; i += 1) this.faults.push({ kind: 'throttle', options });
  }

  /**
   * The next `n` requests fail with `status` (503 by default) and Alma's error body, or with `body` as sent
   * (e.g. a gateway's HTML page) when given. Queued after any earlier throttling or failure.
   */
  public failNext(n: number, status = 503, body?: string): void {
    for (let i = 0; i < n; i += 1) this.faults.push({ kind: 'fail', status, body });
  }

  /** Stops listening, drops open connections and pending slow replies. */
  public async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await new Promise<void>((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const query = Object.fromEntries([...url.searchParams].filter(([name]) => name.toLowerCase() !== 'apikey'));
    this.recorded.push({ method: request.method ?? 'GET', path: url.pathname, query, receivedAt: Date.now() });
    this.current += 1;
    this.highest = Math.max(this.highest, this.current);
    response.on('close', () => {
      this.current -= 1;
    });
    // Taken on arrival, so scripted faults hit requests in the order they came, whatever the delay.
    const fault = this.faults.shift();

    if (this.delayMs > 0) await this.sleep(this.delayMs);
    if (response.destroyed || request.socket.destroyed) return;

    if (fault?.kind === 'throttle') return this.replyThrottled(response, fault.options);
    if (fault?.kind === 'fail') {
      if (fault.body === undefined) return this.replyError(response, fault.status, 'GENERAL_ERROR', 'Internal error.');
      response.writeHead(fault.status, { 'Content-Type': 'text/html' }).end(fault.body);
      return;
    }
    if (!this.authorised(request, url)) {
      return this.replyError(response, 401, 'UNAUTHORIZED', 'API-key not defined or not configured to allow this API.');
    }
    this.route(request, response, url);
  }

  private route(request: IncomingMessage, response: ServerResponse, url: URL): void {
    if (request.method === 'GET' && USERS_LIST_PATH.test(url.pathname)) return this.listUsers(request, response, url);
    const match = USERS_PATH.exec(url.pathname);
    if (request.method !== 'GET' || !match) {
      return this.replyError(
        response,
        400,
        'UNSUPPORTED_BY_FAKE',
        `The fake Alma server answers GET on the users list and on users' loans, requests and fees only, not ${request.method} ${url.pathname}.`,
      );
    }
    const wantsJson = url.searchParams.get('format') === 'json' || /application\/json/.test(request.headers.accept ?? '');
    if (!wantsJson) {
      // Alma's default is XML; this fake only speaks JSON, so a client that forgot to ask gets a body it cannot parse.
      response.writeHead(200, { 'Content-Type': 'application/xml' });
      response.end('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!-- fake Alma: ask for JSON -->\n');
      return;
    }
    let userId: string;
    let recordId: string | undefined;
    try {
      userId = decodeURIComponent(match[1]);
      recordId = match[3] === undefined ? undefined : decodeURIComponent(match[3]);
    } catch {
      return this.replyError(response, 400, '401666', 'user_id parameter is not valid.');
    }
    const kind = KIND_BY_SEGMENT.get(match[2]) as ItemKind;
    const patron = this.patron(userId);
    if (!patron) return this.replyError(response, 400, '401861', `User with identifier ${userId} was not found.`);

    const records = recordsOf(patron, kind);
    if (recordId !== undefined) {
      const record = records.find((candidate) => String(candidate[ITEM_SHAPES[kind].idField]) === recordId);
      if (!record) return this.replyError(response, 400, ...RECORD_NOT_FOUND[kind](recordId));
      return this.replyJson(response, 200, record);
    }
    if (kind === 'fee') {
      const total = records.reduce((sum, fee) => sum + (typeof fee['balance'] === 'number' ? fee['balance'] : 0), 0);
      return this.replyJson(response, 200, {
        ...(records.length > 0 ? { fee: records } : {}),
        total_record_count: records.length,
        total_sum: Math.round(total * 100) / 100,
        currency: 'EUR',
      });
    }
    const limit = readWhole(url.searchParams.get('limit'), ALMA_DEFAULT_LIMIT);
    const offset = readWhole(url.searchParams.get('offset'), 0);
    if (limit === undefined || limit > ALMA_MAX_LIMIT) {
      return this.replyError(response, 400, '401666', 'limit parameter is not valid (0-100).');
    }
    if (offset === undefined) return this.replyError(response, 400, '401666', 'offset parameter is not valid.');
    const page = records.slice(offset, offset + limit);
    this.replyJson(response, 200, {
      ...(page.length > 0 ? { [ALMA_RESOURCES[kind].listKey]: page } : {}),
      total_record_count: records.length,
    });
  }

  /**
   * Alma's "Retrieve users": `{ user: [{ primary_id, … }], total_record_count }`, paged like the patron lists. Alma
   * sorts by last name unless `order_by` says otherwise; the fake's patrons have no names, so it always sorts by
   * `primary_id` (what a warm-up asks for).
   */
  private listUsers(request: IncomingMessage, response: ServerResponse, url: URL): void {
    if (!(url.searchParams.get('format') === 'json' || /application\/json/.test(request.headers.accept ?? ''))) {
      response.writeHead(200, { 'Content-Type': 'application/xml' });
      response.end('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!-- fake Alma: ask for JSON -->\n');
      return;
    }
    const limit = readWhole(url.searchParams.get('limit'), ALMA_DEFAULT_LIMIT);
    const offset = readWhole(url.searchParams.get('offset'), 0);
    if (limit === undefined || limit > ALMA_MAX_LIMIT) return this.replyError(response, 400, '401666', 'limit parameter is not valid (0-100).');
    if (offset === undefined) return this.replyError(response, 400, '401666', 'offset parameter is not valid.');
    const everyone = [...this.patrons.values()].map((patron) => patron.primaryId).sort();
    const page = everyone.slice(offset, offset + limit).map((primaryId) => ({
      primary_id: primaryId,
      link: `${this.url}/almaws/v1/users/${encodeURIComponent(primaryId)}`,
    }));
    this.replyJson(response, 200, { ...(page.length > 0 ? { user: page } : {}), total_record_count: everyone.length });
  }

  private authorised(request: IncomingMessage, url: URL): boolean {
    const header = /^apikey\s+(.+)$/i.exec(request.headers.authorization ?? '');
    const key = header?.[1].trim() ?? url.searchParams.get('apikey') ?? undefined;
    return key === this.apiKey;
  }

  private replyThrottled(response: ServerResponse, options: FakeAlmaThrottleOptions): void {
    const daily = options.errorCode === 'DAILY_THRESHOLD';
    if (options.retryAfterSeconds !== undefined) response.setHeader('Retry-After', String(options.retryAfterSeconds));
    this.replyError(
      response,
      429,
      daily ? 'DAILY_THRESHOLD' : 'PER_SECOND_THRESHOLD',
      daily
        ? 'Daily API Request Threshold has been reached. For details see: https://developers.exlibrisgroup.com/alma/apis#threshold'
        : 'HTTP requests are more than allowed per second',
    );
  }

  private replyError(response: ServerResponse, status: number, errorCode: string, errorMessage: string): void {
    this.trackingIds += 1;
    const trackingId = `E01-FAKE-${String(this.trackingIds).padStart(6, '0')}`;
    this.replyJson(response, status, {
      errorsExist: true,
      errorList: { error: [{ errorCode, errorMessage, trackingId }] },
      result: null,
    });
  }

  private replyJson(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'Content-Type': 'application/json;charset=UTF-8' });
    response.end(JSON.stringify(body));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}

/**
 * Starts a {@link FakeAlmaServer} on 127.0.0.1 (a free port unless `port` is given).
 *
 * @example
 * const alma = await startFakeAlmaServer({ patrons: [generatePatron('PAT0042X', { loans: 3 })] });
 * alma.throttleNext(2); // the next two calls get 429 PER_SECOND_THRESHOLD
 * // … exercise the code under test against alma.url with alma.apiKey …
 * await alma.close();
 */
export function startFakeAlmaServer(options: FakeAlmaServerOptions = {}): Promise<FakeAlmaServer> {
  return FakeAlmaServer.start(options);
}

function recordsOf(patron: FakeAlmaPatron, kind: ItemKind): FakeAlmaRecord[] {
  return kind === 'loan' ? patron.loans : kind === 'request' ? patron.requests : patron.fees;
}

function readWhole(raw: string | null, fallback: number): number | undefined {
  if (raw === null || raw === '') return fallback;
  return /^\d+$/.test(raw) ? Number(raw) : undefined;
}
