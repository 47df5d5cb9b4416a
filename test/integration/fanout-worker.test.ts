/**
 * The segment-worker loop on the local stack, in-process: real DynamoDB tables (dynalite), a real Deliverer posting
 * signed batches to a loopback webhook sink, a real delivery DLQ. The Lambda parts (successor invoke, environment
 * death) are replaced by calling the loop again, which is what Lambda does.
 */
import { randomBytes } from 'node:crypto';
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWebhookSink, type WebhookSink } from '../../local/webhook-sink.ts';
import { type EventStore, getEvent, getPlan, savePlan } from '../../shared/events/index.ts';
import {
  frontPieceKey,
  frontPieceSegments,
  planFanout,
  runSegmentWorker,
  unitKey,
  unitSegments,
  type WorkerDeps,
  type WorkerPayload,
  workCount,
  workUnit,
} from '../../shared/fanout/index.ts';
import { Ledger } from '../../shared/fanout/ledger.ts';
import { type LockStore, list } from '../../shared/locks/index.ts';
import { Deliverer, DRILL_BANNER } from '../../shared/notify/index.ts';
import type { Quake } from '../../shared/quake/types.ts';
import { coveringCells, SubscriberStore } from '../../shared/segments/index.ts';
import type { SubscriberInput } from '../../shared/segments/types.ts';
import { sTravelTimeS, travelTimeCurve } from '../../shared/seismo/travel.ts';
import { drillQuake, expectedIds, population } from './pipeline-fixtures.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

const SECRET = 'fanout-test-secret';
let stack: TestStack;
let sink: WebhookSink;
let store: SubscriberStore;
let events: EventStore;
let locks: LockStore;
let deliverer: Deliverer;
let subs: SubscriberInput[];
const segmentOf = new Map<string, string>();

beforeAll(async () => {
  stack = await testStack('fan', ['subscribers', 'segments', 'events', 'locks'], ['delivery']);
  sink = await startWebhookSink({ secrets: SECRET });
  const { ddb } = stack.clients;
  store = new SubscriberStore(ddb, stack.names, { maxSegmentSize: 150 });
  events = { ddb, table: stack.names.table('events') };
  locks = { ddb, table: stack.names.table('locks') };
  deliverer = new Deliverer({ sqs: stack.clients.sqs, names: stack.names, allowPrivateTargets: true, batchSize: 100 });
  subs = population({ count: 2500, maxKm: 140, dense: 400, target: `${sink.url}/hooks/a`, secret: SECRET });
  const r = await store.upsert(subs);
  expect(r.rejected).toEqual([]);
  for await (const page of paginateScan({ client: ddb }, { TableName: stack.names.table('subscribers') })) {
    for (const item of page.Items ?? []) segmentOf.set(item.subscriberId as string, item.segment as string);
  }
});
afterAll(async () => {
  await sink?.close();
  await stack?.cleanup();
});
beforeEach(() => sink.reset());

async function planned(quake: Quake, chains: number) {
  const plan = await planFanout(quake, {
    minSubscriberMmi: 3,
    coveringCells,
    segmentsForCells: (cells) => store.segmentsForCells(cells),
  });
  const saved = await savePlan(events, quake, { ...plan, segments: plan.segments, chains });
  expect(saved?.revision).toBe(1);
  return plan;
}

function deps(over: Partial<WorkerDeps> = {}): WorkerDeps {
  return {
    events,
    locks,
    subscribers: store,
    deliver: (items) => deliverer.deliver(items),
    invokeSuccessor: async () => {},
    remainingMs: () => 60_000,
    owner: `w-${randomBytes(3).toString('hex')}`,
    leaseMs: 5000,
    pageSize: 100,
    reserveMs: 1000,
    ...over,
  };
}

function assertDeliveredExactly(quake: Quake) {
  const want = expectedIds(quake, subs);
  const got = sink.received();
  expect(sink.badSignatures()).toBe(0);
  expect(
    got.every(
      (n) => n.drill === true && n.eventId === quake.id && n.text.startsWith(DRILL_BANNER[n.locale as 'en' | 'ro']),
    ),
  ).toBe(true);
  expect(new Set(got.map((n) => n.subscriberId))).toEqual(want);
  expect(got).toHaveLength(want.size);
  return want;
}

