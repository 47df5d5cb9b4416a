/**
 * Global setup of the aws-api project: one moto server (local/stack/moto.ts: pinned, from the project's virtual
 * environment, free loopback port) for every file of the run, stopped by its PID at teardown. The Kafka parts use the
 * real local broker, which test/integration/global-setup.ts (listed before this file) finds or starts.
 */
import type { TestProject } from 'vitest/node';
import { startMoto } from '../../local/stack/moto.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    moto: { endpoint: string; pid: number };
  }
}

export default async function setup(project: TestProject) {
  const started = Date.now();
  const moto = await startMoto();
  process.stderr.write(`[moto] ${moto.endpoint} (pid ${moto.pid}) answered in ${Date.now() - started} ms\n`);
  project.provide('moto', { endpoint: moto.endpoint, pid: moto.pid });
  return async () => {
    await moto.stop();
  };
}
