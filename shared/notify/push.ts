/**
 * The `push` channel: Web Push, one push message per notification to the subscriber's push service.
 *
 * - Request (RFC 8030 section 5): `POST <subscription endpoint>` with the payload encrypted for the user agent
 *   (RFC 8291, `Content-Encoding: aes128gcm`: ECDH with the subscription's `p256dh`, HKDF with its `auth` secret) and
 *   signed for the push service by the application server (RFC 8292 VAPID: `Authorization: vapid t=<ES256 JWT whose
 *   aud is the endpoint's origin>, k=<our public key>`). The `web-push` library builds the encrypted body and the
 *   headers (`generateRequestDetails`); the request itself goes through the TargetGuard's dispatcher (address.ts),
 *   because an endpoint is a URL the subscriber supplied, exactly like a webhook target.
 * - `Urgency: high` (RFC 8030 5.3): delivered at once even to a device saving battery.
 * - `TTL` (RFC 8030 5.2): how long the push service keeps the message for an offline device. An alert is 120 s by
 *   default: the S wave reaches the footprint's far edge (about 400 km at 3.5 km/s) within two minutes of origin and
 *   strong shaking lasts tens of seconds, so a device that comes online later would be told of shaking that is over
 *   (the push service cannot rebuild the text like the Deliverer's late check does). A cancellation keeps 3,600 s: it
 *   must still replace the alert on a device that was offline for a while.
 * - `Topic` (RFC 8030 5.4: at most 32 characters of the URL-safe base64 alphabet) per (event, subscriber): a
 *   higher level or a cancellation of the same event replaces the earlier message still queued for the device. The
 *   topic is the first 24 bytes of SHA-256(`eventId\0subscriberId`) in base64url: exactly 32 characters, and the
 *   push service learns neither id.
 * - Payload: JSON `{id, eventId, kind, level, mmi, secondsUntilShaking, shakingAt, text, drill}` of at most
 *   `PUSH_MAX_PAYLOAD` bytes (RFC 8291 section 4 with one 4,096-byte record: 4,096 − 86 header − 16 tag − 1 padding
 *   delimiter = 3,993; push services such as FCM and APNs accept 4,096 bytes of encrypted body). A longer text is cut.
 *
 * Answers (RFC 8030 section 6 and push services' documentation):
 * - 201 Created (202 Accepted for a receipt request): delivered to the push service.
 * - 404 Not Found / 410 Gone: the subscription expired or was unsubscribed. `gone`: not retried, not parked.
 * - 429 Too Many Requests: `throttle` with `Retry-After` (RFC 9110 10.2.3, seconds or an HTTP date); the Deliverer
 *   waits and sends again within the channel's budget.
 * - 413 Payload Too Large, 400 Bad Request, 401/403 (VAPID refused: the subscription belongs to another key), other
 *   4xx: failed, not retriable (the same request would be refused again).
 * - 5xx, timeouts, connection errors: retried with backoff (RETRY_POLICIES.webhook) within `budgetMs`, then failed
 *   retriable (parked in the delivery DLQ).
 * The VAPID private key is never logged or put in a reason; the endpoint appears only redacted (targets.ts redactPush).
 */
import { createHash } from 'node:crypto';
import { fetch } from 'undici';
import webpush from 'web-push';
import { DEFAULT_FANOUT } from '../infra/config.ts';
import { RETRY_POLICIES, RetryBudgetSpent, type RetryPolicy, StopRetrying, withRetry } from '../infra/retry.ts';
import { PrivateTargetError, TargetGuard } from './address.ts';
import type { ChannelSender, SendOutcome } from './channel.ts';
import { type PushSubscriptionJson, parsePushSubscription, redactPush } from './targets.ts';
import type { DeliveryItem, Notification } from './types.ts';

/** Largest plaintext payload, bytes (see the module comment). */
export const PUSH_MAX_PAYLOAD = 3993;
/** RFC 8030 5.4: a topic is at most 32 characters of the URL-safe base64 alphabet. */
export const PUSH_TOPIC_LENGTH = 32;
export const DEFAULT_PUSH_TTL_S = 120;
export const DEFAULT_PUSH_CANCEL_TTL_S = 3600;
/** Lifetime of a VAPID token (JWT `exp` − now): web-push's default, half of RFC 8292's 24 h maximum. */
const VAPID_TOKEN_S = 12 * 3600;

