/** What the API handlers share: the emulator's components, built once in emulator.ts. */
import type { AsyncQueue } from './async-queue.ts';
import type { CodeStore } from './code-store.ts';
import type { Concurrency } from './concurrency.ts';
import type { EnvironmentPool } from './environment-pool.ts';
import type { EventSourceMappings } from './event-source-mappings.ts';
import type { Invoker } from './invoker.ts';
import type { FunctionLogs } from './logging.ts';
import type { Provisioned } from './provisioned.ts';
import type { FunctionRegistry } from './registry.ts';

export interface EmulatorContext {
  stateDir: string;
  registry: FunctionRegistry;
  code: CodeStore;
  pool: EnvironmentPool;
  concurrency: Concurrency;
  invoker: Invoker;
  logs: FunctionLogs;
  asyncQueue: AsyncQueue;
  mappings: EventSourceMappings;
  provisioned: Provisioned;
}
