/**
 * The channel-mix drill (`quakectl drill --channels push=40,sms=20,…`), its pure part: the mix, which subscriber gets
 * which channel, and the report per channel measured at each channel's receiver.
 *
 * Per channel: eligible subscribers (the alert policy recomputed from the store, as the drill's census does),
 * delivered (distinct eligible subscribers with a delivery for the event at the receiver), first and last delivery
 * after the producer accepted the event, the share of the channel's eligible subscribers whose first delivery came
 * before the S wave reached them, and throttled sends (throttling answers the receiver gave: its own count of 429s,
 * the same answers the Deliverer waits out; null where the receiver does not throttle).
 */
import { createHash } from 'node:crypto';
import type { Quake } from '../quake/types.ts';
import type { ChannelType } from '../segments/types.ts';
import { sArrivalAt } from './report.ts';

/** Channel types a mix may name. */
export const MIX_CHANNELS = ['push', 'sms', 'email', 'telegram', 'webhook'] as const;
export type MixChannel = (typeof MIX_CHANNELS)[number];

export interface ChannelShare {
  type: MixChannel;
  /** Percent, 1–100; the shares sum to 100. */
  share: number;
}

/**
 * `push=40,sms=20,email=20,telegram=10,webhook=10` → shares. Throws RangeError naming the problem: an unknown channel,
 * a share that is not an integer percent, a channel named twice, or shares that do not sum to 100.
 */
export function parseChannelMix(text: string): ChannelShare[] {
  const out: ChannelShare[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    const m = /^([a-z]+)=(\d{1,3})$/.exec(part);
    if (!m) throw new RangeError(`--channels: "${part}" is not CHANNEL=PERCENT (e.g. push=40)`);
    const type = m[1] as MixChannel;
    if (!MIX_CHANNELS.includes(type)) {
      throw new RangeError(`--channels: unknown channel "${m[1]}" (one of ${MIX_CHANNELS.join(', ')})`);
    }
    if (out.some((c) => c.type === type)) throw new RangeError(`--channels: ${type} named twice`);
    const share = Number(m[2]);
    if (share < 1 || share > 100) throw new RangeError(`--channels: ${type}=${share}: a share is 1–100 percent`);
    out.push({ type, share });
  }
  const sum = out.reduce((a, c) => a + c.share, 0);
  if (sum !== 100) throw new RangeError(`--channels: the shares sum to ${sum}, not 100`);
  return out;
}

/**
 * The channel of subscriber `id` under `mix`: a hash of the id placed on the cumulative shares, so every channel is
 * spread over the whole population (near and far alike) and the same id always gets the same channel.
 */
export function channelFor(id: string, mix: readonly ChannelShare[]): MixChannel {
  const x = createHash('sha256').update(id).digest().readUInt32BE(0) / 2 ** 32;
  let acc = 0;
  for (const c of mix) {
    acc += c.share / 100;
    if (x < acc) return c.type;
  }
  return mix[mix.length - 1].type;
}

export interface ChannelDelivery {
  subscriberId: string;
  receivedAt: number;
}

export interface ChannelSite {
  id: string;
  lat: number;
  lon: number;
  type: ChannelType;
}

export interface ChannelRow {
  channel: MixChannel;
  /** Share of the population in the mix, percent. */
  share: number;
  eligible: number;
  delivered: number;
  missing: number;
  /** ms after the producer accepted the event; null without deliveries. */
  firstDeliveryMs: number | null;
  lastDeliveryMs: number | null;
  /** Of the channel's eligible subscribers, percent whose first delivery came before the S wave; null if none eligible. */
  beforeSPct: number | null;
  /** Throttling answers the channel's receiver gave during the run; null where it never throttles. */
  throttled: number | null;
}

export interface ChannelReportInput {
  quake: Quake;
  acceptedAt: number;
  mix: readonly ChannelShare[];
  /** Eligible subscribers with their channel type. */
  eligible: readonly ChannelSite[];
  deliveries: Partial<Record<MixChannel, readonly ChannelDelivery[]>>;
  throttled: Partial<Record<MixChannel, number | null>>;
}

/** One row per channel of the mix (see the module comment). */
export function channelReport(input: ChannelReportInput): ChannelRow[] {
  return input.mix.map(({ type, share }) => {
    const sites = input.eligible.filter((s) => s.type === type);
    const first = new Map<string, number>();
    for (const d of input.deliveries[type] ?? []) {
      const t = first.get(d.subscriberId);
      if (t === undefined || d.receivedAt < t) first.set(d.subscriberId, d.receivedAt);
    }
    let delivered = 0;
    let before = 0;
    const times: number[] = [];
    for (const s of sites) {
      const at = first.get(s.id);
      if (at === undefined) continue;
      delivered++;
      times.push(at - input.acceptedAt);
      if (at < sArrivalAt(input.quake, s)) before++;
    }
    times.sort((a, b) => a - b);
    return {
      channel: type,
      share,
      eligible: sites.length,
      delivered,
      missing: sites.length - delivered,
      firstDeliveryMs: times[0] ?? null,
      lastDeliveryMs: times.at(-1) ?? null,
      beforeSPct: sites.length ? Math.round((1000 * before) / sites.length) / 10 : null,
      throttled: input.throttled[type] ?? null,
    };
  });
}
