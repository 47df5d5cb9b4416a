/**
 * A local Web Push service: the receive side of a push service (RFC 8030) together with the user agents it serves,
 * so tests and drills can read what a phone would show. Nothing leaves 127.0.0.1.
 *
 * - Subscriptions (`subscribe`): an endpoint `<url>/push/<id>` and the user agent's keys (RFC 8291 section 3: a P-256
 *   ECDH key pair, `p256dh` its public point, and a 16-byte `auth` secret). With a `keySeed` the keys are derived from
 *   (seed, id) — HMAC-SHA256 — so a restarted service (the next drill) still decrypts for subscriptions it issued.
 *   A subscription may be bound to an application server key (W3C Push API `applicationServerKey`).
 * - `POST /push/<id>` (RFC 8030 section 5), checked as a push service does:
 *   - `Authorization: vapid t=<JWT>, k=<public key>` (RFC 8292 section 3): the JWT must be ES256 (`alg`), signed by
 *     `k`, with `aud` this service's origin, `exp` in the future and at most 24 h ahead, and a `sub`; else 401. A
 *     subscription bound to another key: 403 (RFC 8292 section 4).
 *   - `TTL` required (RFC 8030 5.2: 400 without it); `Urgency` one of very-low, low, normal, high (5.3); `Topic` at
 *     most 32 URL-safe base64 characters (5.4); `Content-Encoding: aes128gcm` (RFC 8291 section 4), body at most 4,096
 *     bytes (413 above, as push services do), and decryptable with the subscription's keys (400 otherwise).
 *   - Answers 201 Created with `Location: /message/<n>` (RFC 8030 5), 404 for an unknown subscription, 410 Gone for an
 *     expired one (`expire`), 429 with `Retry-After` on demand (`throttleNext`) or when more than `perSecond` messages
 *     arrive in a second, and any status on demand (`failAlways`, e.g. 503 forever).
 * - Records every accepted message decrypted, with its headers and receive time. A message with a `Topic` replaces the
 *   earlier one of the same topic and subscription in `inbox` (what the device shows), as RFC 8030 5.4 describes for
 *   messages still queued; `messages` keeps them all.
 */
