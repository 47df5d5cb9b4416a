/**
 * The alert pipeline end to end on the local stack (issue 5, "Done when"): the three functions bundled by the project's
 * bundler and deployed to the Lambda emulator, a Kafka event source mapping from an events topic to the consumer,
 * 10,000 subscribers with webhook channels on a loopback receiver, one drill event sent through the producer.
 * Plus the reliability cases: a worker environment killed mid-segment, one Kafka record delivered twice, poison records.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetFunctionConfigurationCommand, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWebhookSink, type WebhookSink } from '../../local/webhook-sink.ts';
import { type EventRecord, getEvent, getPlan } from '../../shared/events/index.ts';
import { eventMessage, type ProducerResult } from '../../shared/ingest/index.ts';
import { list } from '../../shared/locks/index.ts';
import { DRILL_BANNER } from '../../shared/notify/index.ts';
import type { Quake } from '../../shared/quake/types.ts';
import { SubscriberStore } from '../../shared/segments/index.ts';
import type { SubscriberInput } from '../../shared/segments/types.ts';
import { uniqueName } from '../helpers/stack.ts';
import { type DeployedPipeline, deployPipeline } from './pipeline-deploy.ts';
import { drillQuake, expectedIds, population } from './pipeline-fixtures.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

const SECRET = 'e2e-webhook-secret';
const PARALLELISM = 3;
const BATCH = 100;

let stack: TestStack;
let sink: WebhookSink;
let pipeline: DeployedPipeline;
let kafkaProducer: Producer;
let topic: string;
let subs: SubscriberInput[];
let crashDir: string;
const segmentOf = new Map<string, string>();

function baseEnv(): Record<string, string> {
  return pipeline.env;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const events = () => ({ ddb: stack.clients.ddb, table: stack.names.table('events') });

async function completed(eventId: string, timeoutMs = 120_000): Promise<EventRecord> {
  return until(
    `event ${eventId} complete`,
    async () => {
      const ev = await getEvent(events(), eventId);
      return ev?.state === 'complete' ? ev : undefined;
    },
    timeoutMs,
  );
}

const invokeProducer = (payload: unknown): Promise<ProducerResult> => pipeline.invokeProducer(payload);

function received(eventId: string) {
  return sink.received().filter((n) => n.eventId === eventId);
}

function assertExactlyEligible(quake: Quake) {
  const got = received(quake.id);
  const want = expectedIds(quake, subs);
  expect(sink.badSignatures()).toBe(0);
  expect(got.every((n) => n.drill === true && n.text.startsWith(DRILL_BANNER[n.locale as 'en' | 'ro']))).toBe(true);
  expect(got.length).toBe(want.size);
  expect(new Set(got.map((n) => n.subscriberId))).toEqual(want);
  return want;
}

beforeAll(async () => {
  stack = await testStack('e2e', ['subscribers', 'segments', 'events', 'locks'], ['consumer', 'delivery', 'worker']);
  crashDir = mkdtempSync(join(tmpdir(), 'quakectl-crash-'));
  sink = await startWebhookSink({ secrets: SECRET });
  kafkaProducer = stack.clients.kafka.producer();
  await kafkaProducer.connect();

  // 10,000 subscribers within 150 km, denser near the epicentre, mixed thresholds and locales.
  subs = population({
    count: 10_000,
    maxKm: 150,
    dense: 800,
    target: `${sink.url}/hooks/e2e`,
    secret: SECRET,
    seed: 7,
  });
  const store = new SubscriberStore(stack.clients.ddb, stack.names, { maxSegmentSize: 500 });
  const imported = await store.upsert(subs);
  expect(imported.rejected).toEqual([]);
  expect(imported.inserted).toBe(10_000);
  for await (const page of paginateScan(
    { client: stack.clients.ddb },
    { TableName: stack.names.table('subscribers') },
  )) {
    for (const item of page.Items ?? []) segmentOf.set(item.subscriberId as string, item.segment as string);
  }

  pipeline = await deployPipeline(stack, {
    tag: 'e2e',
    fanout: { parallelism: PARALLELISM, batchSize: BATCH, maxSegmentSize: 500 },
    // One read batch = one webhook batch here, so the crash test can bound the repeated batch by BATCH.
    env: { QUAKECTL_PAGE_SIZE: String(BATCH) },
  });
  topic = pipeline.topic;
});

afterAll(async () => {
  await pipeline?.teardown();
  await kafkaProducer?.disconnect();
  await sink?.close();
  await stack?.cleanup();
  if (crashDir) rmSync(crashDir, { recursive: true, force: true });
});

beforeEach(() => sink.reset());

/** Spearman rank correlation of two equally long series (no ties expected in times at ms resolution). */
function spearman(xs: number[], ys: number[]): number {
  const rank = (v: number[]) => {
    const idx = v.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
    const r = new Array<number>(v.length);
    idx.forEach(([, i], k) => {
      r[i] = k;
    });
    return r;
  };
  const rx = rank(xs);
  const ry = rank(ys);
  const n = xs.length;
  const d2 = rx.reduce((s, r, i) => s + (r - ry[i]) ** 2, 0);
  return 1 - (6 * d2) / (n * (n * n - 1));
}

