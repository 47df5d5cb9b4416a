/**
 * The priming steps of the consumer and the segment worker (shared/infra/prime.ts): the requests and the code their
 * first alert runs, on a missing event, a missing segment and synthetic quakes, so nothing is written. What each step
 * stands for is named after the call on the alert path it warms.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { claimNext, type EventStore, getEvent } from '../events/store.ts';
import {
  PRIME_CELL,
  PRIME_EVENT_ID,
  PRIME_REPEAT,
  PRIME_REVISION,
  PRIME_SEGMENT,
  type PrimeContext,
  type PrimeStep,
  primeRepeated,
} from '../infra/prime.ts';

export { PRIME_REPEAT } from '../infra/prime.ts';

import { EVENT_SCHEMA } from '../ingest/types.ts';
import { TargetGuard } from '../notify/address.ts';
import { buildNotification } from '../notify/build.ts';
import type { Notification } from '../notify/types.ts';
import { encodeBatch, postBatch } from '../notify/webhook.ts';
import type { Quake } from '../quake/types.ts';
import { cellCircle, coveringCells } from '../segments/cells.ts';
import { subscriberFromItem } from '../segments/store.ts';
import type { SegmentPage, SegmentRef, Subscriber } from '../segments/types.ts';
import { intensityModelFor } from '../seismo/intensity.ts';
import { epicentralKm, secondsUntilShaking } from '../seismo/travel.ts';
import { decodeRecord, type KafkaRecord } from './kafka-event.ts';
import { subscriberLevel } from './ledger.ts';
import { planFanout } from './plan.ts';

/**
 * Synthetic quakes for the pure code: a shallow crustal one and an intermediate-depth Vrancea one, so both intensity
 * models' code is compiled. Drills, never sent anywhere.
 */
function syntheticQuakes(now: number): Quake[] {
  const base = {
    source: 'quakectl',
    magType: 'mw',
    place: 'priming',
    status: 'automatic' as const,
    kind: 'earthquake',
    drill: true,
    originTime: now - 5000,
    updatedAt: now,
  };
  return [
    {
      ...base,
      id: `${PRIME_EVENT_ID}-a`,
      sourceIds: [`${PRIME_EVENT_ID}-a`],
      lat: 0,
      lon: 0,
      depthKm: 10,
      magnitude: 5,
    },
    {
      ...base,
      id: `${PRIME_EVENT_ID}-b`,
      sourceIds: [`${PRIME_EVENT_ID}-b`],
      lat: 45.77,
      lon: 26.76,
      depthKm: 94,
      magnitude: 6,
    },
    // Large enough for the planner's whole-table path (allSegments) as well as the covering-cells one.
    {
      ...base,
      id: `${PRIME_EVENT_ID}-c`,
      sourceIds: [`${PRIME_EVENT_ID}-c`],
      lat: 45.77,
      lon: 26.76,
      depthKm: 94,
      magnitude: 7.4,
    },
  ];
}

/** Subscribers around a quake, as a segment Query returns them (item form), `n` of them on a 0.05° grid. */
function syntheticItems(q: Quake, n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    segment: PRIME_SEGMENT,
    subscriberId: `quakectl-prime-${i}`,
    lat: q.lat + 0.05 * (i % 20),
    lon: q.lon + 0.05 * Math.floor(i / 20),
    minMmi: 3 + (i % 3),
    channel: { type: 'webhook', target: 'https://prime.invalid/hook', secret: 'quakectl-prime-secret' },
    locale: i % 2 ? 'ro' : 'en',
  }));
}

/** A batch's worth of subscribers per synthetic quake: enough calls for V8 to compile the alert path's hot loop. */
const PRIME_SUBSCRIBERS = 200;
/** Subscribers the worker's priming Query reads: the quick start's first page (worker.ts QUICK_START_BATCH). */
const PRIME_QUERY_LIMIT = 100;
/** Subscribers per slice of CPU work between checks of the priming's time bound (`PrimeContext.slice`). */
const PRIME_SLICE = 50;

/**
 * The alert path's pure code on synthetic quakes, `PRIME_SUBSCRIBERS` subscribers each: item → subscriber, intensity,
 * level, travel time, notification, signed batch body. Returns the notifications (for `postToLoopback`).
 */
async function primeAlertCode(now: number, ctx: PrimeContext): Promise<Notification[]> {
  const out: Notification[] = [];
  for (const q of syntheticQuakes(now)) {
    const model = intensityModelFor(q);
    const items = syntheticItems(q, PRIME_SUBSCRIBERS);
    for (let i = 0; i < items.length; i++) {
      if (i % PRIME_SLICE === 0) await ctx.slice();
      const s: Subscriber = subscriberFromItem(items[i]);
      const { mmi } = subscriberLevel(model, s);
      out.push(
        buildNotification(q, s, {
          mmi,
          level: 'take-action',
          distanceKm: epicentralKm(q, s),
          secondsUntilShaking: secondsUntilShaking(q, s, now),
          builtAt: now,
        }),
      );
    }
  }
  encodeBatch(out.slice(0, 100), 'quakectl-prime-secret', now);
  return out;
}

