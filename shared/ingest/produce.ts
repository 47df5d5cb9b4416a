/**
 * The producer's domain: validate → resolve identity (shared/events/identity.ts: association in DynamoDB, shared by
 * every producer environment) → drop superseded versions → produce to quakes.events. Retractions: map the withdrawn
 * id to its canonical event, record the withdrawal (`retract`), and once every reporting source withdrew it, produce a
 * retraction message under the event's key (after its versions on the same partition).
 *
 * Origin times: an origin more than `MAX_ORIGIN_LEAD_MS` (5 min) ahead of the producer's clock is refused by
 * validation with a reason (a clock or unit error, never a real event); old origins are accepted and recorded, and
 * the consumer decides that they are too old to alert (fanout.maxEventAgeS).
 *
 * Ordering and exactly-once-ish: key = canonical id, so every version of an event lands on one partition in order;
 * the kafkajs producer is idempotent (acks all, one request in flight per broker), so its own retries never duplicate
 * or reorder. A send that still fails throws: Lambda's async retries, then the producer DLQ, keep the payload.
 *
 * Superseded versions: the events table remembers the latest accepted `updatedAt` per canonical id (a conditional
 * write, `acceptVersion`); a version is produced only if it is newer, or if it is the same version whose earlier produce
 * failed (`published = false`), so a retry after a failed send is never mistaken for a duplicate.
 */
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import type { Producer } from 'kafkajs';
import { lookupCanonical, registerSolution, resolveIdentity } from '../events/identity.ts';
import {
  acceptVersion,
  type EventRecord,
  type EventStore,
  markPublished,
  markRetractionPublished,
  type RetractionRecord,
  retract,
} from '../events/index.ts';
import { parseFeed } from '../quake/detect.ts';
import { validateQuake } from '../quake/schema.ts';
import type { Quake, Retraction } from '../quake/types.ts';
import { mapLimit } from '../segments/concurrency.ts';
import { UnpublishedError } from './errors.ts';
import {
  EVENT_SCHEMA,
  type EventMessage,
  type ProducerPayload,
  type ProducerResult,
  type RetractionMessage,
} from './types.ts';

const WRITE_CONCURRENCY = 16;

export interface ProduceDeps {
  events: EventStore;
  /** A connected idempotent producer (see `createEventProducer`). */
  producer: Pick<Producer, 'send'>;
  topic: string;
  now?: () => number;
  /**
   * Feed id → canonical id already resolved by this process (ids never change canonical, so it is a pure cache of
   * the alias items in DynamoDB). Optional; bounded by the caller.
   */
  canonical?: Map<string, { canonicalId: string; canonicalSource: string }>;
  /** Versions this process already produced: skips a table round trip per unchanged event of a polled feed. */
  published?: Map<string, number>;
  log?: { info(msg: string, f?: Record<string, unknown>): void; warn(msg: string, f?: Record<string, unknown>): void };
  /**
   * Filled with the milliseconds from acceptance to the end of each step that ran (`collected`, `identity`,
   * `accepted`, `sent`, `published`): the producer's part of the first alert's path, as the function logs it.
   */
  steps?: Record<string, number>;
}

/** Parses and validates a payload's documents, quakes and retractions (pure, except `now` for future origins). */
export function collectQuakes(
  payload: ProducerPayload,
  now: number = Date.now(),
): { quakes: Quake[]; rejected: ProducerResult['rejected']; retractions: Retraction[] } {
  const quakes: Quake[] = [];
  const rejected: ProducerResult['rejected'] = [];
  const retractions: Retraction[] = [];
  const docs = payload.documents ?? [];
  const drill = payload.drill === true;
  docs.forEach((doc, index) => {
    // Origins (and update times) more than MAX_ORIGIN_LEAD_MS ahead of now are refused by validation, with a reason.
    const r = parseFeed(doc, { drill, now });
    quakes.push(...r.accepted.map((q) => receivedVersion(q, now)));
    for (const x of r.rejected) rejected.push({ index, reason: `item ${x.index}: ${x.reason}` });
    retractions.push(...(r.retracted ?? []));
  });
  (payload.quakes ?? []).forEach((q, i) => {
    const index = docs.length + i;
    if (!q || typeof q !== 'object') {
      rejected.push({ index, reason: 'quake: not an object' });
      return;
    }
    // A drill stays a drill: the payload may mark events as drills, never un-mark them.
    const candidate = drill ? { ...q, drill: true } : q;
    const v = validateQuake(candidate, {}, {}, { now });
    if (v.ok) quakes.push(receivedVersion(v.quake, now));
    else rejected.push({ index, reason: v.reason });
  });
  const base = docs.length + (payload.quakes ?? []).length;
  (payload.retractions ?? []).forEach((x, i) => {
    const r = x as Partial<Retraction> | null;
    if (!r || typeof r !== 'object' || typeof r.id !== 'string' || r.id === '' || typeof r.source !== 'string') {
      rejected.push({ index: base + i, reason: 'retraction: needs a string id and source' });
      return;
    }
    retractions.push({
      id: r.id,
      source: r.source,
      reason: typeof r.reason === 'string' && r.reason ? r.reason : 'withdrawn by the network',
      updatedAt: typeof r.updatedAt === 'number' && Number.isFinite(r.updatedAt) ? r.updatedAt : now,
      drill: drill || r.drill === true,
    });
  });
  return { quakes, rejected, retractions };
}

