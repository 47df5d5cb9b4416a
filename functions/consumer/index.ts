/**
 * Consumer λ: a batch from the Kafka event source mapping on quakes.events → plan each alertable event and start its
 * segment-worker chains (shared/fanout `consumeBatch`). Poison records go to the consumer DLQ; the batch proceeds.
 * Fan-out settings from QUAKECTL_FANOUT (parallelism, strategy, minMagnitude, maxSegmentSize: the base work-unit size,
 * scanSegments: the scan baseline's TotalSegments; `minSubscriberMmi`, default 3: the lowest threshold a subscriber
 * may hold, which sets the footprint). With QUAKECTL_CAP_DIR or QUAKECTL_CAP_BUCKET it publishes each planned event's
 * CAP 1.2 messages and the Atom index there (shared/notify/cap-config.ts, cap-publish.ts), after the chains started.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { EventRecord } from '../../shared/events/types.ts';
import {
  type CapDlqMessage,
  type ConsumerDlqMessage,
  consumeBatch,
  type SelfManagedKafkaEvent,
  type WorkerPayload,
} from '../../shared/fanout/index.ts';
import { consumerPrimeSteps } from '../../shared/fanout/prime.ts';
import { functionRuntime } from '../../shared/infra/handler-support.ts';
import { primeEnvironment, shouldPrime } from '../../shared/infra/prime.ts';
import { capSettingsFromEnv, capStoreFor } from '../../shared/notify/cap-config.ts';
import { publishEventCap } from '../../shared/notify/cap-publish.ts';
import { SubscriberStore } from '../../shared/segments/store.ts';

// Parsed environment, Kafka credentials (Secrets Manager), clients, telemetry: once per execution environment.
const { env, config, clients, logger, metrics, log, dlqUrl } = await functionRuntime('consumer');
const store = new SubscriberStore(clients.ddb, config.names);
const fanout = config.fanout;
const cap = capSettingsFromEnv(env, config.region);
const capStore = cap && capStoreFor(cap.target, () => clients.s3());

async function publishCap(record: EventRecord) {
  if (!cap || !capStore) return;
  const r = await publishEventCap(capStore, record, { ...cap, minMmi: fanout.minSubscriberMmi });
  log.info('CAP published', {
    eventId: record.eventId,
    messages: r.names.length,
    indexed: r.indexed,
    rounds: r.rounds,
  });
}

async function sendToDlq(message: ConsumerDlqMessage | CapDlqMessage) {
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

// Init-phase priming (shared/infra/prime.ts): in an environment initialised for provisioned concurrency, before any
// event arrives; an on-demand environment skips it (it would delay the invocation that started it).
if (shouldPrime(env.QUAKECTL_PRIME)) {
  const primed = await primeEnvironment(
    consumerPrimeSteps({
      events: { ddb: clients.ddb, table: config.names.table('events') },
      segmentsForCells: (cells) => store.segmentsForCells(cells),
      scanSegmentsPage: () =>
        clients.ddb.send(new ScanCommand({ TableName: config.names.table('segments'), Limit: 1 })),
      allSegments: () => store.allSegments(),
      dryRunWorker: () =>
        clients.lambda.send(
          new InvokeCommand({
            FunctionName: config.names.function('segment-worker'),
            Qualifier: config.names.alias,
            InvocationType: 'DryRun',
          }),
        ),
      dlqUrl: () => dlqUrl('consumer'),
    }),
  );
  logger.info('environment primed', { ...primed });
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
      publishCap: cap ? publishCap : undefined,
      minMagnitude: fanout.minMagnitude,
      minSubscriberMmi: fanout.minSubscriberMmi,
      parallelism: fanout.parallelism,
      strategy: fanout.strategy,
      scanSegments: fanout.scanSegments,
      maxUnitSize: fanout.maxSegmentSize,
      maxEventAgeS: fanout.maxEventAgeS,
      alertProbability: fanout.alertProbability,
      expectedRate: fanout.expectedRate,
      measureRate: fanout.measureRate,
      log,
    });
    metrics.addMetric('EventsPlanned', MetricUnit.Count, result.outcomes.planned);
    metrics.addMetric(
      'SegmentsPlanned',
      MetricUnit.Count,
      result.planned.reduce((n, p) => n + p.segments, 0),
    );
    metrics.addMetric('PoisonRecords', MetricUnit.Count, result.outcomes.poison);
    if (cap) {
      metrics.addMetric('CapPublished', MetricUnit.Count, result.cap.published);
      metrics.addMetric('CapPublishFailures', MetricUnit.Count, result.cap.failed);
    }
    logger.info('batch consumed', { records: result.records, ...result.outcomes });
    return result;
  } finally {
    metrics.publishStoredMetrics();
  }
}
