/** The one idempotent event producer of a process (kafkajs behind the one Kafka factory). */
import { type Kafka, Partitioners, type Producer } from 'kafkajs';

/**
 * Idempotent (acks all, sequence numbers per partition: broker-side de-duplication of retries), one request in flight
 * so a retry can never overtake its predecessor. kafkajs retries an idempotent producer forever by default; a Lambda
 * must fail instead so its payload goes to async retries and the DLQ: retries are bounded (≈ 10 s in all).
 */
export function createEventProducer(kafka: Kafka, opts: { retries?: number } = {}): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: opts.retries ?? 6, initialRetryTime: 200, maxRetryTime: 3000 },
  });
}

/** Topic of events; QUAKECTL_EVENTS_TOPIC overrides the fixed name (isolated test topics on a shared broker). */
export function eventsTopic(defaultTopic: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.QUAKECTL_EVENTS_TOPIC || defaultTopic;
}
