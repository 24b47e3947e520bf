import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { createSqsBatchHandler, type FailureParking, type MessageDelay, type SqsRecordProcessor } from '@alma-cache/aws-adapters';
import { tallyOf } from './alma-call-meter';
import { countRefreshFailed, countRefused } from './refresh-metrics';

/**
 * The bulk refresh's queue handler: the stack's one SQS batch handler (aws-adapters `createSqsBatchHandler`: partial
 * batch responses, poison parked on `deadLetterQueue` at once, Alma's Retry-After honoured with `delay`), counting each
 * failure as RefreshFailed or Refused with the Alma requests it made, which its log line names too.
 *
 * @example
 * export const handler = createRefreshBatchHandler(async (record) => { await refresh(record.body); }, logger, metrics, 'loan', delay, deadLetterQueue);
 */
export const createRefreshBatchHandler = (
  process: SqsRecordProcessor,
  logger: Logger,
  metrics: Metrics,
  kind: string,
  delay?: MessageDelay,
  deadLetterQueue?: FailureParking,
) =>
  createSqsBatchHandler(process, {
    logger,
    metrics,
    kind,
    delay,
    deadLetterQueue,
    retriedMessage: 'Refresh failed: the message will be received again after its visibility timeout',
    onFailure: (_record, error, outcome) => {
      const alma = tallyOf(error);
      if (outcome === 'refused') countRefused(metrics, alma);
      else countRefreshFailed(metrics, alma);
      return alma ? { almaCalls: alma.calls, almaRetries: alma.retries } : {};
    },
  });
