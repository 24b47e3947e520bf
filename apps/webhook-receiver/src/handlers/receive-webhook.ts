import { buildContainer, TOKENS } from '../composition-root';
import type { WebhookHandler } from '../webhook-handler';

// Built once per Lambda container, at module scope: cold start pays for configuration and clients, warm calls don't.
export const container = buildContainer(process.env);

/** API Gateway (GET / and POST /) → the challenge, or ReceiveWebhook. */
export const handler = container.get<WebhookHandler>(TOKENS.WebhookHandler);
