import { configDefaults, defineConfig } from 'vitest/config';

// Three projects, so that a maintainer can run the fast part alone:
// - unit: pure code (domain rules, value parsers, HTTP helpers, the bench's
//   arithmetic), no database and no process: seconds (`npm run test:unit`);
// - process: suites that start the real server or a CLI as a process (`npm run test:process`);
// - integration: the app in-process on a real database (PGlite, or Postgres
//   with TEST_DATABASE_URL), Python for compute.
// `npm test` runs all three.
const UNIT = [
  'test/domain/days.test.ts',
  'test/domain/money.test.ts',
  'test/domain/text.test.ts',
  'test/http/errors.test.ts',
  'test/http/fields.test.ts',
  'test/http/etag.test.ts',
  'test/http/cursor-codec.test.ts',
  'test/http/request-headers.test.ts',
  'test/logger.test.ts',
  'test/lib/deadline-queue.test.ts',
  'test/bench/figures.test.ts',
  'test/bench/consistency.test.ts',
  'test/bench/options.test.ts',
  'test/bench/cache-status.test.ts',
  'test/bench/chart.test.ts',
  'test/bench/classes.test.ts',
  'test/env-example.test.ts',
  'test/docs-references.test.ts',
];
const PROCESS = [
  'test/server/**/*.test.ts',
  'test/readme/**/*.test.ts',
  'test/seed/**/*.test.ts',
  'test/build.test.ts',
  'test/client/package.test.ts',
  'test/http/input.test.ts',
  'test/db/connection-loss.test.ts',
  'test/db/pglite.test.ts',
];
// Throw-away PostgreSQL servers, pgbouncer and networks of hosts need root, the browser
// tests Chromium: they run with vitest.cluster.config.ts, vitest.pooler.config.ts,
// vitest.hosts.config.ts and vitest.browser.config.ts.
const ELSEWHERE = ['test/cluster/**', 'test/pooler/**', 'test/hosts/**', 'test/browser/**'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Each file makes its own database; two at a time suits a 2-core machine.
    maxWorkers: 2,
    // Test processes are short-lived: V8 recompiling PGlite's WebAssembly
    // (Postgres) with its optimising compiler cost a third of the CPU of each
    // embedded database opened, and never paid off within a test file. The
    // baseline compiler alone runs the same code. (Servers and CLIs that the
    // tests start run as operators run them, without this flag.)
    execArgv: ['--liftoff-only'],
    // One worker process runs file after file (each file still gets its own
    // module scope for the test file itself): a fresh process per file paid
    // for its start, its imports and PGlite's compile 90 times a run. No test
    // leaves state behind in what is shared (a file that sets process.env
    // puts it back); the suite passes in any order.
    isolate: false,
    // `npm run coverage`: a summary on the terminal, the detail in coverage/index.html.
    coverage: { provider: 'v8', include: ['src/**', 'seed/**'], reporter: ['text-summary', 'html'], reportsDirectory: 'coverage' },
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      {
        extends: true,
        test: {
          name: 'process',
          include: PROCESS,
          // Builds dist/, which the tests that start the server run (the production command);
          // then, on PGlite, a started server's folder and (meanwhile) a migrated database for the tests to copy.
          globalSetup: ['test/global-setup.ts', 'test/pglite-server-template.ts', 'test/pglite-template.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...ELSEWHERE, ...UNIT, ...PROCESS],
          // In-process: no build needed.
          globalSetup: ['test/pglite-template.ts'],
        },
      },
    ],
  },
});
