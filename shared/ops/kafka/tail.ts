/**
 * `kafka tail`: reads a topic with a throw-away consumer group (kafkajs has no group-less consumer), decodes quake
 * events (`{schema:1, quake, acceptedAt}` with headers source/schema/drill) and stops after `max` records, on
 * `signal`, or after `timeoutMs`. The throw-away group is deleted afterwards so tails leave no lag behind.
 */
import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka } from 'kafkajs';

export interface TailedRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  headers: Record<string, string>;
  /** Decoded quake event fields, when the value is one. */
  quake?: {
    id: string;
    magnitude?: number;
    place?: string;
    /** As the producer wrote it (epoch ms in the Quake type). */
    originTime?: string | number;
    depthKm?: number;
    drill?: boolean;
    status?: string;
  };
  acceptedAt?: number;
  /** The raw value, when it is not a quake event. */
  value?: unknown;
}

export function decodeHeaders(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    if (v === undefined) continue;
    const one = Array.isArray(v) ? v[0] : v;
    out[k] = Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
  }
  return out;
}

/** Pure: decodes one record's value (a quake event if it looks like one, else the JSON or the text). */
export function decodeValue(value: Buffer | null): Pick<TailedRecord, 'quake' | 'acceptedAt' | 'value'> {
  if (!value) return { value: null };
  const text = value.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { value: text };
  }
  const v = parsed as { quake?: Record<string, unknown>; acceptedAt?: number };
  if (v && typeof v === 'object' && v.quake && typeof v.quake.id === 'string') {
    const q = v.quake;
    return {
      quake: {
        id: q.id as string,
        magnitude: q.magnitude as number | undefined,
        place: q.place as string | undefined,
        originTime: q.originTime as string | number | undefined,
        depthKm: q.depthKm as number | undefined,
        drill: q.drill as boolean | undefined,
        status: q.status as string | undefined,
      },
      acceptedAt: v.acceptedAt,
    };
  }
  return { value: parsed };
}

export interface TailOptions {
  fromBeginning?: boolean;
  max?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  onRecord: (r: TailedRecord) => void;
}

/** Resolves with the number of records printed. */
export async function tailTopic(kafka: Kafka, topic: string, opts: TailOptions): Promise<number> {
  const groupId = `quakectl-tail-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  let count = 0;
  let finish!: () => void;
  const done = new Promise<void>((r) => {
    finish = r;
  });
  const timer = opts.timeoutMs ? setTimeout(finish, opts.timeoutMs) : undefined;
  opts.signal?.addEventListener('abort', () => finish(), { once: true });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: Boolean(opts.fromBeginning) });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic: t, partition, message }) => {
        if (opts.max !== undefined && count >= opts.max) return;
        count++;
        opts.onRecord({
          topic: t,
          partition,
          offset: message.offset,
          timestamp: message.timestamp,
          key: message.key ? message.key.toString('utf8') : null,
          headers: decodeHeaders(message.headers),
          ...decodeValue(message.value),
        });
        if (opts.max !== undefined && count >= opts.max) finish();
      },
    });
    await done;
  } finally {
    if (timer) clearTimeout(timer);
    await consumer.disconnect().catch(() => {});
    const admin = kafka.admin();
    await admin
      .connect()
      .then(() => admin.deleteGroups([groupId]))
      .catch(() => {})
      .finally(() => admin.disconnect().catch(() => {}));
  }
  return count;
}
