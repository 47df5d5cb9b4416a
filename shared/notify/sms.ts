/**
 * The `sms` channel: Amazon SNS `Publish` to a phone number (SNS developer guide, "Publishing to a mobile phone"):
 * `PhoneNumber` in E.164 and the message attribute `AWS.SNS.SMS.SMSType = Transactional` (critical messages, routed
 * for reliability rather than cost), plus `AWS.SNS.SMS.SenderID` and `AWS.MM.SMS.OriginationNumber` when configured.
 *
 * Text: one SMS segment where the facts allow (3GPP TS 23.038: GSM-7 packs 160 septets, a character of the extension
 * table — `[ ] { } \ ^ ~ | €` — takes two; any character outside GSM-7 switches the whole message to UCS-2, 70
 * characters; a concatenated message loses 7 (GSM-7) or 3 (UCS-2) characters per segment to its header). Segments are
 * counted with `sms-segments-calculator` (Twilio's calculator). `smsText` builds a compact text from the
 * notification's facts — the DRILL marker first, then magnitude, place, distance, when and how strong, what to do —
 * and chooses:
 *  1. the text as written, if it fits one segment (Romanian diacritics ă â î ș ț are not in GSM-7: UCS-2, 70);
 *  2. else the text transliterated to GSM-7 (ă→a, ș→s, ț→t, … ; `toGsm7`), if that fits one segment of 160 — a
 *     Romanian reader reads "Miscari puternice" without effort, and half the text would not fit 70 characters;
 *  3. else the transliterated text with the place name shortened until it fits;
 *  4. else (never with the templates here) the transliterated text in several segments, most important facts first.
 *
 * Answers (SNS API reference, Publish errors; AWS SDK error names): `Throttling`/`ThrottledException` → throttle (the
 * Deliverer waits and sends again); `InvalidParameter`/`InvalidParameterValue` about the phone number, and
 * `OptedOut…` → gone (the number cannot receive: a redrive would be refused too); 5xx and connection errors →
 * retriable failure after the SDK's own retries; authorisation and other client errors → failure, retriable (a redrive
 * after the operator fixes the account succeeds). Opt-outs and carrier failures after acceptance arrive later in SNS
 * delivery status logs, not in the Publish answer. The number is never logged in full (`redactPhone`).
 */
import type { MessageAttributeValue, SNSClient } from '@aws-sdk/client-sns';
import { SegmentedMessage } from 'sms-segments-calculator';
import type { ChannelSender, SendOutcome } from './channel.ts';
import { redactPhone } from './targets.ts';
import { type TextLocale, textLocale } from './text.ts';
import type { DeliveryItem, Notification } from './types.ts';

export const SMS_LIMITS = { gsm7: 160, ucs2: 70 } as const;

/** The SNS module, loaded on the first send: a worker that sends no SMS never evaluates it (clients.ts). */
const sdk = () => import('@aws-sdk/client-sns');

export interface SmsOptions {
  /** The client, or a loader of it (the factory's `clients.sns`). */
  sns: SNSClient | (() => SNSClient | Promise<SNSClient>);
  /** Alphanumeric sender ID (1–11 characters, a letter among them) where the destination country supports it. */
  senderId?: string;
  /** An origination number (E.164) the account owns (toll-free, 10DLC, short code). */
  originationNumber?: string;
}

export interface SmsText {
  text: string;
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  /** How the text was fitted: as written, transliterated to GSM-7, the place shortened, or several segments. */
  fit: 'as-written' | 'transliterated' | 'place-shortened' | 'multi-segment';
}

/** Encoding and segment count of `text` as an SMS (3GPP TS 23.038; sms-segments-calculator). */
export function smsSegments(text: string): { encoding: 'GSM-7' | 'UCS-2'; segments: number } {
  const m = new SegmentedMessage(text);
  return { encoding: m.encodingName, segments: m.segmentsCount };
}

/** Letters outside GSM-7 that have an obvious GSM-7 reading; the rest of the alphabet falls back to NFD base letters. */
const GSM7_FALLBACK: Record<string, string> = {
  ă: 'a',
  Ă: 'A',
  â: 'a',
  Â: 'A',
  î: 'i',
  Î: 'I',
  ș: 's',
  Ș: 'S',
  ş: 's',
  Ş: 'S',
  ț: 't',
  Ț: 'T',
  ţ: 't',
  Ţ: 'T',
  '—': '-',
  '–': '-',
  '…': '...',
  '‘': "'",
  '’': "'",
  '“': '"',
  '”': '"',
  '\u00a0': ' ',
};
const gsm7Cache = new Map<string, boolean>();
function isGsm7(ch: string): boolean {
  let ok = gsm7Cache.get(ch);
  if (ok === undefined) {
    ok = new SegmentedMessage(ch).encodingName === 'GSM-7';
    gsm7Cache.set(ch, ok);
  }
  return ok;
}

