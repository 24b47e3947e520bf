import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayEventRequestContextJWTAuthorizer,
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';

/** The claims of a verified JWT, as API Gateway's JWT authorizer hands them to the function. */
export type JwtClaims = APIGatewayEventRequestContextJWTAuthorizer['jwt']['claims'];

/**
 * One route of the HTTP API, in API Gateway's route syntax: `GET /users/{id}`, `ANY /files/{proxy+}`.
 *
 * `handler` is written as a method so that a handler typed for the JWT-authorizer event
 * (`APIGatewayProxyEventV2WithJWTAuthorizer`) fits as well as one typed for the plain event.
 */
export interface HttpApiRoute {
  /** GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY. */
  method: string;
  /** `/`, `/users/{id}/loans/{loanId}`, `/files/{proxy+}` (greedy, last segment only). */
  path: string;
  handler(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2 | string | object>;
  /** Behind the JWT authorizer: the server calls `authorize` first and answers 401 when it returns nothing. */
  auth?: boolean;
  /**
   * The route's `AuthorizationScopes`: as API Gateway does, a token holding none of them is refused with 403.
   * Empty or absent: any valid token passes.
   */
  scopes?: readonly string[];
}

export interface HttpApiServerOptions {
  routes: readonly HttpApiRoute[];
  /** 0 (the default): a free port the kernel picks. */
  port?: number;
  /** A loopback address only: these handlers trust their callers as API Gateway would have checked them. */
  host?: string;
  /** Stands in for the JWT authorizer on `auth: true` routes: the token's claims, or undefined to refuse (401). */
  authorize?: (event: APIGatewayProxyEventV2) => JwtClaims | undefined | Promise<JwtClaims | undefined>;
  /** One line per request, and the error of a handler that threw. */
  log?: (line: string) => void;
  /** API Gateway's integration timeout: 30 s for HTTP APIs, answered with 503. */
  timeoutMs?: number;
}

export interface HttpApiServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  port: number;
  /** Stops listening and drops open keep-alive connections. */
  close(): Promise<void>;
}