describe('segment worker loop', () => {
  it('a chain’s first batch is one read wave of at most 4 of the nearest shards, delivered before the next is read', async () => {
    // Epicentre ~120 km east of the population's centre: the nearest cells are sparse, a few subscribers per shard.
    const base = drillQuake(`fan-quick-${randomBytes(3).toString('hex')}`);
    const quake = { ...base, lon: base.lon + 1.5, magnitude: 6.2 };
    const plan = await planned(quake, 1);
    const batches: string[][] = [];
    const infos: [string, Record<string, unknown> | undefined][] = [];
    await runSegmentWorker(
      deps({
        deliver: (items) => {
          batches.push(items.map((i) => segmentOf.get(i.notification.subscriberId)!));
          return deliverer.deliver(items);
        },
        log: { info: (m, f) => void infos.push([m, f]), warn: () => {} },
      }),
      { eventId: quake.id, chain: 0, hop: 0 },
    );
    assertDeliveredExactly(quake);
    // The first delivery's path, step by step, logged once: each step after the one before it.
    const traces = infos.filter(([m]) => m === 'first delivery');
    expect(traces).toHaveLength(1);
    const steps = traces[0][1]?.msFromStart as Record<string, number>;
    const order = ['event', 'plan', 'ledger', 'lock', 'read', 'built', 'delivered'];
    expect(Object.keys(steps).filter((k) => order.includes(k))).toEqual(order);
    for (let i = 1; i < order.length; i++) expect(steps[order[i]]).toBeGreaterThanOrEqual(steps[order[i - 1]]);
    // Chain 0 began work item 0 without claiming it (the event's directItems): no claim before its first alert.
    expect(steps.claim).toBeUndefined();
    const first = [...new Set(batches[0])];
    expect(batches[0].length).toBeLessThanOrEqual(100);
    expect(first.length).toBeLessThanOrEqual(4);
    // The nearest shards, in plan order (a shard with nobody eligible adds no item, so compare as a subset).
    const nearest = plan.segments.slice(0, 4);
    for (const s of first) expect(nearest).toContain(s);
  });

  it('an urgent unit’s batches go out earliest S arrival first, in chunks of at most 200; later units as read', async () => {
    // Origin now: units whose nearest point the S wave reaches within 10 s (≈35 km) are urgent.
    const quake = drillQuake(`fan-urgent-${randomBytes(3).toString('hex')}`);
    const plan = await planned(quake, 1);
    const unitOf = new Map<string, number>();
    plan.units.forEach((start, u) => {
      const end = plan.units[u + 1] ?? plan.segments.length;
      for (const seg of plan.segments.slice(start, end)) unitOf.set(seg, u);
    });
    const calls: { unit: number; urgency: number[] }[] = [];
    const startedAt = Date.now();
    await runSegmentWorker(
      deps({
        pageSize: 500,
        deliver: (items) => {
          const units = new Set(items.map((i) => unitOf.get(segmentOf.get(i.notification.subscriberId)!)!));
          expect(units.size).toBe(1); // a batch never spans two units
          const urgency = items.map((i) =>
            i.notification.secondsUntilShaking > 0 ? i.notification.secondsUntilShaking : Number.POSITIVE_INFINITY,
          );
          calls.push({ unit: [...units][0], urgency });
          return deliverer.deliver(items);
        },
      }),
      { eventId: quake.id, chain: 0, hop: 0 },
    );
    assertDeliveredExactly(quake);
    expect(sink.duplicates()).toBe(0);
    // Seconds from the run's start until the S wave reaches unit u's nearest point.
    const curve = travelTimeCurve('S', quake.depthKm);
    const sNearS = (u: number) =>
      (quake.originTime - startedAt) / 1000 + curve.timeAtKm(plan.distancesKm[plan.units[u]]);
    const sorted = (xs: number[]) => xs.every((x, i) => i === 0 || xs[i - 1] <= x);
    let urgentCalls = 0;
    let chunkRuns = 0;
    let laterUnsorted = 0;
    for (let i = 1; i < calls.length; i++) {
      const c = calls[i];
      if (sNearS(c.unit) < 9) {
        // Urgent (with a second of margin for the test's own run time): each call in S order, at most 200, and a
        // run of calls within one batch continues the order (chunks of one sorted batch).
        expect(sorted(c.urgency)).toBe(true);
        expect(c.urgency.length).toBeLessThanOrEqual(200);
        urgentCalls++;
        const prev = calls[i - 1];
        if (prev.unit === c.unit && prev.urgency.length === 200 && prev.urgency.at(-1)! <= c.urgency[0]) chunkRuns++;
      } else if (sNearS(c.unit) > 11) {
        if (!sorted(c.urgency)) laterUnsorted++;
      }
    }
    expect(urgentCalls).toBeGreaterThan(3);
    expect(chunkRuns).toBeGreaterThan(0);
    // Units the S wave reaches later go out as read (id order, no sorting): the ordering above is the change's.
    expect(laterUnsorted).toBeGreaterThan(0);
  });

  /** One chain over `quake` (planned for one chain), every delivered item in order with its unit and S arrival. */
  async function oneChainLog(quake: Quake, over: Partial<WorkerDeps> = {}) {
    const plan = await planned(quake, 1);
    const unitOf = new Map<string, number>();
    plan.units.forEach((start, u) => {
      for (const seg of plan.segments.slice(start, plan.units[u + 1] ?? plan.segments.length)) unitOf.set(seg, u);
    });
    const byId = new Map(subs.map((x) => [x.id, x]));
    const log: { id: string; unit: number; sAt: number; warned: boolean }[] = [];
    const startedAt = Date.now();
    const result = await runSegmentWorker(
      deps({
        pageSize: 100,
        ...over,
        deliver: (items) => {
          for (const i of items) {
            const id = i.notification.subscriberId;
            const sAt = quake.originTime + sTravelTimeS(quake, byId.get(id)!) * 1000;
            const unit = unitOf.get(segmentOf.get(id)!)!;
            log.push({ id, unit, sAt, warned: i.notification.secondsUntilShaking > 0 });
          }
          return deliverer.deliver(items);
        },
      }),
      { eventId: quake.id, chain: 0, hop: 0 },
    );
    // Units the S wave reaches (nearest point) within 9 s of the start: urgent to the worker (10 s) for the whole run.
    const curve = travelTimeCurve('S', quake.depthKm);
    const urgent = (u: number) =>
      quake.originTime + curve.timeAtKm(plan.distancesKm[plan.units[u]]) * 1000 < startedAt + 9000;
    return { plan, log, startedAt, urgent, result };
  }

  it('an urgent unit goes out in S-arrival order across the whole unit, not batch by batch', async () => {
    const inOrder = (xs: number[]) => xs.every((x, i) => i === 0 || xs[i - 1] <= x);
    /** Urgent units with more than one batch whose warned subscribers did not go out earliest S arrival first. */
    const unordered = async (over: Partial<WorkerDeps>) => {
      const quake = drillQuake(`fan-whole-${randomBytes(3).toString('hex')}`);
      const { plan, log, urgent } = await oneChainLog(quake, over);
      assertDeliveredExactly(quake);
      expect(sink.duplicates()).toBe(0);
      sink.reset();
      let checked = 0;
      let out = 0;
      // The chain's first unit starts with its nearest shard's first page (the quick start's prefix window), then
      // the rest in one order: it is left out.
      for (let u = 0; u < plan.units.length; u++) {
        const xs = log.filter((e) => e.unit === u && e.warned).map((e) => e.sAt);
        if (!urgent(u) || xs.length <= 100 || u === log[0].unit) continue;
        checked++;
        if (!inOrder(xs)) out++;
      }
      return { checked, out };
    };
    const sorted = await unordered({});
    expect(sorted.checked).toBeGreaterThan(0);
    expect(sorted.out).toBe(0);
    // The contrast: read in key order with each batch of 100 sorted on its own, the same units are out of order.
    const batchwise = await unordered({ sortUrgentUnits: false });
    expect(batchwise.checked).toBeGreaterThan(0);
    expect(batchwise.out).toBeGreaterThan(0);
  });

  it('a unit straddling the blind zone: its warnable part goes with the urgent units, those already shaking after them', async () => {
    /**
     * Origin 4 s ago: the S wave has passed the dense core (within 3 km) and is crossing the nearest units. Returns
     * how many urgent-unit alerts that still warned went out after the first already-shaking subscriber of a unit that
     * also had subscribers it could warn (a straddling unit), and how many such straddling units there were.
     */
    const run = async (over: Partial<WorkerDeps>) => {
      const quake = drillQuake(`fan-park-${randomBytes(3).toString('hex')}`, { originTime: Date.now() - 4000 });
      const { log, startedAt, urgent, result } = await oneChainLog(quake, over);
      assertDeliveredExactly(quake);
      expect(sink.duplicates()).toBe(0);
      expect(result.completedEvent).toBe(true);
      expect(result.takeovers).toBe(0);
      sink.reset();
      const warnedUnits = new Set(log.filter((e) => e.warned).map((e) => e.unit));
      const straddling = new Set(log.filter((e) => e.sAt < startedAt && warnedUnits.has(e.unit)).map((e) => e.unit));
      const firstShaken = log.findIndex((e) => straddling.has(e.unit) && e.sAt < startedAt);
      const warnedAfter = log.filter((e, i) => i > firstShaken && e.warned && urgent(e.unit)).length;
      return { straddling: straddling.size, warnedAfter };
    };
    const parked = await run({});
    expect(parked.straddling).toBeGreaterThan(0);
    expect(parked.warnedAfter).toBe(0);
    // The contrast: in key order, a straddling unit's shaken subscribers go out with it, before later urgent units.
    const inline = await run({ sortUrgentUnits: false });
    expect(inline.straddling).toBeGreaterThan(0);
    expect(inline.warnedAfter).toBeGreaterThan(0);
  });

  it('the ledger reads an urgent unit’s order-key cursor: whoever was acknowledged before a crash counts as sent', async () => {
    const quake = drillQuake(`fan-ledger-${randomBytes(3).toString('hex')}`);
    const plan = await planned(quake, 1);
    const crash = new Error('simulated environment death');
    let batches = 0;
    // Each batch's size: a batch holds at most 100, fewer when its window's pass 1 is smaller (those late at the
    // chain's measured rate wait for pass 2), so the count to expect is these sizes' sum, not 3 × 100.
    const sizes: number[] = [];
    // Dies after its fourth batch was delivered, before that batch's checkpoint.
    await expect(
      runSegmentWorker(
        deps({
          deliver: (items) => {
            sizes.push(items.length);
            return deliverer.deliver(items);
          },
          afterDeliver: () => {
            if (++batches === 4) throw crash;
          },
        }),
        { eventId: quake.id, chain: 0, hop: 0 },
      ),
    ).rejects.toBe(crash);
    expect(sizes).toHaveLength(4);
    const delivered = new Set(sink.received().map((n) => n.subscriberId));
    const ev = (await getEvent(events, quake.id))!;
    const locksNow = await list(locks, { eventId: quake.id });
    expect(locksNow.some((l) => l.cursor?.includes('"front"'))).toBe(true);
    // What a second revision's run would be told was already sent.
    const ledger = await Ledger.load({
      eventId: quake.id,
      revision: 2,
      runs: ev.runs,
      locks,
      planOf: (key) => getPlan(events, { ...ev, planKey: key }),
    });
    const coverage = await ledger.coverage(plan.segments);
    const sent = new Set(
      subs
        .filter((x) => segmentOf.has(x.id))
        .filter(
          (x) =>
            coverage.sent(segmentOf.get(x.id), { ...x, minMmi: x.minMmi ?? 3, locale: x.locale ?? 'en' }) !== 'none',
        )
        .map((x) => x.id),
    );
    // The three checkpointed batches count as sent; the batch in flight does not (it is sent again, same id).
    const checkpointed = sizes[0] + sizes[1] + sizes[2];
    expect(checkpointed).toBeGreaterThan(0);
    expect(sent.size).toBeGreaterThanOrEqual(checkpointed);
    for (const id of sent) expect(delivered.has(id), id).toBe(true);
    expect(delivered.size - sent.size).toBeLessThanOrEqual(sizes[3]);
  });

  it('one chain delivers every eligible subscriber once, nearest segments first, and completes the event', async () => {
    const quake = drillQuake(`fan-one-${randomBytes(3).toString('hex')}`);
    const plan = await planned(quake, 1);
    expect(plan.segments.length).toBeGreaterThan(5);
    expect([...plan.distancesKm].sort((a, b) => a - b)).toEqual(plan.distancesKm);

    const result = await runSegmentWorker(deps(), { eventId: quake.id, chain: 0, hop: 0 });
    expect(result.completedEvent).toBe(true);
    const want = assertDeliveredExactly(quake);
    expect(sink.duplicates()).toBe(0);
    expect(want.size).toBeGreaterThan(300);
    expect(want.size).toBeLessThan(subs.length);

    // Nearest first: the first receipt of each work unit follows plan order. (Inside an urgent unit the order is per
    // subscriber, earliest S arrival first, so two shards of one unit may interleave: the unit is what is ordered.)
    const unitOf = new Map<string, number>();
    plan.units.forEach((start, u) => {
      for (const seg of plan.segments.slice(start, plan.units[u + 1] ?? plan.segments.length)) unitOf.set(seg, u);
    });
    const firstAt = new Map<number, number>();
    for (const r of sink.receipts()) {
      const u = unitOf.get(segmentOf.get(r.notification.subscriberId)!)!;
      if (!firstAt.has(u)) firstAt.set(u, r.receivedAt);
    }
    const order = plan.units
      .map((_, u) => u)
      .filter((u) => firstAt.has(u))
      .map((u) => firstAt.get(u)!);
    expect(order.length).toBeGreaterThan(3);
    for (let i = 1; i < order.length; i++) expect(order[i]).toBeGreaterThanOrEqual(order[i - 1]);

    const ev = await getEvent(events, quake.id);
    expect(ev?.state).toBe('complete');
    expect(ev?.doneCount).toBe(plan.units.length);
    expect(ev?.delivered).toBe(want.size);
    expect(ev?.eligible).toBe(want.size);
    expect(ev?.failed).toBe(0);
    expect(ev?.firstDeliveryAt).toBeLessThanOrEqual(ev!.lastDeliveryAt!);
    expect(ev?.completedAt).toBeGreaterThanOrEqual(ev!.lastDeliveryAt!);
    // The plan lives in its own item; the event item every chain writes carries none of it.
    expect(ev?.plan).toBeUndefined();
    expect(await getPlan(events, ev!)).toMatchObject({
      plan: plan.segments,
      units: plan.units,
      planCounts: plan.counts,
    });
  });

  it('a chain’s first page is read while its first lock is acquired, and read once', async () => {
    const base = drillQuake(`fan-ahead-${randomBytes(3).toString('hex')}`);
    const quake = { ...base, lon: base.lon + 1.5, magnitude: 6.2 };
    await planned(quake, 1);
    const order: string[] = [];
    const reads: string[] = [];
    const lockStore: LockStore = {
      table: locks.table,
      ddb: {
        send: (cmd: { constructor: { name: string } }) => {
          order.push(`lock ${cmd.constructor.name}`);
          return locks.ddb.send(cmd as never);
        },
      } as unknown as LockStore['ddb'],
    };
    const reader = {
      readSegmentPage: (key: string, opts: { cursor?: string; limit?: number } = {}) => {
        order.push('read');
        reads.push(`${key} ${opts.cursor ?? '-'} ${opts.limit}`);
        return store.readSegmentPage(key, opts);
      },
      scanPages: store.scanPages.bind(store),
    };
    await runSegmentWorker(deps({ locks: lockStore, subscribers: reader }), { eventId: quake.id, chain: 0, hop: 0 });
    assertDeliveredExactly(quake);
    // The first subscriber Query is sent before the first lock write, not after it.
    expect(order.indexOf('read')).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('read')).toBeLessThan(order.findIndex((o) => o.startsWith('lock')));
    // And that page is the one the item used: no read of the same first page again.
    expect(reads.filter((r) => r === reads[0])).toHaveLength(1);
    expect(reads[0]).toMatch(/ - 100$/);
  });

  it('a chain done with its own first item takes the direct items no chain has begun before it claims', async () => {
    // Three chains planned, only chain 0 ever runs (the invocations of chains 1 and 2 were lost): their items, two of
    // the nearest, are taken right after chain 0's own, not left to the sweep at the plan's end.
    const base = drillQuake(`fan-adopt-${randomBytes(3).toString('hex')}`);
    const quake = { ...base, lon: base.lon + 1.5, magnitude: 6.2 };
    const plan = await planned(quake, 3);
    const ev = await getEvent(events, quake.id);
    expect(ev?.directItems).toBe(3);
    const work = { front: plan.front, units: plan.units };
    const itemOf = new Map<string, number>();
    for (let k = 0; k < workCount(work); k++) {
      const u = workUnit(work, k);
      const segs =
        u === undefined
          ? frontPieceSegments(work, plan.segments.length, k).map((i) => plan.segments[i])
          : unitSegments(plan.segments, plan.units, u);
      for (const seg of segs) itemOf.set(seg, k);
    }
    expect(workCount(work)).toBeGreaterThan(3);
    const items: number[] = [];
    const taken: unknown[] = [];
    await runSegmentWorker(
      deps({
        deliver: (batch) => {
          for (const i of batch) items.push(itemOf.get(segmentOf.get(i.notification.subscriberId)!)!);
          return deliverer.deliver(batch);
        },
        log: {
          info: (m, f) => void (m === 'direct item not begun by its chain: taken' && taken.push(f?.item)),
          warn: () => {},
        },
      }),
      { eventId: quake.id, chain: 0, hop: 0 },
    );
    assertDeliveredExactly(quake);
    expect(taken).toEqual([1, 2]);
    // Items begun in order 0, 1, 2, then the claimed ones (3 onwards).
    const firstSeen = [...new Set(items)];
    expect(firstSeen.slice(0, 3)).toEqual([0, 1, 2].filter((k) => items.includes(k)));
    expect(Math.min(...firstSeen.slice(3))).toBeGreaterThanOrEqual(3);
    // And when the other chains have begun theirs, chain 0 takes none of them.
    sink.reset();
    const again = { ...quake, id: `${quake.id}-b`, sourceIds: [`${quake.id}-b`] };
    await planned(again, 2);
    const late: unknown[] = [];
    const quiet = {
      info: (m: string, f?: Record<string, unknown>) =>
        void (m === 'direct item not begun by its chain: taken' && late.push(f?.item)),
      warn: () => {},
    };
    await runSegmentWorker(deps({ log: quiet, remainingMs: () => 0 }), { eventId: again.id, chain: 1, hop: 0 });
    await runSegmentWorker(deps({ log: quiet }), { eventId: again.id, chain: 0, hop: 0 });
    expect(late).toEqual([]);
  });

  it('an urgent batch sent in chunks keeps its lease renewed across the chunks, not only within each', async () => {
    // Chunks each shorter than the heartbeat period (lease/3) but together longer than the lease: the lease must be
    // renewed while the batch goes out, as it is for one batch sent at once (else the sweep of another chain may take
    // the unit over mid-batch and send it again).
    const quake = drillQuake(`fan-beat-${randomBytes(3).toString('hex')}`);
    const plan = await planFanout(quake, {
      minSubscriberMmi: 3,
      coveringCells,
      segmentsForCells: (cells) => store.segmentsForCells(cells),
      urgentUnitSize: 1000,
    });
    await savePlan(events, quake, { ...plan, segments: plan.segments, chains: 1 });
    const leaseMs = 1200;
    const margins: number[] = [];
    const sizes: number[] = [];
    await runSegmentWorker(
      deps({
        leaseMs,
        pageSize: 1000,
        deliver: async (items) => {
          const held = (await list(locks, { eventId: quake.id })).filter((l) => l.state === 'running');
          for (const l of held) margins.push(l.leaseUntil - Date.now());
          sizes.push(items.length);
          await new Promise((r) => setTimeout(r, 300));
          return deliverer.deliver(items);
        },
      }),
      // A successor invocation (hop 1) resuming unit 0: no quick start, so the unit is read whole and sent in batches
      // of 1,000.
      { eventId: quake.id, chain: 0, hop: 1, resume: 0 },
    );
    assertDeliveredExactly(quake);
    // A batch of more than 800 went out in chunks of 200: five calls of 300 ms, longer than the 1.2 s lease.
    expect(sizes.slice(0, 4)).toEqual([200, 200, 200, 200]);
    expect(sizes[4]).toBeGreaterThan(0);
    expect(Math.min(...margins)).toBeGreaterThan(0);
  });

  it('a worker dying mid-segment: its lease expires, another resumes from the cursor; only the batch in flight repeats', async () => {
    const quake = drillQuake(`fan-crash-${randomBytes(3).toString('hex')}`);
    const plan = await planned(quake, 3);
    const crash = new Error('simulated environment death');
    // A dies after delivering its second batch of the first segment, before checkpointing it.
    const a = runSegmentWorker(
      deps({
        owner: 'A',
        leaseMs: 1500,
        pageSize: 50,
        afterDeliver: ({ batches }) => {
          if (batches === 2) throw crash;
        },
      }),
      { eventId: quake.id, chain: 0, hop: 0 },
    );
    await expect(a).rejects.toBe(crash);
    const [b, c] = await Promise.all([
      runSegmentWorker(deps({ owner: 'B', pageSize: 50 }), { eventId: quake.id, chain: 1, hop: 0 }),
      runSegmentWorker(deps({ owner: 'C', pageSize: 50 }), { eventId: quake.id, chain: 2, hop: 0 }),
    ]);
    expect(b.takeovers + c.takeovers).toBe(1);
    assertDeliveredExactly(quake);
    // The batch in flight (≤ one page) arrived twice, with the same ids; nothing else did.
    expect(sink.duplicates()).toBeGreaterThan(0);
    expect(sink.duplicates()).toBeLessThanOrEqual(50);
    const ev = await getEvent(events, quake.id);
    expect(ev?.state).toBe('complete');
    expect(ev?.doneCount).toBe(plan.units.length);
    // The first work unit (nearest shards grouped) is the one A held.
    const firstUnit = unitKey(plan.segments, plan.units, 0);
    const first = (await list(locks, { eventId: quake.id })).find((l) => l.segment === firstUnit);
    expect(first?.attempts).toBe(2);
    expect(first?.state).toBe('done');
  });

  it('a hop-0 invocation retried after a crash resumes its own item from the cursor, not from the page read beside the lock', async () => {
    // Lambda retries a failed asynchronous invocation with the same payload: chain 0 at hop 0 again, its own item held
    // under an expired lease with a cursor. The first page it reads while acquiring is the item's start, not the cursor.
    const quake = drillQuake(`fan-retry-${randomBytes(3).toString('hex')}`);
    await planned(quake, 1);
    const crash = new Error('simulated environment death');
    const a = runSegmentWorker(
      deps({
        owner: 'A',
        leaseMs: 1000,
        pageSize: 50,
        sortUrgentUnits: false,
        afterDeliver: ({ batches }) => {
          if (batches === 3) throw crash;
        },
      }),
      { eventId: quake.id, chain: 0, hop: 0 },
    );
    await expect(a).rejects.toBe(crash);
    await new Promise((r) => setTimeout(r, 1100));
    const retry = await runSegmentWorker(deps({ owner: 'A2', pageSize: 50, sortUrgentUnits: false }), {
      eventId: quake.id,
      chain: 0,
      hop: 0,
    });
    expect(retry.takeovers).toBe(1);
    assertDeliveredExactly(quake);
    // Only the batch in flight (≤ one page of 50) arrived twice.
    expect(sink.duplicates()).toBeGreaterThan(0);
    expect(sink.duplicates()).toBeLessThanOrEqual(50);
  });

  it('the domino: a chain low on time hands its segment to a successor, which resumes exactly there', async () => {
    const quake = drillQuake(`fan-domino-${randomBytes(3).toString('hex')}`);
    const plan = await planned(quake, 1);
    const queue: WorkerPayload[] = [{ eventId: quake.id, chain: 0, hop: 0 }];
    const hops: WorkerPayload[] = [];
    while (queue.length > 0) {
      const payload = queue.shift()!;
      hops.push(payload);
      let batches = 0;
      await runSegmentWorker(
        deps({
          pageSize: 60,
          // Each invocation's budget lasts three batches.
          remainingMs: () => (batches >= 3 ? 500 : 60_000),
          afterDeliver: () => {
            batches++;
          },
          invokeSuccessor: async (p) => {
            queue.push(p);
          },
        }),
        payload,
      );
      expect(hops.length).toBeLessThan(500);
    }
    expect(hops.length).toBeGreaterThan(3);
    expect(hops.map((h) => h.hop)).toEqual(hops.map((_, i) => i));
    expect(hops.some((h) => h.resume !== undefined)).toBe(true);
    // The first hand-off comes three batches into the nearest unit (index 0): the successor must resume that unit.
    expect(hops[1]?.resume).toBe(0);
    assertDeliveredExactly(quake);
    expect(sink.duplicates()).toBe(0);
    const ev = await getEvent(events, quake.id);
    expect(ev?.state).toBe('complete');
    expect(ev?.doneCount).toBe(plan.units.length);
  });

  it('the scan baseline reads the whole table in parallel segments and alerts the same subscribers', async () => {
    const quake = drillQuake(`fan-scan-${randomBytes(3).toString('hex')}`);
    const plan = await planFanout(quake, {
      strategy: 'scan',
      scanSegments: 4,
      coveringCells,
      segmentsForCells: (cells) => store.segmentsForCells(cells),
    });
    await savePlan(events, quake, { ...plan, chains: 2 });
    await Promise.all([
      runSegmentWorker(deps(), { eventId: quake.id, chain: 0, hop: 0 }),
      runSegmentWorker(deps(), { eventId: quake.id, chain: 1, hop: 0 }),
    ]);
    assertDeliveredExactly(quake);
    expect((await getEvent(events, quake.id))?.state).toBe('complete');
  });
});

