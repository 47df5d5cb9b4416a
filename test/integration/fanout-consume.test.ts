/**
 * The consumer's domain on the local stack, in-process: Kafka batches in the SelfManagedKafka shape, real tables, real
 * consumer DLQ, chains run by calling the worker loop (what the async invoke does). Updates re-alert only rising levels.
 */
import { randomBytes } from 'node:crypto';
import { GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWebhookSink, type WebhookSink } from '../../local/webhook-sink.ts';
import { getEvent } from '../../shared/events/index.ts';
import {
  type ConsumeDeps,
  consumeBatch,
  type KafkaRecord,
  runSegmentWorker,
  type SelfManagedKafkaEvent,
} from '../../shared/fanout/index.ts';
import { eventMessage } from '../../shared/ingest/index.ts';
import { Deliverer } from '../../shared/notify/index.ts';
import type { Quake } from '../../shared/quake/types.ts';
import { SubscriberStore } from '../../shared/segments/index.ts';
import type { SubscriberInput } from '../../shared/segments/types.ts';
import { alertLevel, intensityModelFor } from '../../shared/seismo/index.ts';
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

function consumer(chains: Promise<unknown>[]): ConsumeDeps {
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
  };
}

/** Level per subscriber as the pipeline decides it (below own threshold: none). */
function levels(q: Quake): Map<string, 'none' | 'be-aware' | 'take-action'> {
  const m = intensityModelFor(q);
  return new Map(
    subs.map((s) => {
      const mmi = m.predict(s.lat, s.lon);
      if (mmi < (s.minMmi ?? 3)) return [s.id, 'none'];
      const l = alertLevel(mmi);
      return [s.id, l === 'none' ? 'be-aware' : l];
    }),
  );
}

const rank = { none: 0, 'be-aware': 1, 'take-action': 2 } as const;

describe('consumeBatch', () => {
  it('plans once per version; an update re-alerts exactly the subscribers whose level rose', async () => {
    const chains: Promise<unknown>[] = [];
    const deps = consumer(chains);
    const v1 = drillQuake(`con-${randomBytes(3).toString('hex')}`, { magnitude: 4.8 });
    const r1 = await consumeBatch(batch([eventMessage(v1, Date.now()), eventMessage(v1, Date.now())]), deps);
    expect(r1.outcomes).toMatchObject({ planned: 1, duplicate: 1 });
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
    expect(ev?.previousQuake?.magnitude).toBe(4.8);
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
