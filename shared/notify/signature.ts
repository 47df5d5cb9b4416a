/**
 * Webhook signatures: `X-Quake-Signature: sha256=<hex HMAC-SHA256 of the raw body with the channel secret>`, the
 * scheme GitHub uses for `X-Hub-Signature-256`. Receivers must verify against the raw bytes, before parsing.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-quake-signature';
export const IDEMPOTENCY_HEADER = 'idempotency-key';

export function sign(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Constant-time check of a signature header against the body and a secret. */
export function verifySignature(body: string | Uint8Array, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const expected = Buffer.from(sign(body, secret));
  const got = Buffer.from(header.trim());
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/**
 * Idempotency key of a batch: a hash of its notification ids in order. A retry of the same batch sends the same
 * key; each notification also carries its own id, which is what receivers de-duplicate on.
 */
export function batchIdempotencyKey(ids: readonly string[]): string {
  const h = createHash('sha256');
  for (const id of ids) h.update(id).update('\n');
  return h.digest('hex').slice(0, 32);
}
