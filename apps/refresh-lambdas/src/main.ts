import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { ItemKind, RefreshItem, RefreshUser } from '@alma-cache/cache-domain';
import type { FailureParking, MessageDelay } from '@alma-cache/aws-adapters';
import type { AlmaCallMeter } from './alma-call-meter';
import { buildContainer, TOKENS } from './composition-root';
import { itemRefreshProcessor, userRefreshProcessor } from './refresh-processors';
import { createRefreshBatchHandler } from './refresh-batch-handler';

// Built once per Lambda container, at module scope: cold start pays for configuration and clients, warm calls don't.
export const container = buildContainer(process.env);

const logger = () => container.get<Logger>(TOKENS.Logger);
const meter = () => container.get<AlmaCallMeter>(TOKENS.AlmaCallMeter);
const metrics = () => container.get<Metrics>(TOKENS.Metrics);
const delay = () => container.get<MessageDelay>(TOKENS.MessageDelay);
const deadLetterQueue = () => container.get<FailureParking>(TOKENS.DeadLetterQueue);

/** The Users queue handler: one patron per message. */
export const userRefreshHandler = () =>
  createRefreshBatchHandler(
    userRefreshProcessor(container.get<RefreshUser>(TOKENS.RefreshUser), meter(), logger(), metrics()),
    logger(),
    metrics(),
    'user',
    delay(),
    deadLetterQueue(),
  );

/** The Loans, Requests or Fees queue handler: one record per message. */
export const itemRefreshHandler = (kind: ItemKind) =>
  createRefreshBatchHandler(
    itemRefreshProcessor(kind, container.get<RefreshItem>(TOKENS.RefreshItem), meter(), logger(), metrics()),
    logger(),
    metrics(),
    kind,
    delay(),
    deadLetterQueue(),
  );