export interface VapidKeys {
  /** base64url, 65-byte uncompressed P-256 point: what browsers take as `applicationServerKey`. */
  publicKey: string;
  /** base64url, 32-byte P-256 private scalar. A secret. */
  privateKey: string;
  /** `mailto:` or `https:` contact the push service may use (RFC 8292 section 2.1, JWT `sub`). */
  subject: string;
}

export interface PushOptions {
  vapid: VapidKeys;
  /** The guard every endpoint passes (address.ts); default: private addresses refused. */
  guard?: TargetGuard;
  /** TTL of an alert / of a cancellation, seconds (RFC 8030 5.2). */
  ttlS?: number;
  cancelTtlS?: number;
  /** Per attempt, ms. */
  timeoutMs?: number;
  /** One notification's time, attempts and backoff included, ms. */
  budgetMs?: number;
  retry?: RetryPolicy;
}

/** What a device receives (decrypted), as JSON. */
export interface PushPayload {
  id: string;
  eventId: string;
  kind: Notification['kind'];
  level: Notification['level'];
  mmi: number;
  /** At the moment the notification was built. */
  secondsUntilShaking: number;
  /** Epoch ms of the S arrival at the subscriber: lets the device count down however late the message came. */
  shakingAt: number;
  text: string;
  drill: boolean;
}

/** The payload of `n`, its text cut so the JSON fits PUSH_MAX_PAYLOAD bytes. Returns the UTF-8 bytes. */
export function pushPayload(n: Notification): Buffer {
  const payload: PushPayload = {
    id: n.id,
    eventId: n.eventId,
    kind: n.kind,
    level: n.level,
    mmi: n.mmi,
    secondsUntilShaking: n.secondsUntilShaking,
    shakingAt: Math.round(n.builtAt + n.secondsUntilShaking * 1000),
    text: n.text,
    drill: n.drill,
  };
  let body = Buffer.from(JSON.stringify(payload));
  let chars = [...n.text];
  while (body.length > PUSH_MAX_PAYLOAD && chars.length > 0) {
    // Cut by the overflow (at least one character); JSON escapes make bytes ≥ characters, so this converges.
    chars = chars.slice(0, Math.max(0, chars.length - Math.max(1, Math.ceil((body.length - PUSH_MAX_PAYLOAD) / 4))));
    body = Buffer.from(JSON.stringify({ ...payload, text: `${chars.join('')}…` }));
  }
  return body;
}

/** The Topic of (event, subscriber): 32 base64url characters (see the module comment). */
export function pushTopic(eventId: string, subscriberId: string): string {
  return createHash('sha256').update(`${eventId}\u0000${subscriberId}`).digest().subarray(0, 24).toString('base64url');
}

/** Milliseconds a `Retry-After` value asks for (delta-seconds or an HTTP date), or undefined. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** How the sender treats an HTTP answer from a push service. */
export type PushAnswer = 'ok' | 'gone' | 'throttle' | 'retry' | 'refused';

/** The class of a push service's HTTP status (see the module comment). */
export function classifyPushStatus(status: number): PushAnswer {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 404 || status === 410) return 'gone';
  if (status === 429) return 'throttle';
  if (status >= 500 || status === 408) return 'retry';
  return 'refused';
}

class AttemptFailed extends Error {
  readonly retriable: boolean;
  constructor(message: string, retriable: boolean) {
    super(message);
    this.name = 'AttemptFailed';
    this.retriable = retriable;
  }
}

/** A VAPID key pair (web-push `generateVAPIDKeys`): base64url public (65 bytes) and private (32 bytes) keys. */
export function generateVapidKeys(): { publicKey: string; privateKey: string } {
  return webpush.generateVAPIDKeys();
}

export class PushSender implements ChannelSender {
  readonly type = 'push' as const;
  /** Every chain shares the application server's budget (rate.ts), whichever push service an endpoint is on. */
  readonly provider = 'web-push';
  readonly guard: TargetGuard;
  readonly opts: Required<Omit<PushOptions, 'guard'>>;
  private readonly vapidTokens = new Map<string, { authorization: string; refreshAt: number }>();

