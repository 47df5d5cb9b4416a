/**
 * Observability of delivery: structured JSON log lines and EMF metrics through Powertools, and no channel secret or
 * URL credential in either. Loopback sink only; every batch succeeds, so no DLQ (SQS) is involved.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startWebhookSink, type WebhookSink } from '../../local/webhook-sink.ts';
import { resourceNames } from '../../shared/infra/names.ts';
import {
  buildNotification,
  createTelemetry,
  Deliverer,
  type DeliveryItem,
  redactUrl,
} from '../../shared/notify/index.ts';

const SECRET = 'super-secret-hmac-key';
let sink: WebhookSink;
const sqs = new SQSClient({
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  maxAttempts: 1,
});
beforeAll(async () => {
  sink = await startWebhookSink({ secrets: SECRET });
});
afterAll(async () => {
  await sink.close();
  sqs.destroy();
});

function items(n: number, channel: DeliveryItem['channel']): DeliveryItem[] {
  const quake = { id: 'evT', drill: false, magnitude: 5.5, place: 'Gorj', originTime: Date.now() - 3000 };
  return Array.from({ length: n }, (_, i) => ({
    notification: buildNotification(
      quake,
      { id: `t${i}`, locale: 'en' },
      {
        mmi: 3.5,
        distanceKm: 30,
        level: 'be-aware',
        secondsUntilShaking: 4,
      },
    ),
    channel,
  }));
}

describe('delivery telemetry', () => {
  it('logs JSON lines and emits EMF metrics without secrets or URL credentials', async () => {
    const { logger, metrics } = createTelemetry('notify-test');
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(chunk.toString());
      return true;
    });
    try {
      sink.setFailing({ status: 503, times: 1 });
      const d = new Deliverer({
        sqs,
        names: resourceNames('unit'),
        allowPrivateTargets: true,
        logger,
        metrics,
        backoffBaseMs: 1,
      });
      const target = `http://user:pw@127.0.0.1:${sink.port}/hook?token=tok123`;
      const r = await d.deliver([
        ...items(5, { type: 'webhook', target, secret: SECRET }),
        ...items(2, { type: 'log', target: 'ops-log' }).map((i) => ({
          ...i,
          notification: { ...i.notification, id: `${i.notification.id}-log` },
        })),
      ]);
      expect(r.delivered).toHaveLength(7);
      expect(sink.received()).toHaveLength(5);

      const emf = metrics.serializeMetrics() as unknown as Record<string, unknown>;
      const defs = (emf._aws as { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string }[] }[] })
        .CloudWatchMetrics[0];
      expect(defs.Namespace).toBe('quakectl');
      expect(defs.Metrics.map((m) => m.Name)).toEqual(
        expect.arrayContaining(['NotificationsDelivered', 'WebhookBatchLatency', 'DeliveredAfterOrigin']),
      );
      expect(emf.NotificationsDelivered).toBe(7);
      metrics.clearMetrics();
    } finally {
      spy.mockRestore();
      sink.setFailing(false);
    }
    const out = lines.join('');
    const records = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.some((r) => r.message === 'webhook delivered after retries')).toBe(true);
    expect(records.filter((r) => r.message === 'notification' && r.channel === 'log')).toHaveLength(2);
    for (const r of records) expect(r.service).toBe('notify-test');
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain('tok123');
    expect(out).not.toContain('user:pw');
  });

  it('redacts user info and query strings from URLs', () => {
    expect(redactUrl('https://a:b@hooks.example.com:8443/p/q?token=x#f')).toBe('https://hooks.example.com:8443/…');
    // A Slack-style hook keeps its token in the path: it never reaches a log unless the operator allowed the host.
    const slack = 'https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX';
    expect(redactUrl(slack)).toBe('https://hooks.slack.com/…');
    expect(redactUrl(slack, ['alerts.example.org'])).toBe('https://hooks.slack.com/…');
    expect(redactUrl('https://Alerts.Example.org/hook/a?k=1', ['alerts.example.org'])).toBe(
      'https://alerts.example.org/hook/a',
    );
    expect(redactUrl('https://hooks.example.com/')).toBe('https://hooks.example.com/');
    expect(redactUrl('nonsense')).toBe('(invalid url)');
  });
});
