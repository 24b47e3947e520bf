// A fake Alma (a real HTTP server on loopback) and realistic patrons, for tests, the local demo and benchmarks.
export * from './testing/fake-alma-patron';
export * from './testing/fake-alma-server';
