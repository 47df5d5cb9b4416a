/**
 * The shared send rate (shared/notify/rate.ts) with its in-process store: several gates (as several worker
 * processes) drawing on one store never put more sends into one window than the provider's rate allows, and tokens are
 * spread over the window rather than burst at its start.
 */
import { describe, expect, it } from 'vitest';
import { MemoryRateStore, RateGate } from '../../shared/notify/rate.ts';

async function sendTimes(gates: RateGate[], perGate: number, provider: string): Promise<number[]> {
  const times: number[] = [];
  await Promise.all(
    gates.map(async (g) => {
      await Promise.all(
        Array.from({ length: perGate }, async () => {
          await g.take(provider);
          times.push(Date.now());
        }),
      );
    }),
  );
  return times.sort((a, b) => a - b);
}

describe('RateGate', () => {
  it('three processes sharing one store stay within 20 sends per second together', async () => {
    const store = new MemoryRateStore();
    const gates = [0, 1, 2].map(() => new RateGate(store, { rates: { 'sns-sms': 20 } }));
    const t0 = Date.now();
    const times = await sendTimes(gates, 15, 'sns-sms');
    expect(times).toHaveLength(45);
    // Any sliding second holds at most 20 sends (+1 for a send at the boundary's exact millisecond).
    for (let i = 0; i < times.length; i++) {
      const inSecond = times.filter((t) => t >= times[i] && t < times[i] + 1000).length;
      expect(inSecond).toBeLessThanOrEqual(21);
    }
    // 45 sends at 20/s need two full windows after the first.
    expect(times.at(-1)! - t0).toBeGreaterThanOrEqual(1000);
    expect(gates.reduce((n, g) => n + g.waits, 0)).toBeGreaterThan(0);
  });

  it('spreads the tokens of a window evenly instead of bursting them', async () => {
    const gate = new RateGate(new MemoryRateStore(), { rates: { ses: 10 } });
    const times = await sendTimes([gate], 10, 'ses');
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    // 10 per second: about 100 ms apart (the first token of the window may go at once).
    expect(gaps.filter((g) => g >= 80).length).toBeGreaterThanOrEqual(7);
  });

  it('a rate below one per second gives one token per 1/rate seconds', () => {
    expect(RateGate.window(0.5)).toEqual({ ms: 2000, cap: 1 });
    expect(RateGate.window(30)).toEqual({ ms: 1000, cap: 30 });
  });

  it('providers without a rate are not paced, and an aborted wait rejects', async () => {
    const store = new MemoryRateStore();
    const gate = new RateGate(store, { rates: { slow: 1 } });
    await gate.take('unpaced');
    await gate.take('slow'); // the window's only token
    const abort = new AbortController();
    const waiting = gate.take('slow', abort.signal);
    abort.abort(new Error('lease lost'));
    await expect(waiting).rejects.toThrow();
  });
});
