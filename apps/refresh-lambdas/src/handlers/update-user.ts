import { buildContainer, refreshHandlerOf } from '../composition-root';

// Built once per Lambda container, at module scope: cold start pays for configuration and clients, warm calls don't.
export const container = buildContainer(process.env);

/** Users queue → RefreshUser (one patron per message). */
export const handler = refreshHandlerOf(container, 'user');
