import { defineConfig } from 'vitest/config';

// `npm test` runs every project. Unit tests touch no service; integration, aws-api and fault tests run against the local
// stack, which test/integration/global-setup.ts starts when it is not already running (and stops afterwards if it
// started it). Groups run one after another (sequence.groupOrder): unit and browser, then integration, then aws-api,
// then faults (which stop and restart services of the shared stack): two cores do not serve several JVM-heavy suites
// at once.
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
          sequence: { groupOrder: 1 },
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
          sequence: { groupOrder: 2 },
        },
      },
      {
        test: {
          // Faults injected on purpose (a killed broker, throttles, DNS rebinding, slow and hanging receivers): their
          // own project, run last because some cases stop and restart services of the shared stack.
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          globalSetup: ['test/faults/setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 240_000,
          fileParallelism: false,
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