/**
 * A version from a feed without update times (FDSN text: `updatedAtKnown: false`) is dated when the producer received
 * it: another server's later solution of the same quake then supersedes an earlier one even when its origin time is a
 * second earlier (ordering by origin time threw the newer, bigger solution away).
 */
function receivedVersion(q: Quake, now: number): Quake {
  return q.updatedAtKnown === false ? { ...q, updatedAt: Math.max(q.updatedAt, now) } : q;
}

export function eventMessage(quake: Quake, acceptedAt: number) {
  const value: EventMessage = { schema: EVENT_SCHEMA, quake, acceptedAt };
  return {
    key: quake.id,
    value: JSON.stringify(value),
    headers: { source: quake.source, schema: String(EVENT_SCHEMA), drill: String(quake.drill) },
  };
}

export function retractionMessage(eventId: string, r: Retraction, acceptedAt: number) {
  const value: RetractionMessage = {
    schema: EVENT_SCHEMA,
    kind: 'retraction',
    eventId,
    drill: r.drill,
    retraction: { source: r.source, reason: r.reason, updatedAt: r.updatedAt },
    acceptedAt,
  };
  return {
    key: eventId,
    value: JSON.stringify(value),
    headers: { source: r.source, schema: String(EVENT_SCHEMA), drill: String(r.drill), kind: 'retraction' },
  };
}

const CANONICAL_CACHE = 10_000;

/**
 * Reports split into clusters whose association windows cannot share a bucket with another cluster's (origins more
 * than 30 s apart, three 10 s buckets), sorted by origin time: clusters resolve in parallel, reports of one cluster in
 * turn.
 */
export function timeClusters(quakes: readonly Quake[]): Quake[][] {
  const sorted = [...quakes].sort((a, b) => a.originTime - b.originTime);
  const out: Quake[][] = [];
  for (const q of sorted) {
    const last = out.at(-1);
    if (last && q.originTime - last[last.length - 1].originTime <= 30_000) last.push(q);
    else out.push([q]);
  }
  return out;
}

/** The canonical event of one report, cached per process (aliases never change once written). */
async function canonicalOf(
  deps: ProduceDeps,
  q: Quake,
): Promise<{ event: Quake; report: Quake; associated: boolean; known: boolean }> {
  const key = `${q.drill ? 'd' : 'r'}:${q.id}`;
  let c = deps.canonical?.get(key);
  let associated = false;
  let known = true;
  if (!c) {
    const r = await resolveIdentity(deps.events, q);
    associated = r.outcome === 'associated';
    known = r.outcome === 'known';
    c = { canonicalId: r.canonicalId, canonicalSource: r.canonicalSource };
    if (deps.canonical) {
      if (deps.canonical.size >= CANONICAL_CACHE) deps.canonical.delete(deps.canonical.keys().next().value!);
      deps.canonical.set(key, c);
    }
  }
  const sourceIds = [...new Set([c.canonicalId, q.id, ...q.sourceIds].filter((s) => s !== ''))];
  return { event: { ...q, id: c.canonicalId, source: c.canonicalSource, sourceIds }, report: q, associated, known };
}

