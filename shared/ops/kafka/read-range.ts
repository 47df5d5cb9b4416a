/**
 * Re-reads an exact offset range of one partition (a Kafka failure record names only offsets: the records stay in
 * Kafka until retention removes them). kafkajs has no assign-only consumer, so a throw-away group is pointed at the
 * first offset with admin.setOffsets before it starts, and deleted afterwards.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { QuakectlError } from '../../infra/errors.ts';

export class RecordsUnavailableError extends QuakectlError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RecordsUnavailableError';
  }
}

export interface ReadRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: KafkaMessage['headers'];
}

export async function readRange(
  kafka: Kafka,
  topic: string,
  partition: number,
  firstOffset: string,
  lastOffset: string,
  timeoutMs = 15_000,
): Promise<ReadRecord[]> {
  const first = BigInt(firstOffset);
  const last = BigInt(lastOffset);
  const admin = kafka.admin();
  const groupId = `quakectl-redrive-${randomUUID()}`;
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const p = offsets.find((o) => o.partition === partition);
    if (!p) throw new RecordsUnavailableError(`${topic} has no partition ${partition}`);
    if (BigInt(p.low) > first) {
      throw new RecordsUnavailableError(
        `${topic}-${partition} offsets ${firstOffset}..${lastOffset} are gone (log starts at ${p.low}: retention)`,
      );
    }
    if (BigInt(p.high) <= last) {
      throw new RecordsUnavailableError(`${topic}-${partition} has no offset ${lastOffset} (high watermark ${p.high})`);
    }
    await admin.setOffsets({ groupId, topic, partitions: [{ partition, offset: firstOffset }] });
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000 });
    const out: ReadRecord[] = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: false });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new RecordsUnavailableError(`timed out reading ${topic}-${partition} ${firstOffset}..${lastOffset}`),
            ),
          timeoutMs,
        );
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition: part, message }) => {
              if (part !== partition) return;
              const o = BigInt(message.offset);
              if (o >= first && o <= last)
                out.push({
                  topic,
                  partition: part,
                  offset: message.offset,
                  timestamp: message.timestamp,
                  key: message.key ?? null,
                  value: message.value ?? null,
                  headers: message.headers,
                });
              // Compacted or transactional topics can skip offsets: stop at the first offset at or past the end.
              if (o >= last) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect().catch(() => {});
      await admin.deleteGroups([groupId]).catch(() => {});
    }
    return out;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
