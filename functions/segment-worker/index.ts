/**
 * Segment-worker λ: one link of a fan-out chain (shared/fanout `runSegmentWorker`). Payload `{eventId, chain, hop,
 * revision?, resume?}`. Its successor is itself, invoked asynchronously when its time runs low (the domino).
 *
 * Env: QUAKECTL_LEASE_MS (segment lease, default 30 s), QUAKECTL_RESERVE_MS (hand over below this remaining time,
 * default 10 s), QUAKECTL_PAGE_SIZE (subscribers read, delivered and checkpointed per batch, default 500 or the webhook
 * batch size if larger: each batch costs a checkpoint write, so a batch of 100 made the lock writes 5x the reads; the
 * deliverer still posts webhook batches of fanout.batchSize in parallel; a crash repeats at most one such batch). Local test hook, honoured only with QUAKECTL_LOCAL=true: QUAKECTL_TEST_CRASH_AFTER_BATCHES=N makes
 * the first environment that delivers its N-th batch exit before checkpointing it (once per event, across processes,
 * through a marker file in QUAKECTL_TEST_CRASH_DIR or the temp dir), as a killed environment would.
 */
import { openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import {
  type LambdaContext,
  runSegmentWorker,
  type WorkerDeps,
  type WorkerPayload,
} from '../../shared/fanout/index.ts';
import { createClients, serviceConfigFromEnv } from '../../shared/infra/clients.ts';
import { Deliverer } from '../../shared/notify/deliverer.ts';
import { createTelemetry } from '../../shared/notify/telemetry.ts';
import { SubscriberStore } from '../../shared/segments/store.ts';

const config = serviceConfigFromEnv();
const clients = createClients(config);
const { logger, metrics } = createTelemetry('segment-worker');
// The domain logs through a two-method interface; Powertools' Logger takes its fields as structured attributes.
const log = {
  info: (message: string, fields: Record<string, unknown> = {}) => logger.info(message, fields as never),
  warn: (message: string, fields: Record<string, unknown> = {}) => logger.warn(message, fields as never),
};
const deliverer = Deliverer.fromClients(clients, { logger, metrics });
const subscribers = new SubscriberStore(clients.ddb, config.names);
const leaseMs = Number(process.env.QUAKECTL_LEASE_MS ?? 30_000);
const reserveMs = Number(process.env.QUAKECTL_RESERVE_MS ?? 10_000);
const pageSize = Number(process.env.QUAKECTL_PAGE_SIZE ?? Math.max(500, config.fanout.batchSize));
const crashAfter = config.local ? Number(process.env.QUAKECTL_TEST_CRASH_AFTER_BATCHES ?? 0) : 0;

function crashHook(eventId: string): WorkerDeps['afterDeliver'] {
  if (!crashAfter) return undefined;
  return ({ batches }) => {
    if (batches < crashAfter) return;
    try {
      openSync(join(process.env.QUAKECTL_TEST_CRASH_DIR ?? tmpdir(), `quakectl-crash-${eventId}`), 'wx');
    } catch {
      return; // someone already crashed for this event
    }
    logger.warn('test hook: exiting mid-segment', { eventId, batches });
    process.exit(137);
  };
}

export async function handler(payload: WorkerPayload, context: LambdaContext) {
  logger.appendKeys({ eventId: payload.eventId, chain: payload.chain, hop: payload.hop });
  try {
    const result = await runSegmentWorker(
      {
        events: { ddb: clients.ddb, table: config.names.table('events') },
        locks: { ddb: clients.ddb, table: config.names.table('locks') },
        subscribers,
        deliver: (items) => deliverer.deliver(items),
        invokeSuccessor: async (next) => {
          await clients.lambda.send(
            new InvokeCommand({
              FunctionName: config.names.function('segment-worker'),
              // Alias `live`: the deployed version, and the one with provisioned concurrency ($LATEST has none).
              Qualifier: config.names.alias,
              InvocationType: 'Event',
              Payload: Buffer.from(JSON.stringify(next)),
            }),
          );
        },
        remainingMs: () => context.getRemainingTimeInMillis(),
        owner: `${context.awsRequestId}/${payload.chain}.${payload.hop}`,
        leaseMs,
        pageSize,
        reserveMs,
        log,
        onMetric: (name, value) => metrics.addMetric(name, MetricUnit.Count, value),
        afterDeliver: crashHook(payload.eventId),
      },
      payload,
    );
    logger.info('worker done', { ...result });
    if (result.completedEvent) metrics.addMetric('EventsCompleted', MetricUnit.Count, 1);
    return result;
  } finally {
    metrics.publishStoredMetrics();
    logger.removeKeys(['eventId', 'chain', 'hop']);
  }
}
