export * from './lib/alma-http-api';
export * from './lib/alma-http-api.options';
export * from './lib/alma-resources';
export * from './lib/concurrency-limiter';
