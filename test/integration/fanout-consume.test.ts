/**
 * The consumer's domain on the local stack, in-process: Kafka batches in the SelfManagedKafka shape, real tables, real
 * consumer DLQ, chains run by calling the worker loop (what the async invoke does). Updates re-alert only rising levels.
 */
import { randomBytes } from 'node:crypto';
import { GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWebhookSink, type WebhookSink } from '../../local/webhook-sink.ts';
import { getEvent, getPlan } from '../../shared/events/index.ts';
import {
  type ConsumeDeps,
  consumeBatch,
  forgetRates,
  type KafkaRecord,
  readRateHistory,
  recordRate,
  runSegmentWorker,
  type SelfManagedKafkaEvent,
  type WorkerDeps,
  type WorkerPayload,
  workKeys,
} from '../../shared/fanout/index.ts';
import { subscriberLevel } from '../../shared/fanout/ledger.ts';
import { eventMessage, retractionMessage } from '../../shared/ingest/index.ts';
import { getMany, list } from '../../shared/locks/index.ts';
import { Deliverer } from '../../shared/notify/index.ts';
import type { Quake } from '../../shared/quake/types.ts';
import { SubscriberStore } from '../../shared/segments/index.ts';
import type { SubscriberInput } from '../../shared/segments/types.ts';
import { intensityModelFor } from '../../shared/seismo/index.ts';
import { drillQuake, population } from './pipeline-fixtures.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

const SECRET = 'consume-secret';
let stack: TestStack;
let sink: WebhookSink;
let store: SubscriberStore;
let subs: SubscriberInput[];
let dlqUrl: string;
let offset = 0;

beforeAll(async () => {
  stack = await testStack('con', ['subscribers', 'segments', 'events', 'locks'], ['consumer', 'delivery']);
  sink = await startWebhookSink({ secrets: SECRET });
  store = new SubscriberStore(stack.clients.ddb, stack.names, { maxSegmentSize: 200 });
  subs = population({ count: 1500, maxKm: 120, dense: 200, target: `${sink.url}/h`, secret: SECRET, seed: 3 });
  await store.upsert(subs);
  dlqUrl = (await stack.clients.sqs.send(new GetQueueUrlCommand({ QueueName: stack.names.dlq('consumer') }))).QueueUrl!;
});
afterAll(async () => {
  await sink?.close();
  await stack?.cleanup();
});
beforeEach(() => sink.reset());

function batch(values: { key: string; value: string; headers: Record<string, string> }[]): SelfManagedKafkaEvent {
  const records: KafkaRecord[] = values.map((m) => ({
    topic: 'quakes.events',
    partition: 0,
    offset: offset++,
    timestamp: Date.now(),
    timestampType: 'CREATE_TIME',
    key: Buffer.from(m.key).toString('base64'),
    value: Buffer.from(m.value).toString('base64'),
    headers: Object.entries(m.headers).map(([k, v]) => ({ [k]: [...Buffer.from(v)] })),
  }));
  return {
    eventSource: 'SelfManagedKafka',
    bootstrapServers: '127.0.0.1:19092',
    records: { 'quakes.events-0': records },
  };
}

function consumer(
  chains: Promise<unknown>[],
  over: Partial<ConsumeDeps> = {},
  worker: Partial<WorkerDeps> = {},
): ConsumeDeps {
  const { ddb } = stack.clients;
  const deliverer = new Deliverer({ sqs: stack.clients.sqs, names: stack.names, allowPrivateTargets: true });
  return {
    events: { ddb, table: stack.names.table('events') },
    locks: { ddb, table: stack.names.table('locks') },
    segmentsForCells: (cells) => store.segmentsForCells(cells),
    startChain: async (payload) => {
      chains.push(
        runSegmentWorker(
          {
            events: { ddb, table: stack.names.table('events') },
            locks: { ddb, table: stack.names.table('locks') },
            subscribers: store,
            deliver: (items) => deliverer.deliver(items),
            invokeSuccessor: async () => {},
            remainingMs: () => 60_000,
            owner: `c-${payload.chain}-${randomBytes(2).toString('hex')}`,
            leaseMs: 5000,
            pageSize: 100,
            reserveMs: 1000,
            ...worker,
          },
          payload,
        ),
      );
    },
    sendToDlq: async (message) => {
      await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify(message) }));
    },
    minMagnitude: 3,
    minSubscriberMmi: 3,
    parallelism: 2,
    strategy: 'geo',
    ...over,
  };
}

