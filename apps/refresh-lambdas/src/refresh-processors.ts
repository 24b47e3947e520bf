import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { type ItemKind, parseItemRefreshMessage, parseUserRefreshMessage, type RefreshItem, type RefreshUser } from '@alma-cache/cache-domain';
import type { AlmaCallMeter } from './alma-call-meter';
import { countRefreshed } from './refresh-metrics';
import type { SqsRecordProcessor } from '@alma-cache/aws-adapters';

/**
 * A Users queue message (the bare primary id) → RefreshUser, logging one line with the outcome counts and the Alma
 * requests it took, and counting it (Refreshed or NotFoundInAlma, AlmaCalls, AlmaRetries). The line names the SQS
 * message, never the patron: a patron id in clear in the logs is personal data kept for as long as the logs are.
 *
 * @example
 * const process = userRefreshProcessor(container.get(TOKENS.RefreshUser), meter, logger, metrics);
 */
export const userRefreshProcessor =
  (refreshUser: RefreshUser, meter: AlmaCallMeter, logger: Logger, metrics: Metrics): SqsRecordProcessor =>
  async (record) => {
    // Parsed outside the meter: a poison message never reaches Alma.
    const userPrimaryId = parseUserRefreshMessage(record.body);
    const { value: outcome, calls, retries, ms } = await meter.measure(() => refreshUser.execute(userPrimaryId));
    countRefreshed(metrics, outcome.result === 'refreshed', { calls, retries });
    logger.info(outcome.result === 'refreshed' ? 'Patron refreshed from Alma' : 'Patron not in Alma: cached records removed', {
      messageId: record.messageId,
      result: outcome.result,
      counts: outcome.counts,
      userWriteAttempts: outcome.attempts,
      almaCalls: calls,
      almaRetries: retries,
      ms,
    });
  };

/**
 * A Loans, Requests or Fees queue message (`{"userID":"…","loanID":"…"}`) → RefreshItem, logging one line with
 * the outcome and the Alma requests it took, and counting it (Refreshed or NotFoundInAlma, AlmaCalls, AlmaRetries).
 * As for a patron, the line names the SQS message, never the patron or the record.
 *
 * @example
 * const process = itemRefreshProcessor('loan', container.get(TOKENS.RefreshItem), meter, logger, metrics);
 */
export const itemRefreshProcessor =
  (kind: ItemKind, refreshItem: RefreshItem, meter: AlmaCallMeter, logger: Logger, metrics: Metrics): SqsRecordProcessor =>
  async (record) => {
    const request = parseItemRefreshMessage(record.body, kind);
    const { value: outcome, calls, retries, ms } = await meter.measure(() => refreshItem.execute(request));
    countRefreshed(metrics, outcome.found, { calls, retries });
    logger.info(outcome.found ? `Alma ${kind} refreshed` : `Alma ${kind} no longer exists: tombstone written`, {
      messageId: record.messageId,
      kind,
      found: outcome.found,
      item: outcome.item,
      user: outcome.user,
      almaCalls: calls,
      almaRetries: retries,
      ms,
    });
  };