/** A plan with a near-field front for `chains` chains (the consumer's call: chains given). */
async function plannedFront(quake: Quake, chains: number) {
  const plan = await planFanout(quake, {
    minSubscriberMmi: 3,
    coveringCells,
    segmentsForCells: (cells) => store.segmentsForCells(cells),
    chains,
    frontS: 10,
  });
  expect(plan.front?.pieces).toBe(chains);
  const saved = await savePlan(events, quake, { ...plan, chains });
  expect(saved?.total).toBe(workCount(plan));
  return plan;
}

describe('near-field front', () => {
  it('P chains deliver everyone once, each front piece in S-arrival order per window, and complete the event', async () => {
    const quake = drillQuake(`fan-front-${randomBytes(3).toString('hex')}`);
    const plan = await plannedFront(quake, 3);
    const results = await Promise.all(
      [0, 1, 2].map((chain) => runSegmentWorker(deps({ pageSize: 50 }), { eventId: quake.id, chain, hop: 0 })),
    );
    expect(results.some((r) => r.completedEvent)).toBe(true);
    assertDeliveredExactly(quake);
    expect(sink.duplicates()).toBe(0);
    const ev = await getEvent(events, quake.id);
    expect(ev?.state).toBe('complete');
    expect(ev?.doneCount).toBe(workCount(plan));
    // Each piece's lock is done, and its cursor's windows cover the piece's shards in order.
    const pieceLocks = (await list(locks, { eventId: quake.id })).filter((l) => l.segment.startsWith('front#'));
    expect(pieceLocks.map((l) => l.segment).sort()).toEqual([0, 1, 2].map((c) => frontPieceKey(c, 3)));
    expect(pieceLocks.every((l) => l.state === 'done')).toBe(true);
    // Within each pass-1 window, a piece's notifications arrived in S-arrival order.
    const frontShards = new Map<string, number>();
    for (let c = 0; c < 3; c++)
      for (const i of frontPieceSegments(plan, plan.segments.length, c)) frontShards.set(plan.segments[i], c);
    const byPiece = new Map<number, { sMs: number; at: number; id: string }[]>();
    for (const r of sink.receipts()) {
      const seg = segmentOf.get(r.notification.subscriberId)!;
      const c = frontShards.get(seg);
      if (c === undefined) continue;
      const s = subs.find((x) => x.id === r.notification.subscriberId)!;
      const list = byPiece.get(c) ?? [];
      list.push({ sMs: quake.originTime + sTravelTimeS(quake, s) * 1000, at: r.receivedAt, id: s.id });
      byPiece.set(c, list);
    }
    expect(byPiece.size).toBe(3);
    let ordered = 0;
    let pairs = 0;
    for (const list of byPiece.values()) {
      list.sort((a, b) => a.at - b.at);
      for (let i = 1; i < list.length; i++, pairs++) if (list[i].sMs >= list[i - 1].sMs) ordered++;
    }
    // Arrival order across concurrent posts of one batch is not S order; across batches and within windows it is.
    expect(ordered / pairs).toBeGreaterThan(0.6);
  });

  it('a chain dying mid-piece: another takes the piece over from its cursor; only the batch in flight repeats', async () => {
    const quake = drillQuake(`fan-front-crash-${randomBytes(3).toString('hex')}`);
    const plan = await plannedFront(quake, 2);
    const crash = new Error('simulated environment death');
    const a = runSegmentWorker(
      deps({
        owner: 'A',
        leaseMs: 1500,
        pageSize: 30,
        afterDeliver: ({ segment, batches }) => {
          if (segment === frontPieceKey(0, 2) && batches === 3) throw crash;
        },
      }),
      { eventId: quake.id, chain: 0, hop: 0 },
    );
    await expect(a).rejects.toBe(crash);
    const held = (await list(locks, { eventId: quake.id })).find((l) => l.segment === frontPieceKey(0, 2));
    expect(JSON.parse(held!.cursor!).front.pass).toBe(1);
    const b = await runSegmentWorker(deps({ owner: 'B', pageSize: 30 }), { eventId: quake.id, chain: 1, hop: 0 });
    expect(b.takeovers).toBe(1);
    assertDeliveredExactly(quake);
    expect(sink.duplicates()).toBeGreaterThan(0);
    expect(sink.duplicates()).toBeLessThanOrEqual(30);
    const ev = await getEvent(events, quake.id);
    expect(ev?.state).toBe('complete');
    expect(ev?.doneCount).toBe(workCount(plan));
  });

  it('the domino inside a piece: successors resume the piece from its cursor', async () => {
    const quake = drillQuake(`fan-front-domino-${randomBytes(3).toString('hex')}`);
    await plannedFront(quake, 2);
    const queue: WorkerPayload[] = [
      { eventId: quake.id, chain: 0, hop: 0 },
      { eventId: quake.id, chain: 1, hop: 0 },
    ];
    const hops: WorkerPayload[] = [];
    while (queue.length > 0) {
      const payload = queue.shift()!;
      hops.push(payload);
      let batches = 0;
      await runSegmentWorker(
        deps({
          pageSize: 40,
          remainingMs: () => (batches >= 2 ? 500 : 60_000),
          afterDeliver: () => {
            batches++;
          },
          invokeSuccessor: async (p) => {
            queue.push(p);
          },
        }),
        payload,
      );
      expect(hops.length).toBeLessThan(800);
    }
    // Pieces are work items 0 and 1: handed over mid-piece, resumed there.
    expect(hops.some((h) => h.resume === 0)).toBe(true);
    expect(hops.some((h) => h.resume === 1)).toBe(true);
    assertDeliveredExactly(quake);
    expect(sink.duplicates()).toBe(0);
    expect((await getEvent(events, quake.id))?.state).toBe('complete');
  });
});
