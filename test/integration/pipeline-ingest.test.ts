/**
 * The producer's domain on the local stack: real Kafka (a unique topic), real events table, the real USGS sample feed.
 * (Scheduled polling with conditional GETs is shared/ingest/feed-poller.ts, tested in ingest-producer.test.ts.)
 */
import { readFileSync } from 'node:fs';
import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getEvent } from '../../shared/events/index.ts';
import { createEventProducer, produceEvents } from '../../shared/ingest/index.ts';
import { parseFeed } from '../../shared/quake/detect.ts';
import { uniqueName } from '../helpers/stack.ts';
import { drillQuake } from './pipeline-fixtures.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

const SAMPLE = '/work/shared/data/usgs/all_week-2023-04-07.geojson';
let stack: TestStack;
let admin: Admin;
let producer: Producer;
let topic: string;

beforeAll(async () => {
  stack = await testStack('ing', ['events']);
  topic = uniqueName('quakes.events.ingest');
  admin = stack.clients.kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
  producer = createEventProducer(stack.clients.kafka);
  await producer.connect();
});
afterAll(async () => {
  await producer?.disconnect();
  await admin?.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin?.disconnect();
  await stack?.cleanup();
});

const deps = (over = {}) => ({
  events: { ddb: stack.clients.ddb, table: stack.names.table('events') },
  producer,
  topic,
  ...over,
});

async function messagesInTopic(): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
}

describe('produceEvents', () => {
  it('produces each event of the real USGS feed once; a second delivery of the feed is all superseded', async () => {
    const text = readFileSync(SAMPLE, 'utf8');
    const parsed = parseFeed(text);
    const first = await produceEvents({ documents: [text] }, deps());
    expect(first.rejected.length).toBe(parsed.rejected.length);
    expect(first.accepted.length + first.superseded).toBe(parsed.accepted.length);
    expect(first.accepted.length).toBeGreaterThan(2000);
    expect(await messagesInTopic()).toBe(first.accepted.length);
    const ev = await getEvent(deps().events, first.accepted[0]);
    expect(ev).toMatchObject({ published: true, updatedAt: expect.any(Number), acceptedAt: expect.any(Number) });

    // Another producer process (fresh associator): the events table alone recognises every version.
    const again = await produceEvents({ documents: [text] }, deps());
    expect(again.accepted).toEqual([]);
    expect(again.superseded).toBe(first.accepted.length + first.superseded);
    expect(await messagesInTopic()).toBe(first.accepted.length);
  });

  it('keys by canonical id with source/schema/drill headers; a newer version passes, an older one does not', async () => {
    const q = drillQuake(uniqueName('ing-v'));
    const before = await messagesInTopic();
    const steps: Record<string, number> = {};
    const r1 = await produceEvents({ quakes: [q] }, { ...deps(), steps });
    expect(r1.accepted).toEqual([q.id]);
    // The producer's part of the first alert's path, step by step from acceptance (the function logs it).
    const order = ['collected', 'identity', 'accepted', 'sent', 'published'];
    expect(Object.keys(steps)).toEqual(order);
    for (let i = 1; i < order.length; i++) expect(steps[order[i]]).toBeGreaterThanOrEqual(steps[order[i - 1]]);
    const olderSteps: Record<string, number> = {};
    const older = await produceEvents(
      { quakes: [{ ...q, updatedAt: q.updatedAt - 1000, magnitude: 7 }] },
      { ...deps(), steps: olderSteps },
    );
    expect(older).toMatchObject({ accepted: [], superseded: 1 });
    // Nothing sent: no `sent` step.
    expect(Object.keys(olderSteps)).toEqual(['collected', 'identity', 'accepted']);
    const newer = await produceEvents({ quakes: [{ ...q, updatedAt: q.updatedAt + 1000, magnitude: 6 }] }, deps());
    expect(newer.accepted).toEqual([q.id]);
    expect(await messagesInTopic()).toBe(before + 2);
    expect((await getEvent(deps().events, q.id))?.quake.magnitude).toBe(6);

    const consumer = stack.clients.kafka.consumer({ groupId: uniqueName('ing-read') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const mine: {
      key: string;
      headers: Record<string, string>;
      value: { schema: number; quake: { magnitude: number } };
    }[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('messages not read in time')), 30_000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            if (message.key?.toString() !== q.id) return;
            const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
            mine.push({ key: q.id, headers, value: JSON.parse(message.value!.toString()) });
            if (mine.length === 2) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    expect(mine.map((m) => m.value.quake.magnitude)).toEqual([q.magnitude, 6]);
    expect(mine[0].headers).toEqual({ source: 'drill', schema: '1', drill: 'true' });
    expect(mine[0].value.schema).toBe(1);
  });

  it('rejected inputs are counted with reasons, not failures; a drill payload cannot be un-drilled', async () => {
    const q = drillQuake(uniqueName('ing-r'));
    const r = await produceEvents(
      { documents: ['not a feed'], quakes: [{ ...q, lat: 200 }, 'x', { ...q, drill: false }], drill: true },
      deps(),
    );
    expect(r.rejected.map((x) => x.index)).toEqual([0, 1, 2]);
    expect(r.rejected[1].reason).toMatch(/lat/);
    expect(r.accepted).toEqual([q.id]);
    expect((await getEvent(deps().events, q.id))?.quake.drill).toBe(true);
  });

  it('a produce that fails after retries throws, and the retry of the same payload is not taken for a duplicate', async () => {
    const q = drillQuake(uniqueName('ing-f'));
    const failing = createEventProducer(stack.clients.kafka, { retries: 1 });
    await failing.connect();
    try {
      await expect(
        produceEvents({ quakes: [q] }, deps({ producer: failing, topic: uniqueName('no-such-topic') })),
      ).rejects.toThrow();
    } finally {
      await failing.disconnect();
    }
    expect((await getEvent(deps().events, q.id))?.published).toBe(false);
    const retry = await produceEvents({ quakes: [q] }, deps());
    expect(retry.accepted).toEqual([q.id]);
    expect((await getEvent(deps().events, q.id))?.published).toBe(true);
  });
});
