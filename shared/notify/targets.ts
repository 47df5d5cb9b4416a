/**
 * What a channel's `target` must be, and how it is shown in logs and DLQ messages (never in full: phone numbers,
 * chat ids, addresses and push endpoints identify a person; a push subscription's `auth` is a secret).
 *
 * - webhook: an http(s) URL (the network checks are the TargetGuard's, address.ts).
 * - telegram: a chat id, an integer (negative for groups and channels), or `@channelusername` (5–32 characters) —
 *   Telegram Bot API, sendMessage `chat_id`.
 * - push: a PushSubscription serialised as JSON (W3C Push API `PushSubscription.toJSON()`):
 *   `{"endpoint": "https://…", "keys": {"p256dh": <base64url, 65-byte uncompressed P-256 point>, "auth": <base64url,
 *   16 bytes>}}` (RFC 8291 section 3: the user agent's ECDH public key and authentication secret).
 * - sms: an E.164 number (`+` and up to 15 digits, ITU-T E.164) that libphonenumber-js (Google's libphonenumber
 *   metadata) holds valid — SNS Publish takes `PhoneNumber` in E.164.
 * - email: one address (RFC 5322 addr-spec as zod's `z.email()` accepts it), ASCII, at most 254 characters.
 */
import { isValidPhoneNumber } from 'libphonenumber-js/max';
import { z } from 'zod';
import type { ChannelType } from '../segments/types.ts';

export const TELEGRAM_CHAT_ID = /^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$/;
export const E164 = /^\+[1-9]\d{1,14}$/;

export interface PushSubscriptionJson {
  endpoint: string;
  /** Epoch ms after which the push service drops the subscription, or null. */
  expirationTime?: number | null;
  keys: { p256dh: string; auth: string };
}

const base64url = z.string().regex(/^[A-Za-z0-9_-]+={0,2}$/, 'must be base64url');
const pushSubscriptionSchema = z.object({
  endpoint: z.url({ protocol: /^https?$/ }).max(2048),
  expirationTime: z.number().nullable().optional(),
  keys: z.object({
    p256dh: base64url.refine((k) => Buffer.from(k, 'base64url').length === 65, 'p256dh must be 65 bytes (P-256 point)'),
    auth: base64url.refine((k) => Buffer.from(k, 'base64url').length === 16, 'auth must be 16 bytes'),
  }),
});
const emailSchema = z.email().max(254);

/**
 * The push subscription in a push channel's target. Throws RangeError naming what is wrong (never echoing the keys).
 */
export function parsePushSubscription(target: string): PushSubscriptionJson {
  let raw: unknown;
  try {
    raw = JSON.parse(target);
  } catch {
    throw new RangeError('push target must be a PushSubscription as JSON ({"endpoint","keys":{"p256dh","auth"}})');
  }
  const r = pushSubscriptionSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new RangeError(`push target: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}

/** Why `target` cannot be a `type` channel's target, or undefined when it can. */
export function channelTargetProblem(type: ChannelType, target: string): string | undefined {
  switch (type) {
    case 'webhook':
      return /^https?:\/\//i.test(target) ? undefined : 'webhook target must be an http(s) URL';
    case 'telegram':
      return TELEGRAM_CHAT_ID.test(target)
        ? undefined
        : 'telegram target must be a chat id (an integer) or @channelusername';
    case 'push':
      try {
        parsePushSubscription(target);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    case 'sms':
      if (!E164.test(target))
        return `sms target must be an E.164 number (+ and up to 15 digits), not ${redactPhone(target)}`;
      return isValidPhoneNumber(target) ? undefined : `sms target ${redactPhone(target)} is not a valid phone number`;
    case 'email':
      return emailSchema.safeParse(target).success ? undefined : 'email target must be one email address';
    default:
      return undefined;
  }
}

/** `+4072…67`: country code and a few digits kept, the rest masked. */
export function redactPhone(phone: string): string {
  return phone.length <= 6 ? '…' : `${phone.slice(0, 5)}…${phone.slice(-2)}`;
}

/** `a…@example.org`. */
export function redactEmail(address: string): string {
  const at = address.lastIndexOf('@');
  return at <= 0 ? '…' : `${address[0]}…${address.slice(at)}`;
}

/** `push:https://fcm.googleapis.com/…AbC`: the push service's origin and the endpoint's last 3 characters. */
export function redactPush(target: string): string {
  try {
    const { endpoint } = JSON.parse(target) as { endpoint?: string };
    const u = new URL(String(endpoint));
    return `push:${u.origin}/…${u.pathname.slice(-3)}`;
  } catch {
    return 'push:…';
  }
}

/** `telegram:…123`. */
export function redactChat(chatId: string): string {
  return `telegram:…${chatId.slice(-3)}`;
}

/** A target as logs and DLQ messages show it, per channel type (webhook URLs: telemetry.ts `redactUrl`). */
export function redactTarget(type: ChannelType, target: string): string {
  switch (type) {
    case 'telegram':
      return redactChat(target);
    case 'push':
      return redactPush(target);
    case 'sms':
      return `sms:${redactPhone(target)}`;
    case 'email':
      return `email:${redactEmail(target)}`;
    default:
      return target;
  }
}
