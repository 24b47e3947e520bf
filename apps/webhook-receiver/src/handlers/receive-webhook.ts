import { webhookHandler } from '../main';

/** API Gateway (GET / and POST /) → the challenge, or ReceiveWebhook. */
export const handler = webhookHandler();