/** Level per subscriber under the alert policy (shared/fanout `subscriberLevel`: none when not alerted). */
function levels(q: Quake): Map<string, 'none' | 'be-aware' | 'take-action'> {
  const m = intensityModelFor(q);
  return new Map(subs.map((s) => [s.id, subscriberLevel(m, { ...s, minMmi: s.minMmi ?? 3 }).level]));
}

const rank = { none: 0, 'be-aware': 1, 'take-action': 2 } as const;

describe('consumeBatch', () => {
  it('plans once per version; an update re-alerts exactly the subscribers whose level rose', async () => {
    const chains: Promise<unknown>[] = [];
    const infos: [string, Record<string, unknown> | undefined][] = [];
    const deps = consumer(chains, { log: { info: (m, f) => void infos.push([m, f]), warn: () => {} } });
    const v1 = drillQuake(`con-${randomBytes(3).toString('hex')}`, { magnitude: 4.8 });
    const r1 = await consumeBatch(batch([eventMessage(v1, Date.now()), eventMessage(v1, Date.now())]), deps);
    expect(r1.outcomes).toMatchObject({ planned: 1, duplicate: 1 });
    // The planning's steps in ms from the record's handling start, each after the one before it (the function log's
    // `event planned`, docs/architecture.md): logged once, for the version planned, not for its duplicate.
    const planned = infos.filter(([m]) => m === 'event planned');
    expect(planned).toHaveLength(1);
    const steps = planned[0][1]?.msFromStart as Record<string, number>;
    expect(Object.keys(steps)).toEqual(['event', 'plan', 'saved', 'superseded']);
    // A drill the default expected rate keeps up with: nothing deferred, nothing said of it.
    expect(planned[0][1]).not.toHaveProperty('deferredByRate');
    const ms = Object.values(steps);
    expect(ms).toEqual([...ms].sort((a, b) => a - b));
    // Then when the chains' invokes were accepted: `chains started`, the same steps and `invoked` last.
    const started = infos.filter(([m]) => m === 'chains started');
    expect(started).toHaveLength(1);
    const all = started[0][1]?.msFromStart as Record<string, number>;
    expect(Object.keys(all)).toEqual(['event', 'plan', 'saved', 'superseded', 'invoked']);
    expect(all.invoked).toBeGreaterThanOrEqual(all.superseded);
    await Promise.all(chains.splice(0));
    const l1 = levels(v1);
    const first = sink.received();
    expect(new Set(first.map((n) => `${n.subscriberId}:${n.level}`))).toEqual(
      new Set([...l1].filter(([, l]) => l !== 'none').map(([id, l]) => `${id}:${l}`)),
    );

    // A newer version with nothing bigger: recorded, not re-planned.
    const same = { ...v1, updatedAt: v1.updatedAt + 1, status: 'reviewed' as const, magnitude: 4.7 };
    const r2 = await consumeBatch(batch([eventMessage(same, Date.now())]), deps);
    expect(r2.outcomes['not-rising']).toBe(1);
    expect(chains).toHaveLength(0);
    expect((await getEvent(deps.events, v1.id))?.handledUpdatedAt).toBe(same.updatedAt);

    // The magnitude is revised up: revision 2 alerts only rising levels, with new idempotency keys.
    sink.reset();
    const v3 = { ...v1, updatedAt: v1.updatedAt + 2, magnitude: 5.6 };
    const r3 = await consumeBatch(batch([eventMessage(v3, Date.now())]), deps);
    expect(r3.planned).toEqual([expect.objectContaining({ eventId: v1.id, revision: 2 })]);
    await Promise.all(chains.splice(0));
    const l3 = levels(v3);
    const rising = [...l3].filter(([id, l]) => rank[l] > rank[l1.get(id)!]).map(([id, l]) => `${v1.id}:${id}:${l}`);
    expect(rising.length).toBeGreaterThan(50);
    expect(new Set(sink.received().map((n) => n.id))).toEqual(new Set(rising));
    const ev = await getEvent(deps.events, v1.id);
    expect(ev).toMatchObject({ state: 'complete', revision: 2, delivered: rising.length });
    // The ledger's record of runs: the first alerted for M4.8, the second for the update.
    expect(ev?.runs?.map((r) => [r.revision, r.mode, r.quake.magnitude])).toEqual([
      [1, 'alert', 4.8],
      [2, 'alert', v3.magnitude],
    ]);
  });

  it('a plan that defers what its expected rate cannot reach still alerts everyone once, and says what it deferred', async () => {
    const chains: Promise<unknown>[] = [];
    const infos: [string, Record<string, unknown> | undefined][] = [];
    // 2 subscribers a second: the S wave passes nearly every shard before such a rate could reach it.
    const deps = consumer(chains, {
      expectedRate: 2,
      log: { info: (m, f) => void infos.push([m, f]), warn: () => {} },
    });
    sink.reset();
    const q = drillQuake(`con-rate-${randomBytes(3).toString('hex')}`, { magnitude: 5.2 });
    expect((await consumeBatch(batch([eventMessage(q, Date.now())]), deps)).outcomes.planned).toBe(1);
    const planned = infos.find(([m]) => m === 'event planned')?.[1];
    const deferred = planned?.deferredByRate as { segments: number; subscribers: number; expectedRate: number };
    expect(deferred.expectedRate).toBe(2);
    expect(deferred.segments).toBeGreaterThan(0);
    expect(deferred.subscribers).toBeGreaterThan(0);
    await Promise.all(chains.splice(0));
    const alerted = [...levels(q)].filter(([, l]) => l !== 'none');
    const got = sink.received().map((n) => `${n.subscriberId}:${n.level}`);
    expect(got).toHaveLength(alerted.length);
    expect(new Set(got)).toEqual(new Set(alerted.map(([id, l]) => `${id}:${l}`)));
    expect(await getEvent(deps.events, q.id)).toMatchObject({ state: 'complete', delivered: alerted.length });
  });

  it('a completed fan-out records its rate; the next plan uses the largest measured at its parallelism', async () => {
    const events = { ddb: stack.clients.ddb, table: stack.names.table('events') };
    await forgetRates(events);
    const chains: Promise<unknown>[] = [];
    const infos: [string, Record<string, unknown> | undefined][] = [];
    const log = { info: (m: string, f?: Record<string, unknown>) => void infos.push([m, f]), warn: () => {} };
    // The fixture's footprint is a few hundred subscribers delivered in well under a second: the rule is lowered to
    // count it (the default, 10,000 over 1 s, is measureRate's unit test).
    const deps = consumer(
      chains,
      { measureRate: true, expectedRate: 20_000, log },
      { rateRule: { minSubscribers: 1, minSeconds: 0 }, log },
    );
    const q1 = drillQuake(`con-meas-${randomBytes(3).toString('hex')}`, { magnitude: 5.2 });
    await consumeBatch(batch([eventMessage(q1, Date.now())]), deps);
    const first = infos.find(([m]) => m === 'event planned')?.[1];
    expect(first?.expectedRate).toEqual({ rate: 20_000, source: 'setting' });
    await Promise.all(chains.splice(0));
    const ev = await getEvent(deps.events, q1.id);
    expect(ev).toMatchObject({ state: 'complete', chains: 2 });
    const history = await readRateHistory(events);
    expect(Object.keys(history)).toEqual(['P2']);
    const [obs] = history.P2;
    // Measured over the units' locks: each carries when its last batch was sent (before its paced tail settles), and
    // the rate is the eligible subscribers of the units sent when 90% were, over the seconds since the first delivery.
    const plan = await getPlan(events, ev!);
    const locks = [...(await getMany(deps.locks, ev!.eventId, workKeys(plan!.plan, plan!))).values()];
    expect(locks.length).toBe(plan!.units.length);
    for (const l of locks) {
      expect(l.sentAt).toBeGreaterThanOrEqual(ev!.firstDeliveryAt!);
      expect(l.sentAt).toBeLessThanOrEqual(l.updatedAt);
    }
    const eligible = ev!.eligible!;
    expect(eligible).toBeGreaterThan(0);
    expect(obs.subscribers).toBeGreaterThanOrEqual(0.9 * eligible);
    expect(obs.subscribers).toBeLessThanOrEqual(eligible);
    // The measurement ends at a unit's own send time.
    expect(locks.some((l) => Math.abs(l.sentAt! - ev!.firstDeliveryAt! - obs.seconds * 1000) <= 1)).toBe(true);
    expect(obs).toMatchObject({ eventId: q1.id, drill: true, rate: Math.round(obs.subscribers / obs.seconds) });
    expect(infos.some(([m, f]) => m === 'fan-out rate measured' && f?.eventId === q1.id)).toBe(true);

    // The next event at P = 2 plans with the measured rate; one at P = 3 has none measured and uses the setting.
    infos.length = 0;
    const q2 = drillQuake(`con-meas2-${randomBytes(3).toString('hex')}`, { magnitude: 5.2 });
    await consumeBatch(batch([eventMessage(q2, Date.now())]), { ...deps, startChain: async () => {} });
    expect(infos.find(([m]) => m === 'event planned')?.[1]?.expectedRate).toEqual({
      rate: obs.rate,
      source: 'measured',
    });
    infos.length = 0;
    const q3 = drillQuake(`con-meas3-${randomBytes(3).toString('hex')}`, { magnitude: 5.2 });
    await consumeBatch(batch([eventMessage(q3, Date.now())]), { ...deps, parallelism: 3, startChain: async () => {} });
    expect(infos.find(([m]) => m === 'event planned')?.[1]?.expectedRate).toEqual({ rate: 20_000, source: 'setting' });
  });

  it('a low measured rate defers as a low setting does, and alerts everyone once; measureRate off ignores it', async () => {
    const events = { ddb: stack.clients.ddb, table: stack.names.table('events') };
    await forgetRates(events);
    const at = Date.now();
    // Two observations at P = 2: the planner takes the larger (2/s, still far too slow for the S front).
    await recordRate(events, 2, { rate: 1, subscribers: 20_000, seconds: 20_000, eventId: 'past-a', drill: false, at });
    await recordRate(events, 2, { rate: 2, subscribers: 20_000, seconds: 10_000, eventId: 'past-b', drill: false, at });
    // A real run of 100 measured 50,000/s: this footprint (hundreds of subscribers) is over 4x its size, so the rates
    // of runs its size plan it, not that one.
    await recordRate(events, 2, {
      rate: 50_000,
      subscribers: 100,
      seconds: 0.002,
      eventId: 'past-s',
      drill: false,
      at,
    });
    // A drill's fast receiver measured more; a real event's rate exists, so the drill's is not the one planned with.
    await recordRate(events, 2, { rate: 90_000, subscribers: 90_000, seconds: 1, eventId: 'drill-c', drill: true, at });
    const chains: Promise<unknown>[] = [];
    const infos: [string, Record<string, unknown> | undefined][] = [];
    const log = { info: (m: string, f?: Record<string, unknown>) => void infos.push([m, f]), warn: () => {} };
    const deps = consumer(chains, { measureRate: true, expectedRate: 20_000, log });
    sink.reset();
    const q = drillQuake(`con-low-${randomBytes(3).toString('hex')}`, { magnitude: 5.2 });
    await consumeBatch(batch([eventMessage(q, Date.now())]), deps);
    const planned = infos.find(([m]) => m === 'event planned')?.[1];
    expect(planned?.expectedRate).toEqual({ rate: 2, source: 'measured' });
    expect(planned?.deferredByRate).toMatchObject({ segments: expect.any(Number), expectedRate: 2 });
    expect((planned?.deferredByRate as { segments: number } | undefined)?.segments).toBeGreaterThan(0);
    await Promise.all(chains.splice(0));
    const alerted = [...levels(q)].filter(([, l]) => l !== 'none');
    const got = sink.received().map((n) => `${n.subscriberId}:${n.level}`);
    expect(got).toHaveLength(alerted.length);
    expect(new Set(got)).toEqual(new Set(alerted.map(([id, l]) => `${id}:${l}`)));

    infos.length = 0;
    const q2 = drillQuake(`con-off-${randomBytes(3).toString('hex')}`, { magnitude: 5.2 });
    await consumeBatch(batch([eventMessage(q2, Date.now())]), {
      ...deps,
      measureRate: false,
      startChain: async () => {},
    });
    const off = infos.find(([m]) => m === 'event planned')?.[1];
    expect(off?.expectedRate).toEqual({ rate: 20_000, source: 'setting' });
    expect(off?.deferredByRate).toBeUndefined();
  });

  it('measured rates: newest five per parallelism, an event once, racing recorders both kept, forget removes all', async () => {
    const events = { ddb: stack.clients.ddb, table: stack.names.table('events') };
    await forgetRates(events);
    const obs = (i: number) => ({
      rate: 1000 + i,
      subscribers: 10_000,
      seconds: 10,
      eventId: `e${i}`,
      drill: false,
      at: i,
    });
    for (let i = 0; i < 7; i++) expect(await recordRate(events, 4, obs(i))).toBe(true);
    expect(await recordRate(events, 4, obs(6))).toBe(true);
    expect((await readRateHistory(events)).P4.map((o) => o.eventId)).toEqual(['e6', 'e5', 'e4', 'e3', 'e2']);
    // Two completers at once (the conditional write makes the loser read again): both observations are kept.
    await Promise.all([recordRate(events, 8, obs(10)), recordRate(events, 8, obs(11))]);
    expect(new Set((await readRateHistory(events)).P8.map((o) => o.eventId))).toEqual(new Set(['e10', 'e11']));
    await forgetRates(events);
    expect(await readRateHistory(events)).toEqual({});
  });

  it('chains start with the plan key; a chain whose key is not the event’s current plan works from the current one', async () => {
    const chains: Promise<unknown>[] = [];
    const deps = consumer(chains);
    const v1 = drillQuake(`con-key-${randomBytes(3).toString('hex')}`, { magnitude: 4.8 });
    await consumeBatch(batch([eventMessage(v1, Date.now())]), deps);
    await Promise.all(chains.splice(0));
    const key1 = (await getEvent(deps.events, v1.id))?.planKey;
    expect(key1).toBeDefined();

    // The update's chains are held back, then started with the first version's (smaller) plan named in the payload.
    const payloads: WorkerPayload[] = [];
    const held = { ...deps, startChain: async (p: WorkerPayload) => void payloads.push(p) };
    const v2 = { ...v1, updatedAt: v1.updatedAt + 60_000, magnitude: 5.6 };
    await consumeBatch(batch([eventMessage(v2, Date.now())]), held);
    const key2 = (await getEvent(deps.events, v1.id))?.planKey;
    expect(key2).not.toBe(key1);
    expect(payloads.map((p) => p.planKey)).toEqual(payloads.map(() => key2));
    sink.reset();
    for (const p of payloads) await deps.startChain({ ...p, planKey: key1 });
    await Promise.all(chains.splice(0));
    const l1 = levels(v1);
    const rising = [...levels(v2)]
      .filter(([id, l]) => rank[l] > rank[l1.get(id)!])
      .map(([id, l]) => `${v1.id}:${id}:${l}`);
    expect(new Set(sink.received().map((n) => n.id))).toEqual(new Set(rising));
    expect(await getEvent(deps.events, v1.id)).toMatchObject({ state: 'complete', revision: 2 });
  });

  it.each([
    ['unit by unit, urgent units in S order (order-key cursors of units in the ledger)', undefined, true],
    ['unit by unit in key order (position cursors in the ledger)', undefined, false],
    ['with the near-field front (piece cursors in the ledger)', 10, true],
  ])(
    'an update during the fan-out, %s: the new run continues where the old one got to, nobody is skipped, each level is sent once',
    async (_, frontS, sortUrgentUnits) => {
      const chains: Promise<unknown>[] = [];
      const deps = consumer(chains, { frontS }, { sortUrgentUnits });
      const v1 = drillQuake(`con-mid-${randomBytes(3).toString('hex')}`, { magnitude: 5.0 });
      // A slow receiver keeps the first run in flight when the update arrives (the 700 ms case, shortened).
      sink.setSlow(150);
      try {
        await consumeBatch(batch([eventMessage(v1, Date.now())]), deps);
        const l1 = levels(v1);
        const eligible1 = [...l1.values()].filter((l) => l !== 'none').length;
        await sink.waitFor(150, 60_000);
        expect(sink.received().length).toBeLessThan(eligible1);
        const v2 = { ...v1, updatedAt: v1.updatedAt + 60_000, magnitude: 5.7 };
        const r2 = await consumeBatch(batch([eventMessage(v2, Date.now())]), deps);
        expect(r2.planned).toEqual([expect.objectContaining({ eventId: v1.id, revision: 2 })]);
        await Promise.all(chains.splice(0));
        const l2 = levels(v2);
        const got = new Map<string, Set<string>>();
        for (const n of sink.received()) {
          const set = got.get(n.subscriberId) ?? new Set<string>();
          set.add(n.level);
          got.set(n.subscriberId, set);
        }
        // Nobody the update makes eligible is skipped, and everyone holds the update's level.
        const eligible2 = [...l2].filter(([, l]) => l !== 'none');
        expect(eligible2.length).toBeGreaterThan(eligible1);
        for (const [id, level] of eligible2) expect(got.get(id)?.has(level), `${id} ${level}`).toBe(true);
        // Only levels some version gave them; nobody below threshold in both versions hears anything.
        for (const [id, set] of got) {
          for (const level of set) expect([l1.get(id), l2.get(id)]).toContain(level);
        }
        // Each (subscriber, level) once: a repeat is only the batch in flight when the first run was superseded, under
        // the same id (receivers de-duplicate it): at most one read batch per chain.
        expect(sink.duplicates()).toBeLessThanOrEqual(2 * 100);
        const ev = await getEvent(deps.events, v1.id);
        expect(ev).toMatchObject({ state: 'complete', revision: 2 });
        const locks = await list({ ddb: stack.clients.ddb, table: stack.names.table('locks') }, { eventId: v1.id });
        expect(locks.some((l) => l.state === 'superseded')).toBe(true);
      } finally {
        sink.setSlow(0);
      }
    },
  );

  it('a retraction after alerts: each alerted subscriber gets one cancellation, nothing further is sent', async () => {
    const chains: Promise<unknown>[] = [];
    const deps = consumer(chains);
    const v1 = drillQuake(`con-ret-${randomBytes(3).toString('hex')}`, { magnitude: 4.6 });
    await consumeBatch(batch([eventMessage(v1, Date.now())]), deps);
    await Promise.all(chains.splice(0));
    const alerted = new Set(sink.received().map((n) => n.subscriberId));
    expect(alerted.size).toBeGreaterThan(50);
    sink.reset();
    const retraction = retractionMessage(
      v1.id,
      { id: v1.id, source: v1.source, reason: 'deleted by the network', updatedAt: Date.now(), drill: true },
      Date.now(),
    );
    const r = await consumeBatch(batch([retraction, retraction]), deps);
    expect(r.outcomes).toMatchObject({ retracted: 1, duplicate: 1 });
    await Promise.all(chains.splice(0));
    const cancels = sink.received();
    expect(cancels.every((n) => n.kind === 'cancel' && n.id === `${v1.id}:${n.subscriberId}:cancel`)).toBe(true);
    expect(new Set(cancels.map((n) => n.subscriberId))).toEqual(alerted);
    expect(cancels.length).toBe(alerted.size);
    expect(cancels.find((n) => n.locale === 'en')?.text).toMatch(
      /^DRILL — THIS IS A TEST: CANCELLED: the alert of \d\d:\d\d UTC for M4\.6/,
    );
    expect(await getEvent(deps.events, v1.id)).toMatchObject({ state: 'retracted', mode: 'cancel' });
    // A later version of a retracted event is not alerted.
    sink.reset();
    const later = { ...v1, updatedAt: v1.updatedAt + 5000, magnitude: 5.5 };
    const again = await consumeBatch(batch([eventMessage(later, Date.now())]), deps);
    expect(again.outcomes.skipped).toBe(1);
    expect(chains).toHaveLength(0);
    expect(sink.received()).toEqual([]);
  });

  it('origins older than fanout.maxEventAgeS or in the future are recorded, not alerted, with the reason', async () => {
    const chains: Promise<unknown>[] = [];
    const deps = { ...consumer(chains), maxEventAgeS: 3600 };
    const old = drillQuake(`con-old-${randomBytes(3).toString('hex')}`, { originTime: Date.UTC(1970, 0, 2) + 0 });
    const ahead = drillQuake(`con-fut-${randomBytes(3).toString('hex')}`, { originTime: Date.now() + 3600_000 });
    const r = await consumeBatch(batch([eventMessage(old, 1), eventMessage(ahead, 1)]), deps);
    expect(r.outcomes.skipped).toBe(2);
    expect(chains).toHaveLength(0);
    expect((await getEvent(deps.events, old.id))?.reason).toMatch(
      /^origin 5\d y old \(older than fanout\.maxEventAgeS 3600 s\)$/,
    );
    expect((await getEvent(deps.events, ahead.id))?.reason).toMatch(/^origin 3600 s in the future/);
  });

  it('skips what is not alertable, and sends poison to the consumer DLQ while the rest proceeds', async () => {
    const chains: Promise<unknown>[] = [];
    const deps = consumer(chains);
    const blast = drillQuake(`con-b-${randomBytes(3).toString('hex')}`, { kind: 'quarry blast' });
    const small = drillQuake(`con-s-${randomBytes(3).toString('hex')}`, { magnitude: 2.1 });
    const good = drillQuake(`con-g-${randomBytes(3).toString('hex')}`, { magnitude: 4.2 });
    const r = await consumeBatch(
      batch([
        eventMessage(blast, 1),
        { key: 'x', value: 'garbage', headers: {} },
        eventMessage(small, 1),
        eventMessage(good, 1),
      ]),
      deps,
    );
    expect(r.outcomes).toMatchObject({ skipped: 2, poison: 1, planned: 1 });
    await Promise.all(chains.splice(0));
    expect(await getEvent(deps.events, blast.id)).toMatchObject({ state: 'skipped', reason: 'kind quarry blast' });
    expect((await getEvent(deps.events, small.id))?.state).toBe('skipped');
    expect((await getEvent(deps.events, good.id))?.state).toBe('complete');
    const msgs = await stack.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const bodies = (msgs.Messages ?? []).map((m) => JSON.parse(m.Body!));
    expect(bodies).toEqual([
      expect.objectContaining({ kind: 'consumer', partition: 0, reason: expect.stringMatching(/not JSON/) }),
    ]);
  });
});
