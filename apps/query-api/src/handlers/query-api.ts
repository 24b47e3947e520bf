import { createQueryApi, createQueryApiLambdaHandler } from '../query-api';

// Built once per Lambda container, at module scope: cold start pays for configuration and clients, warm calls don't.
/** Every route of the HTTP API → the route table (see route-specs.ts). */
export const handler = createQueryApiLambdaHandler(() => createQueryApi(process.env));
