import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { type AlmaApi, AuditPatrons, type Clock } from '@alma-cache/cache-domain';
import {
  bindFunctionBasics,
  type CachedSecret,
  cachedSsmSecret,
  DynamoDbAlmaCallBudget,
  DynamoDbCacheAuditReader,
  DynamoDbCacheStore,
  DynamoDbUnknownPatrons,
  type Environment,
  tracedHttpExchange,
} from '@alma-cache/aws-adapters';
import { AlmaHttpApi } from '@alma-cache/alma-api';
import { Container } from 'inversify';
import { AlmaCallMeter } from './alma-call-meter';
import { type AuditConfig, loadAuditConfig } from './audit-config';
import { AuditRunner } from './audit-runner';
import { countAlmaThrottled } from './refresh-metrics';
import { TOKENS } from './composition-root';

/** How long one Alma call may wait for the budget before the audit yields (pauses as the error says, then tries again). */
export const AUDIT_BUDGET_WAIT_MS = 2_000;

/** The audit function's own service identifiers, beside the refresh's shared ones (Logger, Metrics, clients, Clock). */
export const AUDIT_TOKENS = {
  Config: Symbol.for('AuditConfig'),
  LogPepper: Symbol.for('AuditLogPepper'),
  AuditPatrons: Symbol.for('AuditPatrons'),
  AuditRunner: Symbol.for('AuditRunner'),
} as const;

/**
 * Wires the drift audit (handlers/audit-cache.ts, and `npm run audit`): the refresh's Alma client (same API key, same
 * stage budget on the Alma guard table, its own small concurrency ceiling and a short budget wait, so it yields to live
 * traffic), the refresh's store and write rule for the repair, and the audit's reader. Singletons, as in the refresh.
 *
 * @example
 * const runner = buildAuditContainer(process.env).get<AuditRunner>(AUDIT_TOKENS.AuditRunner);
 * const { totals } = await runner.run({ sample: 60, repair: true });
 */
export const buildAuditContainer = (env: Environment): Container => {
  const container = new Container({ defaultScope: 'Singleton' });
  const config = loadAuditConfig(env);
  container.bind<AuditConfig>(AUDIT_TOKENS.Config).toConstantValue(config);
  bindFunctionBasics(container, env, 'alma-cache-refresh', TOKENS);
  container.bind<AlmaCallMeter>(TOKENS.AlmaCallMeter).toConstantValue(new AlmaCallMeter());
  container
    .bind<CachedSecret>(TOKENS.AlmaApiKey)
    .toResolvedValue((ssm: SSMClient) => cachedSsmSecret(ssm, config.alma.apiKeyName, config.secretCache), [TOKENS.SsmClient]);
  container
    .bind<CachedSecret>(AUDIT_TOKENS.LogPepper)
    .toResolvedValue((ssm: SSMClient) => cachedSsmSecret(ssm, config.audit.logPepperName, config.secretCache), [TOKENS.SsmClient]);
  container.bind<AlmaApi>(TOKENS.AlmaApi).toResolvedValue(
    (apiKey: CachedSecret, meter: AlmaCallMeter, logger: Logger, metrics: Metrics, client: DynamoDBDocumentClient) =>
      new AlmaHttpApi({
        baseUrl: config.alma.baseUrl,
        apiKey: meter.countingApiKey(apiKey),
        // The stage's budget, from its `refresh` share (background work: never the query misses' share), with a short
        // wait, so a busy share makes the audit pause (AuditPatrons' `pause`) rather than queue behind the refresh.
        budget: new DynamoDbAlmaCallBudget(client, config.alma.guardTable, {
          callsPerSecond: config.alma.callsPerSecond,
          share: 'refresh',
          maxWaitMs: AUDIT_BUDGET_WAIT_MS,
        }),
        refreshApiKey: apiKey.refresh,
        maxConcurrentRequests: config.alma.maxConcurrentRequests,
        onRetry: (info) => {
          meter.retried();
          if (info.reason === 429) countAlmaThrottled(metrics);
          logger.warn('Alma request retried', { ...info });
        },
        // With tracing on, each Alma call is a subsegment recording the route's shape, never the patron's id.
        traceExchange: tracedHttpExchange,
      }),
    [TOKENS.AlmaApiKey, TOKENS.AlmaCallMeter, TOKENS.Logger, TOKENS.Metrics, TOKENS.DocumentClient],
  );
  container.bind<AuditPatrons>(AUDIT_TOKENS.AuditPatrons).toResolvedValue(
    (client: DynamoDBDocumentClient, alma: AlmaApi, clock: Clock) =>
      new AuditPatrons({
        store: new DynamoDbCacheStore(client, config.tables),
        alma,
        clock,
        expiry: config.expiry,
        // The repair of a patron Alma no longer knows forgets them as the refresh does, negative cache included.
        unknownPatrons: new DynamoDbUnknownPatrons(client, config.alma.guardTable),
        reader: new DynamoDbCacheAuditReader(client, config.tables),
        graceSeconds: config.audit.graceSeconds,
      }),
    [TOKENS.DocumentClient, TOKENS.AlmaApi, TOKENS.Clock],
  );
  container
    .bind<AuditRunner>(AUDIT_TOKENS.AuditRunner)
    .toResolvedValue(
      (audit: AuditPatrons, meter: AlmaCallMeter, logger: Logger, pepper: CachedSecret) => new AuditRunner(audit, meter, logger, pepper),
      [AUDIT_TOKENS.AuditPatrons, TOKENS.AlmaCallMeter, TOKENS.Logger, AUDIT_TOKENS.LogPepper],
    );
  return container;
};
