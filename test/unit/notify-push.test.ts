/**
 * The push channel (shared/notify/push.ts) through the one Deliverer against the local push service
 * (local/push-service.ts), which checks VAPID (RFC 8292), TTL/Urgency/Topic (RFC 8030) and decrypts aes128gcm
 * (RFC 8291): assertions are on the decrypted payload. Answers: 201 delivered; 410/404 gone (not retried, not parked);
 * 429 waited out (Retry-After) and counted as throttled; 503 retried then failed; 413/400/401 not retried; a loopback
 * endpoint refused by the SSRF guard when private targets are not allowed. The deliverer's SQS client points at a
 * closed port: a test that parked by mistake fails.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type PushService, seededSubscription, startPushService, verifyVapid } from '../../local/push-service.ts';
import { resourceNames } from '../../shared/infra/names.ts';
import { TargetGuard } from '../../shared/notify/address.ts';
import { buildNotification, Deliverer, type DeliveryItem } from '../../shared/notify/index.ts';
import {
  classifyPushStatus,
  generateVapidKeys,
  PUSH_MAX_PAYLOAD,
  PUSH_TOPIC_LENGTH,
  type PushPayload,
  PushSender,
  pushPayload,
  pushSenderFromEnv,
  pushTopic,
  retryAfterMs,
} from '../../shared/notify/push.ts';

const keys = generateVapidKeys();
const vapid = { ...keys, subject: 'mailto:alerts@quakectl.example' };
const quake = { id: 'ev-push', drill: true, magnitude: 6.4, place: 'Vrancea', originTime: Date.now() };
const unusedSqs = new SQSClient({
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:9',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  maxAttempts: 1,
});
const open = new TargetGuard({ allowPrivate: true });

function item(subscription: object, subscriberId = 's1', kind: 'alert' | 'cancel' = 'alert'): DeliveryItem {
  const n = buildNotification(
    quake,
    { id: subscriberId, locale: 'en' },
    { mmi: 6.2, distanceKm: 40, level: 'take-action', secondsUntilShaking: 12 },
  );
  // A cancellation has its own id (`eventId:subscriberId:cancel`): the send journal would skip a repeated one.
  const notification = kind === 'cancel' ? { ...n, kind, id: `${n.eventId}:${subscriberId}:cancel` } : n;
  return { notification, channel: { type: 'push', target: JSON.stringify(subscription) } };
}

let push: PushService;
let deliverer: Deliverer;
beforeAll(async () => {
  push = await startPushService({ applicationServerKey: keys.publicKey });
  deliverer = new Deliverer({
    sqs: unusedSqs,
    names: resourceNames('push'),
    allowPrivateTargets: true,
    targetBudgetMs: 4000,
    senders: {
      push: new PushSender({ vapid, guard: open, budgetMs: 1500, retry: { attempts: 3, baseMs: 50, maxMs: 200 } }),
    },
  });
});
afterAll(async () => {
  await push.close();
  await open.close();
});
beforeEach(() => push.reset());

describe('push channel', () => {
  it('delivers: the decrypted payload is the notification, with Urgency high, a 120 s TTL and a 32-char Topic', async () => {
    const sub = push.subscribe({ id: 'phone-1' });
    const it1 = item(sub, 'phone-1');
    const r = await deliverer.deliver([it1]);
    expect(r).toMatchObject({ delivered: [it1.notification.id], failed: [], dlq: 0 });
    const [m] = push.messages();
    const payload = JSON.parse(m.text) as PushPayload;
    expect(payload).toMatchObject({
      id: it1.notification.id,
      eventId: 'ev-push',
      kind: 'alert',
      level: 'take-action',
      mmi: 6.2,
      drill: true,
      text: it1.notification.text,
    });
    expect(payload.text.startsWith('DRILL')).toBe(true);
    expect(payload.shakingAt).toBeGreaterThan(quake.originTime);
    expect(m).toMatchObject({ urgency: 'high', ttl: 120, subject: vapid.subject });
    expect(m.topic).toBe(pushTopic('ev-push', 'phone-1'));
  });

  it('a cancellation replaces the alert on the device (same Topic) and is kept an hour', async () => {
    const sub = push.subscribe({ id: 'phone-2' });
    await deliverer.deliver([item(sub, 'phone-2')]);
    await deliverer.deliver([item(sub, 'phone-2', 'cancel')]);
    const inbox = push.inbox('phone-2');
    expect(inbox).toHaveLength(1);
    expect(JSON.parse(inbox[0].text).kind).toBe('cancel');
    expect(inbox[0].ttl).toBe(3600);
    expect(push.messages()).toHaveLength(2);
  });

  it('410 Gone: the subscriber is gone after one request, nothing parked', async () => {
    const sub = push.subscribe({ id: 'expired' });
    push.expire('expired');
    const it1 = item(sub, 'expired');
    const r = await deliverer.deliver([it1]);
    expect(r).toMatchObject({ delivered: [], dlq: 0, gone: [it1.notification.id] });
    expect(r.failures?.[0].reason).toMatch(/^push 410 .*subscription expired/);
    expect(push.answers()).toEqual({ 410: 1 });
  });

  it('404 for an endpoint the push service does not know is gone as well', async () => {
    const sub = push.subscribe({ id: 'known' });
    const r = await deliverer.deliver([item({ ...sub, endpoint: `${push.url}/push/never-issued` })]);
    expect(r.gone).toHaveLength(1);
    expect(r.dlq).toBe(0);
  });

  it('429 with Retry-After is waited out and sent again: delivered, counted as throttled', async () => {
    const sub = push.subscribe({ id: 'busy' });
    push.throttleNext(2, 1, 'busy');
    const r = await deliverer.deliver([item(sub, 'busy')]);
    expect(r.delivered).toHaveLength(1);
    expect(r.throttled).toBe(2);
    expect(push.answers()).toEqual({ 429: 2, 201: 1 });
    expect(push.messages()).toHaveLength(1);
  });

  it('503 forever: retried with backoff within the budget, then a retriable failure naming the status', async () => {
    const sub = push.subscribe({ id: 'down' });
    push.failAlways('down', 503);
    const sender = new PushSender({
      vapid,
      guard: open,
      budgetMs: 1500,
      retry: { attempts: 3, baseMs: 50, maxMs: 200 },
    });
    const r = await sender.send(item(sub, 'down'));
    expect(r).toMatchObject({ ok: false, gone: false, retriable: true, attempts: 3 });
    expect(!r.ok && r.reason).toMatch(/^push 503 .* after 3 attempt\(s\)$/);
    expect(push.answers()).toEqual({ 503: 3 });
  });

  it('refusals that a retry cannot fix are sent once: 413, a VAPID key the subscription was not made for (403)', async () => {
    const sub = push.subscribe({ id: 'big' });
    push.failAlways('big', 413);
    const r413 = await new PushSender({ vapid, guard: open }).send(item(sub, 'big'));
    expect(r413).toMatchObject({ ok: false, retriable: false, attempts: 1 });
    const other = { ...generateVapidKeys(), subject: 'mailto:other@example.org' };
    const sub2 = push.subscribe({ id: 'bound' });
    const r403 = await new PushSender({ vapid: other, guard: open }).send(item(sub2, 'bound'));
    expect(r403).toMatchObject({ ok: false, retriable: false, attempts: 1 });
    expect(!r403.ok && r403.reason).toMatch(/^push 403 vapid key does not match/);
  });

  it('a loopback endpoint is refused by the SSRF guard when private targets are not allowed: nothing sent', async () => {
    const guarded = new PushSender({ vapid, guard: new TargetGuard({ allowPrivate: false }) });
    const r = await guarded.send(item(push.subscribe({ id: 'ssrf' }), 'ssrf'));
    expect(r).toMatchObject({ ok: false, retriable: false });
    expect(!r.ok && r.reason).toMatch(/^push target refused: .*loopback/);
    expect(push.answers()).toEqual({});
  });

  it('a plain-http endpoint on a public host is refused where private targets are not allowed (RFC 8030 wants https)', async () => {
    const guarded = new PushSender({ vapid, guard: new TargetGuard({ allowPrivate: false }) });
    const sub = push.subscribe({ id: 'http-public' });
    const publicHttp = { ...sub, endpoint: sub.endpoint.replace(/^http:\/\/[^/]+/, 'http://push.example.net') };
    const r = await guarded.send(item(publicHttp, 'http-public'));
    expect(r).toMatchObject({ ok: false, retriable: false });
    expect(!r.ok && r.reason).toMatch(/not https \(RFC 8030 section 8\)/);
  });

  it('the local service verifies VAPID: a token for another audience or an expired one is refused', () => {
    const sender = new PushSender({ vapid, guard: open });
    const req = sender.request(push.subscribe({ id: 'v' }), item({}, 'v').notification);
    const auth = String(req.headers.Authorization);
    expect(verifyVapid(auth, push.url)).toMatchObject({ ok: true, key: keys.publicKey, sub: vapid.subject });
    expect(verifyVapid(auth, 'https://push.other.example')).toMatchObject({ ok: false });
    expect(verifyVapid(auth, push.url, Date.now() + 25 * 3600 * 1000)).toMatchObject({
      ok: false,
      reason: 'JWT expired',
    });
  });

  it('one VAPID token per push service origin, reused: the service accepts it for every message', async () => {
    const sender = new PushSender({ vapid, guard: open });
    const n = item({}, 'v').notification;
    const a = sender.request(push.subscribe({ id: 'r1' }), n).headers.Authorization;
    const b = sender.request(push.subscribe({ id: 'r2' }), n).headers.Authorization;
    const other = sender.request({ ...push.subscribe({ id: 'r3' }), endpoint: 'https://push.other.example/p/1' }, n);
    expect(a).toBe(b);
    expect(other.headers.Authorization).not.toBe(a);
    const r = await deliverer.deliver([
      item(push.subscribe({ id: 'r4' }), 'r4'),
      item(push.subscribe({ id: 'r5' }), 'r5'),
    ]);
    expect(r.delivered).toHaveLength(2);
  });

  it('a seeded service decrypts for subscriptions it issued before a restart', async () => {
    const seeded = await startPushService({ keySeed: 'drill-seed' });
    try {
      const sub = seededSubscription(seeded.url, 'drill-seed', 'sub-42');
      expect(sub).toEqual(seeded.subscriptionFor('sub-42'));
      const r = await deliverer.deliver([item(sub, 'sub-42')]);
      expect(r.delivered).toHaveLength(1);
      expect(JSON.parse(seeded.messages()[0].text).id).toBe(r.delivered[0]);
    } finally {
      await seeded.close();
    }
  });
});

describe('push protocol details', () => {
  it('Topic: 32 URL-safe base64 characters for any ids, distinct per (event, subscriber)', () => {
    const t = pushTopic('us7000abcd~r2', 'subscriber-with-a-very-long-identifier-0001');
    expect(t).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(t).toHaveLength(PUSH_TOPIC_LENGTH);
    expect(pushTopic('e', 's1')).not.toBe(pushTopic('e', 's2'));
    expect(pushTopic('e1', 's')).not.toBe(pushTopic('e2', 's'));
  });

  it('the payload stays within 3,993 bytes however long the text, multi-byte characters included', () => {
    const n = item({}, 's').notification;
    const long = pushPayload({ ...n, text: 'ș'.repeat(5000) });
    expect(long.length).toBeLessThanOrEqual(PUSH_MAX_PAYLOAD);
    expect(JSON.parse(long.toString()).text.endsWith('…')).toBe(true);
    expect(JSON.parse(pushPayload(n).toString()).text).toBe(n.text);
  });

  it('answer classes: 2xx ok, 404/410 gone, 429 throttle, 5xx and 408 retried, other 4xx refused', () => {
    expect([201, 202, 404, 410, 429, 500, 503, 408, 400, 401, 403, 413].map(classifyPushStatus)).toEqual([
      'ok',
      'ok',
      'gone',
      'gone',
      'throttle',
      'retry',
      'retry',
      'retry',
      'refused',
      'refused',
      'refused',
      'refused',
    ]);
  });

  it('Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(retryAfterMs('soon')).toBeUndefined();
  });

  it('from the environment: no private key, no sender; a malformed key refused without echoing it', () => {
    expect(pushSenderFromEnv({}, open)).toBeUndefined();
    const env = {
      QUAKECTL_VAPID_PUBLIC_KEY: keys.publicKey,
      QUAKECTL_VAPID_PRIVATE_KEY: keys.privateKey,
      QUAKECTL_VAPID_SUBJECT: vapid.subject,
      QUAKECTL_PUSH_TTL_S: '90',
    };
    expect(pushSenderFromEnv(env, open)?.opts.ttlS).toBe(90);
    const bad = 'c2VjcmV0LWJ1dC10b28tc2hvcnQ';
    expect(() => pushSenderFromEnv({ ...env, QUAKECTL_VAPID_PRIVATE_KEY: bad }, open)).toThrow(RangeError);
    try {
      pushSenderFromEnv({ ...env, QUAKECTL_VAPID_PRIVATE_KEY: bad }, open);
    } catch (err) {
      expect((err as Error).message).not.toContain(bad);
    }
    expect(() => pushSenderFromEnv({ ...env, QUAKECTL_VAPID_SUBJECT: 'alerts@example.org' }, open)).toThrow(/subject/);
  });
});