export async function produceEvents(payload: ProducerPayload, deps: ProduceDeps): Promise<ProducerResult> {
  const now = deps.now ?? Date.now;
  const acceptedAt = now();
  const t0 = performance.now();
  const step = (name: string) => {
    if (deps.steps) deps.steps[name] = Math.round(performance.now() - t0);
  };
  const { quakes, rejected, retractions } = collectQuakes(payload, acceptedAt);
  step('collected');
  const result: ProducerResult = { accepted: [], rejected, superseded: 0, associated: 0 };
  for (const r of rejected) deps.log?.warn('input rejected', r);
  // Newest version per feed id first (a polled feed repeats ids), then one identity lookup per id.
  const newest = new Map<string, Quake>();
  for (const q of quakes) {
    const k = `${q.drill}:${q.id}`;
    const seen = newest.get(k);
    if (seen && seen.updatedAt >= q.updatedAt) result.superseded++;
    else {
      if (seen) result.superseded++;
      newest.set(k, q);
    }
  }
  const resolved = (
    await mapLimit(timeClusters([...newest.values()]), WRITE_CONCURRENCY, async (cluster) => {
      const out: Awaited<ReturnType<typeof canonicalOf>>[] = [];
      // One after another within a cluster: reports whose association windows overlap write the same buckets, and a
      // payload must not contend with itself (an aftershock sequence is many reports seconds apart).
      for (const q of cluster) out.push(await canonicalOf(deps, q));
      return out;
    })
  ).flat();
  step('identity');
  const toSend = new Map<string, Quake>();
  // The report behind each event version: its publisher is recorded as a source of the event, and a known report's
  // new solution goes into the association buckets once its version is accepted (below).
  const reportOf = new Map<Quake, Quake>();
  const known = new Set<Quake>();
  for (const { event, associated, report, known: isKnown } of resolved) {
    reportOf.set(event, report);
    if (isKnown) known.add(event);
    if (associated) result.associated++;
    if (event.drill === false && (deps.published?.get(event.id) ?? -1) >= event.updatedAt) {
      result.superseded++;
      continue;
    }
    const pending = toSend.get(`${event.drill}:${event.id}`);
    if (pending && pending.updatedAt >= event.updatedAt) {
      // Two sources' versions of one event in one payload: only the newest is produced.
      result.superseded++;
      continue;
    }
    if (pending) result.superseded++;
    toSend.set(`${event.drill}:${event.id}`, event);
  }
  // Table writes of distinct events are independent: run them side by side (a feed holds thousands).
  const verdicts = await mapLimit([...toSend.values()], WRITE_CONCURRENCY, (e) =>
    acceptVersion(deps.events, e, acceptedAt, reportOf.get(e)?.source),
  );
  const fresh = [...toSend.values()].filter((_, i) => verdicts[i]);
  result.superseded += verdicts.filter((v) => !v).length;
  step('accepted');
  await mapLimit(fresh, WRITE_CONCURRENCY, async (e) => {
    const report = reportOf.get(e);
    if (report && known.has(e))
      await registerSolution(deps.events, report, {
        canonicalId: e.id,
        canonicalSource: e.source,
        outcome: 'known',
      });
  });
  if (fresh.length > 0) {
    // Throws after kafkajs' retries, naming the ids left unpublished: the invocation fails (Lambda's retry / DLQ keep
    // the payload for async callers), and the versions wait in the events table for the sweep.
    try {
      await deps.producer.send({
        topic: deps.topic,
        acks: -1,
        messages: fresh.map((q) => eventMessage(q, acceptedAt)),
      });
    } catch (err) {
      throw new UnpublishedError(
        fresh.map((q) => q.id),
        { cause: err },
      );
    }
    step('sent');
    await mapLimit(fresh, WRITE_CONCURRENCY, (q) => markPublished(deps.events, q.id, q.updatedAt));
    step('published');
    for (const q of fresh) {
      deps.published?.set(q.id, q.updatedAt);
      result.accepted.push(q.id);
    }
  }
  if (retractions.length > 0) result.retracted = await produceRetractions(retractions, deps, acceptedAt);
  return result;
}

/** Records each retraction against its canonical event and produces those that withdraw the event entirely. */
async function produceRetractions(
  retractions: readonly Retraction[],
  deps: ProduceDeps,
  acceptedAt: number,
): Promise<NonNullable<ProducerResult['retracted']>> {
  const out: NonNullable<ProducerResult['retracted']> = [];
  const messages: ReturnType<typeof retractionMessage>[] = [];
  for (const r of retractions) {
    const known = await lookupCanonical(deps.events, [r.id], r.drill);
    if (!known) {
      deps.log?.warn('retraction of an unknown event', { id: r.id, source: r.source, reason: r.reason });
      out.push({ id: r.id, source: r.source, outcome: 'unknown' });
      continue;
    }
    const outcome = await retract(deps.events, known.canonicalId, r, acceptedAt);
    out.push({ id: r.id, source: r.source, eventId: known.canonicalId, outcome });
    deps.log?.info('retraction', { id: r.id, eventId: known.canonicalId, source: r.source, outcome });
    if (outcome === 'retracted') messages.push(retractionMessage(known.canonicalId, r, acceptedAt));
  }
  if (messages.length > 0) {
    await deps.producer.send({ topic: deps.topic, acks: -1, messages });
    await mapLimit(messages, WRITE_CONCURRENCY, (m) => markRetractionPublished(deps.events, m.key));
  }
  return out;
}

