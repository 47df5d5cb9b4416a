/**
 * Consumer λ: a batch from the Kafka event source mapping on quakes.events → plan each alertable event and start its
 * segment-worker chains (shared/fanout `consumeBatch`). Poison records go to the consumer DLQ; the batch proceeds.
 * Fan-out settings from QUAKECTL_FANOUT (parallelism, strategy, minMagnitude, maxSegmentSize: the base work-unit size,
 * scanSegments: the scan baseline's TotalSegments; `minSubscriberMmi`, default 3: the lowest threshold a subscriber
 * may hold, which sets the footprint).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import {
  type ConsumerDlqMessage,
  consumeBatch,
  type SelfManagedKafkaEvent,
  type WorkerPayload,
} from '../../shared/fanout/index.ts';
import { functionRuntime } from '../../shared/infra/handler-support.ts';
import { SubscriberStore } from '../../shared/segments/store.ts';

// Parsed environment, Kafka credentials (Secrets Manager), clients, telemetry: once per execution environment.
const { config, clients, logger, metrics, log, dlqUrl } = await functionRuntime('consumer');
const store = new SubscriberStore(clients.ddb, config.names);
const fanout = config.fanout;

async function sendToDlq(message: ConsumerDlqMessage) {
  await clients.sqs.send(
    new SendMessageCommand({ QueueUrl: await dlqUrl('consumer'), MessageBody: JSON.stringify(message) }),
  );
  metrics.addMetric('ConsumerDlqSends', MetricUnit.Count, 1);
}

async function startChain(payload: WorkerPayload) {
  await clients.lambda.send(
    new InvokeCommand({
      FunctionName: config.names.function('segment-worker'),
      // Alias `live`: what deploy deployed, with its async settings and provisioned concurrency ($LATEST has neither).
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
      locks: { ddb: clients.ddb, table: config.names.table('locks') },
      segmentsForCells: (cells) => store.segmentsForCells(cells),
      allSegments: () => store.allSegments(),
      startChain,
      sendToDlq,
      minMagnitude: fanout.minMagnitude,
      minSubscriberMmi: fanout.minSubscriberMmi,
      parallelism: fanout.parallelism,
      strategy: fanout.strategy,
      scanSegments: fanout.scanSegments,
      maxUnitSize: fanout.maxSegmentSize,
      maxEventAgeS: fanout.maxEventAgeS,
      alertProbability: fanout.alertProbability,
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
