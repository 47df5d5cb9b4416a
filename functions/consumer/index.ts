/**
 * Consumer λ: a batch from the Kafka event source mapping on quakes.events → plan each alertable event and start its
 * segment-worker chains (shared/fanout `consumeBatch`). Poison records go to the consumer DLQ; the batch proceeds.
 * Fan-out settings from QUAKECTL_FANOUT (parallelism, strategy, minMagnitude, maxSegmentSize: the base work-unit size,
 * scanSegments: the scan baseline's TotalSegments; `minSubscriberMmi`, default 3: the lowest threshold a subscriber
 * may hold, which sets the footprint).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import {
  type ConsumerDlqMessage,
  consumeBatch,
  type SelfManagedKafkaEvent,
  type WorkerPayload,
} from '../../shared/fanout/index.ts';
import { createClients, serviceConfigFromEnv } from '../../shared/infra/clients.ts';
import { createTelemetry } from '../../shared/notify/telemetry.ts';
import { SubscriberStore } from '../../shared/segments/store.ts';

const config = serviceConfigFromEnv();
const clients = createClients(config);
const { logger, metrics } = createTelemetry('consumer');
// The domain logs through a two-method interface; Powertools' Logger takes its fields as structured attributes.
const log = {
  info: (message: string, fields: Record<string, unknown> = {}) => logger.info(message, fields as never),
  warn: (message: string, fields: Record<string, unknown> = {}) => logger.warn(message, fields as never),
};
const store = new SubscriberStore(clients.ddb, config.names);
const fanout = config.fanout as typeof config.fanout & { minSubscriberMmi?: number; scanSegments?: number };
let dlqUrl: Promise<string> | undefined;

async function sendToDlq(message: ConsumerDlqMessage) {
  dlqUrl ??= clients.sqs
    .send(new GetQueueUrlCommand({ QueueName: config.names.dlq('consumer') }))
    .then((r) => r.QueueUrl!)
    .catch((err) => {
      dlqUrl = undefined;
      throw err;
    });
  await clients.sqs.send(new SendMessageCommand({ QueueUrl: await dlqUrl, MessageBody: JSON.stringify(message) }));
  metrics.addMetric('ConsumerDlqSends', MetricUnit.Count, 1);
}

async function startChain(payload: WorkerPayload) {
  await clients.lambda.send(
    new InvokeCommand({
      FunctionName: config.names.function('segment-worker'),
      // Alias `live`: the deployed version, and the one with provisioned concurrency ($LATEST has none).
      Qualifier: config.names.alias,
      InvocationType: 'Event',
      Payload: Buffer.from(JSON.stringify(payload)),
    }),
  );
}

export async function handler(event: SelfManagedKafkaEvent) {
  try {
    const result = await consumeBatch(event, {
      events: { ddb: clients.ddb, table: config.names.table('events') },
      segmentsForCells: (cells) => store.segmentsForCells(cells),
      allSegments: () => store.allSegments(),
      startChain,
      sendToDlq,
      minMagnitude: fanout.minMagnitude,
      minSubscriberMmi: fanout.minSubscriberMmi ?? 3,
      parallelism: fanout.parallelism,
      strategy: fanout.strategy,
      scanSegments: fanout.scanSegments ?? fanout.parallelism * 4,
      maxUnitSize: fanout.maxSegmentSize,
      log,
    });
    metrics.addMetric('EventsPlanned', MetricUnit.Count, result.outcomes.planned);
    metrics.addMetric(
      'SegmentsPlanned',
      MetricUnit.Count,
      result.planned.reduce((n, p) => n + p.segments, 0),
    );
    metrics.addMetric('PoisonRecords', MetricUnit.Count, result.outcomes.poison);
    logger.info('batch consumed', { records: result.records, ...result.outcomes });
    return result;
  } finally {
    metrics.publishStoredMetrics();
  }
}
