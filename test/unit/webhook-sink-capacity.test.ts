/**
 * The loopback receiver's bounded throughput (local/webhook-sink.ts `capacityPerSecond`): batches are taken one after
 * another at the stated rate, each recorded when its share of the capacity is used. What bench/fanout.ts
 * `--sink-capacity` relies on to hold every strategy to one rate.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startWebhookSink, type WebhookSink } from '../../local/webhook-sink.ts';

let sink: WebhookSink | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

const batch = (b: number, n: number) => ({
  notifications: Array.from({ length: n }, (_, i) => ({ id: `b${b}-n${i}` })),
});

async function post(url: string, body: object) {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

describe('webhook sink capacity', () => {
  it('takes four concurrent batches of 50 at 1,000/s one after another, 50 ms each, every notification once', async () => {
    sink = await startWebhookSink({ capacityPerSecond: 1000 });
    const t0 = Date.now();
    const answers = await Promise.all([0, 1, 2, 3].map((b) => post(`${sink!.url}/hook`, batch(b, 50))));
    expect(answers.every((a) => a.status === 200 && a.body.accepted === 50)).toBe(true);
    const times = [...new Set(sink.receipts().map((r) => r.receivedAt))].sort((a, b) => a - b);
    expect(times).toHaveLength(4);
    // Each batch's 50 notifications use 50 ms of the capacity: the k-th is recorded no earlier than 50·k ms after the
    // first request (a timer never fires early; 2 ms for rounding).
    for (const [k, t] of times.entries()) expect(t - t0).toBeGreaterThanOrEqual(50 * (k + 1) - 2);
    for (let k = 1; k < times.length; k++) expect(times[k] - times[k - 1]).toBeGreaterThanOrEqual(48);
    expect(sink.received()).toHaveLength(200);
  });

  it('refuses a capacity that is not positive', async () => {
    await expect(startWebhookSink({ capacityPerSecond: 0 })).rejects.toThrow('capacityPerSecond 0: expected > 0');
  });
});
