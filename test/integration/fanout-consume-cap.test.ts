/**
 * The consumer's CAP publication on the local stack, in-process (real tables, real consumer DLQ, a real directory
 * store): it starts only after the event's chains were started; a store that cannot be written (a real ENOTDIR) is
 * counted and parked in the consumer DLQ as `{kind:"cap"}` while the event stays planned; `quakectl dlq redrive`'s
 * domain republishes it from the DLQ; a redelivered record publishes again, the same bytes.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getEvent } from '../../shared/events/index.ts';
import {
  type ConsumeDeps,
  consumeBatch,
  type KafkaRecord,
  type SelfManagedKafkaEvent,
} from '../../shared/fanout/index.ts';
import { eventMessage } from '../../shared/ingest/index.ts';
import { publishEventCap } from '../../shared/notify/cap-publish.ts';
import { directoryCapStore } from '../../shared/notify/cap-store.ts';
import { resolveDlq } from '../../shared/ops/dlq/queues.ts';
import { redrive } from '../../shared/ops/dlq/redrive.ts';
import { SubscriberStore } from '../../shared/segments/index.ts';
import { uniqueName } from '../helpers/stack.ts';
import { drillQuake, population } from './pipeline-fixtures.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

let stack: TestStack;
let dlqUrl: string;
let offset = 0;

beforeAll(async () => {
  stack = await testStack('ccap', ['subscribers', 'segments', 'events', 'locks'], ['consumer']);
  const store = new SubscriberStore(stack.clients.ddb, stack.names, { maxSegmentSize: 50 });
  await store.upsert(population({ count: 200, maxKm: 80, dense: 20, target: 'http://127.0.0.1:9/h', secret: 's' }));
  dlqUrl = (await stack.clients.sqs.send(new GetQueueUrlCommand({ QueueName: stack.names.dlq('consumer') }))).QueueUrl!;
});
afterAll(async () => stack?.cleanup());

function batch(m: { key: string; value: string; headers: Record<string, string> }): SelfManagedKafkaEvent {
  const record: KafkaRecord = {
    topic: 'quakes.events',
    partition: 0,
    offset: offset++,
    timestamp: Date.now(),
    timestampType: 'CREATE_TIME',
    key: Buffer.from(m.key).toString('base64'),
    value: Buffer.from(m.value).toString('base64'),
    headers: Object.entries(m.headers).map(([k, v]) => ({ [k]: [...Buffer.from(v)] })),
  };
  return {
    eventSource: 'SelfManagedKafka',
    bootstrapServers: '127.0.0.1:19092',
    records: { 'quakes.events-0': [record] },
  };
}

describe('consumer CAP publication', () => {
  it('runs after the chains start; a failure is parked, never fails the event; a redelivery repairs the feed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'quakectl-ccap-'));
    // A regular file where the feed's parent directory should be: mkdir fails with ENOTDIR, as a full or read-only
    // volume would fail a real publish.
    writeFileSync(join(root, 'blocked'), '');
    let dir = join(root, 'blocked', 'cap');
    const order: string[] = [];
    const subscribers = new SubscriberStore(stack.clients.ddb, stack.names);
    const deps: ConsumeDeps = {
      events: { ddb: stack.clients.ddb, table: stack.names.table('events') },
      locks: { ddb: stack.clients.ddb, table: stack.names.table('locks') },
      segmentsForCells: (cells) => subscribers.segmentsForCells(cells),
      startChain: async (p) => {
        order.push(`chain ${p.chain}`);
      },
      sendToDlq: async (message) => {
        await stack.clients.sqs.send(
          new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify(message) }),
        );
      },
      publishCap: async (record) => {
        order.push('cap');
        await publishEventCap(directoryCapStore(dir), record, { sender: 'quakectl.test', baseUrl: 'http://feed/cap' });
      },
      minMagnitude: 3,
      minSubscriberMmi: 3,
      parallelism: 2,
      strategy: 'geo',
    };
    const q = drillQuake(uniqueName('ccap'), { magnitude: 5.5 });
    const first = await consumeBatch(batch(eventMessage(q, Date.now())), deps);
    expect(first.outcomes.planned).toBe(1);
    expect(first.cap).toEqual({ published: 0, failed: 1 });
    expect(order).toEqual(['chain 0', 'chain 1', 'cap']);
    expect((await getEvent(deps.events, q.id))?.state).toBe('planned');
    const parked = await stack.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 2,
        VisibilityTimeout: 0,
      }),
    );
    const bodies = (parked.Messages ?? []).map((m) => JSON.parse(m.Body!));
    expect(bodies).toEqual([
      expect.objectContaining({ kind: 'cap', eventId: q.id, revision: 1, reason: expect.stringMatching(/ENOTDIR/) }),
    ]);

    // The operator redrives the consumer DLQ for this event: the feed is published, the message deleted.
    dir = join(root, 'cap');
    const redriven = await redrive(
      {
        sqs: stack.clients.sqs,
        lambda: stack.clients.lambda,
        kafka: stack.clients.kafka,
        names: stack.names,
        brokers: [],
        republishCap: async (eventId) => {
          const record = (await getEvent(deps.events, eventId))!;
          const r = await publishEventCap(directoryCapStore(dir), record, {
            sender: 'quakectl.test',
            baseUrl: 'http://feed/cap',
          });
          return `republished ${r.names.length}`;
        },
      },
      await resolveDlq(stack.clients.sqs, stack.names, 'consumer'),
      { eventId: q.id },
    );
    expect(redriven.items).toEqual([
      expect.objectContaining({ kind: 'cap-publish', outcome: 'redriven', detail: 'republished 1' }),
    ]);
    const published = readFileSync(join(dir, `quakectl-${q.id}-${q.updatedAt}.xml`), 'utf8');

    // The batch is redelivered too (the mapping's retry): the record is a duplicate, the feed published again.
    const again = await consumeBatch(batch(eventMessage(q, Date.now())), deps);
    expect(again.outcomes.duplicate).toBe(1);
    expect(again.cap).toEqual({ published: 1, failed: 0 });
    expect(readdirSync(dir).sort()).toEqual(['index.atom', `quakectl-${q.id}-${q.updatedAt}.xml`]);
    expect(readFileSync(join(dir, `quakectl-${q.id}-${q.updatedAt}.xml`), 'utf8')).toBe(published);
  });
});
