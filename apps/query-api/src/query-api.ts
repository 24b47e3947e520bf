import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { Container } from 'inversify';
import { buildContainer, TOKENS } from './composition-root';
import { errorResponse } from './http-responses';
import type { CachedSecret } from '@alma-cache/aws-adapters';
import type { QueryApiConfig } from './config';
import { createQueryApiRoutes, type QueryApiRoute, type QueryRouteAudit, type QueryRoutesOptions, type QueryUseCases } from './routes';
import { routeKeyOf } from './route-specs';

/** The query API assembled: its container, its logger and its route table. */
export interface QueryApi {
  readonly container: Container;
  readonly logger: Logger;
  readonly routes: QueryApiRoute[];
}

export interface QueryApiOptions extends QueryRoutesOptions {
  /** Lets a test rebind what the container provides (e.g. a `CapturedMetrics`) before the routes resolve it. */
  readonly configure?: (container: Container) => void;
}

/**
 * Builds the query API from an environment: the composition root and the route table on it. The local stack mounts
 * `routes` on `startHttpApiServer`; the Lambda entry dispatches to them.
 *
 * @example
 * const { routes } = createQueryApi(process.env);
 * const server = await startHttpApiServer({ routes, authorize: verifyLocalToken });
 * @throws ConfigurationError when the environment is incomplete
 */
export const createQueryApi = (env: Readonly<Record<string, string | undefined>>, options: QueryApiOptions = {}): QueryApi => {
  const container = buildContainer(env);
  options.configure?.(container);
  const logger = container.get<Logger>(TOKENS.Logger);
  const metrics = container.get<Metrics>(TOKENS.Metrics);
  const useCases: QueryUseCases = {
    getPatron: container.get(TOKENS.GetPatron),
    listPatronItems: container.get(TOKENS.ListPatronItems),
    getPatronItem: container.get(TOKENS.GetPatronItem),
    queuePatronRefresh: container.get(TOKENS.QueuePatronRefresh),
  };
  const config = container.get<QueryApiConfig>(TOKENS.Config);
  const audit: QueryRouteAudit = { logPepper: container.get<CachedSecret>(TOKENS.LogPepper), access: config.access };
  return { container, logger, routes: createQueryApiRoutes(useCases, logger, metrics, audit, options) };
};

export type QueryApiLambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * The one Lambda function behind every route: it dispatches on the event's `routeKey`, which API Gateway sets to the
 * matched route (`GET /users/{id}/loans`). A failed start (a configuration error) is answered as a logged 500 with a
 * correlation id on every request rather than thrown: a function that fails to initialise is a bare 500 or 502
 * from API Gateway, with nothing to trace it by.
 *
 * @example
 * export const handler = createQueryApiLambdaHandler(() => createQueryApi(process.env));
 */
export const createQueryApiLambdaHandler = (boot: () => QueryApi): QueryApiLambdaHandler => {
  let api: QueryApi | undefined;
  let bootError: unknown;
  try {
    api = boot();
  } catch (error) {
    bootError = error;
  }
  const byRouteKey = new Map((api?.routes ?? []).map((route) => [routeKeyOf(route), route.handler]));
  const fallbackLogger = new Logger({ serviceName: process.env['POWERTOOLS_SERVICE_NAME'] ?? 'alma-cache-query' });

  return async (event, context) => {
    const correlationId = event.requestContext?.requestId || randomUUID();
    if (api === undefined) {
      fallbackLogger.error('Query API cannot start', { correlationId, routeKey: event.routeKey, error: bootError as Error });
      return errorResponse(500, 'The query API is misconfigured; quote the correlation id when reporting it', correlationId);
    }
    api.logger.addContext(context);
    const handler = byRouteKey.get(event.routeKey);
    if (handler === undefined) {
      // Only a route added to serverless.yml and not to the route table gets here; the template test prevents it.
      api.logger.error('No handler for the route', { correlationId, routeKey: event.routeKey });
      return errorResponse(404, 'Not Found', correlationId);
    }
    return handler(event, context);
  };
};
