// One Jest run over every project, so CI gets one JSON report (see tools/scripts/test-all.mjs).
module.exports = {
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
    '<rootDir>/apps/webhook-receiver',
  ],
};
