import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import {
  clientIdOfClaims,
  decideQueryAccess,
  type GetPatron,
  type GetPatronItem,
  ITEM_KINDS,
  type ListPatronItems,
  type QueryAccessDenial,
  type QueryAccessPolicy,
  type QueuePatronRefresh,
  type RefreshRequestOutcome,
  scopesAllowing,
} from '@alma-cache/cache-domain';
import { raceDeadline } from '@alma-cache/aws-adapters';
import { budgetCallerOf, budgetCallers } from './budget-caller';
import { DeadlineExceededError, errorResponse, failureOf, jsonResponse } from './http-responses';
import { callerForLog, callerInClear, patronLogHash, redactedError, redactIds } from './query-audit';
import { countRequest, requestOutcomeOf } from './request-metrics';
import { KIND_PLURAL, QUERY_ROUTE_SPECS, type QueryRouteSpec, routeKeyOf } from './route-specs';

/** A route's handler: API Gateway HTTP API payload 2.0 in, a structured result out. It never throws. */
export type QueryRouteHandler = (event: APIGatewayProxyEventV2, context?: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** One route with its handler, as `startHttpApiServer` mounts it and the Lambda entry dispatches to it. */
export interface QueryApiRoute extends QueryRouteSpec {
  readonly handler: QueryRouteHandler;
  /** Every route is behind the JWT authorizer. */
  readonly auth: true;
}

/** The use cases the routes call. */
export interface QueryUseCases {
  readonly getPatron: GetPatron;
  readonly listPatronItems: ListPatronItems;
  readonly getPatronItem: GetPatronItem;
  readonly queuePatronRefresh: QueuePatronRefresh;
}

/**
 * What makes every query accountable and narrowable: the stage's pepper for the patron id hashes of the log lines
 * (read per request from a cached SSM secret; a pepper that cannot be read fails the request with a 500 rather than
 * answer a query nobody could trace), and the stage's access policy (client allow-list, patron id claim).
 */
export interface QueryRouteAudit {
  readonly logPepper: () => Promise<string>;
  readonly access: QueryAccessPolicy;
}

export interface QueryRoutesOptions {
  /**
   * Time kept back from what the invocation has left, to answer 503 before Lambda or API Gateway give up with a
   * bare error. Default 1000 ms.
   */
  readonly deadlineMarginMs?: number;
}

/** API Gateway HTTP APIs give up after 30 s whatever the function's timeout; this stays under it. */
const MAX_BUDGET_MS = 28_000;

interface Answered {
  readonly status: number;
  readonly body: unknown;
  readonly source?: 'cache' | 'alma';
  readonly refresh?: RefreshRequestOutcome;
}

interface VerifiedJwt {
  readonly claims?: Readonly<Record<string, unknown>>;
  readonly scopes?: readonly string[] | null;
}

/** The claims API Gateway's JWT authorizer (or the local server's stand-in) verified; undefined when there are none. */
const jwtOf = (event: APIGatewayProxyEventV2): VerifiedJwt | undefined =>
  (event.requestContext as { authorizer?: { jwt?: VerifiedJwt } } | undefined)?.authorizer?.jwt;

const operationOf = (spec: QueryRouteSpec, useCases: QueryUseCases): ((event: APIGatewayProxyEventV2) => Promise<Answered>) => {
  const parameter = (event: APIGatewayProxyEventV2, name: string) => event.pathParameters?.[name] ?? '';
  const operation = spec.operation;
  switch (operation.type) {
    case 'patron':
      return async (event) => {
        const answer = await useCases.getPatron.execute(parameter(event, 'id'));
        const lists = Object.fromEntries(ITEM_KINDS.map((kind) => [KIND_PLURAL[kind], answer.value.records[kind]]));
        return { status: 200, body: { primary_id: answer.value.primaryId, ...lists }, source: answer.source, refresh: answer.refresh };
      };
    case 'list':
      return async (event) => {
        const answer = await useCases.listPatronItems.execute(parameter(event, 'id'), operation.kind);
        return {
          status: 200,
          body: { primary_id: answer.value.primaryId, [KIND_PLURAL[operation.kind]]: answer.value.records },
          source: answer.source,
          refresh: answer.refresh,
        };
      };
    case 'item':
      return async (event) => {
        const answer = await useCases.getPatronItem.execute({
          userPrimaryId: parameter(event, 'id'),
          kind: operation.kind,
          itemId: parameter(event, operation.itemParameter),
        });
        return { status: 200, body: answer.value, source: answer.source, refresh: answer.refresh };
      };
    case 'refresh':
      return async (event) => {
        const { primaryId } = await useCases.queuePatronRefresh.execute(parameter(event, 'id'));
        return { status: 202, body: { primary_id: primaryId, status: 'queued' } };
      };
  }
};

/**
 * Wraps one operation in what every route does: the access rule on the verified claims (401 without a token, 403
 * without a scope allowing the route's action, from a client outside the stage's allow-list, or for a patron token
 * asking for another patron), a deadline under API Gateway's 30 s, the status of each expected error, a 500 for
 * anything else, and the correlation id (API Gateway's request id) in the `x-correlation-id` header, in every error
 * body and in the log line. Nothing escapes as an exception: a throwing handler is what API Gateway turns into a bare
 * 500/502. (`metered`, around it, counts the answer.)
 *
 * Exactly one log line per request (`Query answered` / `Query refused` / `Query not answered` / `Query failed`),
 * answering "who read whom" without ids in clear: `caller` (a reader's or admin's `sub`, else client id; any other
 * token's keyed hash, see `callerForLog`), `clientId`, `route` (the
 * operationId), `patron` (the HMAC of the patron id, see `patronLogHash`), `outcome` (as the metric counts it),
 * `status`, `roles`, `correlationId`. Error messages in it have the ids redacted; the answer's body may still echo
 * them to the caller, who sent them.
 */
const guarded = (
  spec: QueryRouteSpec,
  run: (event: APIGatewayProxyEventV2) => Promise<Answered>,
  logger: Logger,
  audit: QueryRouteAudit,
  marginMs: number,
): QueryRouteHandler => {
  const routeKey = routeKeyOf(spec);
  const needed = scopesAllowing(spec.action);
  const itemParameter = spec.operation.type === 'item' ? spec.operation.itemParameter : undefined;
  return async (event, context) => {
    const started = Date.now();
    const correlationId = event.requestContext?.requestId || randomUUID();
    const jwt = jwtOf(event);
    const claims = jwt?.claims;
    const patronId = event.pathParameters?.['id'];
    const ids = [patronId, itemParameter === undefined ? undefined : event.pathParameters?.[itemParameter]];
    const line: Record<string, unknown> = {
      correlationId,
      routeKey,
      route: spec.operationId,
      clientId: claims === undefined ? undefined : clientIdOfClaims(claims),
      ...(context?.awsRequestId ? { awsRequestId: context.awsRequestId } : {}),
    };
    const answer = (response: APIGatewayProxyStructuredResultV2) => ({ ...line, status: response.statusCode, outcome: requestOutcomeOf(response) });
    try {
      const access = decideQueryAccess(claims, spec.action, jwt?.scopes ?? [], { patronId, policy: audit.access });
      line['roles'] = access.roles;
      // Before answering: a refused request is logged with whom it tried to read, and who tried, too.
      const inClear = callerInClear(access.roles);
      const pepper = patronId !== undefined || (claims !== undefined && !inClear) ? await audit.logPepper() : undefined;
      if (claims !== undefined) line['caller'] = callerForLog(claims, access.roles, pepper);
      if (patronId !== undefined && pepper !== undefined) line['patron'] = patronLogHash(pepper, patronId);
      if (!access.allowed) {
        const response = refusal(access.reason, routeKey, needed, correlationId);
        logger.info('Query refused', { ...answer(response), denial: access.reason });
        return response;
      }
      const remaining = context?.getRemainingTimeInMillis?.();
      const budgetMs = Math.min(MAX_BUDGET_MS, remaining !== undefined && remaining > 0 ? Math.max(remaining - marginMs, 1) : MAX_BUDGET_MS);
      // The Alma budget charges this request's calls to its caller and stops waiting for one before the deadline.
      const spender = budgetCallerOf(
        {
          roles: access.roles,
          clientId: line['clientId'] as string | undefined,
          caller: line['caller'] as string | undefined,
          patronHash: line['patron'] as string | undefined,
        },
        Date.now(),
        budgetMs,
      );
      const answered = await raceDeadline(
        budgetCallers.run(spender, () => run(event)),
        budgetMs,
        () => new DeadlineExceededError(budgetMs),
      );
      if (answered.refresh?.queued === false) {
        logger.warn('Answered from Alma, but the patron could not be queued for a refresh', {
          ...line,
          error: redactedError(answered.refresh.error, ids),
        });
      }
      const cacheHeader: Record<string, string> = answered.source ? { 'x-cache': answered.source === 'cache' ? 'hit' : 'miss' } : {};
      const response = jsonResponse(answered.status, answered.body, correlationId, cacheHeader);
      logger.info('Query answered', {
        ...answer(response),
        ...(answered.source ? { source: answered.source } : {}),
        ...(answered.refresh ? { refreshQueued: answered.refresh.queued } : {}),
        ms: Date.now() - started,
      });
      return response;
    } catch (error) {
      try {
        const failure = failureOf(error);
        const response = errorResponse(failure.status, failure.message, correlationId, failure.headers);
        const details = { ...answer(response), ms: Date.now() - started };
        if (failure.severity === 'error') logger.error('Query failed', { ...details, error: redactedError(error, ids) });
        else
          logger[failure.severity]('Query not answered', {
            ...details,
            errorType: (error as Error).name,
            reason: redactIds(String((error as Error).message), ids),
          });
        return response;
      } catch {
        return errorResponse(500, 'Internal error; quote the correlation id when reporting it', correlationId);
      }
    }
  };
};

/** The answer to a refused request: 401 without a token, 403 for every other denial, each saying which. */
const refusal = (
  reason: QueryAccessDenial,
  routeKey: string,
  needed: readonly string[],
  correlationId: string,
): APIGatewayProxyStructuredResultV2 => {
  switch (reason) {
    case 'unauthenticated':
      return errorResponse(401, 'A valid bearer token is required', correlationId, { 'www-authenticate': 'Bearer' });
    case 'client-not-allowed':
      return errorResponse(403, 'This token was issued to a client this API does not serve', correlationId);
    case 'not-this-patron':
      return errorResponse(403, "A patron token reads only its own patron's data", correlationId);
    case 'forbidden':
      return errorResponse(403, `This token does not allow ${routeKey}: it needs one of the scopes ${needed.join(', ')}`, correlationId, {
        'www-authenticate': `Bearer error="insufficient_scope", scope="${needed.join(' ')}"`,
      });
  }
};

/**
 * Counts each answer of a handler once (see `countRequest`), in a `finally`, so every way out is counted. A
 * failure to count is logged and never changes the answer: the handler still never throws.
 */
const metered = (spec: QueryRouteSpec, handler: QueryRouteHandler, logger: Logger, metrics: Metrics): QueryRouteHandler => {
  return async (event, context) => {
    let response: Awaited<ReturnType<QueryRouteHandler>> | undefined;
    try {
      response = await handler(event, context);
      return response;
    } finally {
      try {
        countRequest(metrics, spec.operationId, response);
      } catch (error) {
        try {
          logger.warn('Request not counted in the metrics', { routeKey: routeKeyOf(spec), error: error as Error });
        } catch {
          // Nothing left to tell: the answer goes out regardless.
        }
      }
    }
  };
};

/**
 * The query API's route table: every route of {@link QUERY_ROUTE_SPECS} with its guarded handler. The Lambda entry
 * dispatches to these by route key; the local stack mounts them on `startHttpApiServer` as they are.
 *
 * @example
 * const audit = { logPepper: cachedSsmSecret(ssm, config.logPepperName), access: config.access };
 * const server = await startHttpApiServer({ routes: createQueryApiRoutes(useCases, logger, metrics, audit), authorize: verifyLocalToken });
 */
export const createQueryApiRoutes = (
  useCases: QueryUseCases,
  logger: Logger,
  metrics: Metrics,
  audit: QueryRouteAudit,
  options: QueryRoutesOptions = {},
): QueryApiRoute[] =>
  QUERY_ROUTE_SPECS.map((spec) => ({
    ...spec,
    auth: true,
    handler: metered(spec, guarded(spec, operationOf(spec, useCases), logger, audit, options.deadlineMarginMs ?? 1000), logger, metrics),
  }));