/**
 * Posts two signed batches to a receiver this process opens on 127.0.0.1 for the purpose, through the webhook client
 * (undici, its HTTP parser, retries, signature), then closes it: the client's first request to a real receiver then
 * finds its code compiled. Nothing leaves the environment.
 */
async function postToLoopback(notifications: readonly Notification[]): Promise<void> {
  // The receiver closes each connection after answering: nothing kept alive to wait for or to destroy at the end
  // (destroying a socket builds an error whose stack, under --enable-source-maps, parses the bundle's whole source
  // map: seconds of CPU when several environments initialise at once, past the priming's bound).
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204, { connection: 'close' }).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const guard = new TargetGuard({ allowPrivate: true });
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prime`;
    const opts = { timeoutMs: 2000, maxAttempts: 1, backoffBaseMs: 0, backoffMaxMs: 0, guard };
    for (let i = 0; i < 2; i++) {
      const r = await postBatch(url, notifications.slice(i * 100, i * 100 + 100), 'quakectl-prime-secret', opts);
      if (!r.ok) throw new Error(`loopback post failed: ${r.reason}`);
    }
  } finally {
    await guard.close().catch(() => {});
    await new Promise((resolve) => server.close(resolve));
  }
}

/** One synthetic shard of 100 subscribers per cell: what the planner orders and groups. */
const syntheticShards = (cells: readonly string[]): SegmentRef[] =>
  cells.map((cell) => ({ cell, shard: 0, count: 100, key: `${cell}#0` }));

export interface ConsumerPrimeDeps {
  events: EventStore;
  segmentsForCells(cells: readonly string[]): Promise<SegmentRef[]>;
  /** One page (Limit 1) of the segments table's Scan: the planner's whole-table read for large footprints. */
  scanSegmentsPage(): Promise<unknown>;
  /**
   * Every row of the segments table (`SubscriberStore.allSegments`): the circles of their cells and areas are what the
   * planner computes first for a real footprint (`segments.circles`).
   */
  allSegments?(): Promise<SegmentRef[]>;
  /** A `DryRun` invoke of the worker's alias (what `startChain` invokes). */
  dryRunWorker(): Promise<unknown>;
  dlqUrl(): Promise<string>;
  now?: () => number;
}

/** Cells whose circle is computed per slice of the `segments.circles` step (~5 µs each warm). */
const CIRCLES_SLICE = 2000;

/**
 * The circle (cells.ts `cellCircle`, kept across invocations) of every shard's res-5 cell and area cell in the
 * segments table: the planner needs them for any real footprint, ~12,000 of them for a drill's 800 shards, 50–80 ms
 * of the first alert's planning when computed then (docs/fanout-benchmark.md, "The first alert's path: planning").
 * Reads only; stops between slices when the priming's time is up.
 */
async function primeCircles(all: () => Promise<SegmentRef[]>, ctx: PrimeContext): Promise<number> {
  const cells = new Set<string>();
  for (const ref of await all()) {
    cells.add(ref.cell);
    for (const c of ref.area ?? []) cells.add(c);
  }
  let n = 0;
  for (const c of cells) {
    if (n++ % CIRCLES_SLICE === 0) await ctx.slice();
    cellCircle(c);
  }
  return cells.size;
}

/**
 * A Kafka record as the event source mapping delivers it (value base64 of the producer's message, headers as byte
 * arrays), carrying a synthetic drill quake: what `decodeRecord` and the quake's validation run on first.
 */
function syntheticRecord(q: Quake, now: number): KafkaRecord {
  const value = JSON.stringify({ schema: EVENT_SCHEMA, quake: q, acceptedAt: now });
  const header = (k: string, v: string) => ({ [k]: [...Buffer.from(v)] });
  return {
    topic: 'quakectl-prime',
    partition: 0,
    offset: 0,
    timestamp: now,
    key: Buffer.from(q.id).toString('base64'),
    value: Buffer.from(value).toString('base64'),
    headers: [header('source', q.source), header('schema', String(EVENT_SCHEMA)), header('drill', String(q.drill))],
  };
}

