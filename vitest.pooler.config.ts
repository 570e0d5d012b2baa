import { defineConfig } from 'vitest/config';

// shop-api behind a real pgbouncer in transaction pooling (test/helpers/pgbouncer.ts) in
// front of a throw-away Postgres server (test/helpers/pg-cluster.ts); see test/pooler/README.md.
// Run with: npm run test:pooler
export default defineConfig({
  test: {
    include: ['test/pooler/**/*.test.ts'],
    // Builds dist/, which the tests run (the production command).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    maxWorkers: 1,
    pool: 'forks',
  },
});
