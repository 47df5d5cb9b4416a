/**
 * The push channel through the deployed functions (issue 14, "Done when"): producer → Kafka → consumer → segment
 * workers → the local push service (local/push-service.ts), which verifies each request's VAPID token against the
 * subscription's application server key and decrypts the aes128gcm body. Asserted on the decrypted payloads:
 * every eligible subscriber with a live subscription gets its alert (Urgency high, TTL 120 s, its Topic); an expired
 * subscription (410) is gone: one request, nothing in the delivery DLQ; a push service that answers 503 forever gets
 * retried, then the notification is parked in the delivery DLQ with its reason and the endpoint redacted.
 */
import { GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PushService, startPushService } from '../../local/push-service.ts';
import { generateVapidKeys, type PushPayload, pushTopic } from '../../shared/notify/push.ts';
import type { DeliveryDlqMessage } from '../../shared/notify/types.ts';
import { SubscriberStore } from '../../shared/segments/index.ts';
import type { SubscriberInput } from '../../shared/segments/types.ts';
import { uniqueName } from '../helpers/stack.ts';
import { type DeployedPipeline, deployPipeline } from './pipeline-deploy.ts';
import { drillQuake, expectedIds, population } from './pipeline-fixtures.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

const vapid = generateVapidKeys();
let stack: TestStack;
let push: PushService;
let pipeline: DeployedPipeline;
let subs: SubscriberInput[];

beforeAll(async () => {
  stack = await testStack('push', ['subscribers', 'segments', 'events', 'locks'], ['consumer', 'delivery', 'worker']);
  push = await startPushService({ applicationServerKey: vapid.publicKey });
  // Near the epicentre (everyone eligible at M5.6 within 30 km), each with a subscription of its own.
  subs = population({ count: 60, maxKm: 30, target: 'unused', secret: 'unused', seed: 14, idPrefix: 'p' }).map((s) => ({
    ...s,
    channel: { type: 'push', target: JSON.stringify(push.subscribe({ id: s.id })) },
  }));
  const store = new SubscriberStore(stack.clients.ddb, stack.names, { maxSegmentSize: 300 });
  expect((await store.upsert(subs)).inserted).toBe(subs.length);
  pipeline = await deployPipeline(stack, {
    tag: 'push',
    env: {
      QUAKECTL_VAPID_PUBLIC_KEY: vapid.publicKey,
      QUAKECTL_VAPID_PRIVATE_KEY: vapid.privateKey,
      QUAKECTL_VAPID_SUBJECT: 'mailto:alerts@quakectl.example',
    },
  });
});

afterAll(async () => {
  await pipeline?.teardown();
  await push?.close();
  await stack?.cleanup();
});

async function deliveryDlq(): Promise<DeliveryDlqMessage[]> {
  const { QueueUrl } = await stack.clients.sqs.send(new GetQueueUrlCommand({ QueueName: stack.names.dlq('delivery') }));
  const out: DeliveryDlqMessage[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await stack.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    out.push(...(r.Messages ?? []).map((m) => JSON.parse(m.Body!) as DeliveryDlqMessage));
  }
  return out;
}

describe('push through the deployed pipeline', () => {
  it('decrypted alerts for live subscriptions; 410 gone and unparked; 503 forever parked with a redacted target', async () => {
    const quake = drillQuake(uniqueName('push'));
    const eligible = expectedIds(quake, subs);
    const ids = [...eligible].sort();
    expect(ids.length).toBeGreaterThan(20);
    const [expired, down] = [ids[0], ids[1]];
    push.expire(expired);
    push.failAlways(down, 503);

    expect((await pipeline.invokeProducer({ quakes: [quake] })).accepted).toEqual([quake.id]);
    const ev = await pipeline.settled(quake.id);
    expect(ev.state).toBe('complete');

    const got = new Map(
      push.messages().map((m) => [m.subscriptionId, { msg: m, payload: JSON.parse(m.text) as PushPayload }]),
    );
    const live = ids.filter((id) => id !== expired && id !== down);
    expect([...got.keys()].sort()).toEqual(live);
    for (const id of live) {
      const { msg, payload } = got.get(id)!;
      expect(payload).toMatchObject({ eventId: quake.id, kind: 'alert', drill: true, id: expect.stringContaining(id) });
      expect(payload.text.startsWith('DRILL') || payload.text.startsWith('EXERCIȚIU')).toBe(true);
      expect(msg).toMatchObject({ urgency: 'high', ttl: 120, topic: pushTopic(quake.id, id) });
    }

    const answers = push.answers();
    expect(answers[410]).toBe(1);
    expect(answers[503]).toBeGreaterThan(1);
    const parked = (await deliveryDlq()).filter((m) => m.eventId === quake.id);
    expect(parked).toHaveLength(1);
    const [m] = parked;
    expect(m.notifications.map((n) => n.subscriberId)).toEqual([down]);
    expect(m.reason).toMatch(/^push 503 .*after \d+ attempt\(s\)/);
    expect(m.target).toBe(`push:${push.url}/…${`/push/${down}`.slice(-3)}`);
    expect(m.target).not.toContain(down);
  });
});