/** The record decoding of the consumer's first batch, on each synthetic quake (pure). */
async function primeDecode(now: number, ctx: PrimeContext): Promise<void> {
  for (let i = 0; i < PRIME_REPEAT; i++) {
    for (const q of syntheticQuakes(now)) {
      const d = decodeRecord(syntheticRecord(q, now));
      if (!d.ok) throw new Error(`priming record refused: ${d.reason}`);
    }
    await ctx.slice();
  }
}

/**
 * A few real items of the events table (a Scan of `limit`): an event, its plan or an identity item, whichever the table
 * holds first. The prime event does not exist, so its read parses no item; the first alert's event and plan reads
 * (nested maps, lists of hundreds of keys) then find the document client's conversion of real items compiled. Reads only.
 */
async function primeRealEventItems(events: EventStore, ctx: PrimeContext): Promise<void> {
  await primeRepeated(() => events.ddb.send(new ScanCommand({ TableName: events.table, Limit: 5 })), ctx);
}

/** Consumer: event read, conditional write, segments read, the planner, the worker's invoke, the DLQ's URL. */
export function consumerPrimeSteps(deps: ConsumerPrimeDeps): PrimeStep[] {
  const now = deps.now ?? Date.now;
  const all = deps.allSegments;
  return [
    ...(all ? [{ name: 'segments.circles', run: (ctx: PrimeContext) => primeCircles(all, ctx) }] : []),
    { name: 'record.decode', run: (ctx) => primeDecode(now(), ctx) },
    { name: 'events.items', run: (ctx) => primeRealEventItems(deps.events, ctx) },
    { name: 'events.get', run: (ctx) => primeRepeated(() => getEvent(deps.events, PRIME_EVENT_ID), ctx) },
    // Fails its condition (no event has revision 0): the same UpdateItem and error path as a claim or a plan save.
    {
      name: 'events.conditional-update',
      run: (ctx) => primeRepeated(() => claimNext(deps.events, PRIME_EVENT_ID, PRIME_REVISION), ctx),
    },
    { name: 'segments.query', run: (ctx) => primeRepeated(() => deps.segmentsForCells([PRIME_CELL]), ctx) },
    { name: 'segments.scan', run: () => deps.scanSegmentsPage() },
    {
      name: 'plan',
      run: async (ctx) => {
        for (const q of syntheticQuakes(now())) {
          await ctx.slice();
          await planFanout(q, {
            coveringCells,
            segmentsForCells: async (cells) => syntheticShards(cells),
            allSegments: async () => syntheticShards(coveringCells(q.lat, q.lon, 400)),
            chains: 4,
            now: now(),
          });
        }
      },
    },
    { name: 'lambda.invoke-dry-run', run: () => deps.dryRunWorker() },
    { name: 'sqs.dlq-url', run: () => deps.dlqUrl() },
  ];
}

export interface WorkerPrimeDeps {
  events: EventStore;
  readSegmentPage(key: string, opts: { limit: number }): Promise<SegmentPage>;
  /**
   * A shard that holds subscribers (`SubscriberStore.sampleSegment`): its first page is what the quick start reads, so
   * the Query's response parsing and item conversion run on real items (the prime segment returns none).
   */
  sampleSegment?(): Promise<SegmentRef | undefined>;
  /** A `DryRun` invoke of the worker's own alias (what the domino's successor invokes). */
  dryRunSelf(): Promise<unknown>;
  dlqUrl(): Promise<string>;
  now?: () => number;
}

/**
 * Segment worker: event read, conditional write, a real shard's first page (the quick start's Query, 100 items), the
 * alert code, fetch, its own invoke, the DLQ. Reads only, and conditional writes that fail.
 */
export function workerPrimeSteps(deps: WorkerPrimeDeps): PrimeStep[] {
  const now = deps.now ?? Date.now;
  return [
    { name: 'events.items', run: (ctx) => primeRealEventItems(deps.events, ctx) },
    { name: 'events.get', run: (ctx) => primeRepeated(() => getEvent(deps.events, PRIME_EVENT_ID), ctx) },
    {
      name: 'events.conditional-update',
      run: (ctx) => primeRepeated(() => claimNext(deps.events, PRIME_EVENT_ID, PRIME_REVISION), ctx),
    },
    {
      name: 'subscribers.query',
      run: async (ctx) => {
        const real = await deps.sampleSegment?.();
        const key = real?.key ?? PRIME_SEGMENT;
        await primeRepeated(() => deps.readSegmentPage(key, { limit: PRIME_QUERY_LIMIT }), ctx);
      },
    },
    {
      name: 'alert-code+webhook',
      run: async (ctx) => {
        await postToLoopback(await primeAlertCode(now(), ctx));
      },
    },
    { name: 'lambda.invoke-dry-run', run: () => deps.dryRunSelf() },
    { name: 'sqs.dlq-url', run: () => deps.dlqUrl() },
  ];
}
