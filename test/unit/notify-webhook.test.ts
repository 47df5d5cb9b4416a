/**
 * Webhook batching, signing and retries against the loopback sink (no AWS service: every batch here succeeds, so the
 * DLQ is never needed; the deliverer's SQS client points at a closed port and would fail the test if used).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookSink, type WebhookSink } from '../../local/webhook-sink.ts';
import { resourceNames } from '../../shared/infra/names.ts';
import { buildNotification, Deliverer, type DeliveryItem, postBatch, TargetGuard } from '../../shared/notify/index.ts';
import type { Channel } from '../../shared/segments/index.ts';

const quake = { id: 'ev1', drill: true, magnitude: 6, place: 'Vrancea', originTime: Date.now() };
const unusedSqs = new SQSClient({
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:9',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  maxAttempts: 1,
});

function items(n: number, channel: (i: number) => Channel, eventId = 'ev1'): DeliveryItem[] {
  return Array.from({ length: n }, (_, i) => ({
    notification: buildNotification(
      { ...quake, id: eventId },
      { id: `s${i}`, locale: 'en' },
      {
        mmi: 4,
        distanceKm: 50,
        level: 'be-aware',
        secondsUntilShaking: 10,
      },
    ),
    channel: channel(i),
  }));
}

let sink: WebhookSink;
// The sink is on loopback: direct postBatch calls need a guard that allows private targets, as the local profile does.
const guard = new TargetGuard({ allowPrivate: true });
beforeAll(async () => {
  sink = await startWebhookSink({ secrets: { '/a': 'secret-a', '/b': 'secret-b', '*': 'default-secret' } });
});
afterEach(() => {
  sink.setFailing(false);
  sink.reset();
});
afterAll(async () => {
  await sink.close();
  await guard.close();
  unusedSqs.destroy();
});

const deliverer = (extra = {}) =>
  new Deliverer({ sqs: unusedSqs, names: resourceNames('unit'), allowPrivateTargets: true, batchSize: 100, ...extra });

describe('Deliverer → webhook sink', () => {
  it('batches per target and secret, signs each batch with its channel secret', async () => {
    const batch = items(250, (i) =>
      i % 2
        ? { type: 'webhook', target: `${sink.url}/a`, secret: 'secret-a' }
        : { type: 'webhook', target: `${sink.url}/b`, secret: 'secret-b' },
    );
    const r = await deliverer({ batchSize: 50 }).deliver(batch);
    expect(r.failed).toEqual([]);
    expect(r.dlq).toBe(0);
    expect(new Set(r.delivered)).toEqual(new Set(batch.map((b) => b.notification.id)));
    expect(sink.received()).toHaveLength(250);
    expect(sink.badSignatures()).toBe(0);
    // 125 per target in batches of at most 50: 3 POSTs each.
    expect(sink.requests()).toBe(6);
    const byPath = Map.groupBy(sink.receipts(), (r) => r.path);
    expect(byPath.get('/a')!.every((r) => Number(r.notification.subscriberId.slice(1)) % 2 === 1)).toBe(true);
    for (const r of sink.receipts()) {
      expect(r.idempotencyKey).toMatch(/^[0-9a-f]{32}$/);
      expect(r.notification.drill).toBe(true);
    }
  });

  it('a wrong secret is rejected by the sink and not counted as delivered', async () => {
    const r = await postBatch(
      `${sink.url}/a`,
      items(3, () => ({ type: 'log', target: 'x' })).map((i) => i.notification),
      'wrong',
      {
        timeoutMs: 2000,
        maxAttempts: 3,
        backoffBaseMs: 1,
        backoffMaxMs: 5,
        guard,
      },
    );
    expect(r).toMatchObject({ ok: false, attempts: 1, reason: 'HTTP 401' });
    expect(sink.badSignatures()).toBe(1);
    expect(sink.received()).toHaveLength(0);
  });

  it('retries 5xx with backoff until the target recovers, and the sink de-duplicates redeliveries', async () => {
    sink.setFailing({ status: 503, times: 2 });
    const batch = items(10, () => ({ type: 'webhook', target: `${sink.url}/a`, secret: 'secret-a' }));
    const d = deliverer({ backoffBaseMs: 5 });
    const r = await d.deliver(batch);
    expect(r.delivered).toHaveLength(10);
    expect(sink.requests()).toBe(3);
    expect(sink.failedRequests()).toBe(2);
    await d.deliver(batch);
    expect(sink.received()).toHaveLength(10);
    expect(sink.duplicates()).toBe(10);
  });

  it('gives up after maxAttempts on timeouts, and does not retry a 4xx', async () => {
    sink.setFailing({ delayMs: 600 });
    const ns = items(2, () => ({ type: 'log', target: 'x' })).map((i) => i.notification);
    const opts = { timeoutMs: 150, maxAttempts: 3, backoffBaseMs: 1, backoffMaxMs: 5, guard };
    const t = await postBatch(`${sink.url}/a`, ns, 'secret-a', opts);
    expect(t).toMatchObject({ ok: false, attempts: 3, reason: 'timeout after 150 ms' });
    sink.setFailing({ status: 422 });
    const c = await postBatch(`${sink.url}/a`, ns, 'secret-a', opts);
    expect(c).toMatchObject({ ok: false, attempts: 1, reason: 'HTTP 422' });
    sink.setFailing({ status: 429, times: 1 });
    expect(await postBatch(`${sink.url}/a`, ns, 'secret-a', opts)).toMatchObject({ ok: true, attempts: 2 });
  });

  it('connection refused is retried, then reported with its cause', async () => {
    const ns = items(1, () => ({ type: 'log', target: 'x' })).map((i) => i.notification);
    const closed = await startWebhookSink();
    await closed.close(); // a port that was just free: nothing listens there now
    const r = await postBatch(`${closed.url}/x`, ns, 's', {
      timeoutMs: 500,
      maxAttempts: 2,
      backoffBaseMs: 1,
      backoffMaxMs: 2,
      guard,
    });
    expect(r).toMatchObject({ ok: false, attempts: 2, reason: 'connection error: ECONNREFUSED' });
  });

  it('stays inside the target budget: no retry whose wait would overrun it, and says so', async () => {
    sink.setFailing({ delayMs: 400 });
    const ns = items(1, () => ({ type: 'log', target: 'x' })).map((i) => i.notification);
    // Each attempt is cut at the budget's remainder; with 1 s waits, the second wait cannot fit in 1.5 s.
    const r = await postBatch(`${sink.url}/a`, ns, 'secret-a', {
      timeoutMs: 200,
      maxAttempts: 10,
      backoffBaseMs: 1000,
      backoffMaxMs: 1000,
      budgetMs: 1500,
      guard,
    });
    expect(r.ok).toBe(false);
    expect(r.attempts).toBeLessThan(10);
    expect(r.ok === false && r.reason).toMatch(
      /^timeout after \d+ ms; target budget of 1500 ms spent after \d attempt\(s\)$/,
    );
  });

  it('an abort (a lost lease) ends the post at once, reported as aborted', async () => {
    sink.setFailing({ delayMs: 5000 });
    const ns = items(1, () => ({ type: 'log', target: 'x' })).map((i) => i.notification);
    const lease = new AbortController();
    const post = postBatch(`${sink.url}/a`, ns, 'secret-a', {
      timeoutMs: 10_000,
      maxAttempts: 4,
      backoffBaseMs: 1,
      backoffMaxMs: 5,
      guard,
      signal: lease.signal,
    });
    setTimeout(() => lease.abort(new Error('lease lost')), 100);
    expect(await post).toMatchObject({ ok: false, attempts: 1, aborted: true, reason: 'aborted: lease lost' });
  });

  it('log channels are delivered as structured lines', async () => {
    const lines: unknown[] = [];
    const logger = { info: (msg: string, extra: unknown) => lines.push({ msg, extra }) } as never;
    const r = await deliverer({ logger }).deliver(items(3, () => ({ type: 'log', target: 'ops' })));
    expect(r.delivered).toHaveLength(3);
    expect(lines).toHaveLength(3);
    expect(JSON.stringify(lines)).not.toContain('secret');
  });

  it('delivers 10,000 notifications to a loopback sink, every one once and signed (throughput: bench/fanout.ts)', async () => {
    const batch = items(10_000, (i) => ({
      type: 'webhook',
      target: `${sink.url}/h${i % 10}`,
      secret: 'default-secret',
    }));
    const r = await deliverer({ concurrency: 32 }).deliver(batch);
    expect(r.delivered).toHaveLength(10_000);
    expect(sink.received()).toHaveLength(10_000);
    expect(sink.badSignatures()).toBe(0);
  });
});
