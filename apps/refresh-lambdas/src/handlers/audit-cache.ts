import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { AuditConfig } from '../audit-config';
import { publishAuditMetrics } from '../audit-report';
import type { AuditRunner } from '../audit-runner';
import { buildAuditContainer, TOKENS } from '../composition-root';

// Built once per Lambda container, at module scope, as the refresh functions are.
const container = buildAuditContainer(process.env);

/** Time kept back from the Lambda timeout: the patron in hand finishes, the metrics are published. */
const TIME_RESERVE_MS = 60_000;

/**
 * The drift audit, on its EventBridge schedule: audits a random sample of `AUDIT_SAMPLE_SIZE` cached, complete patrons,
 * repairs the drifted ones unless `AUDIT_REPAIR=false`, publishes the metrics, one log line per drifted patron. A patron
 * that fails (Alma unavailable) fails the run: Lambda retries a scheduled invocation twice, the errors alarm fires.
 */
export const handler = async (_event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>) => {
  const config = container.get<AuditConfig>(TOKENS.Config);
  const logger = container.get<Logger>(TOKENS.Logger);
  const metrics = container.get<Metrics>(TOKENS.Metrics);
  try {
    const keepGoing = () => (context ? context.getRemainingTimeInMillis() > TIME_RESERVE_MS : true);
    const run = await container
      .get<AuditRunner>(TOKENS.AuditRunner)
      .run({ sample: config.audit.sampleSize }, { repair: config.audit.repair, keepGoing });
    publishAuditMetrics(metrics, run.totals, run.almaCalls);
    const { audited, drifted, repaired, inFlight, budgetPauses, leftForLater } = run.totals;
    logger.info('Drift audit done', { audited, drifted, repaired, inFlight, budgetPauses, leftForLater, almaCalls: run.almaCalls, ms: run.ms });
    return { audited, drifted, repaired, inFlight, almaCalls: run.almaCalls };
  } finally {
    metrics.publishStoredMetrics();
  }
};