/**
 * `text` with every character outside GSM-7 replaced by its GSM-7 reading: Romanian letters and typographic
 * punctuation by `GSM7_FALLBACK`, other accented letters by their base letter (Unicode NFD), anything else by `?`.
 * Characters already in GSM-7 (é, ü, ñ, …) are kept.
 */
export function toGsm7(text: string): string {
  let out = '';
  for (const ch of text) {
    if (isGsm7(ch)) out += ch;
    else if (GSM7_FALLBACK[ch] !== undefined) out += GSM7_FALLBACK[ch];
    else {
      const base = ch.normalize('NFD').replace(/\p{M}/gu, '');
      out += base && [...base].every(isGsm7) ? base : '?';
    }
  }
  return out;
}

const MARKER: Record<TextLocale, string> = { en: 'DRILL (TEST)', ro: 'EXERCIȚIU (TEST)' };

function num(x: number, digits: number, locale: TextLocale): string {
  const s = x.toFixed(digits);
  return locale === 'ro' ? s.replace('.', ',') : s;
}

function clockUtc(epochMs: number): string {
  return Number.isFinite(epochMs) ? `${new Date(epochMs).toISOString().slice(11, 16)} UTC` : '';
}

/** The compact text with the given place (possibly shortened). Facts in order of importance; the marker first. */
function compose(n: Notification, locale: TextLocale, place: string): string {
  const mag = `M${num(n.magnitude, 1, locale)}`;
  const where = place ? ` ${place}` : '';
  const km = `${Math.round(n.distanceKm)} km`;
  const mmi = num(n.mmi, 1, locale);
  const strong = n.level === 'take-action';
  let body: string;
  if (locale === 'ro') {
    if (n.kind === 'cancel') {
      body = `ANULAT: alerta de la ${clockUtc(n.originTime)} pentru ${mag}${where} a fost retrasă. Nu urmează niciun cutremur.`;
    } else if (n.phase === 'after') {
      body =
        `Cutremur ${mag}${where} la ${clockUtc(n.originTime)}, la ${km}. Mișcări ${strong ? 'puternice' : 'ușoare'} ` +
        `(intensitate ${mmi}) au trecut. Sunt posibile replici.`;
    } else {
      const what = strong ? 'Mișcări puternice' : 'Mișcări ușoare';
      const when = n.secondsUntilShaking > 0 ? `în ${Math.round(n.secondsUntilShaking)} s` : 'pot fi deja în curs';
      const act = strong ? 'Aplecați-vă, adăpostiți-vă, țineți-vă.' : 'Fiți gata să vă adăpostiți.';
      body = `Cutremur ${mag}${where}, la ${km}. ${what} ${when} (intensitate ${mmi}). ${act}`;
    }
  } else if (n.kind === 'cancel') {
    body = `CANCELLED: the ${clockUtc(n.originTime)} alert for ${mag}${where} was withdrawn. No earthquake expected.`;
  } else if (n.phase === 'after') {
    body =
      `Earthquake ${mag}${where} at ${clockUtc(n.originTime)}, ${km} away. ${strong ? 'Strong' : 'Light'} shaking ` +
      `(MMI ${mmi}) has passed. Expect aftershocks.`;
  } else {
    const what = strong ? 'Strong shaking' : 'Light shaking';
    const when = n.secondsUntilShaking > 0 ? `in ${Math.round(n.secondsUntilShaking)} s` : 'may be under way';
    const act = strong ? 'Drop, cover, hold on.' : 'Be ready to take cover.';
    body = `Earthquake ${mag}${where}, ${km} away. ${what} ${when} (MMI ${mmi}). ${act}`;
  }
  return n.drill ? `${MARKER[locale]}: ${body}` : body;
}

/**
 * The SMS text of a notification, fitted to one segment where possible (see the module comment for the order of
 * choices). Pure; `n` as the Deliverer hands it over (its seconds-until-shaking already moved on for now).
 */
export function smsText(n: Notification): SmsText {
  const locale = textLocale(n.locale);
  const written = compose(n, locale, n.place);
  const asWritten = smsSegments(written);
  if (asWritten.segments === 1) return { text: written, ...asWritten, fit: 'as-written' };
  const plain = toGsm7(written);
  const t = smsSegments(plain);
  if (t.segments === 1) return { text: plain, ...t, fit: 'transliterated' };
  // Shorten the place from its end (USGS writes "12 km SW of Town, Country": the nearest town comes first).
  const place = toGsm7(n.place);
  for (let len = place.length - 1; len >= 0; len--) {
    const shortened = len === 0 ? '' : `${place.slice(0, len).trimEnd()}..`;
    const candidate = toGsm7(compose(n, locale, shortened));
    const s = smsSegments(candidate);
    if (s.segments === 1) return { text: candidate, ...s, fit: 'place-shortened' };
  }
  return { text: plain, ...t, fit: 'multi-segment' };
}

