/**
 * The `email` channel: Amazon SES v2 `SendEmail` (SES API v2 reference), one message per notification, from the
 * configured sender (`QUAKECTL_SES_FROM`, a verified identity) with the configuration set if one is configured.
 *
 * The message is sent as `Content.Raw`: a MIME message (RFC 5322, UTF-8 text/plain, RFC 2047 encoded subject) built
 * by nodemailer's MailComposer. SES v2's `Content.Simple` also takes `Headers`, but moto (the local and test
 * implementation) drops them, so the List-Unsubscribe header could not be checked against a real implementation;
 * Raw is sent by SES as given and recorded by moto as given, headers included.
 * - Subject: the DRILL marker first, then magnitude, place and level (`emailSubject`); body: the notification's text,
 *   then the facts one per line.
 * - `List-Unsubscribe` (RFC 2369) on every message: `<https://…>` from `QUAKECTL_EMAIL_UNSUBSCRIBE_URL` (`{subscriber}`
 *   replaced by the URL-encoded subscriber id) with `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058
 *   one-click; required by large mailbox providers for bulk senders), else `<mailto:FROM?subject=unsubscribe%20ID>`.
 *
 * Answers (SES v2 errors, SDK names): `TooManyRequestsException`, `Throttling`, `LimitExceededException` (sending rate
 * exceeded) → throttle; `MessageRejected` (e.g. the sender is not verified, a virus) and `MailFromDomainNotVerified`
 * → failure, not retriable, with SES's reason; a rejection naming the suppression list → gone (SES v2 normally
 * accepts a suppressed address and reports it later as a bounce event; the synchronous answer is handled in case);
 * `AccountSuspendedException`, `SendingPausedException`, 5xx, connection errors → failure, retriable (a redrive after
 * the account is restored succeeds). The address is never logged in full (`redactEmail`).
 */
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { ChannelSender, SendOutcome } from './channel.ts';
import { redactEmail } from './targets.ts';
import { DRILL_BANNER, type TextLocale, textLocale } from './text.ts';
import type { DeliveryItem, Notification } from './types.ts';

/** SES v2 and the MIME composer, loaded on the first send: a worker that sends no email never evaluates them. */
const sdk = () => import('@aws-sdk/client-sesv2');
const composer = () => import('nodemailer/lib/mail-composer/index.js');

export interface EmailOptions {
  /** The client, or a loader of it (the factory's `clients.sesv2`). */
  ses: SESv2Client | (() => SESv2Client | Promise<SESv2Client>);
  /** The sender: an address or `Name <address>` whose address or domain is a verified SES identity. */
  from: string;
  configurationSet?: string;
  /** One-click unsubscribe URL (https), `{subscriber}` replaced by the URL-encoded subscriber id. */
  unsubscribeUrl?: string;
}

const LEVEL: Record<TextLocale, Record<Notification['level'], string>> = {
  en: { 'take-action': 'take action', 'be-aware': 'be aware' },
  ro: { 'take-action': 'acționați', 'be-aware': 'fiți atenți' },
};

/** The subject: DRILL marker, magnitude, place, level — or the cancellation. */
export function emailSubject(n: Notification): string {
  const locale = textLocale(n.locale);
  const mag = `M${locale === 'ro' ? n.magnitude.toFixed(1).replace('.', ',') : n.magnitude.toFixed(1)}`;
  const place = n.place ? ` ${n.place}` : '';
  const what =
    n.kind === 'cancel'
      ? locale === 'ro'
        ? `ANULAT: alerta de cutremur ${mag}${place}`
        : `CANCELLED: earthquake alert ${mag}${place}`
      : n.phase === 'warning' || n.phase === undefined
        ? `${locale === 'ro' ? 'Cutremur' : 'Earthquake'} ${mag}${place}: ${LEVEL[locale][n.level]}`
        : // Built after the S wave (a rate wait, a redrive): the body says what happened, the subject must not urge.
          `${locale === 'ro' ? 'Cutremur' : 'Earthquake'} ${mag}${place}: ${
            n.phase === 'under-way'
              ? locale === 'ro'
                ? 'mișcarea e în curs'
                : 'shaking under way'
              : locale === 'ro'
                ? 'ce s-a întâmplat'
                : 'what happened'
          }`;
  return n.drill ? `${DRILL_BANNER[locale]}: ${what}` : what;
}

/** The text body: the notification's text, then its facts (for a reader who scans). */
export function emailBody(n: Notification): string {
  const facts = [
    `event: ${n.eventId}`,
    `origin time: ${new Date(n.originTime).toISOString()}`,
    `magnitude: ${n.magnitude.toFixed(1)}`,
    `distance: ${n.distanceKm.toFixed(1)} km`,
    `predicted intensity (MMI): ${n.mmi.toFixed(1)}`,
    `notification: ${n.id}`,
  ];
  return `${n.text}\n\n${facts.join('\n')}\n`;
}

