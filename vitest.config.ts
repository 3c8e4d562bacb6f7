import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/**
 * One vitest run for the whole repo, so one Kafka broker serves every test that needs one (globalSetup).
 * Workspace packages resolve to their TypeScript sources, so tests never run against stale dist/.
 */
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@orderstream\/testing\/vitest$/, replacement: here('./libs/testing/src/vitest.ts') },
      { find: /^@orderstream\/(kit|kafka|venues|testing)$/, replacement: here('./libs/$1/src/index.ts') },
      { find: /^@orderstream\/schemas$/, replacement: here('./schemas/src/index.ts') },
      { find: /^@orderstream\/(collector|normalizer|order-state|cli)$/, replacement: here('./services/$1/src/index.ts') },
    ],
  },
  test: {
    include: ['{libs,services,schemas,test}/**/src/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    globalSetup: [here('./libs/testing/src/global-setup.ts')],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
