// One Jest run over every project and every tier (tests/unit, tests/integration, tests/deploy), so CI gets one JSON
// report (see tools/scripts/test-all.mjs). jest.unit.config.js and its two siblings run one tier each.
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
    '<rootDir>/tools/audit',
    '<rootDir>/tools/backfill',
    '<rootDir>/tools/load',
    '<rootDir>/tools/system',
    '<rootDir>/apps/alma-topics',
    '<rootDir>/apps/webhook-receiver',
    '<rootDir>/tools/architecture',
  ],
};
