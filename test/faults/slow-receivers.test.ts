/**
 * Slow and hanging receivers (issue 11, item 1) on the local stack, with the real worker loop, tables, delivery DLQ
 * and loopback receivers of the test's own: leases survive slow batches (heartbeat while a batch is out), a hanging
 * target costs its own budget and not the healthy targets' time, each undeliverable notification is one DLQ message,
 * and the event completes only after the last send.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookSink, type WebhookSink } from '../../local/webhook-sink.ts';
import { getEvent, savePlan } from '../../shared/events/index.ts';
import { runSegmentWorker, type WorkerPayload } from '../../shared/fanout/index.ts';
import { planFanout } from '../../shared/fanout/plan.ts';
import { list } from '../../shared/locks/index.ts';
import { Deliverer } from '../../shared/notify/index.ts';
import { coveringCells } from '../../shared/segments/cells.ts';
import { SubscriberStore } from '../../shared/segments/index.ts';
import type { SubscriberInput } from '../../shared/segments/types.ts';
import { drillQuake, expectedIds, population } from '../integration/pipeline-fixtures.ts';
import { type TestStack, testStack } from '../integration/pipeline-support.ts';

const SECRET = 'slow-secret';
let stack: TestStack;
let sink: WebhookSink;
let hanging: Server;
let hangingUrl: string;
let dlqUrl: string;

beforeAll(async () => {
  stack = await testStack('slow', ['subscribers', 'segments', 'events', 'locks'], ['delivery', 'worker']);
  sink = await startWebhookSink({ secrets: SECRET });
  // A receiver that accepts the request and never answers.
  hanging = createServer(() => {});
  await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', () => r()));
  hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
  dlqUrl = (await stack.clients.sqs.send(new GetQueueUrlCommand({ QueueName: stack.names.dlq('delivery') }))).QueueUrl!;
});
afterAll(async () => {
  hanging?.closeAllConnections();
  hanging?.close();
  await sink?.close();
  await stack?.cleanup();
});

/** Every subscriber seeded so far: both tests share the area, so the second event reaches the first's too. */
const seeded: SubscriberInput[] = [];

async function seed(subs: SubscriberInput[]) {
  seeded.push(...subs);
  const store = new SubscriberStore(stack.clients.ddb, stack.names, { maxSegmentSize: 200 });
  expect((await store.upsert(subs)).rejected).toEqual([]);
  return store;
}

/** Plans the event and runs `chains` worker loops in this process, as the consumer's async invokes would. */
async function fanOut(
  store: SubscriberStore,
  quake: ReturnType<typeof drillQuake>,
  opts: { chains: number; leaseMs: number; deliverer: Deliverer },
) {
  const { ddb } = stack.clients;
  const events = { ddb, table: stack.names.table('events') };
  const plan = await planFanout(quake, {
    minSubscriberMmi: 3,
    strategy: 'geo',
    chains: opts.chains,
    maxUnitSize: 200,
    coveringCells,
    segmentsForCells: (cells) => store.segmentsForCells(cells),
  });
  const saved = await savePlan(events, quake, { ...plan, chains: opts.chains });
  const run = (payload: WorkerPayload) =>
    runSegmentWorker(
      {
        events,
        locks: { ddb, table: stack.names.table('locks') },
        subscribers: store,
        deliver: (items, o) => opts.deliverer.deliver(items, o),
        invokeSuccessor: async () => {},
        remainingMs: () => 600_000,
        owner: `w${payload.chain}-${randomBytes(2).toString('hex')}`,
        leaseMs: opts.leaseMs,
        pageSize: 100,
        reserveMs: 1000,
      },
      payload,
    );
  await Promise.all(
    Array.from({ length: opts.chains }, (_, chain) =>
      run({ eventId: quake.id, chain, hop: 0, revision: saved?.revision }),
    ),
  );
  return { event: await getEvent(events, quake.id) };
}

async function drainDlq(): Promise<{ reason: string; ids: string[] }[]> {
  const out: { reason: string; ids: string[] }[] = [];
  for (let empty = 0; empty < 2; ) {
    const r = await stack.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    if (!r.Messages?.length) {
      empty++;
      continue;
    }
    for (const m of r.Messages) {
      const b = JSON.parse(m.Body!) as { reason: string; notifications: { id: string }[] };
      out.push({ reason: b.reason, ids: b.notifications.map((n) => n.id) });
    }
  }
  return out;
}

