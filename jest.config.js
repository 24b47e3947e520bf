// One Jest run over every project, so CI gets one JSON report (see tools/scripts/test-all.mjs).
module.exports = {
  // Global, not per project (Jest ignores it in a project's config): integration tests talk to emulators on a
  // shared 2-core machine, where 5 s says nothing about the code. Speed is measured by the benchmarks instead.
  testTimeout: 30_000,
  projects: [
    '<rootDir>/libs/cache-domain',
    '<rootDir>/libs/aws-adapters',
    '<rootDir>/libs/alma-api',
    '<rootDir>/libs/local-aws',
    '<rootDir>/apps/sns-lambdas',
    '<rootDir>/apps/refresh-lambdas',
    '<rootDir>/apps/change-lambdas',
    '<rootDir>/apps/query-api',
    '<rootDir>/tools/bench',
    '<rootDir>/tools/local',
    '<rootDir>/tools/redrive',
    '<rootDir>/tools/system',
    '<rootDir>/apps/alma-topics',
    '<rootDir>/apps/webhook-receiver',
  ],
};
