/**
 * The per-notification channels' senders (channel.ts) as a function's environment configures them. A channel whose
 * configuration is absent gets no sender: its notifications are parked in the delivery DLQ with the reason (the
 * Deliverer's SENDER_SETUP), never dropped.
 *
 * Each channel's module reads its own variables:
 * - telegram: telegram.ts `telegramSenderFromEnv` (QUAKECTL_TELEGRAM_BOT_TOKEN, QUAKECTL_TELEGRAM_API_URL).
 * - push: push.ts `pushSenderFromEnv` (QUAKECTL_VAPID_PUBLIC_KEY, QUAKECTL_VAPID_PRIVATE_KEY, QUAKECTL_VAPID_SUBJECT,
 *   QUAKECTL_PUSH_TTL_S, QUAKECTL_PUSH_CANCEL_TTL_S); its endpoints pass the webhooks' SSRF guard
 *   (QUAKECTL_ALLOW_PRIVATE_TARGETS).
 */

import { TargetGuard } from './address.ts';
import type { ChannelSenders } from './channel.ts';
import { pushSenderFromEnv } from './push.ts';
import { telegramSenderFromEnv } from './telegram.ts';

/** Senders for every channel configured in `env`. Throws RangeError on a malformed setting (never echoing secrets). */
export function channelSendersFromEnv(env: NodeJS.ProcessEnv = process.env): ChannelSenders {
  const senders: ChannelSenders = {};
  const telegram = telegramSenderFromEnv(env);
  if (telegram) senders.telegram = telegram;
  const push = pushSenderFromEnv(env, new TargetGuard({ allowPrivate: env.QUAKECTL_ALLOW_PRIVATE_TARGETS === 'true' }));
  if (push) senders.push = push;
  return senders;
}
