/**
 * Kafka refuses a produce after the producer accepted the versions (issue 11, item 2), on the local stack through
 * kafkajs and dynalite: the error names every id left unpublished, nothing is lost (the versions wait in the events
 * table with `published = false`), and the sweep publishes them, once, when Kafka takes them. The refusal is real: the
 * topic does not exist yet and auto-creation is off, so the broker answers UNKNOWN_TOPIC_OR_PARTITION until it does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getEvent } from '../../shared/events/index.ts';
import { UnpublishedError } from '../../shared/ingest/errors.ts';
import { createEventProducer, produceEvents, republishStranded } from '../../shared/ingest/index.ts';
import { uniqueName } from '../helpers/stack.ts';
import { drillQuake } from '../integration/pipeline-fixtures.ts';
import { type TestStack, testStack } from '../integration/pipeline-support.ts';

let stack: TestStack;
const topic = uniqueName('quakes.events.stranded');
const bigTopic = uniqueName('quakes.events.stranded-many');
const admin = () => stack.clients.kafka.admin();

beforeAll(async () => {
  stack = await testStack('str', ['events']);
});
afterAll(async () => {
  const a = admin();
  await a.connect();
  await a.deleteTopics({ topics: [topic, bigTopic] }).catch(() => {});
  await a.disconnect();
  await stack?.cleanup();
});

describe('events stranded by a refused produce', () => {
  it('are named in the error, kept unpublished, and published once by the sweep when Kafka takes them', async () => {
    const events = { ddb: stack.clients.ddb, table: stack.names.table('events') };
    const producer = createEventProducer(stack.clients.kafka, { retries: 1 });
    await producer.connect();
    try {
      const a = drillQuake(uniqueName('str-a'));
      const b = drillQuake(uniqueName('str-b'), { lat: 44.43, lon: 26.1 });
      const err = await produceEvents({ quakes: [a, b] }, { events, producer, topic }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnpublishedError);
      expect((err as UnpublishedError).eventIds.sort()).toEqual([a.id, b.id].sort());
      expect((err as Error).message).toMatch(/Kafka did not take 2 accepted event\(s\)/);
      for (const q of [a, b]) expect((await getEvent(events, q.id))?.published).toBe(false);

      // Too fresh for the sweep (an in-flight produce is never raced).
      expect(await republishStranded({ events, producer, topic }, { minAgeMs: 60_000 })).toEqual({ republished: [] });

      const ad = admin();
      await ad.connect();
      await ad.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
      const swept = await republishStranded({ events, producer, topic }, { minAgeMs: 0 });
      expect(swept.republished.sort()).toEqual([a.id, b.id].sort());
      for (const q of [a, b]) expect((await getEvent(events, q.id))?.published).toBe(true);
      // Once: a second sweep finds nothing.
      expect(await republishStranded({ events, producer, topic }, { minAgeMs: 0 })).toEqual({ republished: [] });
      const offsets = await ad.fetchTopicOffsets(topic);
      await ad.disconnect();
      expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(2);
    } finally {
      await producer.disconnect();
    }
  });

  it('a long outage strands more than one produce request can carry: the sweep publishes them all, in parts', async () => {
    // 2,500 versions of ~0.5 KB: together past the broker's message.max.bytes (1 MB by default), which one record batch
    // may not exceed (the broker answers MESSAGE_TOO_LARGE). Sent as one, they would stay stranded for good.
    const events = { ddb: stack.clients.ddb, table: stack.names.table('events') };
    const producer = createEventProducer(stack.clients.kafka, { retries: 1 });
    await producer.connect();
    try {
      const now = Date.now();
      const quakes = Array.from({ length: 2500 }, (_, i) =>
        drillQuake(uniqueName(`str-many-${i}`), {
          originTime: now - i * 30_000,
          updatedAt: now - i * 30_000,
          lat: 40 + (i % 60) * 0.25,
          lon: 20 + Math.floor(i / 60) * 0.25,
        }),
      );
      const err = await produceEvents({ quakes }, { events, producer, topic: bigTopic }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnpublishedError);
      const stranded = (err as UnpublishedError).eventIds;
      expect(stranded).toHaveLength(quakes.length);

      const ad = admin();
      await ad.connect();
      await ad.createTopics({
        topics: [{ topic: bigTopic, numPartitions: 1, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      const swept = await republishStranded({ events, producer, topic: bigTopic }, { minAgeMs: 0 });
      const mine = new Set(stranded);
      expect(swept.republished.filter((id) => mine.has(id)).sort()).toEqual([...stranded].sort());
      const offsets = await ad.fetchTopicOffsets(bigTopic);
      await ad.disconnect();
      expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(quakes.length);
      expect(await republishStranded({ events, producer, topic: bigTopic }, { minAgeMs: 0 })).toEqual({
        republished: [],
      });
    } finally {
      await producer.disconnect();
    }
  }, 120_000);
});
