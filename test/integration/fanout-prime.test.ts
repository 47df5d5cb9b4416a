/**
 * The producer's (shared/ingest/prime.ts), the consumer's and the segment worker's priming steps (shared/fanout/prime.ts) against the local stack's DynamoDB
 * and SQS, through the production clients: every step answers, the only error is the conditional write's expected
 * stale-revision refusal, and no table gains an item; the consumer's `segments.circles` keeps the circle of every cell
 * the segments table's rows name.
 */
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { DeleteCommand, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerPrimeSteps, PRIME_REPEAT, workerPrimeSteps } from '../../shared/fanout/prime.ts';
import { PRIME_EVENT_ID, primeEnvironment } from '../../shared/infra/prime.ts';
import { producerPrimeSteps } from '../../shared/ingest/prime.ts';
import { isCircleKept, SubscriberStore } from '../../shared/segments/index.ts';
import { population } from './pipeline-fixtures.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

const TABLES = ['subscribers', 'segments', 'events', 'locks'] as const;
let stack: TestStack;
let store: SubscriberStore;

beforeAll(async () => {
  stack = await testStack('prime', [...TABLES], ['worker', 'consumer']);
  store = new SubscriberStore(stack.clients.ddb, stack.names);
});
afterAll(async () => {
  await stack?.cleanup();
});

const dlqUrl = (kind: 'worker' | 'consumer') => async () =>
  (await stack.clients.sqs.send(new GetQueueUrlCommand({ QueueName: stack.names.dlq(kind) }))).QueueUrl!;

/** The consumer's priming steps on this stack's tables, through the production clients and store. */
const consumerSteps = () =>
  consumerPrimeSteps({
    events: { ddb: stack.clients.ddb, table: stack.names.table('events') },
    segmentsForCells: (cells) => store.segmentsForCells(cells),
    scanSegmentsPage: () =>
      stack.clients.ddb.send(new ScanCommand({ TableName: stack.names.table('segments'), Limit: 1 })),
    allSegments: () => store.allSegments(),
    dryRunWorker: async () => {},
    dlqUrl: dlqUrl('consumer'),
  });

async function itemCounts(): Promise<number[]> {
  return Promise.all(
    TABLES.map(
      async (t) =>
        (await stack.clients.ddb.send(new ScanCommand({ TableName: stack.names.table(t), Select: 'COUNT' }))).Count ??
        0,
    ),
  );
}

