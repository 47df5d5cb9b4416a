/**
 * Delivery against the local stack: webhooks to the loopback sink with valid signatures, a 100%-failing target whose
 * batches land in the delivery DLQ (read back from ElasticMQ), private targets refused when the profile does not allow
 * them, the Kafka outbox channel, and the one case where nothing can be parked (the DLQ itself is gone).
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import { DeleteMessageBatchCommand, GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookSink, type WebhookSink } from '../../local/webhook-sink.ts';
import { resourceNames } from '../../shared/infra/names.ts';
import {
  buildNotification,
  Deliverer,
  type DeliveryDlqMessage,
  DeliveryError,
  type DeliveryItem,
} from '../../shared/notify/index.ts';
import type { Channel } from '../../shared/segments/index.ts';
import { uniqueName } from '../helpers/stack.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

let stack: TestStack;
let sink: WebhookSink;
let dlqUrl: string;

beforeAll(async () => {
  stack = await testStack('notify', [], ['delivery']);
  dlqUrl = (await stack.clients.sqs.send(new GetQueueUrlCommand({ QueueName: stack.names.dlq('delivery') }))).QueueUrl!;
  sink = await startWebhookSink({ secrets: { '/ok': 'ok-secret', '/down': 'down-secret' } });
});
afterAll(async () => {
  await sink?.close();
  await stack?.cleanup();
});

function items(eventId: string, n: number, channel: Channel, drill = true): DeliveryItem[] {
  const quake = { id: eventId, drill, magnitude: 6.5, place: 'Vrancea, Romania', originTime: Date.now() - 5000 };
  return Array.from({ length: n }, (_, i) => ({
    notification: buildNotification(
      quake,
      { id: `sub-${i}`, locale: i % 2 ? 'ro' : 'en' },
      {
        mmi: 5.2,
        distanceKm: 40 + i,
        level: 'take-action',
        secondsUntilShaking: 12 - i / 100,
      },
    ),
    channel,
  }));
}

/** Receives (and deletes) DLQ messages until `expectMessages` of this event arrived; others are dropped. */
async function drainDlq(eventId: string, expectMessages: number): Promise<DeliveryDlqMessage[]> {
  const out: DeliveryDlqMessage[] = [];
  for (let tries = 0; out.length < expectMessages && tries < 20 + expectMessages / 5; tries++) {
    const res = await stack.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const msgs = res.Messages ?? [];
    for (const m of msgs) {
      const body = JSON.parse(m.Body!) as DeliveryDlqMessage;
      if (body.eventId === eventId) out.push(body);
    }
    if (msgs.length) {
      await stack.clients.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: dlqUrl,
          Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  }
  return out;
}

const deliverer = (extra = {}) =>
  Deliverer.fromClients(stack.clients, { batchSize: 100, backoffBaseMs: 5, backoffMaxMs: 20, ...extra });

describe('Deliverer on the local stack', () => {
  it('delivers webhooks to the sink with valid signatures, drill-marked', async () => {
    sink.reset();
    const batch = items(uniqueName('ev'), 230, { type: 'webhook', target: `${sink.url}/ok`, secret: 'ok-secret' });
    const r = await deliverer().deliver(batch);
    expect(r).toEqual({ delivered: batch.map((b) => b.notification.id), failed: [], dlq: 0 });
    expect(sink.received()).toHaveLength(230);
    expect(sink.badSignatures()).toBe(0);
    expect(sink.requests()).toBe(3);
    for (const n of sink.received()) {
      expect(n.drill).toBe(true);
      expect(n.text).toMatch(/^(DRILL — THIS IS A TEST|EXERCIȚIU — ACESTA ESTE UN TEST): /);
    }
  });

  it('sends every batch of a 100%-failing target to the delivery DLQ with its reason', async () => {
    sink.reset();
    sink.setFailing(true);
    try {
      const eventId = uniqueName('ev');
      const batch = items(eventId, 250, {
        type: 'webhook',
        target: `${sink.url}/down?token=abc`,
        secret: 'down-secret',
      });
      // Collects what the deliverer hands its logger: the fields Powertools would serialize as the JSON line.
      const lines: string[] = [];
      const collect = (level: string) => (message: string, extra?: object) =>
        lines.push(JSON.stringify({ level, message, ...extra }));
      const logger = { info: collect('INFO'), warn: collect('WARN'), error: collect('ERROR') } as unknown as Logger;
      const r = await deliverer({ maxAttempts: 3, logger }).deliver(batch);
      const logged = lines.join('\n');
      expect(logged).toContain('"message":"webhook batch failed"');
      expect(logged).toContain('"message":"notifications sent to delivery DLQ"');
      expect(logged).toContain('"reason":"HTTP 500"');
      expect(logged).not.toContain('down-secret');
      expect(logged).not.toContain('token=abc');
      expect(r.delivered).toEqual([]);
      expect(r.failed.sort()).toEqual(batch.map((b) => b.notification.id).sort());
      // One DLQ message per notification, so a redrive is idempotent per id.
      expect(r.dlq).toBe(250);
      expect(sink.failedRequests()).toBe(9); // 3 batches × 3 attempts
      const messages = await drainDlq(eventId, 250);
      expect(messages).toHaveLength(250);
      expect(messages.every((m) => m.notifications.length === 1)).toBe(true);
      const parked = messages.flatMap((m) => m.notifications.map((n) => n.id));
      expect(parked.sort()).toEqual(r.failed.sort());
      for (const m of messages) {
        expect(m).toMatchObject({ kind: 'delivery', reason: 'HTTP 500', eventId, attempts: 3 });
        // No path, no query string: tokens (Slack-style hooks keep theirs in the path) stay out of the DLQ.
        expect(m.target).toBe(`${new URL(sink.url).origin}/…`);
        expect(m.firstFailureAt).toBeGreaterThan(Date.now() - 60_000);
        expect(JSON.stringify(m)).not.toContain('down-secret');
      }
    } finally {
      sink.setFailing(false);
    }
  });

  it('refuses a private target when the profile does not allow it, parking the batch with the reason', async () => {
    sink.reset();
    const eventId = uniqueName('ev');
    const batch = items(eventId, 20, { type: 'webhook', target: `${sink.url}/ok`, secret: 'ok-secret' });
    const r = await deliverer({ allowPrivateTargets: false }).deliver(batch);
    expect(r).toMatchObject({ delivered: [], dlq: 20 });
    expect(r.failed).toHaveLength(20);
    expect(sink.requests()).toBe(0);
    const parked = await drainDlq(eventId, 20);
    expect(parked).toHaveLength(20);
    for (const m of parked)
      expect(m).toMatchObject({ reason: expect.stringMatching(/^target refused: .*loopback/), attempts: 0, eventId });
  });

  it('produces kafka channel notifications keyed by subscriber id', async () => {
    const topic = uniqueName('notif');
    const admin = stack.clients.kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const names = { ...stack.names, notificationsTopic: topic };
    const d = deliverer({ names });
    const consumer = stack.clients.kafka.consumer({ groupId: uniqueName('g') });
    try {
      const batch = items(uniqueName('ev'), 30, { type: 'kafka', target: 'push-gateway' }, false);
      const r = await d.deliver(batch);
      expect(r.delivered).toHaveLength(30);
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const got: { key: string; id: string; drill: string }[] = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${got.length} kafka messages`)), 30_000);
        consumer.run({
          eachMessage: async ({ message }) => {
            const v = JSON.parse(message.value!.toString()) as { id: string };
            got.push({ key: message.key!.toString(), id: v.id, drill: message.headers!.drill!.toString() });
            if (got.length >= 30) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
      expect(got.map((g) => g.id).sort()).toEqual(batch.map((b) => b.notification.id).sort());
      for (const g of got) {
        expect(g.id.split(':')[1]).toBe(g.key);
        expect(g.drill).toBe('false');
      }
    } finally {
      await consumer.disconnect();
      await d.close();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  });

  it('throws DeliveryError when a failed batch cannot even be parked (no silent drop)', async () => {
    sink.setFailing(true);
    try {
      const names = resourceNames(uniqueName('nodlq'));
      const batch = items(uniqueName('ev'), 5, { type: 'webhook', target: `${sink.url}/down`, secret: 'down-secret' });
      await expect(deliverer({ names, maxAttempts: 1 }).deliver(batch)).rejects.toBeInstanceOf(DeliveryError);
    } finally {
      sink.setFailing(false);
    }
  });
});
