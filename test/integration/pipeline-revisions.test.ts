/**
 * Revision streams through the deployed functions (issue 10, "Done when"): producer → Kafka → consumer → segment
 * workers → a loopback receiver, on the local stack. Counted at the receiver, per subscriber and level:
 * an update mid-fan-out skips nobody and sends each level once; two sources sent to two producer environments at once
 * are one event; two FDSN servers' rows of one quake are one event; a deletion after the alerts sends each alerted
 * subscriber one cancellation and nothing further; old and future origins are not alerted, with their reasons.
 */
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWebhookSink, type WebhookSink } from '../../local/webhook-sink.ts';
import { subscriberLevel } from '../../shared/fanout/ledger.ts';
import type { Quake } from '../../shared/quake/types.ts';
import { SubscriberStore } from '../../shared/segments/index.ts';
import type { Subscriber, SubscriberInput } from '../../shared/segments/types.ts';
import { intensityModelFor } from '../../shared/seismo/index.ts';
import { uniqueName } from '../helpers/stack.ts';
import { type DeployedPipeline, deployPipeline } from './pipeline-deploy.ts';
import { drillQuake, EPICENTRE, population } from './pipeline-fixtures.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

const SECRET = 'revisions-secret';
let stack: TestStack;
let sink: WebhookSink;
let pipeline: DeployedPipeline;
let subs: Subscriber[];

beforeAll(async () => {
  stack = await testStack('rev', ['subscribers', 'segments', 'events', 'locks'], ['consumer', 'delivery', 'worker']);
  sink = await startWebhookSink({ secrets: SECRET });
  const inputs: SubscriberInput[] = population({
    count: 4000,
    maxKm: 150,
    dense: 400,
    target: `${sink.url}/hooks/rev`,
    secret: SECRET,
    seed: 11,
  });
  const store = new SubscriberStore(stack.clients.ddb, stack.names, { maxSegmentSize: 300 });
  expect((await store.upsert(inputs)).inserted).toBe(4000);
  subs = [];
  for await (const page of paginateScan(
    { client: stack.clients.ddb },
    { TableName: stack.names.table('subscribers') },
  )) {
    for (const it of page.Items ?? []) {
      subs.push({
        id: it.subscriberId,
        lat: it.lat,
        lon: it.lon,
        minMmi: it.minMmi,
        channel: it.channel,
        locale: it.locale,
      } as Subscriber);
    }
  }
  pipeline = await deployPipeline(stack, { tag: 'rev', fanout: { maxSegmentSize: 300 } });
});

afterAll(async () => {
  await pipeline?.teardown();
  await sink?.close();
  await stack?.cleanup();
});

beforeEach(() => {
  sink.reset();
  sink.setSlow(0);
});

const levelsOf = (q: Quake) => {
  const model = intensityModelFor(q);
  return new Map(subs.map((s) => [s.id, subscriberLevel(model, s).level]));
};

/** Per subscriber, the levels received for `eventId` (alerts only). */
function receivedLevels(eventId: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const n of sink.received()) {
    if (n.eventId !== eventId || n.kind === 'cancel') continue;
    out.set(n.subscriberId, [...(out.get(n.subscriberId) ?? []), n.level]);
  }
  return out;
}

