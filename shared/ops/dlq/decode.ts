/**
 * Decoding of what lands in quakectl's DLQs (pure: takes an SQS message, returns what it means).
 *
 * - Lambda async invocation DLQ (producer, segment-worker): the body is the original event; message attributes
 *   `RequestID` (String), `ErrorCode` (Number), `ErrorMessage` (String) (AWS Lambda developer guide, "Dead-letter
 *   queues").
 * - Lambda on-failure destination record of an async invocation: `{version, timestamp, requestContext:{requestId,
 *   functionArn, condition, approximateInvokeCount}, requestPayload, responseContext, responsePayload}`.
 * - Kafka event source mapping failure record (consumer): `{requestContext, responseContext, version, timestamp,
 *   KafkaBatchInfo:{batchSize, eventSourceArn, bootstrapServers, payloadSize, recordsInfo:{"<topic>-<partition>":
 *   {firstRecordOffset, lastRecordOffset, firstRecordTimestamp, lastRecordTimestamp}}}}`: offsets only, the records
 *   themselves stay in Kafka.
 * - Delivery DLQ batch (shared/notify): `{kind:'delivery', reason, target, eventId, attempts, firstFailureAt,
 *   notifications:[…]}` (no secrets).
 * - Consumer poison record (shared/fanout `dlqMessage`): `{kind:'consumer', reason, topic, partition, offset,
 *   timestamp, key, value}` (key/value base64 as in the Kafka event, cut to a bounded length): one record the consumer
 *   could not decode; redriven like a failure record of that one offset.
 * - Consumer CAP publication that failed (shared/fanout `CapDlqMessage`): `{kind:'cap', reason, eventId, revision,
 *   failedAt}`; redriven by publishing the event's CAP feed again.
 */
import type { Message } from '@aws-sdk/client-sqs';

export type DlqMessageKind =
  | 'lambda-async'
  | 'lambda-destination'
  | 'kafka-batch'
  | 'kafka-record'
  | 'delivery'
  | 'cap-publish'
  | 'unknown';

export interface KafkaRange {
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  firstTimestamp?: string;
  lastTimestamp?: string;
}

export interface DeliveryNotification {
  id: string;
  eventId?: string;
  subscriberId?: string;
  level?: string;
  [k: string]: unknown;
}

export interface DecodedMessage {
  messageId: string;
  kind: DlqMessageKind;
  /** When SQS received it (epoch ms). */
  sentAt?: number;
  /** How often it was received from the DLQ (peeks count too). */
  receiveCount?: number;
  /** The function that failed (role or name or ARN as recorded), when known. */
  function?: string;
  requestId?: string;
  errorCode?: string;
  errorMessage?: string;
  attempts?: number;
  /** Epoch ms of the first failure, when recorded. */
  firstFailureAt?: number;
  /** Event ids this message concerns (for --event-id), when they can be told without reading Kafka. */
  eventIds: string[];
  /** The payload to re-invoke with (Lambda DLQ / destination). */
  payload?: unknown;
  kafka?: { ranges: KafkaRange[]; batchSize?: number; bootstrapServers?: string; eventSourceArn?: string };
  delivery?: { reason: string; target: string; eventId: string; notifications: DeliveryNotification[] };
  /** Number of redrives tried by quakectl so far (our own message attribute). */
  redriveAttempts?: number;
}

export interface DeliveryBatch {
  kind: 'delivery';
  reason: string;
  target: string;
  eventId: string;
  attempts: number;
  firstFailureAt: number | string;
  notifications: DeliveryNotification[];
}

interface FailureRecord {
  requestContext?: { requestId?: string; functionArn?: string; condition?: string; approximateInvokeCount?: number };
  responseContext?: { statusCode?: number; functionError?: string; executedVersion?: string };
  responsePayload?: unknown;
  requestPayload?: unknown;
  timestamp?: string;
  KafkaBatchInfo?: {
    batchSize?: number;
    eventSourceArn?: string;
    bootstrapServers?: string;
    recordsInfo?: Record<
      string,
      {
        firstRecordOffset: string | number;
        lastRecordOffset: string | number;
        firstRecordTimestamp?: string;
        lastRecordTimestamp?: string;
      }
    >;
  };
}

/** `"quakes.events-3"` → topic `quakes.events`, partition 3 (topics may contain dashes: split at the last one). */
export function parseTopicPartition(key: string): { topic: string; partition: number } {
  const i = key.lastIndexOf('-');
  if (i <= 0) return { topic: key, partition: 0 };
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) };
}

function attr(m: Message, name: string): string | undefined {
  const a = m.MessageAttributes?.[name];
  return a?.StringValue ?? undefined;
}

function parseTime(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const n = Date.parse(v);
    if (!Number.isNaN(n)) return n;
    if (/^\d+$/.test(v)) return Number(v);
  }
  return undefined;
}

/** Event ids a function payload concerns: segment-worker `{eventId}`, producer `{quakes:[{id}]}` / documents. */
export function eventIdsOfPayload(payload: unknown): string[] {
  if (!payload || typeof payload !== 'object') return [];
  const p = payload as { eventId?: unknown; quakes?: Array<{ id?: unknown }>; documents?: unknown[] };
  const ids = new Set<string>();
  if (typeof p.eventId === 'string') ids.add(p.eventId);
  for (const q of p.quakes ?? []) if (typeof q?.id === 'string') ids.add(q.id);
  for (const d of p.documents ?? []) {
    try {
      const doc = typeof d === 'string' ? JSON.parse(d) : d;
      if (doc && typeof doc.id === 'string') ids.add(doc.id);
    } catch {
      // a document that is not JSON (FDSN text) names no id we can read here
    }
  }
  return [...ids];
}

