import { defineConfig } from 'vitest/config';

// `npm test` runs every project. Unit tests touch no service; integration and fault tests run against the local stack,
// which test/integration/global-setup.ts starts when it is not already running (and stops afterwards if it started it).
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
        test: {
          // Faults injected on purpose (a killed broker, throttles, DNS rebinding): their own project, run after the
          // others (groupOrder) because some cases stop and restart services of the shared stack.
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          globalSetup: ['test/faults/setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 240_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
