/**
 * Producer λ: feed documents or quakes in, events on quakes.events out (shared/ingest). Invoked directly (payload
 * `{documents?, quakes?, drill?}`) or on a schedule (`{poll: true}` or an EventBridge scheduled event), when it polls
 * the feeds in QUAKECTL_FEEDS (comma-separated URLs) with conditional GETs until its time budget runs low.
 */

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { LambdaContext as Context } from '../../shared/fanout/types.ts';
import { functionRuntime } from '../../shared/infra/handler-support.ts';
import { primeEnvironment, shouldPrime } from '../../shared/infra/prime.ts';
import {
  createEventProducer,
  eventsTopic,
  type ProducerPayload,
  type ProducerResult,
  produceEvents,
  republishStranded,
} from '../../shared/ingest/index.ts';
import { refuseOversizedPayload } from '../../shared/ingest/payload-cap.ts';
import { producerPrimeSteps } from '../../shared/ingest/prime.ts';
import { scheduledPoller } from '../../shared/ingest/scheduled.ts';
import { dropIfCurrent, isKafkaFailure, StrandedSweeper } from '../../shared/ingest/sweep.ts';

// Parsed environment, Kafka credentials (Secrets Manager), clients, telemetry: once per execution environment.
const { config, clients, logger, metrics, log, env } = await functionRuntime('producer');
const topic = eventsTopic(config.names.eventsTopic);
// Per environment, kept warm across invocations: resolved ids, produced versions, feed validators.
// Feed id → canonical id, a cache of the alias items in the events table (identity itself lives in DynamoDB).
const canonical = new Map<string, { canonicalId: string; canonicalSource: string }>();
const published = new Map<string, number>();
// Scheduled mode (shared/ingest/scheduled.ts): feeds from QUAKECTL_USGS_FEED_URL / QUAKECTL_FDSN_QUERY_URL /
// QUAKECTL_FEEDS; the poller forwards only new or updated events; `round` sums one invocation's results.
let round: ProducerResult | undefined;
const poller = scheduledPoller(
  async (quakes, { source }) => {
    const r = await produce({ quakes });
    if (round) {
      round.accepted.push(...r.accepted);
      round.rejected.push(...r.rejected);
      round.superseded += r.superseded;
      round.associated += r.associated;
    }
    logger.info('feed changed', { url: source.url, forwarded: quakes.length, accepted: r.accepted.length });
  },
  logger,
  process.env,
  async (retractions, { source }) => {
    const r = await produce({ retractions });
    logger.info('feed retractions', { url: source.url, retracted: r.retracted });
  },
);
let producer: Promise<ReturnType<typeof createEventProducer>> | undefined;
/** The shared connection as `dropIfCurrent` sees it (shared/ingest/sweep.ts). */
const kafkaSlot = {
  current: () => producer,
  clear: () => {
    producer = undefined;
  },
};

function connected() {
  producer ??= (async () => {
    const p = createEventProducer(clients.kafka);
    await p.connect();
    return p;
  })().catch((err) => {
    producer = undefined;
    throw err;
  });
  return producer;
}

// Init-phase priming (shared/infra/prime.ts): the Kafka connection and the events table's client, before any feed
// arrives (with provisioned concurrency); a broker that is down leaves `producer` unset for the first call to retry.
if (shouldPrime(env.QUAKECTL_PRIME)) {
  const primed = await primeEnvironment(
    producerPrimeSteps({
      events: { ddb: clients.ddb, table: config.names.table('events') },
      connectKafka: () => connected(),
    }),
  );
  logger.info('environment primed', { ...primed });
}

async function produce(payload: ProducerPayload, steps?: Record<string, number>): Promise<ProducerResult> {
  const p = await connected();
  try {
    return await produceEvents(payload, {
      steps,
      events: { ddb: clients.ddb, table: config.names.table('events') },
      producer: p,
      topic,
      canonical,
      published,
      log,
    });
  } catch (err) {
    // A connection Kafka failed on must not be reused by the next invocation (only it: a poll may have opened a new
    // one meanwhile); a DynamoDB failure (identity, acceptance) leaves the connection concurrent polls are using.
    if (isKafkaFailure(err)) await dropIfCurrent(kafkaSlot, p).catch(() => {});
    throw err;
  }
}

// Once a minute per environment at most: stranded versions and retractions go to Kafka as soon as it answers. A
// failed sweep drops the shared connection only when Kafka failed (shared/ingest/sweep.ts).
const sweeper = new StrandedSweeper({
  connect: connected,
  // Only the connection the sweep used: a poll may have opened a new one meanwhile.
  dropConnection: (broken) => dropIfCurrent(kafkaSlot, broken),
  sweep: (p) =>
    republishStranded({ events: { ddb: clients.ddb, table: config.names.table('events') }, producer: p, topic, log }),
  log,
});

async function sweep(): Promise<string[]> {
  const republished = await sweeper.run();
  if (republished.length) metrics.addMetric('StrandedRepublished', MetricUnit.Count, republished.length);
  return republished;
}

function count(r: ProducerResult, steps?: Record<string, number>) {
  metrics.addMetric('EventsAccepted', MetricUnit.Count, r.accepted.length);
  metrics.addMetric('EventsRejected', MetricUnit.Count, r.rejected.length);
  metrics.addMetric('EventsSuperseded', MetricUnit.Count, r.superseded);
  logger.info('produced', {
    ...r,
    rejected: r.rejected.length,
    ...(steps && Object.keys(steps).length ? { msFromStart: steps } : {}),
  });
}

export async function handler(event: ProducerPayload & { source?: string }, context: Context) {
  try {
    // The sweep of stranded versions (a Scan of the events table, once a minute per environment) never goes before
    // this invocation's own events: a new environment's first alert used to wait for that Scan. Polling: beside the
    // polls (they run to the invocation's end); a payload: after its events are on Kafka.
    if (event?.poll || event?.source === 'aws.events') {
      const total: ProducerResult = { accepted: [], rejected: [], superseded: 0, associated: 0 };
      round = total;
      const sweeping = sweep();
      const stats = poller ? await poller.pollUntil(context.getRemainingTimeInMillis()) : undefined;
      round = undefined;
      count(total);
      const republished = await sweeping;
      return { ...total, polls: stats, ...(republished.length ? { republished } : {}) };
    }
    // Over the stated cap the producer answers at once with the reason, before its deadline (shared/ingest/payload-cap.ts).
    const refused = refuseOversizedPayload(event ?? {});
    if (refused) return refused;
    const steps: Record<string, number> = {};
    const result = await produce(event ?? {}, steps);
    count(result, steps);
    const republished = await sweep();
    return republished.length ? { ...result, republished } : result;
  } finally {
    metrics.publishStoredMetrics();
  }
}
