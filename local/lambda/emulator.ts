/**
 * `startEmulator(options)`: the Lambda API emulator in this process, on a node:http server. Wires the functions
 * registry, code store, environments pool, concurrency, invoker, async queue and event source mappings, restores
 * what a previous run persisted under `<stateDir>/lambda/` (functions, reservations, provisioned configs, accepted
 * async events, mappings), and returns `{ endpoint, close() }`. `close()` stops accepting requests, stops the pollers
 * (Kafka consumers leave their groups), parks the async queue on disk and kills every execution environment.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registerConcurrencyRoutes } from './api-concurrency.ts';
import { registerEventInvokeConfigRoutes } from './api-event-invoke-config.ts';
import { registerEventSourceMappingRoutes } from './api-event-source-mappings.ts';
import { registerFunctionRoutes } from './api-functions.ts';
import { registerInvokeRoutes } from './api-invoke.ts';
import { AsyncQueue } from './async-queue.ts';
import { CodeStore } from './code-store.ts';
import { Concurrency } from './concurrency.ts';
import type { EmulatorContext } from './context.ts';
import { Destinations, localClients } from './destinations.ts';
import { EnvironmentPool } from './environment-pool.ts';
import { EventSourceMappings } from './event-source-mappings.ts';
import { Router } from './http.ts';
import { Invoker } from './invoker.ts';
import { FunctionLogs } from './logging.ts';
import { Provisioned } from './provisioned.ts';
import { FunctionRegistry } from './registry.ts';
import type { LocalEndpoints } from './runtime-env.ts';

export interface EmulatorOptions {
  stateDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  sqsEndpoint?: string;
  dynamodbEndpoint?: string;
  kafkaBrokers?: string[];
  /** Multiplies AWS's delays and ages (async retries 1 and 2 min, event age): 0.01 turns a minute into 600 ms. */
  timeScale?: number;
  /** Account concurrency limit (AWS default 1,000). */
  accountConcurrency?: number;
  /** Idle on-demand environments are stopped after this long (default 5 minutes). */
  idleMs?: number;
}

export interface RunningEmulator {
  endpoint: string;
  port: number;
  context: EmulatorContext;
  close(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions): Promise<RunningEmulator> {
  const timeScale = options.timeScale ?? 1;
  const endpoints: LocalEndpoints = { lambda: '', sqs: options.sqsEndpoint, dynamodb: options.dynamodbEndpoint };
  const registry = new FunctionRegistry(options.stateDir);
  const code = new CodeStore(options.stateDir);
  const logs = new FunctionLogs(options.stateDir);
  const pool = new EnvironmentPool({ logs, endpoints, idleMs: options.idleMs });
  const concurrency = new Concurrency(options.accountConcurrency ?? 1000);
  const invoker = new Invoker({ pool, concurrency, logs, code });
  const clients = localClients(options);
  const destinations = new Destinations(clients, options.sqsEndpoint);
  const asyncQueue = new AsyncQueue({ stateDir: options.stateDir, registry, invoker, destinations, timeScale });
  destinations.setLambdaDestination((name, qualifier, event) => {
    asyncQueue.accept(registry.resolve(name, qualifier), event);
  });
  const mappings = new EventSourceMappings(options.stateDir, { invoker, registry, destinations, clients, timeScale });
  const provisioned = new Provisioned({ registry, pool, code, concurrency });
  const context: EmulatorContext = {
    stateDir: options.stateDir,
    registry,
    code,
    pool,
    concurrency,
    invoker,
    logs,
    asyncQueue,
    mappings,
    provisioned,
  };

  const router = new Router();
  registerFunctionRoutes(router, context);
  registerInvokeRoutes(router, context);
  registerConcurrencyRoutes(router, context);
  registerEventInvokeConfigRoutes(router, context);
  registerEventSourceMappingRoutes(router, context);

  const server = createServer((req, res) => void router.handle(req, res));
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://${options.host ?? '127.0.0.1'}:${port}`;
  endpoints.lambda = endpoint;

  for (const rec of registry.all()) {
    if (rec.reservedConcurrency !== undefined) concurrency.setReserved(rec.name, rec.reservedConcurrency);
  }
  provisioned.restore();
  asyncQueue.restore();
  mappings.restore();

  let closing: Promise<void> | undefined;
  return {
    endpoint,
    port,
    context,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await mappings.close();
        await asyncQueue.close();
        await pool.close();
        await logs.close();
        clients.destroy();
      })();
      return closing;
    },
  };
}
