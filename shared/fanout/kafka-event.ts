/**
 * The Lambda event of a self-managed Kafka event source mapping (AWS docs, "Using Lambda with self-managed Apache
 * Kafka"): records grouped by "<topic>-<partition>", key and value base64, headers as arrays of byte values.
 */
import { validateQuake } from '../quake/schema.ts';
import type { Quake } from '../quake/types.ts';

export interface KafkaRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp?: number;
  timestampType?: string;
  key?: string | null;
  value?: string | null;
  headers?: Record<string, number[]>[];
}

export interface SelfManagedKafkaEvent {
  eventSource: 'SelfManagedKafka' | 'aws:kafka' | string;
  bootstrapServers?: string;
  records: Record<string, KafkaRecord[]>;
}

/** A network withdrew the event (value `kind: "retraction"`, shared/ingest `RetractionMessage`). */
export interface DecodedRetraction {
  ok: true;
  kind: 'retraction';
  record: KafkaRecord;
  eventId: string;
  drill: boolean;
  source: string;
  reason: string;
  acceptedAt?: number;
  headers: Record<string, string>;
}

export type DecodedRecord =
  | {
      ok: true;
      kind: 'version';
      record: KafkaRecord;
      quake: Quake;
      acceptedAt?: number;
      headers: Record<string, string>;
    }
  | DecodedRetraction
  | { ok: false; record: KafkaRecord; reason: string };

export function recordHeaders(r: KafkaRecord): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of r.headers ?? []) {
    for (const [k, bytes] of Object.entries(h)) out[k] = Buffer.from(bytes).toString('utf8');
  }
  return out;
}

/**
 * Decodes one record's value: a version `{schema: 1, quake, acceptedAt}` or a retraction `{schema: 1, kind:
 * "retraction", eventId, drill, retraction: {source, reason, updatedAt}, acceptedAt}`; never throws (a bad record is a
 * reason).
 */
export function decodeRecord(r: KafkaRecord): DecodedRecord {
  if (typeof r.value !== 'string' || r.value === '') return { ok: false, record: r, reason: 'value: missing' };
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(r.value, 'base64').toString('utf8'));
  } catch (err) {
    return { ok: false, record: r, reason: `value: not JSON (${(err as Error).message})` };
  }
  if (!value || typeof value !== 'object') return { ok: false, record: r, reason: 'value: not an object' };
  const v = value as { schema?: unknown; quake?: unknown; acceptedAt?: unknown; kind?: unknown };
  if (v.schema !== 1) return { ok: false, record: r, reason: `schema: ${JSON.stringify(v.schema)} is not 1` };
  if (v.kind === 'retraction') return decodeRetraction(r, value as Record<string, unknown>);
  if (v.kind !== undefined && v.kind !== 'version') {
    return { ok: false, record: r, reason: `kind: ${JSON.stringify(v.kind)} is not "version" or "retraction"` };
  }
  // No clock check here: a future origin on the topic is recorded and skipped with its reason by the consumer.
  const q = validateQuake(v.quake, {}, {}, { now: Number.POSITIVE_INFINITY });
  if (!q.ok) return { ok: false, record: r, reason: q.reason };
  const headers = recordHeaders(r);
  // The header and the body must agree: a drill is never delivered as real.
  if (headers.drill === 'true' && !q.quake.drill) {
    return { ok: false, record: r, reason: 'drill: header says drill, body does not' };
  }
  const acceptedAt = typeof v.acceptedAt === 'number' && Number.isFinite(v.acceptedAt) ? v.acceptedAt : undefined;
  return { ok: true, kind: 'version', record: r, quake: q.quake, acceptedAt, headers };
}

function decodeRetraction(r: KafkaRecord, v: Record<string, unknown>): DecodedRecord {
  const eventId = v.eventId;
  if (typeof eventId !== 'string' || eventId === '') return { ok: false, record: r, reason: 'eventId: missing' };
  if (typeof v.drill !== 'boolean') return { ok: false, record: r, reason: 'drill: not a boolean' };
  const x = (v.retraction ?? {}) as { source?: unknown; reason?: unknown };
  if (typeof x.source !== 'string') return { ok: false, record: r, reason: 'retraction.source: missing' };
  const headers = recordHeaders(r);
  if (headers.drill === 'true' && !v.drill) {
    return { ok: false, record: r, reason: 'drill: header says drill, body does not' };
  }
  const acceptedAt = typeof v.acceptedAt === 'number' && Number.isFinite(v.acceptedAt) ? v.acceptedAt : undefined;
  return {
    ok: true,
    kind: 'retraction',
    record: r,
    eventId,
    drill: v.drill,
    source: x.source,
    reason: typeof x.reason === 'string' ? x.reason : '',
    acceptedAt,
    headers,
  };
}

/** Every record of the batch, partition by partition, in offset order. */
export function recordsByPartition(event: SelfManagedKafkaEvent): KafkaRecord[][] {
  return Object.values(event.records ?? {}).map((rs) => [...rs].sort((a, b) => a.offset - b.offset));
}
