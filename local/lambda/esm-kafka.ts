/**
 * Self-managed Kafka event source mapping, following AWS's documented behaviour:
 * - One kafkajs consumer group per mapping; the group id is the mapping's UUID unless
 *   SelfManagedKafkaEventSourceConfig.ConsumerGroupId is set. StartingPosition TRIM_HORIZON reads a new group from the
 *   earliest offset, LATEST from the end.
 * - Pollers never exceed the partition count: one consumer per mapping, partitions processed concurrently, each
 *   partition strictly in order.
 * - Up to BatchSize records per invocation, fetched within MaximumBatchingWindowInSeconds (default 0.5 s), delivered
 *   synchronously as the `SelfManagedKafka` event: records keyed `topic-partition`, key/value base64, headers as
 *   arrays of `{name: [bytes]}`.
 * - Offsets are committed only after the function succeeds. A failing batch is retried (esm-delivery.ts); when retries
 *   run out the OnFailure destination gets AWS's record with KafkaBatchInfo and the mapping moves past the batch.
 * - Disabling stops the consumer; deleting it disconnects, which leaves the group (the group's offsets stay).
 */
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { createKafka } from '../../shared/infra/clients.ts';
import { functionArn } from './arns.ts';
import { deliver, splitName } from './esm-delivery.ts';
import type { MappingConfig, Poller, PollerDeps } from './event-source-mappings.ts';

interface KafkaRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: 'CREATE_TIME' | 'LOG_APPEND_TIME';
  key?: string;
  value: string | null;
  headers: Record<string, number[]>[];
}

export function kafkaRecord(topic: string, partition: number, m: KafkaMessage): KafkaRecord {
  const headers: Record<string, number[]>[] = [];
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) {
      if (one === undefined) continue;
      headers.push({ [k]: [...(typeof one === 'string' ? Buffer.from(one) : one)] });
    }
  }
  return {
    topic,
    partition,
    offset: Number(m.offset),
    timestamp: Number(m.timestamp),
    // Bit 3 of the record batch attributes marks LogAppendTime.
    timestampType: (m.attributes & 0x08) !== 0 ? 'LOG_APPEND_TIME' : 'CREATE_TIME',
    ...(m.key ? { key: m.key.toString('base64') } : {}),
    value: m.value ? m.value.toString('base64') : null,
    headers,
  };
}

export class KafkaPoller implements Poller {
  readonly #m: MappingConfig;
  readonly #deps: PollerDeps;
  #consumer?: Consumer;
  #running = false;

  constructor(m: MappingConfig, deps: PollerDeps) {
    this.#m = m;
    this.#deps = deps;
  }

  get groupId(): string {
    return this.#m.SelfManagedKafkaEventSourceConfig?.ConsumerGroupId ?? this.#m.UUID;
  }

