/**
 * Builds the event Lambda's self-managed Kafka event source mapping delivers (AWS Lambda developer guide, "Using
 * Lambda with self-managed Apache Kafka"):
 * `{eventSource:"SelfManagedKafka", bootstrapServers:"h1:9092,h2:9092", records:{"<topic>-<partition>":[{topic,
 * partition, offset, timestamp, timestampType:"CREATE_TIME", key:<base64>, value:<base64>, headers:[{k:[bytes]}]}]}}`.
 * Used to re-invoke the consumer with records re-read for a DLQ failure record.
 */
import type { KafkaRecord, SelfManagedKafkaEvent } from '../../fanout/kafka-event.ts';
import type { ReadRecord } from './read-range.ts';

export type { SelfManagedKafkaEvent };

export function selfManagedKafkaEvent(bootstrapServers: string[], records: ReadRecord[]): SelfManagedKafkaEvent {
  const grouped: Record<string, KafkaRecord[]> = {};
  for (const r of records) {
    const key = `${r.topic}-${r.partition}`;
    grouped[key] ??= [];
    grouped[key].push({
      topic: r.topic,
      partition: r.partition,
      offset: Number(r.offset),
      timestamp: Number(r.timestamp),
      timestampType: 'CREATE_TIME',
      ...(r.key ? { key: r.key.toString('base64') } : {}),
      ...(r.value ? { value: r.value.toString('base64') } : {}),
      headers: Object.entries(r.headers ?? {}).flatMap(([k, v]) =>
        (Array.isArray(v) ? v : [v])
          .filter((x) => x !== undefined)
          .map((x) => ({ [k]: [...(Buffer.isBuffer(x) ? x : Buffer.from(String(x)))] })),
      ),
    });
  }
  return { eventSource: 'SelfManagedKafka', bootstrapServers: bootstrapServers.join(','), records: grouped };
}
