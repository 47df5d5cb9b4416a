/**
 * The producer's domain: validate → associate → drop superseded versions → produce to quakes.events.
 *
 * Ordering and exactly-once-ish: key = canonical id, so every version of an event lands on one partition in order;
 * the kafkajs producer is idempotent (acks all, one request in flight per broker), so its own retries never duplicate
 * or reorder. A send that still fails throws: Lambda's async retries, then the producer DLQ, keep the payload.
 *
 * Superseded versions: the events table remembers the latest accepted `updatedAt` per canonical id (a conditional
 * write, `acceptVersion`); a version is produced only if it is newer, or if it is the same version whose earlier produce
 * failed (`published = false`), so a retry after a failed send is never mistaken for a duplicate.
 */
import type { Producer } from 'kafkajs';
import { acceptVersion, type EventStore, markPublished } from '../events/index.ts';
import type { Associator } from '../quake/associate.ts';
import { parseFeed } from '../quake/detect.ts';
import { validateQuake } from '../quake/schema.ts';
import type { Quake } from '../quake/types.ts';
import { mapLimit } from '../segments/concurrency.ts';
import { EVENT_SCHEMA, type EventMessage, type ProducerPayload, type ProducerResult } from './types.ts';

const WRITE_CONCURRENCY = 16;

export interface ProduceDeps {
  events: EventStore;
  /** A connected idempotent producer (see `createEventProducer`). */
  producer: Pick<Producer, 'send'>;
  topic: string;
  associator: Associator;
  now?: () => number;
  /** Versions this process already produced: skips a table round trip per unchanged event of a polled feed. */
  published?: Map<string, number>;
  log?: { info(msg: string, f?: Record<string, unknown>): void; warn(msg: string, f?: Record<string, unknown>): void };
}

/** Parses and validates a payload's documents and quakes (pure). */
export function collectQuakes(payload: ProducerPayload): { quakes: Quake[]; rejected: ProducerResult['rejected'] } {
  const quakes: Quake[] = [];
  const rejected: ProducerResult['rejected'] = [];
  const docs = payload.documents ?? [];
  docs.forEach((doc, index) => {
    const r = parseFeed(doc, { drill: payload.drill === true });
    quakes.push(...r.accepted);
    for (const x of r.rejected) rejected.push({ index, reason: `item ${x.index}: ${x.reason}` });
  });
  (payload.quakes ?? []).forEach((q, i) => {
    const index = docs.length + i;
    if (!q || typeof q !== 'object') {
      rejected.push({ index, reason: 'quake: not an object' });
      return;
    }
    // A drill stays a drill: the payload may mark events as drills, never un-mark them.
    const candidate = payload.drill ? { ...q, drill: true } : q;
    const v = validateQuake(candidate);
    if (v.ok) quakes.push(v.quake);
    else rejected.push({ index, reason: v.reason });
  });
  return { quakes, rejected };
}

export function eventMessage(quake: Quake, acceptedAt: number) {
  const value: EventMessage = { schema: EVENT_SCHEMA, quake, acceptedAt };
  return {
    key: quake.id,
    value: JSON.stringify(value),
    headers: { source: quake.source, schema: String(EVENT_SCHEMA), drill: String(quake.drill) },
  };
}

export async function produceEvents(payload: ProducerPayload, deps: ProduceDeps): Promise<ProducerResult> {
  const { quakes, rejected } = collectQuakes(payload);
  const result: ProducerResult = { accepted: [], rejected, superseded: 0, associated: 0 };
  for (const r of rejected) deps.log?.warn('input rejected', r);
  const now = deps.now ?? Date.now;
  const acceptedAt = now();
  const toSend = new Map<string, Quake>();
  for (const q of quakes) {
    const a = deps.associator.offer(q);
    if (a.outcome === 'associated') result.associated++;
    const event = a.event;
    if (a.outcome === 'stale' && (deps.published?.get(event.id) ?? -1) >= event.updatedAt) {
      result.superseded++;
      continue;
    }
    const pending = toSend.get(event.id);
    if (pending && pending.updatedAt >= event.updatedAt) {
      // Two versions of one event in one payload: only the newest is produced.
      result.superseded++;
      continue;
    }
    if (pending) result.superseded++;
    toSend.set(event.id, event);
  }
  // Table writes of distinct events are independent: run them side by side (a feed holds thousands).
  const verdicts = await mapLimit([...toSend.values()], WRITE_CONCURRENCY, (e) =>
    acceptVersion(deps.events, e, acceptedAt),
  );
  const fresh = [...toSend.values()].filter((_, i) => verdicts[i]);
  result.superseded += verdicts.filter((v) => !v).length;
  if (fresh.length > 0) {
    // Throws after kafkajs' retries: the invocation fails and Lambda's retry / DLQ keep the payload.
    await deps.producer.send({ topic: deps.topic, acks: -1, messages: fresh.map((q) => eventMessage(q, acceptedAt)) });
    await mapLimit(fresh, WRITE_CONCURRENCY, (q) => markPublished(deps.events, q.id, q.updatedAt));
    for (const q of fresh) {
      deps.published?.set(q.id, q.updatedAt);
      result.accepted.push(q.id);
    }
  }
  return result;
}
