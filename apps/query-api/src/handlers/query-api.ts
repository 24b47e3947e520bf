import { handler as queryApiHandler } from '../main';

/** Every route of the HTTP API → the route table (see route-specs.ts). */
export const handler = queryApiHandler;
