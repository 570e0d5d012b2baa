import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Throw-away PostgreSQL servers, pgbouncer and networks of hosts need root, the browser
    // tests Chromium: they run with vitest.cluster.config.ts, vitest.pooler.config.ts,
    // vitest.hosts.config.ts and vitest.browser.config.ts.
    exclude: [...configDefaults.exclude, 'test/cluster/**', 'test/pooler/**', 'test/hosts/**', 'test/browser/**'],
    // Builds dist/, which the tests that start the server run (the production command).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Each file makes its own database; two at a time suits a 2-core machine.
    maxWorkers: 2,
  },
});