  constructor(opts: PushOptions) {
    const { publicKey, privateKey, subject } = opts.vapid;
    // web-push checks the key lengths and the subject's scheme; its messages never contain the private key.
    try {
      webpush.generateRequestDetails({ endpoint: 'https://push.invalid/x', keys: { p256dh: '', auth: '' } }, null, {
        vapidDetails: { subject, publicKey, privateKey },
      });
    } catch (err) {
      throw new RangeError(`push: VAPID settings refused: ${(err as Error).message.replace(privateKey, '…')}`);
    }
    this.guard = opts.guard ?? new TargetGuard({ allowPrivate: false });
    this.opts = {
      vapid: opts.vapid,
      ttlS: opts.ttlS ?? DEFAULT_PUSH_TTL_S,
      cancelTtlS: opts.cancelTtlS ?? DEFAULT_PUSH_CANCEL_TTL_S,
      timeoutMs: opts.timeoutMs ?? DEFAULT_FANOUT.webhookTimeoutMs,
      budgetMs: opts.budgetMs ?? DEFAULT_FANOUT.targetBudgetMs,
      retry: opts.retry ?? RETRY_POLICIES.webhook,
    };
  }

  redact(target: string): string {
    return redactPush(target);
  }

  /**
   * The request for `n` to `subscription`: method, endpoint, headers (Authorization, Content-Encoding, TTL, Urgency,
   * Topic, …) and the encrypted body. Throws RangeError when web-push refuses the subscription's keys.
   */
  request(subscription: PushSubscriptionJson, n: Notification) {
    try {
      return webpush.generateRequestDetails(subscription, pushPayload(n), {
        headers: { Authorization: this.vapidAuthorization(new URL(subscription.endpoint).origin) },
        TTL: n.kind === 'cancel' ? this.opts.cancelTtlS : this.opts.ttlS,
        urgency: 'high',
        topic: pushTopic(n.eventId, n.subscriberId),
        contentEncoding: 'aes128gcm',
      });
    } catch (err) {
      throw new RangeError(`push: cannot encrypt for this subscription: ${(err as Error).message}`);
    }
  }

  /**
   * The `vapid t=…, k=…` value for a push service origin (RFC 8292 section 2: `aud` is the origin, `exp` at most 24 h
   * ahead). A token is reused for that origin until an hour before it expires: signing one per message (web-push's
   * default) made building a request 1.9× as costly, 1.88 against 0.98 ms per message (`node bench/push-request.ts
   * 2000 5`, median of 5 rounds, on the shared 2-core machine).
   */
  private vapidAuthorization(audience: string): string {
    const now = Date.now();
    const cached = this.vapidTokens.get(audience);
    if (cached && cached.refreshAt > now) return cached.authorization;
    const { publicKey, privateKey, subject } = this.opts.vapid;
    const exp = Math.floor(now / 1000) + VAPID_TOKEN_S;
    const headers = webpush.getVapidHeaders(audience, subject, publicKey, privateKey, 'aes128gcm', exp);
    const authorization = String(headers.Authorization);
    if (this.vapidTokens.size > 1000) this.vapidTokens.clear();
    this.vapidTokens.set(audience, { authorization, refreshAt: now + (VAPID_TOKEN_S - 3600) * 1000 });
    return authorization;
  }

