import { buildContainer } from './composition-root';
import { TOKENS } from './tokens';
import type { WebhookHandler } from './webhook-handler';

// Built once per Lambda container, at module scope: cold start pays for configuration and clients, warm calls don't.
export const container = buildContainer(process.env);

/** The receiver's handler, resolved from the container. */
export const webhookHandler = (): WebhookHandler => container.get<WebhookHandler>(TOKENS.WebhookHandler);
