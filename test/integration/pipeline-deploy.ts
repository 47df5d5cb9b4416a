/**
 * The pipeline deployed for a test: producer, consumer and segment worker bundled by the project's bundler and created
 * in the Lambda emulator under the test stack's prefix, a topic of the test's own, and the Kafka event source mapping
 * to the consumer. Shared by the end-to-end test files so each deploys the same way.
 */
import {
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  DeleteEventSourceMappingCommand,
  DeleteFunctionCommand,
  GetEventSourceMappingCommand,
  InvokeCommand,
} from '@aws-sdk/client-lambda';
import type { Admin } from 'kafkajs';
import { bundleFunction, HANDLER } from '../../shared/bundle/index.ts';
import { type EventRecord, getEvent } from '../../shared/events/index.ts';
import type { FunctionRole } from '../../shared/infra/names.ts';
import type { ProducerResult } from '../../shared/ingest/index.ts';
import { uniqueName } from '../helpers/stack.ts';
import type { TestStack } from './pipeline-support.ts';

const ROLE = 'arn:aws:iam::000000000000:role/quakectl-local';
const ROLES: FunctionRole[] = ['producer', 'consumer', 'segment-worker'];

export interface DeployedPipeline {
  topic: string;
  env: Record<string, string>;
  invokeProducer(payload: unknown): Promise<ProducerResult>;
  event(eventId: string): Promise<EventRecord | undefined>;
  /** Resolves when `check` returns a value (polled every 250 ms); rejects after `timeoutMs`. */
  until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  /** The event once its latest accepted version was handled and its run finished in `state`. */
  settled(eventId: string, state?: string, timeoutMs?: number): Promise<EventRecord>;
  teardown(): Promise<void>;
}

export interface DeployOptions {
  tag: string;
  fanout?: Record<string, unknown>;
  env?: Record<string, string>;
  partitions?: number;
  workerTimeoutS?: number;
}

export async function deployPipeline(stack: TestStack, opts: DeployOptions): Promise<DeployedPipeline> {
  const topic = uniqueName(`quakes.events.${opts.tag}`);
  const admin: Admin = stack.clients.kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: opts.partitions ?? 3, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  const cfg = stack.clients.config;
  const env: Record<string, string> = {
    QUAKECTL_PREFIX: stack.names.prefix,
    QUAKECTL_KAFKA_BROKERS: cfg.kafka.brokers.join(','),
    QUAKECTL_FANOUT: JSON.stringify({
      parallelism: 3,
      batchSize: 100,
      maxSegmentSize: 500,
      strategy: 'geo',
      minMagnitude: 3,
      ...opts.fanout,
    }),
    QUAKECTL_ALLOW_PRIVATE_TARGETS: 'true',
    QUAKECTL_LOCAL: 'true',
    QUAKECTL_EVENTS_TOPIC: topic,
    QUAKECTL_LEASE_MS: '8000',
    QUAKECTL_RESERVE_MS: '3000',
    QUAKECTL_PAGE_SIZE: '100',
    NODE_OPTIONS: '--enable-source-maps',
    ...opts.env,
  };
  const created: string[] = [];
  const bundles = await Promise.all(ROLES.map((r) => bundleFunction(r)));
  for (const b of bundles) {
    const name = stack.names.function(b.role as FunctionRole);
    await stack.clients.lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs24.x',
        Role: ROLE,
        Handler: HANDLER,
        Timeout: b.role === 'segment-worker' ? (opts.workerTimeoutS ?? 30) : 20,
        MemorySize: 512,
        Code: { ZipFile: b.zip },
        Environment: { Variables: env },
      }),
    );
    created.push(name);
  }
  const m = await stack.clients.lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: stack.names.function('consumer'),
      Topics: [topic],
      SelfManagedEventSource: { Endpoints: { KAFKA_BOOTSTRAP_SERVERS: cfg.kafka.brokers } },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10,
    }),
  );
  const events = { ddb: stack.clients.ddb, table: stack.names.table('events') };

  async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await check();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  await until('mapping enabled', async () => {
    const s = await stack.clients.lambda.send(new GetEventSourceMappingCommand({ UUID: m.UUID }));
    return s.State === 'Enabled' ? true : undefined;
  });

  return {
    topic,
    env,
    until,
    event: (eventId) => getEvent(events, eventId),
    async invokeProducer(payload) {
      const out = await stack.clients.lambda.send(
        new InvokeCommand({
          FunctionName: stack.names.function('producer'),
          Payload: Buffer.from(JSON.stringify(payload)),
        }),
      );
      const body = JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8'));
      if (out.FunctionError) throw new Error(`producer failed: ${JSON.stringify(body)}`);
      return body as ProducerResult;
    },
    settled(eventId, state = 'complete', timeoutMs = 180_000) {
      return until(
        `event ${eventId} ${state}`,
        async () => {
          const ev = await getEvent(events, eventId);
          const handled = ev?.handledUpdatedAt !== undefined && ev.handledUpdatedAt >= ev.updatedAt;
          return ev?.state === state && (handled || state !== 'complete') ? ev : undefined;
        },
        timeoutMs,
      );
    },
    async teardown() {
      await stack.clients.lambda.send(new DeleteEventSourceMappingCommand({ UUID: m.UUID })).catch(() => {});
      for (const name of created)
        await stack.clients.lambda.send(new DeleteFunctionCommand({ FunctionName: name })).catch(() => {});
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect().catch(() => {});
    },
  };
}
