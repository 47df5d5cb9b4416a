/**
 * The receivers of the channel-mix drill, one plug-in per channel: each starts the local implementation of its
 * channel's protocol, says what channel (target) a seeded subscriber gets, what the segment worker's environment needs
 * to send there, and reads back which subscribers received what and when.
 *
 * - webhook: local/webhook-sink.ts on the drill port (QUAKECTL_DRILL_SINK_PORT); times are the sink's arrival times.
 * - push: local/push-service.ts on QUAKECTL_DRILL_PUSH_PORT (default 19081), subscriptions derived from a fixed seed
 *   (a restarted service still decrypts for them) and bound to the local profile's VAPID key; times are arrival times
 *   of the decrypted messages; throttled = its 429 answers (QUAKECTL_DRILL_PUSH_PER_SECOND sets a limit; none by
 *   default).
 * - telegram: local/telegram-bot-api.ts on QUAKECTL_DRILL_TELEGRAM_PORT (default 19082) with a fixed local bot token
 *   (no secret: it exists only on loopback); one private chat per subscriber; times are arrival times; throttled = its
 *   429 answers (30/s per bot, 1/s per chat, as the Bot FAQ says). A chat's messages carry no event id: they are
 *   counted from the moment the event was sent (one event per channel drill).
 * - sms, email: not yet here. They are to be SNS/SES on moto (`quakectl local`); their plug-in reads moto's recorded
 *   messages (`/moto-api/data.json` or the SNS/SES backends' sent lists). moto records no delivery time, so the
 *   plug-in must poll what moto recorded and stamp each new message with the poll time (a bound: the true time is
 *   within one poll interval before it) — say so in the report.
 */
import { createHash } from 'node:crypto';
import type { ChannelDelivery, MixChannel } from '../shared/drill/channels.ts';
import { sinkUrl } from '../shared/drill/receiver.ts';
import { DEFAULT_DRILL_SECRET } from '../shared/drill/seed.ts';
import type { PushPayload } from '../shared/notify/push.ts';
import type { Channel } from '../shared/segments/types.ts';
import { seededSubscription, startPushService } from './push-service.ts';
import { startBotApi } from './telegram-bot-api.ts';
import { startWebhookSink, type WebhookSink } from './webhook-sink.ts';

export const DEFAULT_PUSH_PORT = 19081;
export const DEFAULT_TELEGRAM_PORT = 19082;
/** Keys of the drill's push subscriptions are derived from this (loopback only, nothing to protect). */
export const DRILL_PUSH_KEY_SEED = 'quakectl-drill-push';
/** The local Bot API server's token (loopback only). */
export const DRILL_BOT_TOKEN = '100000:quakectl-local-drill-bot';

export interface DrillReceiver {
  type: MixChannel;
  /** The channel a seeded subscriber with this id gets. */
  channel(subscriberId: string): Channel;
  /** Environment the segment worker needs to send on this channel (merged into deploy's channel settings). */
  env: Record<string, string>;
  /** Deliveries of `eventId` (subscriber id, arrival time), counting from `since` (epoch ms). */
  deliveries(eventId: string, since: number): ChannelDelivery[];
  /** Throttling answers given so far; null for a receiver that never throttles. */
  throttled(): number | null;
  close(): Promise<void>;
}

export interface ReceiverContext {
  env: NodeJS.ProcessEnv;
  /** The local profile's VAPID public key (shared/notify/push-keys.ts). */
  vapidPublicKey: string;
  /** The webhook sink's port (the drill's --sink-port or QUAKECTL_DRILL_SINK_PORT). */
  sinkPort: number;
}

export interface ReceiverPlugin {
  /** What is missing for this channel to run here (the mix is refused with it), or undefined. */
  missing?: string;
  start(ctx: ReceiverContext): Promise<DrillReceiver>;
}

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const n = Number(env[name]);
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : fallback;
}

const webhook: ReceiverPlugin = {
  async start(ctx) {
    const sink: WebhookSink = await startWebhookSink({ port: ctx.sinkPort, secrets: { '*': DEFAULT_DRILL_SECRET } });
    const target = sinkUrl(ctx.sinkPort);
    return {
      type: 'webhook',
      channel: () => ({ type: 'webhook', target, secret: DEFAULT_DRILL_SECRET }),
      env: {},
      deliveries: (eventId) =>
        sink
          .receipts()
          .filter((r) => r.notification.eventId === eventId)
          .map((r) => ({ subscriberId: r.notification.subscriberId, receivedAt: r.receivedAt })),
      throttled: () => null,
      close: () => sink.close(),
    };
  },
};

const push: ReceiverPlugin = {
  async start(ctx) {
    const service = await startPushService({
      port: intFrom(ctx.env, 'QUAKECTL_DRILL_PUSH_PORT', DEFAULT_PUSH_PORT),
      keySeed: DRILL_PUSH_KEY_SEED,
      applicationServerKey: ctx.vapidPublicKey,
      // A push service's per-sender limit, to see throttling in a drill (none by default: push services publish none).
      perSecond: intFrom(ctx.env, 'QUAKECTL_DRILL_PUSH_PER_SECOND', 0) || undefined,
    });
    return {
      type: 'push',
      channel: (id) => ({
        type: 'push',
        target: JSON.stringify(seededSubscription(service.url, DRILL_PUSH_KEY_SEED, id)),
      }),
      env: {},
      deliveries: (eventId) =>
        service.messages().flatMap((m) => {
          const p = JSON.parse(m.text) as PushPayload;
          return p.eventId === eventId ? [{ subscriberId: m.subscriptionId, receivedAt: m.receivedAt }] : [];
        }),
      throttled: () => service.throttled(),
      close: () => service.close(),
    };
  },
};

const telegram: ReceiverPlugin = {
  async start(ctx) {
    const bot = await startBotApi({
      token: DRILL_BOT_TOKEN,
      port: intFrom(ctx.env, 'QUAKECTL_DRILL_TELEGRAM_PORT', DEFAULT_TELEGRAM_PORT),
    });
    const subscriberOf = new Map<string, string>();
    return {
      type: 'telegram',
      channel: (id) => {
        // A private chat id (positive integer) per subscriber, stable across drills.
        const chat = String(1_000_000_000 + (createHash('sha256').update(id).digest().readUInt32BE(0) % 1_000_000_000));
        subscriberOf.set(chat, id);
        return { type: 'telegram', target: chat };
      },
      env: { QUAKECTL_TELEGRAM_BOT_TOKEN: DRILL_BOT_TOKEN, QUAKECTL_TELEGRAM_API_URL: bot.url },
      deliveries: (_eventId, since) =>
        bot.messages().flatMap((m) => {
          const subscriberId = subscriberOf.get(m.chatId);
          return subscriberId && m.receivedAt >= since ? [{ subscriberId, receivedAt: m.receivedAt }] : [];
        }),
      throttled: () => bot.throttled(),
      close: () => bot.close(),
    };
  },
};

const unavailable = (what: string): ReceiverPlugin => ({
  missing: what,
  start: () => Promise.reject(new Error(what)),
});

/** The plug-ins by channel. sms and email: see the module comment. */
export const RECEIVER_PLUGINS: Record<MixChannel, ReceiverPlugin> = {
  webhook,
  push,
  telegram,
  sms: unavailable(
    'sms needs the SNS sender (shared/notify/sms.ts) and moto as a `quakectl local` service, not in this build yet',
  ),
  email: unavailable(
    'email needs the SES sender (shared/notify/email.ts) and moto as a `quakectl local` service, not in this build yet',
  ),
};