describe('revision streams through the deployed functions', () => {
  it('an update mid-fan-out (slow receiver): everyone the update alerts is reached, each level once', async () => {
    const v1 = drillQuake(uniqueName('rev-mid'), { magnitude: 5.2 });
    sink.setSlow(250);
    expect((await pipeline.invokeProducer({ quakes: [v1] })).accepted).toEqual([v1.id]);
    await sink.waitFor(200, 120_000);
    const v2 = { ...v1, magnitude: 6.0, updatedAt: v1.updatedAt + 30_000 };
    expect((await pipeline.invokeProducer({ quakes: [v2] })).accepted).toEqual([v1.id]);
    sink.setSlow(0);
    const ev = await pipeline.settled(v1.id);
    expect(ev.revision).toBe(2);
    const l1 = levelsOf(v1);
    const l2 = levelsOf(v2);
    const got = receivedLevels(v1.id);
    const eligible2 = [...l2].filter(([, l]) => l !== 'none');
    expect(eligible2.length).toBeGreaterThan(500);
    // Nobody skipped: everyone holds the update's level.
    const skipped = eligible2.filter(([id, l]) => !got.get(id)?.includes(l));
    expect(skipped).toEqual([]);
    for (const [id, levels] of got) {
      // Each level at most once (ids are per level), and only levels some version gives.
      expect(new Set(levels).size).toBe(levels.length);
      for (const l of levels) expect([l1.get(id), l2.get(id)]).toContain(l);
    }
    expect(sink.badSignatures()).toBe(0);
  });

  it('one quake from two sources sent to two producer environments at once is one event', async () => {
    // Each test has its own origin time minutes apart: events of one file must not associate with each other.
    const t = Date.now() - 5 * 60_000;
    const us = drillQuake(uniqueName('us'), { source: 'us', originTime: t, updatedAt: t + 2000, magnitude: 4.9 });
    const em = drillQuake(uniqueName('em'), {
      source: 'emsc',
      originTime: t + 1200,
      updatedAt: t + 2500,
      lat: EPICENTRE.lat + 0.05,
      magnitude: 5.0,
    });
    const [a, b] = await Promise.all([
      pipeline.invokeProducer({ quakes: [us], drill: true }),
      pipeline.invokeProducer({ quakes: [em], drill: true }),
    ]);
    const ids = new Set([...a.accepted, ...b.accepted]);
    expect(ids.size).toBe(1);
    const [eventId] = ids;
    await pipeline.settled(eventId);
    const events = new Set(sink.received().map((n) => n.eventId));
    expect(events).toEqual(new Set([eventId]));
    expect(new Set(sink.received().map((n) => n.id)).size).toBe(sink.received().length);
  });

  it("two FDSN servers' rows of one quake (different Catalog columns) are one event", async () => {
    const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '');
    const t = Date.now() - 10 * 60_000;
    const header =
      '#EventID|Time|Latitude|Longitude|Depth/km|Author|Catalog|Contributor|ContributorID|MagType|Magnitude|MagAuthor|EventLocationName';
    const tag = uniqueName('fd').slice(-8);
    const emsc = `${header}\n${tag}e|${iso(t + 1300)}|${EPICENTRE.lat + 0.04}|${EPICENTRE.lon + 0.03}|10.0|EMSC|EMSC-RTS|EMSC|${tag}e|mw|4.6|EMSC|ROMANIA`;
    const usgs = `${header}\nus${tag}|${iso(t)}|${EPICENTRE.lat}|${EPICENTRE.lon}|12.5|us|us|us|us${tag}|mww|4.7|us|western Romania`;
    const a = await pipeline.invokeProducer({ documents: [emsc], drill: true });
    const b = await pipeline.invokeProducer({ documents: [usgs], drill: true });
    expect(a.rejected).toEqual([]);
    expect(b.rejected).toEqual([]);
    const ids = new Set([...a.accepted, ...b.accepted]);
    expect(ids.size).toBe(1);
    // The USGS row came later though its origin is 1.3 s earlier: FDSN text has no update time, so each version is
    // dated when received, and the later, bigger solution is not thrown away as "older".
    expect(b).toMatchObject({ accepted: a.accepted, superseded: 0, associated: 1 });
    const eventId = [...ids][0];
    const ev = await pipeline.settled(eventId);
    expect(ev.plannedQuake?.magnitude).toBe(4.7);
    // One name per publisher across formats (shared/quake/publisher.ts): FDSN `us` is USGS, `EMSC-RTS` is EMSC.
    expect([...(ev.sources ?? [])].sort()).toEqual(['emsc', 'usgs']);
    // USGS deletes its solution through its GeoJSON feed: EMSC still reports the quake, nothing is cancelled.
    const deleted = {
      type: 'Feature',
      id: `us${tag}`,
      properties: { status: 'deleted', net: 'us', code: tag, updated: Date.now(), time: null, mag: null },
      geometry: null,
    };
    const partial = await pipeline.invokeProducer({ documents: [deleted], drill: true });
    expect(partial.retracted).toEqual([expect.objectContaining({ id: `us${tag}`, eventId, outcome: 'partial' })]);
    // EMSC withdraws too, through its websocket: now every reporting publisher did, and the event is retracted.
    const emscDelete = JSON.stringify({ action: 'delete', data: { id: `${tag}e`, properties: { unid: `${tag}e` } } });
    const all = await pipeline.invokeProducer({ documents: [emscDelete], drill: true });
    expect(all.retracted).toEqual([expect.objectContaining({ id: `${tag}e`, eventId, outcome: 'retracted' })]);
    await pipeline.settled(eventId, 'retracted');
  });

  it('a deletion after alerts went out: each alerted subscriber gets one cancellation, nothing further', async () => {
    const t = Date.now() - 15 * 60_000;
    const q = drillQuake(uniqueName('rev-del'), { source: 'us', magnitude: 4.8, originTime: t, updatedAt: t + 60_000 });
    await pipeline.invokeProducer({ quakes: [q] });
    await pipeline.settled(q.id);
    const alerted = new Set(sink.received().map((n) => n.subscriberId));
    expect(alerted.size).toBeGreaterThan(100);
    sink.reset();
    const r = await pipeline.invokeProducer({
      retractions: [{ id: q.id, source: 'us', reason: 'usgs status "deleted"' }],
      drill: true,
    });
    expect(r.retracted).toEqual([{ id: q.id, source: 'us', eventId: q.id, outcome: 'retracted' }]);
    await pipeline.settled(q.id, 'retracted');
    const cancels = sink.received();
    expect(cancels.every((n) => n.kind === 'cancel' && n.id === `${q.id}:${n.subscriberId}:cancel`)).toBe(true);
    expect(new Set(cancels.map((n) => n.subscriberId))).toEqual(alerted);
    // A later version of the withdrawn event is refused by the producer: nothing further is sent.
    sink.reset();
    const again = await pipeline.invokeProducer({
      quakes: [{ ...q, updatedAt: q.updatedAt + 60_000, magnitude: 5.4 }],
    });
    expect(again.accepted).toEqual([]);
    await new Promise((res) => setTimeout(res, 2000));
    expect(sink.received()).toEqual([]);
  });

  it('an origin two hours old is recorded but not alerted; one an hour ahead is refused, each with its reason', async () => {
    const old = drillQuake(uniqueName('rev-old'), { originTime: Date.now() - 2 * 3600_000 });
    const ahead = drillQuake(uniqueName('rev-fut'), { originTime: Date.now() + 3600_000 });
    const r = await pipeline.invokeProducer({ quakes: [old, ahead] });
    expect(r.accepted).toEqual([old.id]);
    expect(r.rejected).toEqual([{ index: 1, reason: expect.stringMatching(/originTime: .* ahead of now/) }]);
    const ev = await pipeline.settled(old.id, 'skipped');
    expect(ev.reason).toMatch(/^origin 2\.0 h old \(older than fanout\.maxEventAgeS 3600 s\)$/);
    expect(sink.received().filter((n) => n.eventId === old.id)).toEqual([]);
  });
});
