/**
 * Producer λ: feed documents or quakes in, events on quakes.events out (shared/ingest). Invoked directly (payload
 * `{documents?, quakes?, drill?}`) or on a schedule (`{poll: true}` or an EventBridge scheduled event), when it polls
 * the feeds in QUAKECTL_FEEDS (comma-separated URLs) with conditional GETs until its time budget runs low.
 */

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { LambdaContext as Context } from '../../shared/fanout/types.ts';
import { createClients, serviceConfigFromEnv } from '../../shared/infra/clients.ts';
import {
  createEventProducer,
  eventsTopic,
  type FeedState,
  type ProducerPayload,
  type ProducerResult,
  pollFeeds,
  produceEvents,
} from '../../shared/ingest/index.ts';
import { createTelemetry } from '../../shared/notify/telemetry.ts';
import { Associator } from '../../shared/quake/associate.ts';

const config = serviceConfigFromEnv();
const clients = createClients(config);
const { logger, metrics } = createTelemetry('producer');
// The domain logs through a two-method interface; Powertools' Logger takes its fields as structured attributes.
const log = {
  info: (message: string, fields: Record<string, unknown> = {}) => logger.info(message, fields as never),
  warn: (message: string, fields: Record<string, unknown> = {}) => logger.warn(message, fields as never),
};
const topic = eventsTopic(config.names.eventsTopic);
// Per environment, kept warm across invocations: association memory, produced versions, feed validators.
const associator = new Associator();
const published = new Map<string, number>();
const feeds: FeedState[] = (process.env.QUAKECTL_FEEDS ?? '')
  .split(',')
  .map((u) => u.trim())
  .filter(Boolean)
  .map((url) => ({ url }));
let producer: Promise<ReturnType<typeof createEventProducer>> | undefined;

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

async function produce(payload: ProducerPayload): Promise<ProducerResult> {
  const p = await connected();
  try {
    return await produceEvents(payload, {
      events: { ddb: clients.ddb, table: config.names.table('events') },
      producer: p,
      topic,
      associator,
      published,
      log,
    });
  } catch (err) {
    // A broken connection must not be reused by the next invocation.
    producer = undefined;
    await p.disconnect().catch(() => {});
    throw err;
  }
}

function count(r: ProducerResult) {
  metrics.addMetric('EventsAccepted', MetricUnit.Count, r.accepted.length);
  metrics.addMetric('EventsRejected', MetricUnit.Count, r.rejected.length);
  metrics.addMetric('EventsSuperseded', MetricUnit.Count, r.superseded);
  logger.info('produced', { ...r, rejected: r.rejected.length });
}

export async function handler(event: ProducerPayload & { source?: string }, context: Context) {
  try {
    if (event?.poll || event?.source === 'aws.events') {
      const total: ProducerResult = { accepted: [], rejected: [], superseded: 0, associated: 0 };
      const stats = await pollFeeds({
        feeds,
        remainingMs: () => context.getRemainingTimeInMillis(),
        reserveMs: 3000,
        intervalMs: Number(process.env.QUAKECTL_POLL_INTERVAL_MS ?? 5000),
        onDocument: async (url, body) => {
          const r = await produce({ documents: [body] });
          total.accepted.push(...r.accepted);
          total.rejected.push(...r.rejected);
          total.superseded += r.superseded;
          total.associated += r.associated;
          logger.info('feed changed', { url, accepted: r.accepted.length, rejected: r.rejected.length });
        },
        onError: (url, reason) => logger.warn('feed poll failed', { url, reason }),
      });
      count(total);
      return { ...total, polls: stats };
    }
    const result = await produce(event ?? {});
    count(result);
    return result;
  } finally {
    metrics.publishStoredMetrics();
  }
}