describe('alert pipeline end to end (producer → Kafka → consumer → segment workers → webhooks)', () => {
  it('a drill reaches every subscriber at or above their threshold exactly once, nearest segments first', async () => {
    const quake = drillQuake(uniqueName('e2e-drill'), { magnitude: 5.8 });
    // Sent as a plain event in a drill payload: the payload's drill flag marks it, end to end.
    const result = await invokeProducer({ quakes: [{ ...quake, drill: false }], drill: true });
    expect(result).toMatchObject({ accepted: [quake.id], rejected: [], superseded: 0 });

    const ev = await completed(quake.id);
    const want = assertExactlyEligible(quake);
    process.stderr.write(
      `[e2e] ${want.size} of ${subs.length} alerted in ${ev.total} segments by ${PARALLELISM} chains; ` +
        `accepted→first ${ev.firstDeliveryAt! - ev.acceptedAt!} ms, accepted→last ${ev.lastDeliveryAt! - ev.acceptedAt!} ms\n`,
    );
    expect(want.size).toBeGreaterThan(2000);
    expect(want.size).toBeLessThan(subs.length);
    expect(sink.duplicates()).toBe(0);

    expect(ev).toMatchObject({ state: 'complete', revision: 1, strategy: 'geo', chains: PARALLELISM });
    expect(ev.doneCount).toBe(ev.total);
    expect(ev.delivered).toBe(want.size);
    expect(ev.eligible).toBe(want.size);
    expect(ev.failed).toBe(0);
    expect(ev.plannedQuake?.drill).toBe(true);
    expect(ev.acceptedAt).toBeGreaterThan(0);
    expect(ev.firstDeliveryAt).toBeGreaterThanOrEqual(ev.acceptedAt!);
    expect(ev.lastDeliveryAt).toBeGreaterThanOrEqual(ev.firstDeliveryAt!);
    expect(ev.completedAt).toBeGreaterThanOrEqual(ev.lastDeliveryAt!);

    // Nearest first: the time each segment first received follows the plan's order (P chains in parallel, so the
    // order is by rank, not strict), and the plan's order is by distance.
    const saved = await getPlan(events(), ev);
    const plan = saved?.plan ?? [];
    const firstAt = new Map<string, number>();
    for (const r of sink.receipts()) {
      if (r.notification.eventId !== quake.id) continue;
      const seg = segmentOf.get(r.notification.subscriberId)!;
      if (!firstAt.has(seg)) firstAt.set(seg, r.receivedAt);
    }
    const reached = plan.map((s, i) => [i, firstAt.get(s)] as const).filter(([, t]) => t !== undefined);
    expect(reached.length).toBeGreaterThan(10);
    const rho = spearman(
      reached.map(([i]) => i),
      reached.map(([, t]) => t!),
    );
    expect(rho).toBeGreaterThan(0.8);
    const d = saved?.planDistancesKm ?? [];
    for (let i = 1; i < d.length; i++) expect(d[i]).toBeGreaterThanOrEqual(d[i - 1]);
    // The nearest third of the segments was reached before the farthest third, on average.
    const third = Math.floor(reached.length / 3);
    const mean = (xs: readonly (readonly [number, number | undefined])[]) =>
      xs.reduce((s, [, t]) => s + t!, 0) / xs.length;
    expect(mean(reached.slice(0, third))).toBeLessThan(mean(reached.slice(-third)));
  });

  it('the same Kafka record delivered twice plans once', async () => {
    const quake = drillQuake(uniqueName('e2e-twice'), { magnitude: 4.6 });
    const msg = eventMessage(quake, Date.now());
    await kafkaProducer.send({ topic, messages: [msg] });
    await kafkaProducer.send({ topic, messages: [msg] });
    const ev = await completed(quake.id);
    expect(ev.revision).toBe(1);
    assertExactlyEligible(quake);
    expect(sink.duplicates()).toBe(0);
    // Give the second record time to be consumed, then check nothing was re-planned.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await getEvent(events(), quake.id))?.revision).toBe(1);
    expect(received(quake.id).length).toBe(expectedIds(quake, subs).size);
  });

  it('poison records go to the consumer DLQ with their position and reason; the rest of the batch is alerted', async () => {
    const quake = drillQuake(uniqueName('e2e-poison'), { magnitude: 4.4 });
    const good = eventMessage(quake, Date.now());
    await kafkaProducer.send({
      topic,
      messages: [
        { key: quake.id, value: '{"schema":1,"quake":', headers: { schema: '1' } },
        { key: quake.id, value: JSON.stringify({ schema: 1, quake: { ...quake, id: `${quake.id}-bad`, lat: 999 } }) },
        good,
      ],
    });
    await completed(quake.id);
    assertExactlyEligible(quake);
    const { QueueUrl } = await stack.clients.sqs.send(
      new GetQueueUrlCommand({ QueueName: stack.names.dlq('consumer') }),
    );
    const bodies = await until('two consumer DLQ messages', async () => {
      const got: Record<string, unknown>[] = [];
      for (let i = 0; i < 5 && got.length < 2; i++) {
        const r = await stack.clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        got.push(...(r.Messages ?? []).map((m) => JSON.parse(m.Body!)));
      }
      return got.length >= 2 ? got : undefined;
    });
    expect(bodies.map((b) => b.reason as string).sort()).toEqual(
      [expect.stringMatching(/lat/), expect.stringMatching(/not JSON/)].sort(),
    );
    for (const b of bodies)
      expect(b).toMatchObject({ kind: 'consumer', topic, partition: expect.any(Number), offset: expect.any(Number) });
  });

  it('a worker environment killed mid-segment: the lease expires, another resumes from the cursor', async () => {
    const worker = stack.names.function('segment-worker');
    await stack.clients.lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: worker,
        Environment: {
          Variables: { ...baseEnv(), QUAKECTL_TEST_CRASH_AFTER_BATCHES: '2', QUAKECTL_TEST_CRASH_DIR: crashDir },
        },
      }),
    );
    await until('worker updated', async () => {
      const c = await stack.clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: worker }));
      return c.LastUpdateStatus === 'Successful' || c.LastUpdateStatus === undefined ? true : undefined;
    });
    try {
      const quake = drillQuake(uniqueName('e2e-crash'), { magnitude: 5.2 });
      const r = await invokeProducer({ quakes: [quake] });
      expect(r.accepted).toEqual([quake.id]);
      await completed(quake.id);
      assertExactlyEligible(quake);
      // Only the batch in flight when the environment died was delivered twice, with the same ids.
      expect(sink.duplicates()).toBeGreaterThan(0);
      expect(sink.duplicates()).toBeLessThanOrEqual(BATCH);
      // The environment did die (the hook leaves its marker), and its segment was taken over and finished. Other
      // segments may show attempts > 1 too: domino hand-overs and, on a loaded machine, leases that ran out.
      expect(readdirSync(crashDir)).toEqual([`quakectl-crash-${quake.id}`]);
      const locks = await list({ ddb: stack.clients.ddb, table: stack.names.table('locks') }, { eventId: quake.id });
      expect(locks.filter((l) => l.attempts > 1).length).toBeGreaterThanOrEqual(1);
      expect(locks.every((l) => l.state === 'done')).toBe(true);
    } finally {
      await stack.clients.lambda.send(
        new UpdateFunctionConfigurationCommand({ FunctionName: worker, Environment: { Variables: baseEnv() } }),
      );
    }
  });
});
