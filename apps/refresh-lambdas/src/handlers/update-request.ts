import { buildContainer, refreshHandlerOf } from '../composition-root';

// Built once per Lambda container, at module scope: cold start pays for configuration and clients, warm calls don't.
export const container = buildContainer(process.env);

/** Requests queue → RefreshItem ('request'). */
export const handler = refreshHandlerOf(container, 'request');
