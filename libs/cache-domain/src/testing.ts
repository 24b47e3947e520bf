// Fakes of the domain's ports, for tests of the domain and of anything built on it.
export * from './testing/in-memory-cache-store';
export * from './testing/in-memory-user-refresh-queue';
export * from './testing/manual-clock';
export * from './testing/alma-webhooks';
export * from './testing/in-memory-alma-api';
export * from './testing/in-memory-cache-reader';
export * from './testing/in-memory-webhook-publisher';
export * from './testing/in-memory-unknown-patrons';
export * from './testing/in-memory-alma-call-budget';
export * from './testing/extra-alma-webhooks';
export * from './testing/sliding-window';