export function decodeMessage(m: Message, fallbackFunction?: string): DecodedMessage {
  const d = decodeShape(m, fallbackFunction);
  // A failed redrive re-queues the message with the newer reason (redrive.ts): that is the one to show.
  const redriveError = attr(m, 'QuakectlRedriveError');
  return redriveError ? { ...d, errorMessage: redriveError } : d;
}

function decodeShape(m: Message, fallbackFunction?: string): DecodedMessage {
  const base = {
    messageId: m.MessageId ?? '',
    sentAt: m.Attributes?.SentTimestamp ? Number(m.Attributes.SentTimestamp) : undefined,
    receiveCount: m.Attributes?.ApproximateReceiveCount ? Number(m.Attributes.ApproximateReceiveCount) : undefined,
    redriveAttempts: attr(m, 'QuakectlRedriveAttempts') ? Number(attr(m, 'QuakectlRedriveAttempts')) : undefined,
  };
  let body: unknown;
  try {
    body = JSON.parse(m.Body ?? '');
  } catch {
    body = m.Body;
  }

  // Lambda async DLQ: the attributes identify it, the body is the event itself.
  if (m.MessageAttributes?.RequestID || m.MessageAttributes?.ErrorCode) {
    return {
      ...base,
      kind: 'lambda-async',
      function: attr(m, 'QuakectlFunction') ?? fallbackFunction,
      requestId: attr(m, 'RequestID'),
      errorCode: attr(m, 'ErrorCode'),
      errorMessage: attr(m, 'ErrorMessage'),
      attempts: base.receiveCount,
      firstFailureAt: base.sentAt,
      eventIds: eventIdsOfPayload(body),
      payload: body,
    };
  }

  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    if (b.kind === 'delivery') {
      const d = body as DeliveryBatch;
      return {
        ...base,
        kind: 'delivery',
        errorMessage: d.reason,
        attempts: d.attempts,
        firstFailureAt: parseTime(d.firstFailureAt),
        eventIds: d.eventId ? [d.eventId] : [],
        delivery: { reason: d.reason, target: d.target, eventId: d.eventId, notifications: d.notifications ?? [] },
      };
    }
    if (b.kind === 'cap' && typeof b.eventId === 'string') {
      return {
        ...base,
        kind: 'cap-publish',
        errorMessage: b.reason as string | undefined,
        attempts: base.receiveCount,
        firstFailureAt: parseTime(b.failedAt) ?? base.sentAt,
        eventIds: [b.eventId],
      };
    }
    if (b.kind === 'consumer' && typeof b.topic === 'string' && b.offset !== undefined) {
      const offset = String(b.offset);
      const key = typeof b.key === 'string' ? Buffer.from(b.key, 'base64').toString('utf8') : undefined;
      return {
        ...base,
        kind: 'kafka-record',
        function: fallbackFunction,
        errorMessage: b.reason as string | undefined,
        attempts: base.receiveCount,
        firstFailureAt: base.sentAt,
        eventIds: key ? [key] : [],
        kafka: {
          ranges: [{ topic: b.topic, partition: Number(b.partition ?? 0), firstOffset: offset, lastOffset: offset }],
        },
      };
    }
    const r = body as FailureRecord;
    if (r.KafkaBatchInfo) {
      const info = r.KafkaBatchInfo;
      const ranges = Object.entries(info.recordsInfo ?? {}).map(([key, v]) => ({
        ...parseTopicPartition(key),
        firstOffset: String(v.firstRecordOffset),
        lastOffset: String(v.lastRecordOffset),
        firstTimestamp: v.firstRecordTimestamp,
        lastTimestamp: v.lastRecordTimestamp,
      }));
      return {
        ...base,
        kind: 'kafka-batch',
        function: r.requestContext?.functionArn ?? fallbackFunction,
        requestId: r.requestContext?.requestId,
        errorCode: r.requestContext?.condition,
        errorMessage: errorText(r),
        attempts: r.requestContext?.approximateInvokeCount,
        firstFailureAt: parseTime(r.timestamp),
        eventIds: [],
        kafka: {
          ranges,
          batchSize: info.batchSize,
          bootstrapServers: info.bootstrapServers,
          eventSourceArn: info.eventSourceArn,
        },
      };
    }
    if (r.requestContext && 'requestPayload' in r) {
      return {
        ...base,
        kind: 'lambda-destination',
        function: r.requestContext.functionArn ?? fallbackFunction,
        requestId: r.requestContext.requestId,
        errorCode: r.requestContext.condition,
        errorMessage: errorText(r),
        attempts: r.requestContext.approximateInvokeCount,
        firstFailureAt: parseTime(r.timestamp),
        eventIds: eventIdsOfPayload(r.requestPayload),
        payload: r.requestPayload,
      };
    }
  }
  return { ...base, kind: 'unknown', eventIds: [], payload: body, function: fallbackFunction };
}

function errorText(r: FailureRecord): string | undefined {
  const p = r.responsePayload as { errorType?: string; errorMessage?: string } | undefined;
  if (p && typeof p === 'object' && (p.errorMessage || p.errorType)) {
    return [p.errorType, p.errorMessage].filter(Boolean).join(': ');
  }
  return r.responseContext?.functionError ?? r.requestContext?.condition;
}
