import { createQueryApi, createQueryApiLambdaHandler } from './query-api';

// Built once per Lambda container, at module scope: cold start pays for configuration and clients, warm calls don't.
export const handler = createQueryApiLambdaHandler(() => createQueryApi(process.env));
