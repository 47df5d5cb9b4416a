/**
 * The per-notification channels' senders (channel.ts) as a function's environment configures them. A channel whose
 * configuration is absent gets no sender: its notifications are parked in the delivery DLQ with the reason (the
 * Deliverer's SENDER_SETUP), never dropped.
 *
 * Each channel's module reads its own variables:
 * - telegram: telegram.ts `telegramSenderFromEnv` (QUAKECTL_TELEGRAM_BOT_TOKEN, QUAKECTL_TELEGRAM_API_URL); on AWS
 *   the token is read from Secrets Manager at start-up (QUAKECTL_TELEGRAM_SECRET_ARN, channel-secrets.ts).
 * - push: push.ts `pushSenderFromEnv` (QUAKECTL_VAPID_PUBLIC_KEY, QUAKECTL_VAPID_PRIVATE_KEY, QUAKECTL_VAPID_SUBJECT,
 *   QUAKECTL_PUSH_TTL_S, QUAKECTL_PUSH_CANCEL_TTL_S); its endpoints pass the webhooks' SSRF guard
 *   (QUAKECTL_ALLOW_PRIVATE_TARGETS).
 * - sms: sms.ts `smsSenderFromEnv` (QUAKECTL_SMS_ENABLED, QUAKECTL_SMS_SENDER_ID, QUAKECTL_SMS_ORIGINATION_NUMBER).
 * - email: email.ts `emailSenderFromEnv` (QUAKECTL_SES_FROM, QUAKECTL_SES_CONFIGURATION_SET,
 *   QUAKECTL_EMAIL_UNSUBSCRIBE_URL).
 * Secrets named by ARN (`…_SECRET_ARN`) are resolved into these variables at start-up (channel-secrets.ts).
 */
import type { Clients } from '../infra/clients.ts';
import { TargetGuard } from './address.ts';
import type { ChannelSenders } from './channel.ts';
import { emailSenderFromEnv } from './email.ts';
import { pushSenderFromEnv } from './push.ts';
import { smsSenderFromEnv } from './sms.ts';
import { telegramSenderFromEnv } from './telegram.ts';

export interface SenderDeps {
  /** The one client factory's SNS and SES v2 clients (loaded on first send); without them no sms or email sender. */
  clients?: Pick<Clients, 'sns' | 'sesv2'>;
}

/** Senders for every channel configured in `env`. Throws RangeError on a malformed setting (never echoing secrets). */
export function channelSendersFromEnv(env: NodeJS.ProcessEnv = process.env, deps: SenderDeps = {}): ChannelSenders {
  const senders: ChannelSenders = {};
  const telegram = telegramSenderFromEnv(env);
  if (telegram) senders.telegram = telegram;
  const clients = deps.clients;
  if (clients) {
    const sms = smsSenderFromEnv(env, () => clients.sns());
    if (sms) senders.sms = sms;
    const email = emailSenderFromEnv(env, () => clients.sesv2());
    if (email) senders.email = email;
  }
  const push = pushSenderFromEnv(env, new TargetGuard({ allowPrivate: env.QUAKECTL_ALLOW_PRIVATE_TARGETS === 'true' }));
  if (push) senders.push = push;
  return senders;
}
