import { describe, expect, it } from 'vitest';
import { batchIdempotencyKey, encodeBatch, sign, verifySignature } from '../../shared/notify/index.ts';

describe('webhook signature', () => {
  it('is the hex HMAC-SHA256 of the raw body (vector from `openssl dgst -sha256 -hmac s3cret`)', () => {
    expect(sign('{"notifications":[]}', 's3cret')).toBe(
      'sha256=203415d0ad2994565b54edbfc679f3db9b278fa40dd96cd99261cf289f718311',
    );
  });

  it('verifies the right secret and body only', () => {
    const body = JSON.stringify({ notifications: [{ id: 'e:s:be-aware' }] });
    const header = sign(body, 'k1');
    expect(verifySignature(body, header, 'k1')).toBe(true);
    expect(verifySignature(Buffer.from(body), header, 'k1')).toBe(true);
    expect(verifySignature(body, header, 'k2')).toBe(false);
    expect(verifySignature(`${body} `, header, 'k1')).toBe(false);
    expect(verifySignature(body, undefined, 'k1')).toBe(false);
    expect(verifySignature(body, 'sha256=00', 'k1')).toBe(false);
  });

  it('signs exactly the body it sends, with a stable per-batch idempotency key', () => {
    const ns = [{ id: 'e:a:be-aware' }, { id: 'e:b:be-aware' }] as never[];
    const a = encodeBatch(ns, 'sec');
    expect(verifySignature(a.body, a.headers['x-quake-signature'], 'sec')).toBe(true);
    expect(JSON.parse(a.body)).toEqual({ notifications: ns });
    expect(a.headers['idempotency-key']).toBe(encodeBatch(ns, 'sec').headers['idempotency-key']);
    expect(a.headers['idempotency-key']).not.toBe(batchIdempotencyKey(['e:a:be-aware']));
    expect(encodeBatch(ns, undefined).headers['x-quake-signature']).toBeUndefined();
  });
});
