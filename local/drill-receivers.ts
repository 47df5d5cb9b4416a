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
 * - sms, email: SNS and SES v2 on the local stack's moto (`quakectl local`), read back from moto's model dump
 *   (local/channels.ts `recordedSms`/`recordedEmails`). moto records no send time: the plug-in polls the dump every
 *   `POLL_MS` and stamps each message it sees first with the poll's time, so a reported time is late by at most one
 *   poll interval (plus the dump's own time). sms: one E.164 number per subscriber (Romanian mobile `+407…`, derived
 *   from the id, unique within the drill), a message mapped back by its number; email: `<id>@drill.quakectl.test`,
 *   mapped back by the `X-Quake-Notification-Id` header. The sender address is verified in moto by the plug-in
 *   (moto refuses unverified senders, as SES does). throttled: null — moto never throttles (the Deliverer's own
 *   pacing to the SNS 20/s and SES 14/s defaults still applies).
 */
import { createHash } from 'node:crypto';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { ChannelDelivery, MixChannel } from '../shared/drill/channels.ts';
import { intFromEnv, portFromEnv, sinkUrl } from '../shared/drill/receiver.ts';
import { DEFAULT_DRILL_SECRET } from '../shared/drill/seed.ts';
import type { PushPayload } from '../shared/notify/push.ts';
import type { Channel } from '../shared/segments/types.ts';
import { recordedEmails, recordedSms, verifyLocalSender } from './channels.ts';
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
  /**
   * Reads the receiver's record once more (a polled one: moto's), so what arrived since the last poll is counted.
   * Called after the event completes, before `deliveries`.
   */
  flush(): Promise<void>;
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
  /** moto's endpoint (SNS, SES v2) on the local stack, when it runs. */
  motoEndpoint?: string;
  /** The SES v2 client the drill's deploy uses (verifying the sender). */
  sesv2?: () => Promise<SESv2Client>;
}

export interface ReceiverPlugin {
  /** What is missing for this channel to run here (the mix is refused with it), or undefined. */
  missing?: string;
  start(ctx: ReceiverContext): Promise<DrillReceiver>;
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
      flush: async () => {}, // records as it receives
      close: () => sink.close(),
    };
  },
};

const push: ReceiverPlugin = {
  async start(ctx) {
    const service = await startPushService({
      port: portFromEnv(ctx.env, 'QUAKECTL_DRILL_PUSH_PORT', DEFAULT_PUSH_PORT),
      keySeed: DRILL_PUSH_KEY_SEED,
      applicationServerKey: ctx.vapidPublicKey,
      // A push service's per-sender limit, to see throttling in a drill (none by default: push services publish none).
      perSecond:
        intFromEnv(ctx.env, 'QUAKECTL_DRILL_PUSH_PER_SECOND', 0, {
          min: 0,
          max: Number.MAX_SAFE_INTEGER,
          what: 'a whole number of messages per second (0: no limit)',
        }) || undefined,
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
      flush: async () => {}, // records as it receives
      close: () => service.close(),
    };
  },
};

const telegram: ReceiverPlugin = {
  async start(ctx) {
    const bot = await startBotApi({
      token: DRILL_BOT_TOKEN,
      port: portFromEnv(ctx.env, 'QUAKECTL_DRILL_TELEGRAM_PORT', DEFAULT_TELEGRAM_PORT),
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
      flush: async () => {}, // records as it receives
      close: () => bot.close(),
    };
  },
};

/** How often the sms/email plug-ins read moto's dump (the bound on their reported times' lateness). */
export const POLL_MS = 250;
/** The drill's SES sender (verified in moto by the email plug-in). */
export const DRILL_EMAIL_FROM = 'alerts@drill.quakectl.test';

/** Polls `read` every POLL_MS, stamping each record first seen with the time of the poll that saw it. */
function stamper<T>(read: () => Promise<T[]>, key: (r: T) => string) {
  const seen = new Map<string, { record: T; at: number }>();
  let stopped = false;
  let failure: Error | undefined;
  const tick = async () => {
    while (!stopped) {
      try {
        const at = Date.now();
        for (const r of await read()) if (!seen.has(key(r))) seen.set(key(r), { record: r, at });
        failure = undefined;
      } catch (err) {
        failure = err as Error;
      }
      await new Promise((res) => setTimeout(res, POLL_MS));
    }
  };
  const running = tick();
  return {
    /** One more read now, stamped with its time: the last sends before the event completed are not left to the next poll. */
    async flush() {
      const at = Date.now();
      for (const r of await read()) if (!seen.has(key(r))) seen.set(key(r), { record: r, at });
    },
    entries: () => {
      if (failure && seen.size === 0) throw failure;
      return [...seen.values()];
    },
    async stop() {
      stopped = true;
      await running;
    },
  };
}

function requireMoto(ctx: ReceiverContext, type: string): string {
  if (!ctx.motoEndpoint)
    throw new Error(`${type} needs moto (SNS, SES v2) on the local stack: run \`quakectl local up\``);
  return ctx.motoEndpoint;
}

const sms: ReceiverPlugin = {
  async start(ctx) {
    const endpoint = requireMoto(ctx, 'sms');
    const subscriberOf = new Map<string, string>();
    const numberOf = new Map<string, string>();
    const poll = stamper(
      () => recordedSms(endpoint),
      (m) => m.messageId,
    );
    return {
      type: 'sms',
      channel: (id) => {
        let number = numberOf.get(id);
        if (!number) {
          // A Romanian mobile number (+40 7xx xxx xxx) from the id; the next free one on a collision.
          let n = createHash('sha256').update(id).digest().readUInt32BE(0) % 10_000_000;
          const of = (k: number) => `+4072${String(k).padStart(7, '0')}`;
          while (subscriberOf.has(of(n))) n = (n + 1) % 10_000_000;
          number = of(n);
          subscriberOf.set(number, id);
          numberOf.set(id, number);
        }
        return { type: 'sms', target: number };
      },
      env: { QUAKECTL_SMS_ENABLED: 'true' },
      deliveries: (_eventId, since) =>
        poll.entries().flatMap(({ record, at }) => {
          const subscriberId = subscriberOf.get(record.phoneNumber);
          return subscriberId && at >= since ? [{ subscriberId, receivedAt: at }] : [];
        }),
      throttled: () => null,
      flush: () => poll.flush(),
      close: () => poll.stop(),
    };
  },
};

const email: ReceiverPlugin = {
  async start(ctx) {
    const endpoint = requireMoto(ctx, 'email');
    if (ctx.sesv2) await verifyLocalSender(await ctx.sesv2(), DRILL_EMAIL_FROM);
    const poll = stamper(
      () => recordedEmails(endpoint),
      (m) => m.messageId,
    );
    return {
      type: 'email',
      channel: (id) => ({ type: 'email', target: `${id}@drill.quakectl.test` }),
      env: { QUAKECTL_SES_FROM: DRILL_EMAIL_FROM },
      deliveries: (eventId) =>
        poll.entries().flatMap(({ record, at }) => {
          const parts = record.notificationId?.split(':') ?? [];
          if (parts.length < 3) return [];
          parts.pop(); // level or cancel
          const subscriberId = parts.pop()!;
          return parts.join(':') === eventId ? [{ subscriberId, receivedAt: at }] : [];
        }),
      throttled: () => null,
      flush: () => poll.flush(),
      close: () => poll.stop(),
    };
  },
};

/** The plug-ins by channel (see the module comment). */
export const RECEIVER_PLUGINS: Record<MixChannel, ReceiverPlugin> = {
  webhook,
  push,
  telegram,
  sms,
  email,
};
