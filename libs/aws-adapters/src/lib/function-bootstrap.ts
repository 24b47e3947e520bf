import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { systemClock } from '@alma-cache/cache-domain';
import type { Container } from 'inversify';
import { METRICS_NAMESPACE } from './metrics-namespace';
import type { Environment } from './config-reader';

/**
 * The tokens of an app's `TOKENS` that {@link bindFunctionBasics} binds: the logger and metrics always, the clock only
 * when the app has a token for it (pass the app's whole `TOKENS`).
 */
export interface FunctionBasicsTokens {
  readonly Logger: symbol;
  readonly Metrics: symbol;
  readonly Clock?: symbol;
}

/**
 * Binds what every function of the stack sets up the same way:
 *
 * - the Powertools logger and metrics, named by `POWERTOOLS_SERVICE_NAME` (serverless.yml sets it) or else the app's
 *   fallback. Every service shares {@link METRICS_NAMESPACE}; the `service` dimension tells them apart, and Powertools
 *   honours `POWERTOOLS_METRICS_DISABLED` itself (tests and local runs keep stdout for logs);
 * - the system clock, when the app has a `Clock` token.
 *
 * SDK clients are bound one by one with {@link bindClient}, each from the factory the app imports, so that a bundle
 * holds only the clients its function uses. Inversify stays the container; the app keeps its own tokens and binds
 * the rest.
 *
 * @example
 * const container = new Container({ defaultScope: 'Singleton' });
 * container.bind<SnsLambdasConfig>(TOKENS.Config).toConstantValue(loadConfig(env));
 * bindFunctionBasics(container, env, 'alma-cache-sns', TOKENS);
 * bindClient(container, TOKENS.DocumentClient, createDocumentClient);
 */
export const bindFunctionBasics = (container: Container, env: Environment, fallbackServiceName: string, tokens: FunctionBasicsTokens): void => {
  const serviceName = env['POWERTOOLS_SERVICE_NAME'] ?? fallbackServiceName;
  container.bind(tokens.Logger).toConstantValue(new Logger({ serviceName }));
  container.bind(tokens.Metrics).toConstantValue(new Metrics({ namespace: METRICS_NAMESPACE, serviceName }));
  if (tokens.Clock) container.bind(tokens.Clock).toConstantValue(systemClock);
};

/**
 * Binds an SDK client made by `factory` (`createDocumentClient`, `createSqsClient`, `createSsmClient`,
 * `createSnsClient`), created on first use with `clientConfig` and then, in a singleton container, reused with its
 * connections across the invocations of a warm container. The app imports the factory, so a function's bundle holds
 * only the SDK clients it binds.
 *
 * @example
 * // the webhook receiver: both clients sit on the request path and fail fast
 * bindClient(container, TOKENS.SsmClient, createSsmClient, FAST_FAIL_CLIENT_CONFIG);
 * bindClient(container, TOKENS.SnsClient, createSnsClient, FAST_FAIL_CLIENT_CONFIG);
 */
export const bindClient = <Config, Client>(
  container: Container,
  token: symbol,
  factory: (clientConfig?: Config) => Client,
  clientConfig?: Config,
): void => {
  container.bind<Client>(token).toResolvedValue(() => factory(clientConfig));
};
