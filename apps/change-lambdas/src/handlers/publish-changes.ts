import { buildContainer, streamHandlerOf } from '../composition-root';

// Built once per Lambda container, at module scope: cold start pays for configuration and clients, warm calls don't.
export const container = buildContainer(process.env);

/** Loans and Requests table streams → change notifications on the cache-changes topic. */
export const handler = streamHandlerOf(container);
