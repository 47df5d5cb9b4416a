/**
 * Webhook signatures.
 *
 * Standard Webhooks (https://www.standardwebhooks.com, spec/standard-webhooks.md, "Signature scheme"): every POST
 * carries `webhook-id` (stable across retries of the same message: receivers de-duplicate on it),
 * `webhook-timestamp` (integer Unix seconds of the attempt) and `webhook-signature` (`v1,` + base64 of
 * HMAC-SHA256(key, `${id}.${timestamp}.${body}`); several space-separated entries during a key rotation). Because
 * the id and the timestamp are signed, a receiver that refuses timestamps outside its tolerance (±5 minutes in the
 * spec and its reference libraries) and ids it has already processed cannot be fooled by a captured request.
 *
 * The key: a secret written `whsec_<base64>` is the spec's form, and its key is the base64-decoded bytes (the spec
 * asks for 24–64 random bytes; `secretProblem` enforces it). Any other secret is a plain secret of an existing
 * subscriber and its key is the secret's UTF-8 bytes — the same key `X-Quake-Signature` has always used, so nothing
 * has to be re-keyed; a receiver using a Standard Webhooks library passes it as `whsec_` + base64(UTF-8 bytes).
 *
 * Legacy: `X-Quake-Signature: sha256=<hex HMAC-SHA256 of the raw body>` (GitHub's `X-Hub-Signature-256` scheme)
 * is still sent for one minor version so receivers can migrate; it covers the body only and can be replayed.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-quake-signature';
export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const WEBHOOK_ID_HEADER = 'webhook-id';
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature';
/** The spec's prefix of a secret in its own form (base64 key after it). */
export const STANDARD_SECRET_PREFIX = 'whsec_';
/** Tolerance either side of the receiver's clock, in seconds (the spec's reference libraries use 5 minutes). */
export const TIMESTAMP_TOLERANCE_S = 5 * 60;

/** Legacy `X-Quake-Signature` value: `sha256=` + hex HMAC-SHA256 of the body keyed by the secret's UTF-8 bytes. */
export function sign(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Constant-time check of a legacy `X-Quake-Signature` header against the body and a secret. */
export function verifySignature(body: string | Uint8Array, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const expected = Buffer.from(sign(body, secret));
  const got = Buffer.from(header.trim());
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/**
 * Why a channel secret cannot key a Standard Webhooks signature, or undefined when it can. A `whsec_` secret must be
 * canonical base64 of 24–64 bytes (the spec's "Symmetric" secret); a plain secret is accepted as is (see above).
 */
export function secretProblem(secret: string): string | undefined {
  if (!secret.startsWith(STANDARD_SECRET_PREFIX)) return undefined;
  const b64 = secret.slice(STANDARD_SECRET_PREFIX.length);
  const key = Buffer.from(b64, 'base64');
  if (key.length === 0 || key.toString('base64') !== b64) return 'a whsec_ secret must be base64 after the prefix';
  if (key.length < 24 || key.length > 64) return `a whsec_ secret must hold 24 to 64 bytes (has ${key.length})`;
  return undefined;
}

/** HMAC key bytes of a secret: base64-decoded after `whsec_`, else the UTF-8 bytes. */
export function signingKey(secret: string): Buffer {
  return secret.startsWith(STANDARD_SECRET_PREFIX)
    ? Buffer.from(secret.slice(STANDARD_SECRET_PREFIX.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

/** One `v1,<base64>` signature entry for a message id, a timestamp (Unix seconds) and the raw body. */
export function signStandard(id: string, timestampS: number, body: string | Uint8Array, secret: string): string {
  const mac = createHmac('sha256', signingKey(secret)).update(`${id}.${timestampS}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/** The three Standard Webhooks headers of one attempt; `now` in epoch ms (the timestamp is whole seconds). */
export function standardHeaders(
  id: string,
  body: string | Uint8Array,
  secret: string,
  now: number = Date.now(),
): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    [WEBHOOK_ID_HEADER]: id,
    [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
    [WEBHOOK_SIGNATURE_HEADER]: signStandard(id, timestamp, body, secret),
  };
}

export type StandardVerdict =
  | { ok: true; id: string; timestamp: number }
  | {
      ok: false;
      reason: 'missing headers' | 'bad timestamp' | 'timestamp outside tolerance' | 'no matching signature';
    };

/**
 * Checks the Standard Webhooks headers of a request against its raw body: all three present, the timestamp an
 * integer within `toleranceS` of `now` (epoch ms), and one `v1` entry equal (constant time) to the expected one.
 * Replays of an id are the receiver's to refuse: it alone knows which ids it has processed.
 */
export function verifyStandard(
  body: string | Uint8Array,
  headers: Record<string, string | string[] | undefined>,
  secret: string,
  now: number = Date.now(),
  toleranceS: number = TIMESTAMP_TOLERANCE_S,
): StandardVerdict {
  const one = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const id = one(WEBHOOK_ID_HEADER);
  const ts = one(WEBHOOK_TIMESTAMP_HEADER);
  const sig = one(WEBHOOK_SIGNATURE_HEADER);
  if (!id || !ts || !sig) return { ok: false, reason: 'missing headers' };
  if (!/^\d{1,12}$/.test(ts)) return { ok: false, reason: 'bad timestamp' };
  const timestamp = Number(ts);
  if (Math.abs(Math.floor(now / 1000) - timestamp) > toleranceS) {
    return { ok: false, reason: 'timestamp outside tolerance' };
  }
  const expected = Buffer.from(signStandard(id, timestamp, body, secret));
  for (const entry of sig.split(' ')) {
    const got = Buffer.from(entry);
    if (got.length === expected.length && timingSafeEqual(got, expected)) return { ok: true, id, timestamp };
  }
  return { ok: false, reason: 'no matching signature' };
}

/**
 * Idempotency key of a batch: a hash of its notification ids in order. A retry of the same batch sends the same
 * key (and the same `webhook-id`); each notification also carries its own id, which is what receivers de-duplicate on.
 */
export function batchIdempotencyKey(ids: readonly string[]): string {
  const h = createHash('sha256');
  for (const id of ids) h.update(id).update('\n');
  return h.digest('hex').slice(0, 32);
}
