/**
 * The channel-mix drill's pure part (shared/drill/channels.ts) and its refusals at the CLI's edge: the mix parsed
 * strictly, each channel spread over the population in its share, the per-channel report counting deliveries at the
 * receivers against the S arrival; `--channels` naming a channel whose receiver is missing refused before any service
 * is contacted (exit 1, naming what is missing), a malformed mix a usage error (exit 2).
 */

import { describe, expect, it } from 'vitest';
import { RECEIVER_PLUGINS } from '../../local/drill-receivers.ts';
import { channelFor, channelReport, parseChannelMix } from '../../shared/drill/channels.ts';
import { sArrivalAt } from '../../shared/drill/report.ts';
import type { Quake } from '../../shared/quake/types.ts';
import { runQuakectl } from '../helpers/cli.ts';

const run = (...args: string[]) => runQuakectl(args, { isolated: 'drill-channels' });

describe('channel mix', () => {
  it('parses CHANNEL=PERCENT lists summing to 100', () => {
    expect(parseChannelMix('push=40, telegram=10,webhook=50')).toEqual([
      { type: 'push', share: 40 },
      { type: 'telegram', share: 10 },
      { type: 'webhook', share: 50 },
    ]);
    expect(() => parseChannelMix('push=40,webhook=50')).toThrow(/sum to 90/);
    expect(() => parseChannelMix('push=40,fax=60')).toThrow(/unknown channel "fax"/);
    expect(() => parseChannelMix('push=50,push=50')).toThrow(/named twice/);
    expect(() => parseChannelMix('push=0,webhook=100')).toThrow(/1–100/);
    expect(() => parseChannelMix('push:100')).toThrow(/CHANNEL=PERCENT/);
  });

  it('gives each channel its share of 20,000 ids within 1.5 points, the same channel for the same id', () => {
    const mix = parseChannelMix('push=40,sms=20,email=20,telegram=10,webhook=10');
    const counts: Record<string, number> = {};
    for (let i = 0; i < 20_000; i++) {
      const c = channelFor(`seed-1-${i}`, mix);
      counts[c] = (counts[c] ?? 0) + 1;
    }
    for (const { type, share } of mix) expect(Math.abs((100 * counts[type]) / 20_000 - share)).toBeLessThan(1.5);
    expect(channelFor('seed-1-7', mix)).toBe(channelFor('seed-1-7', mix));
  });
});

describe('per-channel report', () => {
  const quake = {
    originTime: 1_000_000,
    lat: 45.7,
    lon: 26.6,
    depthKm: 90,
    magnitude: 7.4,
    updatedAt: 1_010_000,
  } as Quake;
  const near = { lat: 45.8, lon: 26.6 };
  const far = { lat: 47.0, lon: 28.8 };

  it('counts deliveries at the receiver per eligible subscriber: first/last after acceptance, share before S', () => {
    const acceptedAt = 1_010_000;
    const sNear = sArrivalAt(quake, near);
    const sFar = sArrivalAt(quake, far);
    const rows = channelReport({
      quake,
      acceptedAt,
      mix: parseChannelMix('push=60,telegram=40'),
      eligible: [
        { id: 'a', ...near, type: 'push' },
        { id: 'b', ...far, type: 'push' },
        { id: 'c', ...far, type: 'telegram' },
        { id: 'd', ...far, type: 'telegram' },
      ],
      deliveries: {
        // a: after its S arrival; b: before, delivered twice (the first counts); c: before; d: never.
        push: [
          { subscriberId: 'a', receivedAt: sNear + 500 },
          { subscriberId: 'b', receivedAt: sFar - 2000 },
          { subscriberId: 'b', receivedAt: sFar + 9000 },
          { subscriberId: 'stranger', receivedAt: acceptedAt + 1 },
        ],
        telegram: [{ subscriberId: 'c', receivedAt: sFar - 100 }],
      },
      throttled: { push: 0, telegram: 7 },
    });
    expect(rows).toEqual([
      {
        channel: 'push',
        share: 60,
        eligible: 2,
        delivered: 2,
        missing: 0,
        firstDeliveryMs: sNear + 500 - acceptedAt,
        lastDeliveryMs: sFar - 2000 - acceptedAt,
        beforeSPct: 50,
        throttled: 0,
      },
      {
        channel: 'telegram',
        share: 40,
        eligible: 2,
        delivered: 1,
        missing: 1,
        firstDeliveryMs: sFar - 100 - acceptedAt,
        lastDeliveryMs: sFar - 100 - acceptedAt,
        beforeSPct: 50,
        throttled: 7,
      },
    ]);
  });
});

describe('drill --channels at the CLI edge', () => {
  it('sms and email receivers need moto on the local stack, and say so', async () => {
    const ctx = { env: {}, vapidPublicKey: 'x', sinkPort: 9 };
    await expect(RECEIVER_PLUGINS.sms.start(ctx)).rejects.toThrow(/sms needs moto .*quakectl local up/);
    await expect(RECEIVER_PLUGINS.email.start(ctx)).rejects.toThrow(/email needs moto/);
  });

  it('a malformed mix is a usage error (exit 2)', () => {
    expect(run('drill', '--channels', 'push=40,webhook=50').code).toBe(2);
    expect(run('drill', '--channels', 'push=40,webhook=60', '--scenario', 'kahramanmaras-2023-stream').code).toBe(2);
  });
});
