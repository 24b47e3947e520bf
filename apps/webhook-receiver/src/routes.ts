/**
 * The receiver's HTTP API routes, as serverless.yml declares them (the template spec checks both agree): no
 * catch-all, and no authorizer, since Alma signs its webhooks instead of sending a token.
 */
export const WEBHOOK_ROUTES = [
  { method: 'GET', path: '/' },
  { method: 'POST', path: '/' },
] as const;