import { createECDH, createHmac, createPublicKey, randomBytes, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import ece from 'http_ece';
import type { PushSubscriptionJson } from '../shared/notify/targets.ts';

export interface PushMessage {
  subscriptionId: string;
  /** Decrypted payload, UTF-8. */
  text: string;
  ttl: number;
  urgency: string;
  topic?: string;
  /** The VAPID `sub` claim. */
  subject: string;
  receivedAt: number;
  /** Replaced by a later message of the same topic. */
  replaced: boolean;
}

export interface PushServiceOptions {
  port?: number;
  /** Derive each subscription's keys from (seed, id) instead of at random. */
  keySeed?: string;
  /** Bind every subscription to this application server key (base64url) unless `subscribe` names another. */
  applicationServerKey?: string;
  /** Accepted messages per second before 429 (default unlimited). */
  perSecond?: number;
}

export interface PushService {
  url: string;
  /** A new subscription (the W3C PushSubscription JSON a browser would hand the application). */
  subscribe(opts?: { id?: string; applicationServerKey?: string }): PushSubscriptionJson;
  /** The subscription with this id (derived with `keySeed`), without registering it yet. */
  subscriptionFor(id: string): PushSubscriptionJson;
  /** From now on the subscription answers 410 Gone. */
  expire(id: string): void;
  /** The next `n` messages (to any subscription, or to `id`) get 429 with `Retry-After: retryAfterS`. */
  throttleNext(n: number, retryAfterS: number, id?: string): void;
  /** Every message to `id` gets `status` (e.g. 503): a push service that never recovers. */
  failAlways(id: string, status: number): void;
  messages(): PushMessage[];
  /** Per subscription, the messages a device would show: the latest per topic, and every untopiced one. */
  inbox(id: string): PushMessage[];
  /** 429 answers sent. */
  throttled(): number;
  /** Answers by status, refused ones included. */
  answers(): Record<number, number>;
  reset(): void;
  close(): Promise<void>;
}

interface Sub {
  id: string;
  ecdh: ReturnType<typeof createECDH>;
  auth: Buffer;
  applicationServerKey?: string;
}

const URGENCIES = new Set(['very-low', 'low', 'normal', 'high']);
const MAX_BODY = 4096;
const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

/** A P-256 point (65 bytes, uncompressed) as a verification key. */
function p256Key(raw: Buffer) {
  if (raw.length !== 65 || raw[0] !== 4) throw new Error('not an uncompressed P-256 point');
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: raw.subarray(1, 33).toString('base64url'),
      y: raw.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
}

/**
 * Checks a `vapid t=…, k=…` Authorization value for `audience` (RFC 8292 sections 2 and 3). Returns the key and the
 * claims, or why it is refused.
 */
export function verifyVapid(
  header: string | undefined,
  audience: string,
  now = Date.now(),
): { ok: true; key: string; sub: string; exp: number } | { ok: false; reason: string } {
  const m = /^vapid\s+(.+)$/i.exec(header ?? '');
  if (!m) return { ok: false, reason: 'Authorization is not vapid' };
  const params = new Map(
    m[1].split(',').map((p) => {
      const i = p.indexOf('=');
      return [p.slice(0, i).trim().toLowerCase(), p.slice(i + 1).trim()] as const;
    }),
  );
  const t = params.get('t');
  const k = params.get('k');
  if (!t || !k) return { ok: false, reason: 'vapid needs t and k' };
  const parts = t.split('.');
  if (parts.length !== 3) return { ok: false, reason: 't is not a JWS compact serialization' };
  try {
    const head = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as { alg?: string };
    if (head.alg !== 'ES256') return { ok: false, reason: `JWT alg ${head.alg} is not ES256` };
    const good = verify(
      'sha256',
      Buffer.from(`${parts[0]}.${parts[1]}`),
      { key: p256Key(Buffer.from(k, 'base64url')), dsaEncoding: 'ieee-p1363' },
      Buffer.from(parts[2], 'base64url'),
    );
    if (!good) return { ok: false, reason: 'JWT signature does not verify with k' };
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as {
      aud?: string;
      exp?: number;
      sub?: string;
    };
    if (claims.aud !== audience) return { ok: false, reason: `JWT aud ${claims.aud} is not ${audience}` };
    const nowS = now / 1000;
    if (typeof claims.exp !== 'number' || claims.exp <= nowS) return { ok: false, reason: 'JWT expired' };
    if (claims.exp > nowS + 24 * 3600) return { ok: false, reason: 'JWT exp more than 24 h ahead' };
    if (!claims.sub) return { ok: false, reason: 'JWT has no sub' };
    return { ok: true, key: k, sub: claims.sub, exp: claims.exp };
  } catch (err) {
    return { ok: false, reason: `malformed vapid: ${(err as Error).message}` };
  }
}

/** A user agent's keys for `id`, random or derived from `seed` (the scalar reduced into [1, n−1]). */
function keysFor(id: string, seed?: string): { ecdh: ReturnType<typeof createECDH>; auth: Buffer } {
  const ecdh = createECDH('prime256v1');
  if (seed === undefined) {
    ecdh.generateKeys();
    return { ecdh, auth: randomBytes(16) };
  }
  const d = createHmac('sha256', seed).update(`p256dh\0${id}`).digest();
  const scalar = (BigInt(`0x${d.toString('hex')}`) % (P256_ORDER - 1n)) + 1n;
  ecdh.setPrivateKey(Buffer.from(scalar.toString(16).padStart(64, '0'), 'hex'));
  return { ecdh, auth: createHmac('sha256', seed).update(`auth\0${id}`).digest().subarray(0, 16) };
}

/** The subscription JSON of `id` on a service at `baseUrl` with `keySeed` (what `subscriptionFor` returns). */
export function seededSubscription(baseUrl: string, keySeed: string, id: string): PushSubscriptionJson {
  const { ecdh, auth } = keysFor(id, keySeed);
  return {
    endpoint: `${baseUrl.replace(/\/$/, '')}/push/${encodeURIComponent(id)}`,
    expirationTime: null,
    keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
  };
}

export async function startPushService(opts: PushServiceOptions = {}): Promise<PushService> {
  const subs = new Map<string, Sub>();
  const expired = new Set<string>();
  const failing = new Map<string, number>();
  let forced: { n: number; seconds: number; id?: string } = { n: 0, seconds: 1 };
  let messages: PushMessage[] = [];
  let throttled = 0;
  let answers: Record<number, number> = {};
  let windowStart = 0;
  let inWindow = 0;
  let url = '';
  const verified = new Map<string, { ok: true; key: string; sub: string; exp: number }>();

  const register = (id: string, applicationServerKey?: string): Sub => {
    const { ecdh, auth } = keysFor(id, opts.keySeed);
    const sub = { id, ecdh, auth, applicationServerKey: applicationServerKey ?? opts.applicationServerKey };
    subs.set(id, sub);
    return sub;
  };
  const json = (sub: Sub): PushSubscriptionJson => ({
    endpoint: `${url}/push/${encodeURIComponent(sub.id)}`,
    expirationTime: null,
    keys: { p256dh: sub.ecdh.getPublicKey().toString('base64url'), auth: sub.auth.toString('base64url') },
  });

  const reply = (res: ServerResponse, status: number, body = '', headers: Record<string, string> = {}) => {
    answers[status] = (answers[status] ?? 0) + 1;
    res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const m = /^\/push\/([^/?]+)$/.exec((req.url ?? '').split('?')[0]);
    if (!m || req.method !== 'POST') return reply(res, 404, 'not found');
    const id = decodeURIComponent(m[1]);
    // A seeded service knows every id it could have issued; otherwise only registered ones.
    const sub = subs.get(id) ?? (opts.keySeed !== undefined ? register(id) : undefined);
    if (!sub) return reply(res, 404, 'no such subscription');
    if (expired.has(id)) return reply(res, 410, 'push subscription has unsubscribed or expired');
    const failStatus = failing.get(id);
    if (failStatus) return reply(res, failStatus, 'push service unavailable');
    // A token verified once is good until its exp (senders reuse one per origin for hours): verify each value once.
    const authorization = req.headers.authorization ?? '';
    let vapid: ReturnType<typeof verifyVapid> | undefined = verified.get(authorization);
    if (!vapid || vapid.exp * 1000 <= Date.now()) {
      vapid = verifyVapid(authorization, url);
      if (vapid.ok) {
        if (verified.size > 10_000) verified.clear();
        verified.set(authorization, vapid);
      }
    }
    if (!vapid.ok) return reply(res, 401, vapid.reason);
    if (sub.applicationServerKey && sub.applicationServerKey !== vapid.key) {
      return reply(res, 403, 'vapid key does not match the subscription');
    }
    const ttlHeader = req.headers.ttl;
    if (typeof ttlHeader !== 'string' || !/^\d+$/.test(ttlHeader)) return reply(res, 400, 'TTL header required');
    const urgency = (req.headers.urgency as string | undefined) ?? 'normal';
    if (!URGENCIES.has(urgency)) return reply(res, 400, `bad Urgency ${urgency}`);
    const topic = req.headers.topic as string | undefined;
    if (topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) return reply(res, 400, 'bad Topic');
    if (req.headers['content-encoding'] !== 'aes128gcm') return reply(res, 400, 'Content-Encoding must be aes128gcm');
    if (body.length > MAX_BODY) return reply(res, 413, 'payload too large');
    const now = Date.now();
    if (forced.n > 0 && (forced.id === undefined || forced.id === id)) {
      forced.n--;
      throttled++;
      return reply(res, 429, 'too many requests', { 'retry-after': String(forced.seconds) });
    }
    if (opts.perSecond) {
      if (now - windowStart >= 1000) {
        windowStart = now;
        inWindow = 0;
      }
      if (inWindow >= opts.perSecond) {
        throttled++;
        return reply(res, 429, 'too many requests', { 'retry-after': '1' });
      }
      inWindow++;
    }
    let text: string;
    try {
      text = ece
        .decrypt(body, { version: 'aes128gcm', privateKey: sub.ecdh, authSecret: sub.auth.toString('base64url') })
        .toString('utf8');
    } catch (err) {
      return reply(res, 400, `cannot decrypt: ${(err as Error).message}`);
    }
    if (topic) {
      for (const earlier of messages)
        if (earlier.subscriptionId === id && earlier.topic === topic) earlier.replaced = true;
    }
    messages.push({
      subscriptionId: id,
      text,
      ttl: Number(ttlHeader),
      urgency,
      topic,
      subject: vapid.sub,
      receivedAt: now,
      replaced: false,
    });
    reply(res, 201, '', { location: `/message/${messages.length}` });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    subscribe(o = {}) {
      return json(register(o.id ?? randomBytes(12).toString('base64url'), o.applicationServerKey));
    },
    subscriptionFor(id) {
      return json({ id, ...keysFor(id, opts.keySeed) });
    },
    expire: (id) => void expired.add(id),
    throttleNext(n, seconds, id) {
      forced = { n, seconds, id };
    },
    failAlways: (id, status) => void failing.set(id, status),
    messages: () => [...messages],
    inbox: (id) => messages.filter((x) => x.subscriptionId === id && !x.replaced),
    throttled: () => throttled,
    answers: () => ({ ...answers }),
    reset() {
      messages = [];
      throttled = 0;
      answers = {};
      expired.clear();
      failing.clear();
      forced = { n: 0, seconds: 1 };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
