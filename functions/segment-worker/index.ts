/**
 * Segment-worker λ: one link of a fan-out chain (shared/fanout `runSegmentWorker`). Payload `{eventId, chain, hop,
 * revision?, resume?}`. Its successor is itself, invoked asynchronously when its time runs low (the domino).
 *
 * Env: QUAKECTL_LEASE_MS (segment lease, default 30 s), QUAKECTL_RESERVE_MS (hand over below this remaining time,
 * default 10 s), QUAKECTL_PAGE_SIZE (subscribers read, delivered and checkpointed per batch, default 500 or the webhook
 * batch size if larger: each batch costs a checkpoint write, so a batch of 100 made the lock writes 5x the reads; the
 * deliverer still posts webhook batches of fanout.batchSize in parallel; a crash repeats at most one such batch).
 * QUAKECTL_MAX_HOPS (default 50): a chain that reaches it parks its payload in the worker DLQ instead of invoking
 * itself again. Local test hook, honoured only with QUAKECTL_LOCAL=true: QUAKECTL_TEST_CRASH_AFTER_BATCHES=N makes
 * the first environment that delivers its N-th batch exit before checkpointing it (once per event, across processes,
 * through a marker file in QUAKECTL_TEST_CRASH_DIR or the temp dir), as a killed environment would.
 */
import { openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import {
  type LambdaContext,
  runSegmentWorker,
  type WorkerDeps,
  type WorkerPayload,
} from '../../shared/fanout/index.ts';
import { workerPrimeSteps } from '../../shared/fanout/prime.ts';
import { functionRuntime } from '../../shared/infra/handler-support.ts';
import { primeEnvironment, shouldPrime } from '../../shared/infra/prime.ts';
import { Deliverer } from '../../shared/notify/deliverer.ts';
import { SubscriberStore } from '../../shared/segments/store.ts';

// Parsed environment, Kafka credentials (Secrets Manager), clients, telemetry: once per execution environment.
const { config, clients, logger, metrics, log, env, dlqUrl, channelEnv } = await functionRuntime('segment-worker');
const deliverer = Deliverer.fromClients(clients, {
  logger,
  metrics,
  logUrlPathsFor: env.QUAKECTL_LOG_URL_PATHS_FOR,
  channelEnv,
});
const subscribers = new SubscriberStore(clients.ddb, config.names);
const leaseMs = env.QUAKECTL_LEASE_MS;
const reserveMs = env.QUAKECTL_RESERVE_MS;
const pageSize = env.QUAKECTL_PAGE_SIZE ?? Math.max(500, config.fanout.batchSize);
const crashAfter = config.local ? env.QUAKECTL_TEST_CRASH_AFTER_BATCHES : 0;
const maxHops = env.QUAKECTL_MAX_HOPS;

// Init-phase priming (shared/infra/prime.ts): in an environment initialised for provisioned concurrency, before any
// alert arrives; an on-demand environment skips it (it would delay the invocation that started it).
if (shouldPrime(env.QUAKECTL_PRIME)) {
  const primed = await primeEnvironment(
    workerPrimeSteps({
      events: { ddb: clients.ddb, table: config.names.table('events') },
      readSegmentPage: (key, opts) => subscribers.readSegmentPage(key, opts),
      sampleSegment: () => subscribers.sampleSegment(),
      dryRunSelf: () =>
        clients.lambda.send(
          new InvokeCommand({
            FunctionName: config.names.function('segment-worker'),
            Qualifier: config.names.alias,
            InvocationType: 'DryRun',
          }),
        ),
      dlqUrl: () => dlqUrl('worker'),
    }),
  );
  logger.info('environment primed', { ...primed });
}

function crashHook(eventId: string): WorkerDeps['afterDeliver'] {
  if (!crashAfter) return undefined;
  return ({ batches }) => {
    if (batches < crashAfter) return;
    try {
      openSync(join(env.QUAKECTL_TEST_CRASH_DIR ?? tmpdir(), `quakectl-crash-${eventId}`), 'wx');
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
        deliver: (items, opts) => deliverer.deliver(items, opts),
        maxHops,
        alertProbability: config.fanout.alertProbability,
        parkChain: async (next, reason) => {
          // The worker DLQ receives what Lambda itself parks after failed async retries; this is the same payload, with
          // the reason in the attributes Lambda uses (shared/ops/dlq decodes and redrives both).
          await clients.sqs.send(
            new SendMessageCommand({
              QueueUrl: await dlqUrl('worker'),
              MessageBody: JSON.stringify(next),
              MessageAttributes: {
                RequestID: { DataType: 'String', StringValue: context.awsRequestId },
                ErrorCode: { DataType: 'Number', StringValue: '200' },
                ErrorMessage: { DataType: 'String', StringValue: reason.slice(0, 1024) },
              },
            }),
          );
        },
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
