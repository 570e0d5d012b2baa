import { defineConfig } from 'vitest/config';

// Tests in a real browser (Debian's chromium, playwright-core); see
// test/browser. Run with: npm run test:browser
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    maxWorkers: 1,
  },
});