/** The List-Unsubscribe header fields for one subscriber (RFC 2369; RFC 8058 for https). */
export function unsubscribeHeaders(opts: Pick<EmailOptions, 'from' | 'unsubscribeUrl'>, subscriberId: string) {
  if (opts.unsubscribeUrl) {
    const url = opts.unsubscribeUrl.replaceAll('{subscriber}', encodeURIComponent(subscriberId));
    return { 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
  }
  const address = /<([^>]+)>/.exec(opts.from)?.[1] ?? opts.from;
  return { 'List-Unsubscribe': `<mailto:${address}?subject=${encodeURIComponent(`unsubscribe ${subscriberId}`)}>` };
}

/** The MIME message of one notification (RFC 5322), as SES sends it. */
export async function emailMime(n: Notification, to: string, opts: Omit<EmailOptions, 'ses'>): Promise<Buffer> {
  const { default: MailComposer } = await composer();
  const mail = new MailComposer({
    from: opts.from,
    to,
    subject: emailSubject(n),
    text: emailBody(n),
    textEncoding: 'quoted-printable',
    headers: {
      ...unsubscribeHeaders(opts, n.subscriberId),
      // Receivers de-duplicate on it like the webhook's Idempotency-Key.
      'X-Quake-Notification-Id': n.id,
      ...(n.drill ? { 'X-Quake-Drill': 'true' } : {}),
      // An alert, not a newsletter: no auto-replies (RFC 3834).
      'Auto-Submitted': 'auto-generated',
    },
  });
  return mail.compile().build();
}

const THROTTLES = new Set(['TooManyRequestsException', 'Throttling', 'ThrottlingException', 'LimitExceededException']);

/** Maps a SES v2 SendEmail error to a SendOutcome (module comment). Pure; never includes the address. */
export function sesFailure(err: unknown, to?: string): Extract<SendOutcome, { ok: false }> {
  const e = err as Error & { name?: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
  const name = e.name ?? 'Error';
  let message = String(e.message ?? '');
  if (to) message = message.replaceAll(to, redactEmail(to));
  const reason = `ses ${name}: ${message.slice(0, 300)}`.trim();
  const status = e.$metadata?.httpStatusCode;
  const base = { attempts: e.$metadata?.attempts ?? 1, throttled: 0 };
  if (THROTTLES.has(name) || status === 429)
    return { ok: false, gone: false, retriable: true, throttle: {}, reason, ...base };
  if (/suppress/i.test(message)) return { ok: false, gone: true, retriable: false, reason, ...base };
  if (/MessageRejected|MailFromDomainNotVerified/.test(name) || /MessageRejected/.test(message)) {
    return { ok: false, gone: false, retriable: false, reason, ...base };
  }
  return { ok: false, gone: false, retriable: true, reason, ...base };
}

export class EmailSender implements ChannelSender {
  readonly type = 'email' as const;
  /** One account's sending rate in one region (SES "maximum send rate", 14/s out of the sandbox by default). */
  readonly provider = 'ses';
  private readonly opts: EmailOptions;
  constructor(opts: EmailOptions) {
    this.opts = opts;
  }

  redact(target: string): string {
    return `email:${redactEmail(target)}`;
  }

  /** ChannelSender: one message to the subscriber's address. Never throws. */
  async send(item: DeliveryItem, signal?: AbortSignal): Promise<SendOutcome> {
    const to = item.channel.target;
    try {
      const raw = await emailMime(item.notification, to, this.opts);
      const { SendEmailCommand } = await sdk();
      const ses = typeof this.opts.ses === 'function' ? await this.opts.ses() : this.opts.ses;
      const r = await ses.send(
        new SendEmailCommand({
          FromEmailAddress: this.opts.from,
          Destination: { ToAddresses: [to] },
          Content: { Raw: { Data: raw } },
          ...(this.opts.configurationSet ? { ConfigurationSetName: this.opts.configurationSet } : {}),
        }),
        signal ? { abortSignal: signal } : {},
      );
      return { ok: true, attempts: r.$metadata.attempts ?? 1, throttled: 0, providerId: r.MessageId };
    } catch (err) {
      if (signal?.aborted)
        return { ok: false, gone: false, retriable: false, reason: 'aborted', attempts: 1, throttled: 0 };
      return sesFailure(err, to);
    }
  }
}

/**
 * The sender configured by the environment: `QUAKECTL_SES_FROM` (required to send email), optional
 * `QUAKECTL_SES_CONFIGURATION_SET` and `QUAKECTL_EMAIL_UNSUBSCRIBE_URL`. Undefined without a sender address (email
 * notifications are then parked with the reason). Throws RangeError on a non-https unsubscribe URL.
 */
export function emailSenderFromEnv(
  env: NodeJS.ProcessEnv,
  ses: () => SESv2Client | Promise<SESv2Client>,
): EmailSender | undefined {
  const from = env.QUAKECTL_SES_FROM;
  if (!from) return undefined;
  const unsubscribeUrl = env.QUAKECTL_EMAIL_UNSUBSCRIBE_URL || undefined;
  if (unsubscribeUrl && !/^https:\/\//.test(unsubscribeUrl)) {
    throw new RangeError('QUAKECTL_EMAIL_UNSUBSCRIBE_URL must be an https URL (RFC 8058 one-click)');
  }
  return new EmailSender({
    ses,
    from,
    configurationSet: env.QUAKECTL_SES_CONFIGURATION_SET || undefined,
    unsubscribeUrl,
  });
}
