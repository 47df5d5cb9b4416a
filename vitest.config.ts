import { defineConfig } from 'vitest/config';

// `npm test` runs every project. Unit tests touch no service; integration tests run against the local stack, which
// test/integration/global-setup.ts starts when it is not already running (and stops afterwards if it started it).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        // A real headless Chromium (Debian `chromium`, installed by .ci/run): fails, never skips, without it.
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
          // One stack is shared by all integration files: run them one at a time (2 cores, several JVMs).
          fileParallelism: false,
        },
      },
      {
        // AWS API behaviour checked against moto, an implementation written by others (docs/architecture.md, What moto checks);
        // Kafka on the real local broker, so the local stack's setup runs first.
        test: {
          name: 'aws-api',
          include: ['test/aws-api/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts', 'test/aws-api/moto-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
