/**
 * The per-notification channels' senders (channel.ts) as a function's environment configures them. A channel whose
 * configuration is absent gets no sender: its notifications are parked in the delivery DLQ with the reason (the
 * Deliverer's SENDER_SETUP), never dropped.
 *
 * Each channel's module reads its own variables:
 * - telegram: telegram.ts `telegramSenderFromEnv` (QUAKECTL_TELEGRAM_BOT_TOKEN, QUAKECTL_TELEGRAM_API_URL); the token
 *   read from Secrets Manager at start-up (QUAKECTL_TELEGRAM_SECRET_ARN, handler-support.ts) takes precedence.
 * - sms: sms.ts `smsSenderFromEnv` (QUAKECTL_SMS_ENABLED, QUAKECTL_SMS_SENDER_ID, QUAKECTL_SMS_ORIGINATION_NUMBER).
 * - email: email.ts `emailSenderFromEnv` (QUAKECTL_SES_FROM, QUAKECTL_SES_CONFIGURATION_SET,
 *   QUAKECTL_EMAIL_UNSUBSCRIBE_URL).
 */
import type { Clients } from '../infra/clients.ts';
import type { ChannelSenders } from './channel.ts';
import { emailSenderFromEnv } from './email.ts';
import { smsSenderFromEnv } from './sms.ts';
import { telegramSenderFromEnv } from './telegram.ts';

/** Channel secrets resolved at start-up (never logged). */
export interface ChannelSecrets {
  telegramBotToken?: string;
}

export interface SenderDeps {
  /** The one client factory's SNS and SES v2 clients (loaded on first send); without them no sms or email sender. */
  clients?: Pick<Clients, 'sns' | 'sesv2'>;
  secrets?: ChannelSecrets;
}

/** Senders for every channel configured in `env`. Throws RangeError on a malformed setting (never echoing secrets). */
export function channelSendersFromEnv(env: NodeJS.ProcessEnv = process.env, deps: SenderDeps = {}): ChannelSenders {
  const senders: ChannelSenders = {};
  const token = deps.secrets?.telegramBotToken;
  const telegram = telegramSenderFromEnv(token ? { ...env, QUAKECTL_TELEGRAM_BOT_TOKEN: token } : env);
  if (telegram) senders.telegram = telegram;
  const clients = deps.clients;
  if (clients) {
    const sms = smsSenderFromEnv(env, () => clients.sns());
    if (sms) senders.sms = sms;
    const email = emailSenderFromEnv(env, () => clients.sesv2());
    if (email) senders.email = email;
  }
  return senders;
}
