import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { SNSClientConfig } from '@aws-sdk/client-sns';
import type { SQSClientConfig } from '@aws-sdk/client-sqs';
import type { SSMClientConfig } from '@aws-sdk/client-ssm';
import { systemClock } from '@alma-cache/cache-domain';
import type { Container } from 'inversify';
import { createDocumentClient, createSnsClient, createSqsClient } from './aws-clients';
import { METRICS_NAMESPACE } from './metrics-namespace';
import { createSsmClient } from './ssm-secret';
import type { Environment } from './config-reader';

/**
 * The tokens of an app's `TOKENS` that {@link bindFunctionBasics} binds: the logger and metrics always, each SDK client
 * and the clock only when the app has a token for it (pass the app's whole `TOKENS`).
 */
export interface FunctionBasicsTokens {
  readonly Logger: symbol;
  readonly Metrics: symbol;
  readonly DocumentClient?: symbol;
  readonly SqsClient?: symbol;
  readonly SsmClient?: symbol;
  readonly SnsClient?: symbol;
  readonly Clock?: symbol;
}

/** SDK settings every client of the function gets (the webhook receiver's fast-fail timeouts, say). */
export type FunctionClientConfig = DynamoDBClientConfig & SQSClientConfig & SSMClientConfig & SNSClientConfig;

/**
 * Binds what every function of the stack sets up the same way:
 *
 * - the Powertools logger and metrics, named by `POWERTOOLS_SERVICE_NAME` (serverless.yml sets it) or else the app's
 *   fallback. Every service shares {@link METRICS_NAMESPACE}; the `service` dimension tells them apart, and Powertools
 *   honours `POWERTOOLS_METRICS_DISABLED` itself (tests and local runs keep stdout for logs);
 * - each SDK client the app has a token for, created on first use (`toResolvedValue`) and then, in a singleton
 *   container, reused with its connections across the invocations of a warm container;
 * - the system clock, when the app has a `Clock` token.
 *
 * Inversify stays the container; the app keeps its own tokens and binds the rest.
 *
 * @example
 * const container = new Container({ defaultScope: 'Singleton' });
 * container.bind<SnsLambdasConfig>(TOKENS.Config).toConstantValue(loadConfig(env));
 * bindFunctionBasics(container, env, 'alma-cache-sns', TOKENS);
 */
export const bindFunctionBasics = (
  container: Container,
  env: Environment,
  fallbackServiceName: string,
  tokens: FunctionBasicsTokens,
  clientConfig: FunctionClientConfig = {},
): void => {
  const serviceName = env['POWERTOOLS_SERVICE_NAME'] ?? fallbackServiceName;
  container.bind(tokens.Logger).toConstantValue(new Logger({ serviceName }));
  container.bind(tokens.Metrics).toConstantValue(new Metrics({ namespace: METRICS_NAMESPACE, serviceName }));
  if (tokens.DocumentClient) container.bind(tokens.DocumentClient).toResolvedValue(() => createDocumentClient(clientConfig));
  if (tokens.SqsClient) container.bind(tokens.SqsClient).toResolvedValue(() => createSqsClient(clientConfig));
  if (tokens.SsmClient) container.bind(tokens.SsmClient).toResolvedValue(() => createSsmClient(clientConfig));
  if (tokens.SnsClient) container.bind(tokens.SnsClient).toResolvedValue(() => createSnsClient(clientConfig));
  if (tokens.Clock) container.bind(tokens.Clock).toConstantValue(systemClock);
};