  async start(): Promise<void> {
    const brokers = this.#m.SelfManagedEventSource?.Endpoints?.KAFKA_BOOTSTRAP_SERVERS ?? [];
    const kafka = createKafka({ brokers, ssl: false, clientId: `lambda-esm-${this.#m.UUID.slice(0, 8)}` });
    const windowMs = Math.round((this.#m.MaximumBatchingWindowInSeconds ?? 0.5) * 1000);
    const consumer = kafka.consumer({
      groupId: this.groupId,
      maxWaitTimeInMs: Math.max(100, windowMs),
      sessionTimeout: 30_000,
      heartbeatInterval: 3000,
      allowAutoTopicCreation: false,
    });
    this.#consumer = consumer;
    this.#running = true;
    // kafkajs restarts a consumer after retriable errors by itself; after any other crash it stays stopped, and the
    // mapping would silently stop polling (its group's lag growing for ever). Start a fresh consumer instead, as
    // Lambda's pollers recover: uncommitted records are fetched again.
    consumer.on(consumer.events.CRASH, (e) => {
      if (e.payload.restart || !this.#running || this.#consumer !== consumer) return;
      console.error(
        `lambda emulator: mapping ${this.#m.UUID}: Kafka consumer crashed (${e.payload.error?.message}); restarting`,
      );
      setTimeout(() => {
        if (!this.#running || this.#consumer !== consumer) return;
        void consumer
          .disconnect()
          .catch(() => {})
          .then(() => (this.#running && this.#consumer === consumer ? this.start() : undefined))
          .catch((err: Error) =>
            console.error(`lambda emulator: mapping ${this.#m.UUID}: restart failed: ${err.message}`),
          );
      }, 2000);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.#m.Topics ?? [], fromBeginning: this.#m.StartingPosition !== 'LATEST' });
    const admin = kafka.admin();
    let partitions = 1;
    try {
      await admin.connect();
      const meta = await admin.fetchTopicMetadata({ topics: this.#m.Topics ?? [] });
      partitions = meta.topics.reduce((t, x) => t + x.partitions.length, 0) || 1;
    } catch {
      // Metadata is only used to size concurrency; one partition at a time is always safe.
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: partitions,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
  }

  async #eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const size = this.#m.BatchSize ?? 100;
    const bootstrapServers = (this.#m.SelfManagedEventSource?.Endpoints?.KAFKA_BOOTSTRAP_SERVERS ?? []).join(',');
    for (let i = 0; i < batch.messages.length; i += size) {
      if (!this.#running || !isRunning() || isStale()) return;
      const chunk = batch.messages.slice(i, i + size);
      const records = chunk.map((m) => kafkaRecord(batch.topic, batch.partition, m));
      const key = `${batch.topic}-${batch.partition}`;
      const payload = JSON.stringify({
        eventSource: 'SelfManagedKafka',
        bootstrapServers,
        records: { [key]: records },
      });
      // The consumer group expels a member that stays silent for the session timeout (30 s): a cold start plus a long
      // invocation is longer than that. Keep heartbeating while the function runs, as Lambda's pollers keep their
      // partitions for the whole invocation (up to the function timeout); a failed beat means a rebalance, and
      // isStale() then stops this batch after the invocation.
      const beat = setInterval(() => void heartbeat().catch(() => {}), 3000);
      const outcome = await deliver(this.#deps, payload, {
        functionName: this.#m.FunctionArn,
        maximumRetryAttempts: this.#m.MaximumRetryAttempts,
        maximumRecordAgeInSeconds: this.#m.MaximumRecordAgeInSeconds,
        oldestRecordMs: records[0].timestamp,
        timeScale: this.#deps.timeScale,
        isRunning: () => this.#running && isRunning() && !isStale(),
        heartbeat,
      }).finally(() => clearInterval(beat));
      if (outcome.aborted) return;
      if (!outcome.ok) {
        const onFailure = this.#m.DestinationConfig?.OnFailure?.Destination;
        const first = records[0];
        const lastRec = records[records.length - 1];
        const record = {
          requestContext: {
            requestId: outcome.last?.requestId ?? crypto.randomUUID(),
            functionArn: functionArn(...(splitName(this.#m.FunctionArn) as [string, string | undefined])),
            condition: outcome.condition,
            approximateInvokeCount: outcome.invokeCount,
          },
          responseContext: {
            statusCode: 200,
            executedVersion: outcome.last?.executedVersion ?? '$LATEST',
            functionError: outcome.last?.functionError ?? 'Unhandled',
          },
          version: '1.0',
          timestamp: new Date().toISOString(),
          KafkaBatchInfo: {
            batchSize: records.length,
            eventSourceArn: this.#m.EventSourceArn ?? null,
            bootstrapServers,
            payloadSize: Buffer.byteLength(payload),
            recordsInfo: {
              [key]: {
                firstRecordOffset: String(first.offset),
                lastRecordOffset: String(lastRec.offset),
                firstRecordTimestamp: new Date(first.timestamp).toISOString(),
                lastRecordTimestamp: new Date(lastRec.timestamp).toISOString(),
              },
            },
          },
        };
        if (onFailure) {
          try {
            await this.#deps.destinations.send(onFailure, JSON.stringify(record));
          } catch (err) {
            // The batch is not committed: it is fetched again after a restart of the consumer.
            console.error(
              `lambda emulator: mapping ${this.#m.UUID}: on-failure delivery failed: ${(err as Error).message}`,
            );
            throw err;
          }
        } else {
          console.error(
            `lambda emulator: mapping ${this.#m.UUID}: discarded ${key} offsets ${first.offset}-${lastRec.offset}`,
          );
        }
      }
      const next = String(Number(chunk[chunk.length - 1].offset) + 1);
      await this.#consumer!.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
      resolveOffset(chunk[chunk.length - 1].offset);
      await heartbeat();
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#consumer?.disconnect().catch(() => {});
    this.#consumer = undefined;
  }
}