/** A route that API Gateway would refuse to create. */
export class HttpApiRouteError extends Error {
  public constructor(route: Pick<HttpApiRoute, 'method' | 'path'>, reason: string) {
    super(`route "${route.method} ${route.path}": ${reason}`);
    this.name = 'HttpApiRouteError';
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY']);
const LOCAL_ACCOUNT_ID = '000000000000';
const DEFAULT_TIMEOUT_MS = 30_000;
/** HTTP APIs refuse request bodies over 10 MB. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

type Segment = { kind: 'literal'; text: string } | { kind: 'param'; name: string } | { kind: 'greedy'; name: string };

interface CompiledRoute {
  route: HttpApiRoute;
  method: string;
  routeKey: string;
  segments: Segment[];
}

interface RouteMatch {
  compiled: CompiledRoute;
  pathParameters: Record<string, string>;
}

class RequestTooLargeError extends Error {}

const splitPath = (path: string): string[] => (path === '/' ? [] : path.slice(1).split('/'));

const compileRoute = (route: HttpApiRoute): CompiledRoute => {
  const method = route.method.toUpperCase();
  if (!METHODS.has(method)) throw new HttpApiRouteError(route, `method must be one of ${[...METHODS].join(', ')}`);
  if (!route.path.startsWith('/')) throw new HttpApiRouteError(route, 'the path must start with "/"');
  const parts = splitPath(route.path);
  const segments = parts.map((part, index): Segment => {
    const variable = /^\{([A-Za-z0-9_.-]+)(\+?)\}$/.exec(part);
    if (variable === null) {
      if (part === '' || /[{}]/.test(part)) throw new HttpApiRouteError(route, `"${part}" is not a path segment`);
      return { kind: 'literal', text: part };
    }
    if (variable[2] !== '+') return { kind: 'param', name: variable[1] };
    if (index !== parts.length - 1) throw new HttpApiRouteError(route, 'a greedy variable ({name+}) must be the last segment');
    return { kind: 'greedy', name: variable[1] };
  });
  return { route, method, routeKey: `${method} ${route.path}`, segments };
};

const matchPath = (segments: readonly Segment[], parts: readonly string[]): Record<string, string> | undefined => {
  const parameters: Record<string, string> = {};
  for (const [index, segment] of segments.entries()) {
    if (segment.kind === 'greedy') {
      const rest = parts.slice(index);
      if (rest.length === 0 || rest.every((part) => part === '')) return undefined;
      parameters[segment.name] = decodeURIComponent(rest.join('/'));
      return parameters;
    }
    const part = parts[index];
    if (part === undefined || part === '') return undefined;
    if (segment.kind === 'literal' && part !== segment.text) return undefined;
    if (segment.kind === 'param') parameters[segment.name] = decodeURIComponent(part);
  }
  return segments.length === parts.length ? parameters : undefined;
};

/** Higher is more specific: literal segments before variables before a greedy tail, then an exact method before ANY. */
const specificity = (compiled: CompiledRoute): number[] => [
  ...compiled.segments.map((segment) => ({ literal: 3, param: 2, greedy: 1 })[segment.kind]),
  compiled.method === 'ANY' ? 0 : 1,
];

const moreSpecific = (a: CompiledRoute, b: CompiledRoute): number => {
  const [left, right] = [specificity(a), specificity(b)];
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    const difference = (right[index] ?? 0) - (left[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
};

const findRoute = (routes: readonly CompiledRoute[], method: string, rawPath: string): RouteMatch | undefined => {
  const parts = splitPath(rawPath);
  const candidates = routes
    .filter((compiled) => compiled.method === method || compiled.method === 'ANY')
    .flatMap((compiled) => {
      const pathParameters = matchPath(compiled.segments, parts);
      return pathParameters === undefined ? [] : [{ compiled, pathParameters }];
    });
  return candidates.sort((a, b) => moreSpecific(a.compiled, b.compiled))[0];
};

/** What HTTP APIs pass as text; any other content type, or none, arrives base64-encoded (measured on AWS). */
const isTextContentType = (contentType: string | undefined): boolean => {
  const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return mediaType.startsWith('text/') || ['application/json', 'application/xml', 'application/javascript'].includes(mediaType);
};

const readBody = (request: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new RequestTooLargeError());
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });

/** Lower-cased names, repeated headers joined with commas as payload 2.0 does; cookies go to their own field. */
const collectHeaders = (request: IncomingMessage): { headers: Record<string, string>; cookies: string[] } => {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let index = 0; index < request.rawHeaders.length; index += 2) {
    const name = request.rawHeaders[index].toLowerCase();
    const value = request.rawHeaders[index + 1];
    if (name === 'cookie') {
      cookies.push(
        ...value
          .split(';')
          .map((cookie) => cookie.trim())
          .filter((cookie) => cookie !== ''),
      );
      continue;
    }
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  return { headers, cookies };
};

const parseQuery = (rawQueryString: string): Record<string, string> => {
  const parameters: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    parameters[name] = name in parameters ? `${parameters[name]},${value}` : value;
  }
  return parameters;
};

/** `21/Nov/2026:10:15:03 +0000`, API Gateway's requestContext.time. */
const gatewayTime = (date: Date): string => {
  const pad = (value: number) => String(value).padStart(2, '0');
  return (
    `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
};

/** Like API Gateway's: 16 characters ending in `=`, e.g. `Ab1cD2eFgH3iJkL=`. */
const gatewayRequestId = (): string => `${randomBytes(12).toString('base64url').slice(0, 15)}=`;

const traceId = (epochMs: number): string => `Root=1-${Math.floor(epochMs / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;

const scopesOf = (claims: JwtClaims): string[] => {
  const scope = claims['scope'] ?? claims['scp'];
  if (Array.isArray(scope)) return scope.map(String);
  return typeof scope === 'string' ? scope.split(' ').filter((item) => item !== '') : [];
};

const lambdaContext = (routeKey: string, deadline: number): Context => {
  const functionName = `local-http-api-${routeKey.replace(/[^A-Za-z0-9-]+/g, '-').replace(/^-|-$/g, '')}`.slice(0, 64);
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:${LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};

interface GatewayReply {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

const gatewayError = (statusCode: number, message: string): GatewayReply => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify({ message })),
});

class InvalidLambdaResponseError extends Error {}

/** Payload 2.0's response rules: a result with a statusCode is taken as is; anything else is a 200 JSON body. */
const toReply = (result: unknown): GatewayReply => {
  const structured = result as APIGatewayProxyStructuredResultV2 | null;
  if (typeof result !== 'object' || result === null || structured?.statusCode === undefined) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(body) };
  }
  const statusCode = Number(structured.statusCode);
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    throw new InvalidLambdaResponseError(`statusCode ${JSON.stringify(structured.statusCode)} is not an HTTP status`);
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(structured.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (structured.cookies && structured.cookies.length > 0) headers['set-cookie'] = [...structured.cookies];
  const text = structured.body ?? '';
  return { statusCode, headers, body: structured.isBase64Encoded ? Buffer.from(text, 'base64') : Buffer.from(text) };
};

const withinTimeout = <T>(work: Promise<T>, timeoutMs: number): Promise<T | typeof TIMED_OUT> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
};
const TIMED_OUT = Symbol('timed out');

/**
 * Serves API Gateway HTTP API handlers (payload format 2.0) on loopback, the way API Gateway would call them: the
 * event is built from the real request (raw path and query string, lower-cased headers with repeats joined by
 * commas, cookies, query and path parameters, the body as text or base64 by content type, requestContext with the
 * route key, request id and source IP), routes are matched most-specific-first, and API Gateway's own answers are
 * kept: 404 `{"message":"Not Found"}` for no route, 401 `{"message":"Unauthorized"}` when `authorize` refuses an
 * `auth: true` route, 500 `{"message":"Internal Server Error"}` when the handler throws or answers nonsense, 503 after
 * `timeoutMs`, 413 over 10 MB. Each reply carries `apigw-requestid`, the event's `requestContext.requestId`.
 *
 * @example
 * const server = await startHttpApiServer({
 *   routes: [{ method: 'GET', path: '/users/{id}/loans', handler, auth: true }],
 *   authorize: (event) => (event.headers.authorization === 'Bearer test' ? { sub: 'tester', scope: 'loans:read' } : undefined),
 * });
 * await fetch(`${server.url}/users/PAT0042X/loans`, { headers: { authorization: 'Bearer test' } });
 * await server.close();
 * @throws HttpApiRouteError for a route API Gateway would refuse (bad syntax, duplicate route key)
 */
export const startHttpApiServer = async (options: HttpApiServerOptions): Promise<HttpApiServer> => {
  const { host = '127.0.0.1', port = 0, log, authorize, timeoutMs = DEFAULT_TIMEOUT_MS } = options;
  if (!LOOPBACK_HOSTS.has(host)) {
    throw new Error(`startHttpApiServer listens on loopback only (127.0.0.1, ::1, localhost), not "${host}": nothing in front of it checks callers`);
  }
  const routes = options.routes.map(compileRoute);
  const seen = new Set<string>();
  for (const compiled of routes) {
    if (seen.has(compiled.routeKey)) throw new HttpApiRouteError(compiled.route, 'defined twice');
    seen.add(compiled.routeKey);
  }
  if (routes.some((compiled) => compiled.route.auth) && authorize === undefined) {
    throw new Error('startHttpApiServer: routes with auth: true need an `authorize` function');
  }

  const handle = async (request: IncomingMessage, requestId: string): Promise<{ reply: GatewayReply; routeKey?: string }> => {
    const receivedAt = new Date();
    const target = request.url ?? '/';
    const queryAt = target.indexOf('?');
    const rawPath = queryAt === -1 ? target : target.slice(0, queryAt);
    const rawQueryString = queryAt === -1 ? '' : target.slice(queryAt + 1);
    const method = (request.method ?? 'GET').toUpperCase();

    let body: Buffer;
    try {
      body = await readBody(request);
    } catch (error) {
      if (error instanceof RequestTooLargeError) return { reply: gatewayError(413, 'Request Entity Too Large') };
      throw error;
    }
    let match: RouteMatch | undefined;
    try {
      match = findRoute(routes, method, rawPath);
    } catch {
      match = undefined; // a malformed %-escape in the path: API Gateway finds no route either
    }
    if (match === undefined) return { reply: gatewayError(404, 'Not Found') };

    const { compiled, pathParameters } = match;
    const { headers, cookies } = collectHeaders(request);
    const sourceIp = (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const domainName = headers['host'] ?? `${host}:${port}`;
    headers['x-forwarded-for'] = sourceIp;
    headers['x-forwarded-port'] = String(request.socket.localPort ?? port);
    headers['x-forwarded-proto'] = 'http';
    headers['x-amzn-trace-id'] = traceId(receivedAt.getTime());
    const queryStringParameters = parseQuery(rawQueryString);
    const text = isTextContentType(headers['content-type']);

    const event: APIGatewayProxyEventV2 = {
      version: '2.0',
      routeKey: compiled.routeKey,
      rawPath,
      rawQueryString,
      ...(cookies.length > 0 ? { cookies } : {}),
      headers,
      ...(Object.keys(queryStringParameters).length > 0 ? { queryStringParameters } : {}),
      requestContext: {
        accountId: LOCAL_ACCOUNT_ID,
        apiId: 'local',
        domainName,
        domainPrefix: domainName.split('.')[0],
        http: {
          method,
          path: rawPath,
          protocol: `HTTP/${request.httpVersion}`,
          sourceIp,
          userAgent: headers['user-agent'] ?? '',
        },
        requestId,
        routeKey: compiled.routeKey,
        stage: '$default',
        time: gatewayTime(receivedAt),
        timeEpoch: receivedAt.getTime(),
      },
      ...(body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
      ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
      isBase64Encoded: body.length > 0 && !text,
    };

    if (compiled.route.auth) {
      const claims = await (authorize as NonNullable<typeof authorize>)(event);
      if (claims === undefined) return { reply: gatewayError(401, 'Unauthorized'), routeKey: compiled.routeKey };
      const granted = scopesOf(claims);
      const required = compiled.route.scopes ?? [];
      if (required.length > 0 && !required.some((scope) => granted.includes(scope))) {
        return { reply: gatewayError(403, 'Forbidden'), routeKey: compiled.routeKey };
      }
      (event as APIGatewayProxyEventV2WithJWTAuthorizer).requestContext.authorizer = {
        principalId: '',
        integrationLatency: 0,
        jwt: { claims, scopes: granted },
      };
    }

    const context = lambdaContext(compiled.routeKey, receivedAt.getTime() + timeoutMs);
    try {
      const result = await withinTimeout(compiled.route.handler(event, context), timeoutMs);
      if (result === TIMED_OUT) {
        log?.(`${compiled.routeKey}: no answer within ${timeoutMs} ms`);
        return { reply: gatewayError(503, 'Service Unavailable'), routeKey: compiled.routeKey };
      }
      return { reply: toReply(result), routeKey: compiled.routeKey };
    } catch (error) {
      log?.(`${compiled.routeKey} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return { reply: gatewayError(500, 'Internal Server Error'), routeKey: compiled.routeKey };
    }
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const started = Date.now();
    const requestId = gatewayRequestId();
    void handle(request, requestId)
      .catch((error: unknown) => {
        log?.(`${request.method} ${request.url} failed in the server: ${String(error)}`);
        return { reply: gatewayError(500, 'Internal Server Error'), routeKey: undefined };
      })
      .then(({ reply, routeKey }) => {
        response.writeHead(reply.statusCode, { ...reply.headers, 'apigw-requestid': requestId, 'content-length': reply.body.length });
        response.end(request.method === 'HEAD' ? undefined : reply.body);
        log?.(`${request.method} ${request.url} → ${reply.statusCode}${routeKey ? ` (${routeKey})` : ''} in ${Date.now() - started} ms`);
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const urlHost = host === '::1' ? '[::1]' : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${bound}`,
    port: bound,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
};