  /** ChannelSender: one push message (see the module comment for the answers). Never throws. */
  async send(item: DeliveryItem, signal?: AbortSignal): Promise<SendOutcome> {
    let attempts = 0;
    const fail = (reason: string, retriable: boolean, extra: Partial<SendOutcome> = {}): SendOutcome => ({
      ok: false,
      gone: false,
      retriable,
      reason,
      attempts,
      throttled: 0,
      ...extra,
    });
    let details: ReturnType<PushSender['request']>;
    try {
      details = this.request(parsePushSubscription(item.channel.target), item.notification);
    } catch (err) {
      return fail((err as Error).message, false);
    }
    const check = await this.guard.check(details.endpoint);
    if (!check.ok) return fail(`push ${check.reason}`, false);
    // RFC 8030 section 8: push services over HTTPS only; plain http only where private targets are allowed (a local
    // push service on the local stack).
    if (!this.guard.allowPrivate && !details.endpoint.startsWith('https:')) {
      return fail('push target refused: the endpoint is not https (RFC 8030 section 8)', false);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(details.headers)) headers[k] = String(v);
    const deadline = Date.now() + this.opts.budgetMs;
    try {
      return await withRetry(
        this.opts.retry,
        async () => {
          attempts++;
          const left = deadline - Date.now();
          if (left <= 0) throw new StopRetrying(new AttemptFailed('budget spent', true));
          let res: Awaited<ReturnType<typeof fetch>>;
          try {
            const timeout = AbortSignal.timeout(Math.max(1, Math.min(this.opts.timeoutMs, left)));
            res = await fetch(details.endpoint, {
              method: 'POST',
              headers,
              body: details.body,
              redirect: 'manual',
              dispatcher: this.guard.dispatcher,
              signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
            });
          } catch (err) {
            const e = err as Error & { cause?: Error & { code?: string } };
            if (e.cause instanceof PrivateTargetError)
              throw new StopRetrying(new AttemptFailed(e.cause.message, false));
            if (signal?.aborted) throw new StopRetrying(new AttemptFailed('aborted', false));
            if (e.name === 'TimeoutError') throw new AttemptFailed(`timeout after ${this.opts.timeoutMs} ms`, true);
            throw new AttemptFailed(`connection error: ${e.cause?.code ?? e.cause?.message ?? e.message}`, true);
          }
          const text = (await res.text().catch(() => '')).replace(/\s+/g, ' ').slice(0, 160);
          const answer = classifyPushStatus(res.status);
          const what = `push ${res.status}${text ? ` ${text}` : ''}`;
          switch (answer) {
            case 'ok':
              return {
                ok: true as const,
                attempts,
                throttled: 0,
                providerId: res.headers.get('location') ?? undefined,
              };
            case 'gone':
              return fail(`${what}: subscription expired or unsubscribed`, false, { gone: true });
            case 'throttle':
              return fail(what, true, { throttle: { retryAfterMs: retryAfterMs(res.headers.get('retry-after')) } });
            case 'retry':
              throw new AttemptFailed(what, true);
            default:
              throw new StopRetrying(new AttemptFailed(what, false));
          }
        },
        {
          retriable: (err) => (err as AttemptFailed).retriable !== false,
          deadline,
          signal,
        },
      );
    } catch (err) {
      const last = err instanceof RetryBudgetSpent ? (err.cause as Error) : (err as Error);
      if (signal?.aborted || last.message === 'aborted') return fail('aborted', false);
      const retriable = (last as AttemptFailed).retriable ?? true;
      const spent = err instanceof RetryBudgetSpent || last.message === 'budget spent';
      return fail(
        `${last.message}${spent ? `; ${this.opts.budgetMs} ms budget spent` : ''} after ${attempts} attempt(s)`,
        retriable,
      );
    }
  }
}

/**
 * The sender the function's environment configures: `QUAKECTL_VAPID_PUBLIC_KEY`, `QUAKECTL_VAPID_PRIVATE_KEY` (a
 * secret: deploy takes it from the profile's Secrets Manager secret or, on the local profile, from the state dir; never
 * logged), `QUAKECTL_VAPID_SUBJECT`; optional `QUAKECTL_PUSH_TTL_S` and `QUAKECTL_PUSH_CANCEL_TTL_S` (seconds).
 * Undefined without a private key: push notifications are then parked with the reason. Throws RangeError on a malformed
 * setting (without echoing the key).
 */
export function pushSenderFromEnv(env: NodeJS.ProcessEnv, guard: TargetGuard): PushSender | undefined {
  const privateKey = env.QUAKECTL_VAPID_PRIVATE_KEY;
  if (!privateKey) return undefined;
  const publicKey = env.QUAKECTL_VAPID_PUBLIC_KEY ?? '';
  const subject = env.QUAKECTL_VAPID_SUBJECT ?? '';
  const seconds = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 2_419_200) throw new RangeError(`${name} must be 0–2419200 seconds`);
    return n;
  };
  return new PushSender({
    vapid: { publicKey, privateKey, subject },
    guard,
    ttlS: seconds('QUAKECTL_PUSH_TTL_S'),
    cancelTtlS: seconds('QUAKECTL_PUSH_CANCEL_TTL_S'),
  });
}