describe('slow and hanging receivers', () => {
  it('a receiver slowed to 3 s per request: the lease holds (heartbeats), nobody is missed or repeated', async () => {
    const prefix = `slw${randomBytes(2).toString('hex')}`;
    const subs = population({
      count: 300,
      maxKm: 40,
      dense: 100,
      target: `${sink.url}/hooks/slow`,
      secret: SECRET,
      idPrefix: prefix,
      seed: 5,
    });
    const store = await seed(subs);
    sink.reset();
    sink.setSlow(3000);
    try {
      const quake = drillQuake(`${prefix}-q`, { magnitude: 5.5 });
      // Lease 2 s against 3 s batches: without a heartbeat while a batch is out, every lease would expire mid-batch.
      // The deployed defaults (fanout.webhookTimeoutMs 5 s, fanout.targetBudgetMs 12 s): no test-only timeouts.
      const deliverer = new Deliverer({ sqs: stack.clients.sqs, names: stack.names, allowPrivateTargets: true });
      const { event } = await fanOut(store, quake, { chains: 2, leaseMs: 2000, deliverer });
      const want = expectedIds(quake, seeded);
      expect(new Set(sink.received().map((n) => n.subscriberId))).toEqual(want);
      expect(sink.duplicates()).toBe(0);
      expect(event).toMatchObject({ state: 'complete', delivered: want.size, failed: 0 });
      // Completed only after the last notification arrived.
      const lastArrival = Math.max(...sink.receipts().map((r) => r.receivedAt));
      expect(event!.completedAt).toBeGreaterThanOrEqual(lastArrival);
      const locks = await list({ ddb: stack.clients.ddb, table: stack.names.table('locks') }, { eventId: quake.id });
      expect(locks.every((l) => l.state === 'done' && l.attempts === 1)).toBe(true);
    } finally {
      sink.setSlow(0);
    }
  });

  it('two thirds of the subscribers on hanging targets: the healthy third is not held, each failure is one DLQ message', async () => {
    const prefix = `hng${randomBytes(2).toString('hex')}`;
    const all = population({
      count: 600,
      maxKm: 40,
      dense: 200,
      target: `${sink.url}/hooks/healthy`,
      secret: SECRET,
      idPrefix: prefix,
      seed: 9,
    });
    // Every third subscriber keeps the healthy receiver; the others get a hanging target of their own.
    const subs = all.map((s, i) =>
      i % 3 === 0
        ? s
        : { ...s, channel: { type: 'webhook' as const, target: `${hangingUrl}/own/${s.id}`, secret: SECRET } },
    );
    const store = await seed(subs);
    sink.reset();
    const quake = drillQuake(`${prefix}-q`, { magnitude: 5.5 });
    const budgetMs = 1500;
    const deliverer = new Deliverer({
      sqs: stack.clients.sqs,
      names: stack.names,
      allowPrivateTargets: true,
      timeoutMs: 1000,
      targetBudgetMs: budgetMs,
    });
    const { event } = await fanOut(store, quake, { chains: 2, leaseMs: 3000, deliverer });
    const want = expectedIds(quake, seeded);
    const onSink = (s: SubscriberInput) => s.channel.type === 'webhook' && s.channel.target.startsWith(sink.url);
    const healthy = new Set(seeded.filter((s) => onSink(s) && want.has(s.id)).map((s) => s.id));
    const hung = [...want].filter((id) => !healthy.has(id));
    expect(hung.length).toBeGreaterThan(100);
    // Every healthy subscriber delivered once; every hanging one parked once, one DLQ message each.
    expect(
      new Set(
        sink
          .received()
          .filter((n) => n.eventId === quake.id)
          .map((n) => n.subscriberId),
      ),
    ).toEqual(healthy);
    expect(sink.duplicates()).toBe(0);
    const parked = await drainDlq();
    expect(parked.every((m) => m.ids.length === 1)).toBe(true);
    expect(parked.map((m) => m.ids[0].split(':')[1]).sort()).toEqual(hung.sort());
    // The budget, not maxAttempts × timeout, ended each hanging target's tries.
    expect(parked[0].reason).toMatch(/target budget of 1500 ms spent|timeout after/);
    expect(event).toMatchObject({ state: 'complete', delivered: healthy.size, failed: hung.length });
    const locks = await list({ ddb: stack.clients.ddb, table: stack.names.table('locks') }, { eventId: quake.id });
    expect(locks.every((l) => l.state === 'done' && l.attempts === 1)).toBe(true);
  });
});
