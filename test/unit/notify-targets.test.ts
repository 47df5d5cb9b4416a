/**
 * Channel targets (shared/notify/targets.ts): what import accepts for push, sms and email channels, and how each
 * target is shown in logs and DLQ messages (never in full).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { channelTargetProblem, parsePushSubscription, redactTarget } from '../../shared/notify/targets.ts';
import { subscriberSchema } from '../../shared/segments/types.ts';

function pushSubscription(): string {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-65);
  return JSON.stringify({
    endpoint: 'https://push.example.net/wpush/v2/gAAAAABkZ',
    expirationTime: null,
    keys: { p256dh: raw.toString('base64url'), auth: randomBytes(16).toString('base64url') },
  });
}

describe('channel targets', () => {
  it('accepts a browser PushSubscription and refuses broken ones with the reason, never the keys', () => {
    const ok = pushSubscription();
    expect(channelTargetProblem('push', ok)).toBeUndefined();
    expect(parsePushSubscription(ok).endpoint).toMatch(/^https:/);
    const sub = JSON.parse(ok);
    expect(channelTargetProblem('push', 'https://push.example.net/x')).toMatch(/PushSubscription as JSON/);
    expect(channelTargetProblem('push', JSON.stringify({ ...sub, endpoint: 'ftp://x' }))).toMatch(/endpoint/);
    const shortKey = JSON.stringify({ ...sub, keys: { ...sub.keys, p256dh: 'AAAA' } });
    expect(channelTargetProblem('push', shortKey)).toMatch(/p256dh must be 65 bytes/);
    const badAuth = JSON.stringify({ ...sub, keys: { ...sub.keys, auth: randomBytes(8).toString('base64url') } });
    const problem = channelTargetProblem('push', badAuth)!;
    expect(problem).toMatch(/auth must be 16 bytes/);
    expect(problem).not.toContain(sub.keys.p256dh);
  });

  it('accepts E.164 numbers that exist and refuses the rest without echoing the whole number', () => {
    expect(channelTargetProblem('sms', '+40721234567')).toBeUndefined();
    expect(channelTargetProblem('sms', '+14155550123')).toBeUndefined();
    expect(channelTargetProblem('sms', '0721234567')).toMatch(/E\.164/);
    expect(channelTargetProblem('sms', '+40 721 234 567')).toMatch(/E\.164/);
    const invalid = channelTargetProblem('sms', '+4000000000000')!;
    expect(invalid).toMatch(/not a valid phone number/);
    expect(invalid).not.toContain('+4000000000000');
  });

  it('accepts one email address', () => {
    expect(channelTargetProblem('email', 'ana.pop@example.ro')).toBeUndefined();
    expect(channelTargetProblem('email', 'not-an-address')).toMatch(/email/);
    expect(channelTargetProblem('email', 'a@b.ro, c@d.ro')).toMatch(/email/);
  });

  it('subscriber validation applies the target rules per channel type', () => {
    const base = { id: 's1', lat: 45.7, lon: 26.6 };
    expect(subscriberSchema.safeParse({ ...base, channel: { type: 'sms', target: '+40721234567' } }).success).toBe(
      true,
    );
    const bad = subscriberSchema.safeParse({ ...base, channel: { type: 'email', target: 'x' } });
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['channel.target']);
  });

  it('redacts every per-person target', () => {
    expect(redactTarget('sms', '+40721234567')).toBe('sms:+4072…67');
    expect(redactTarget('email', 'ana.pop@example.ro')).toBe('email:a…@example.ro');
    expect(redactTarget('telegram', '123456789')).toBe('telegram:…789');
    const push = redactTarget('push', pushSubscription());
    expect(push).toBe('push:https://push.example.net/…BkZ');
  });
});