export interface SweepResult {
  /** Event ids whose stranded version (or retraction) was published now. */
  republished: string[];
}

/**
 * The sweep of stranded events (issue 11): versions the producer accepted but Kafka never acknowledged
 * (`published = false`, accepted more than `minAgeMs` ago so an in-flight produce is not raced) and retractions
 * likewise (`retractionPublished = false`) are produced again, oldest first, then marked published. Conditional marks
 * keep a newer version's flag. Called by the producer at most once a minute per environment (scheduled polls and
 * ordinary invocations alike). A full scan with a filter: the events table is small. Sent in parts of
 * `SWEEP_SEND_PART` messages, each marked published once Kafka took it; throws what Kafka throws (the parts sent before
 * stay published).
 */
export async function republishStranded(
  deps: Pick<ProduceDeps, 'events' | 'producer' | 'topic' | 'log' | 'now'>,
  opts: { minAgeMs?: number } = {},
): Promise<SweepResult> {
  const now = (deps.now ?? Date.now)();
  const cutoff = now - (opts.minAgeMs ?? 15_000);
  const versions: { quake: Quake; acceptedAt: number }[] = [];
  const retractions: { eventId: string; drill: boolean; retraction: RetractionRecord }[] = [];
  for await (const page of paginateScan(
    { client: deps.events.ddb },
    {
      TableName: deps.events.table,
      FilterExpression: '(published = :f OR retractionPublished = :f) AND acceptedAt < :cutoff',
      ExpressionAttributeValues: { ':f': false, ':cutoff': cutoff },
    },
  )) {
    for (const it of (page.Items ?? []) as EventRecord[]) {
      if (it.published === false && it.quake) versions.push({ quake: it.quake, acceptedAt: it.acceptedAt ?? now });
      if (it.retractionPublished === false && it.retraction) {
        retractions.push({ eventId: it.eventId, drill: it.quake?.drill === true, retraction: it.retraction });
      }
    }
  }
  const result: SweepResult = { republished: [] };
  if (versions.length === 0 && retractions.length === 0) return result;
  versions.sort((a, b) => a.acceptedAt - b.acceptedAt);
  // Oldest version first, retractions after; each part marked published as soon as Kafka took it, so a failure part-way
  // keeps what went out and the next sweep sends only the rest.
  const outgoing = [
    ...versions.map((v) => ({
      id: v.quake.id,
      message: eventMessage(v.quake, v.acceptedAt),
      mark: () => markPublished(deps.events, v.quake.id, v.quake.updatedAt),
    })),
    ...retractions.map((r) => ({
      id: r.eventId,
      message: retractionMessage(
        r.eventId,
        { id: r.eventId, drill: r.drill, ...r.retraction },
        r.retraction.acceptedAt,
      ),
      mark: () => markRetractionPublished(deps.events, r.eventId),
    })),
  ];
  try {
    for (let i = 0; i < outgoing.length; i += SWEEP_SEND_PART) {
      const part = outgoing.slice(i, i + SWEEP_SEND_PART);
      await deps.producer.send({ topic: deps.topic, acks: -1, messages: part.map((o) => o.message) });
      await mapLimit(part, WRITE_CONCURRENCY, (o) => o.mark());
      result.republished.push(...part.map((o) => o.id));
    }
  } finally {
    if (result.republished.length) deps.log?.info('stranded events published', { eventIds: result.republished });
  }
  return result;
}

/**
 * Messages per produce request of the sweep: after a long outage the stranded versions can be thousands, and one
 * request's record batch may not exceed the broker's `message.max.bytes` (1 MB by default; the broker answers
 * MESSAGE_TOO_LARGE, and a sweep sending them as one would never publish them). 500 event messages are ~250–400 KB.
 */
export const SWEEP_SEND_PART = 500;