/** SDK error names (and codes) that mean the provider throttled the send. */
const THROTTLES = new Set(['Throttling', 'ThrottlingException', 'ThrottledException', 'TooManyRequestsException']);

/** Maps an SNS Publish error to a SendOutcome (module comment). Pure; never includes the number. */
export function snsFailure(err: unknown, attempts: number): Extract<SendOutcome, { ok: false }> {
  const e = err as Error & { name?: string; Code?: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
  const name = e.name ?? e.Code ?? 'Error';
  const message = String(e.message ?? '')
    .replace(/\+\d{6,15}/g, (m) => redactPhone(m))
    .slice(0, 200);
  const reason = `sns ${name}: ${message}`.trim();
  const status = e.$metadata?.httpStatusCode;
  const tries = Math.max(attempts, e.$metadata?.attempts ?? 1);
  const base = { attempts: tries, throttled: 0 };
  if (THROTTLES.has(name) || status === 429) {
    return { ok: false, gone: false, retriable: true, throttle: {}, reason, ...base };
  }
  if (/OptedOut/i.test(name) || /opted out/i.test(message)) {
    return { ok: false, gone: true, retriable: false, reason: `${reason}: number opted out`, ...base };
  }
  if (/^InvalidParameter/.test(name) && /phone/i.test(message)) {
    return { ok: false, gone: true, retriable: false, reason: `${reason}: number refused`, ...base };
  }
  if ((status !== undefined && status >= 500) || !status) {
    return { ok: false, gone: false, retriable: true, reason, ...base };
  }
  // Other client errors (authorisation, a bad sender ID, a message the account may not send): a redrive is worth it
  // once the operator has fixed the account or the settings.
  return { ok: false, gone: false, retriable: true, reason, ...base };
}

export class SmsSender implements ChannelSender {
  readonly type = 'sms' as const;
  /** One account's SMS rate in one region (SNS "Publish" transactions per second quota). */
  readonly provider = 'sns-sms';
  private readonly opts: SmsOptions;
  constructor(opts: SmsOptions) {
    this.opts = opts;
  }

  redact(target: string): string {
    return `sms:${redactPhone(target)}`;
  }

  /** ChannelSender: the compact text (`smsText`) to the subscriber's number. Never throws. */
  async send(item: DeliveryItem, signal?: AbortSignal): Promise<SendOutcome> {
    const { text } = smsText(item.notification);
    const attributes: Record<string, MessageAttributeValue> = {
      'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
    };
    if (this.opts.senderId)
      attributes['AWS.SNS.SMS.SenderID'] = { DataType: 'String', StringValue: this.opts.senderId };
    if (this.opts.originationNumber) {
      attributes['AWS.MM.SMS.OriginationNumber'] = { DataType: 'String', StringValue: this.opts.originationNumber };
    }
    try {
      const { PublishCommand } = await sdk();
      const sns = typeof this.opts.sns === 'function' ? await this.opts.sns() : this.opts.sns;
      const r = await sns.send(
        new PublishCommand({ PhoneNumber: item.channel.target, Message: text, MessageAttributes: attributes }),
        signal ? { abortSignal: signal } : {},
      );
      return { ok: true, attempts: r.$metadata.attempts ?? 1, throttled: 0, providerId: r.MessageId };
    } catch (err) {
      if (signal?.aborted)
        return { ok: false, gone: false, retriable: false, reason: 'aborted', attempts: 1, throttled: 0 };
      return snsFailure(err, 1);
    }
  }
}

/** SenderID: 1–11 characters, A–Z, a–z, 0–9, at least one letter (SNS "Sender IDs"). */
export const SENDER_ID = /^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$/;

/**
 * The sender configured by the environment: `QUAKECTL_SMS_ENABLED=true`, optional `QUAKECTL_SMS_SENDER_ID` and
 * `QUAKECTL_SMS_ORIGINATION_NUMBER`. Undefined when SMS is not enabled (sms notifications are then parked with the
 * reason). Throws RangeError on a malformed sender ID or origination number.
 */
export function smsSenderFromEnv(
  env: NodeJS.ProcessEnv,
  sns: () => SNSClient | Promise<SNSClient>,
): SmsSender | undefined {
  if (env.QUAKECTL_SMS_ENABLED !== 'true') return undefined;
  const senderId = env.QUAKECTL_SMS_SENDER_ID || undefined;
  const originationNumber = env.QUAKECTL_SMS_ORIGINATION_NUMBER || undefined;
  if (senderId && !SENDER_ID.test(senderId)) throw new RangeError('QUAKECTL_SMS_SENDER_ID: 1–11 letters or digits');
  if (originationNumber && !/^\+[1-9]\d{1,14}$/.test(originationNumber)) {
    throw new RangeError('QUAKECTL_SMS_ORIGINATION_NUMBER: an E.164 number');
  }
  return new SmsSender({ sns, senderId, originationNumber });
}