describe('priming steps on the local stack', () => {
  it('worker: every step answers, only the conditional write is refused, nothing is written', async () => {
    let dryRuns = 0;
    const r = await primeEnvironment(
      workerPrimeSteps({
        events: { ddb: stack.clients.ddb, table: stack.names.table('events') },
        readSegmentPage: (key, opts) => store.readSegmentPage(key, opts),
        dryRunSelf: async () => void dryRuns++,
        dlqUrl: dlqUrl('worker'),
      }),
      { timeoutMs: 20_000 },
    );
    expect(r.unfinished).toEqual([]);
    const errors = Object.entries(r.steps).filter(([, s]) => s.error);
    expect(errors).toEqual([
      ['events.conditional-update', expect.objectContaining({ error: expect.stringMatching(/^StaleRevisionError: /) })],
    ]);
    expect(Object.keys(r.steps)).toEqual(
      expect.arrayContaining(['events.get', 'subscribers.query', 'alert-code+webhook', 'sqs.dlq-url']),
    );
    expect(dryRuns).toBe(1);
    expect(await itemCounts()).toEqual([0, 0, 0, 0]);
  });

  it('consumer: every step answers, the planner runs on synthetic shards, nothing is written', async () => {
    const r = await primeEnvironment(consumerSteps(), { timeoutMs: 20_000 });
    expect(r.unfinished).toEqual([]);
    const errors = Object.entries(r.steps).filter(([, s]) => s.error);
    expect(errors).toEqual([
      ['events.conditional-update', expect.objectContaining({ error: expect.stringMatching(/^StaleRevisionError: /) })],
    ]);
    expect(r.steps.plan).toBeDefined();
    // The whole segments table read for its cells' circles (empty here: it answers, and writes nothing).
    expect(r.steps['segments.circles']).toBeDefined();
    // Each synthetic quake's Kafka record decoded as the consumer's first batch will be (a refusal is the step's error).
    expect(r.steps['record.decode']).toEqual({ ms: expect.any(Number) });
    expect(r.steps['events.items']).toEqual({ ms: expect.any(Number) });
    expect(await itemCounts()).toEqual([0, 0, 0, 0]);
  });

  it('consumer: segments.circles keeps the circle of every shard cell and area cell of the table, and writes nothing', async () => {
    // Subscribers far from the synthetic quakes the `plan` step plans (Vrancea, 0°N 0°E), so no other step keeps them.
    const subs = population({ count: 300, maxKm: 60, target: 'https://example.org/h', secret: 's', seed: 9 });
    await store.upsert(subs.map((s) => ({ ...s, lat: s.lat - 60 })));
    const rows = await store.allSegments();
    const cells = new Set(rows.flatMap((r) => [r.cell, ...(r.area ?? [])]));
    expect(cells.size).toBeGreaterThan(rows.length);
    expect([...cells].filter(isCircleKept)).toEqual([]);
    const before = await itemCounts();
    const r = await primeEnvironment(consumerSteps(), { timeoutMs: 20_000 });
    expect(r.steps['segments.circles']).toEqual({ ms: expect.any(Number) });
    expect([...cells].filter((c) => !isCircleKept(c))).toEqual([]);
    expect(await itemCounts()).toEqual(before);
  });

  it('producer: every step answers, only the conditional update is refused as a step, nothing is written', async () => {
    const before = await itemCounts();
    let connects = 0;
    const r = await primeEnvironment(
      producerPrimeSteps({
        events: { ddb: stack.clients.ddb, table: stack.names.table('events') },
        connectKafka: async () => void connects++,
      }),
      { timeoutMs: 20_000 },
    );
    expect(r.unfinished).toEqual([]);
    expect(Object.keys(r.steps).sort()).toEqual(
      [
        'events.conditional-put',
        'events.conditional-update',
        'events.get',
        'identity.lookup',
        'kafka.connect',
        'payload.collect',
      ].sort(),
    );
    // The refused PutItem is what its step expects (not an error); the refused UpdateItem surfaces as the stale claim.
    const errors = Object.entries(r.steps).filter(([, s]) => s.error);
    expect(errors).toEqual([
      ['events.conditional-update', expect.objectContaining({ error: expect.stringMatching(/^StaleRevisionError: /) })],
    ]);
    expect(connects).toBe(1);
    expect(await itemCounts()).toEqual(before);
  });

  it('worker: subscribers.query reads the first page of a real shard, PRIME_REPEAT times, and writes nothing', async () => {
    const subs = population({ count: 200, maxKm: 30, target: 'https://example.org/h', secret: 's', seed: 11 });
    await store.upsert(subs.map((s) => ({ ...s, lat: s.lat - 50 })));
    const before = await itemCounts();
    const reads: { key: string; limit: number; items: number }[] = [];
    const r = await primeEnvironment(
      workerPrimeSteps({
        events: { ddb: stack.clients.ddb, table: stack.names.table('events') },
        readSegmentPage: async (key, opts) => {
          const page = await store.readSegmentPage(key, opts);
          reads.push({ key, limit: opts.limit, items: page.items.length });
          return page;
        },
        sampleSegment: () => store.sampleSegment(),
        dryRunSelf: async () => {},
        dlqUrl: dlqUrl('worker'),
      }),
      { timeoutMs: 20_000 },
    );
    expect(r.steps['subscribers.query']).toEqual({ ms: expect.any(Number) });
    expect(reads).toHaveLength(PRIME_REPEAT);
    const shards = new Set((await store.allSegments()).filter((x) => x.count > 0).map((x) => x.key));
    for (const read of reads) {
      expect(shards.has(read.key)).toBe(true);
      expect(read.limit).toBe(100);
      expect(read.items).toBeGreaterThan(0);
    }
    expect(await itemCounts()).toEqual(before);
  });

  it('no step changes an existing item: an event with the prime event’s id and revision 1 is left as it was', async () => {
    // The priming's conditional writes are refused by their condition, not by the key's absence: an item under the
    // prime id (a feed may carry any id) must be neither overwritten nor counted into.
    const events = { ddb: stack.clients.ddb, table: stack.names.table('events') };
    const item = { eventId: PRIME_EVENT_ID, revision: 1, nextIndex: 0, state: 'planned', total: 3, chains: 2 };
    await stack.clients.ddb.send(new PutCommand({ TableName: events.table, Item: item }));
    try {
      const steps = [
        ...producerPrimeSteps({ events, connectKafka: async () => {} }),
        ...consumerSteps(),
        ...workerPrimeSteps({
          events,
          readSegmentPage: (key, opts) => store.readSegmentPage(key, opts),
          sampleSegment: () => store.sampleSegment(),
          dryRunSelf: async () => {},
          dlqUrl: dlqUrl('worker'),
        }),
      ].map((s, i) => ({ ...s, name: `${i}:${s.name}` }));
      const r = await primeEnvironment(steps, { timeoutMs: 20_000 });
      expect(r.unfinished).toEqual([]);
      const stored = await stack.clients.ddb.send(
        new GetCommand({ TableName: events.table, Key: { eventId: PRIME_EVENT_ID }, ConsistentRead: true }),
      );
      expect(stored.Item).toEqual(item);
      // Every refused write is still a step that ran to its refusal (the same error path as without the item).
      const errors = Object.entries(r.steps).filter(([, s]) => s.error);
      expect(errors.map(([n]) => n.replace(/^\d+:/, ''))).toEqual([
        'events.conditional-update',
        'events.conditional-update',
        'events.conditional-update',
      ]);
    } finally {
      await stack.clients.ddb.send(new DeleteCommand({ TableName: events.table, Key: { eventId: PRIME_EVENT_ID } }));
    }
  });
});
