import { defineConfig } from 'vitest/config';

// Tests on throw-away PostgreSQL servers (test/helpers/pg-cluster.ts); see test/cluster/README.md.
// Run with: npx vitest run --config vitest.cluster.config.ts
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    // Builds dist/, which the tests that start the server run (the production command).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Each file makes whole servers: one file at a time. Forks (not threads) so
    // the harness's exit and signal hooks run in a real process of their own.
    maxWorkers: 1,
    pool: 'forks',
  },
});
