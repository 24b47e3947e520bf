// Test helpers for code that runs on these adapters: uniquely named tables and queues, and a request counter.
export * from './testing/cache-fixtures';
export * from './testing/change-fixtures';
