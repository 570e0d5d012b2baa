import { defineConfig } from 'vitest/config';

// Tests on a network of hosts this machine makes (network namespaces, as root): see test/hosts/README.md.
// Run with: npm run test:hosts
export default defineConfig({
  test: {
    include: ['test/hosts/**/*.test.ts'],
    // Builds dist/, which the instances run (the production command).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    // Whole hosts and servers: one file at a time, in a process of its own
    // (forks), so that the harness's exit and signal hooks run there.
    maxWorkers: 1,
    pool: 'forks',
  },
});
