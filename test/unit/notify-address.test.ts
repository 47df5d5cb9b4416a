/**
 * Private-address classification of every IPv4 and IPv6 form a webhook target can take. The IPv6 forms that carry an
 * IPv4 address (mapped, translated, compatible, NAT64, 6to4, Teredo) are refused exactly when that IPv4 is.
 * Connection-time checks against a real server are in test/faults/ssrf-rebinding.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { isPrivateAddress, privateAddressReason, TargetGuard } from '../../shared/notify/index.ts';

describe('private address classification', () => {
  it.each([
    // IPv4 special-purpose ranges (IANA registry)
    '127.0.0.1',
    '127.255.0.9',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '0.1.2.3',
    '192.0.0.8',
    '192.0.2.1',
    '198.18.0.1',
    '198.51.100.1',
    '203.0.113.1',
    '192.88.99.1',
    '224.0.0.1',
    '240.0.0.1',
    '255.255.255.255',
    // IPv6 special-purpose ranges
    '::1',
    '::',
    'fe80::1',
    'fe80::1%eth0',
    'fec0::1',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '100::1',
    '2001:db8::1',
    '3fff::1',
    '2001:2::1',
    '2001:10::1',
    '2001:20::1',
    '5f00::1',
    '4000::1', // outside global unicast 2000::/3
    // IPv4-mapped ::ffff:0:0/96
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::ffff:a9fe:a9fe',
    '::ffff:7f00:1',
    '0:0:0:0:0:ffff:7f00:1',
    // IPv4-translated ::ffff:0:0:0/96 (RFC 6145)
    '::ffff:0:7f00:1',
    '::ffff:0:a9fe:a9fe',
    '::ffff:0:10.0.0.1',
    // IPv4-compatible ::/96 (deprecated)
    '::7f00:1',
    '::127.0.0.1',
    '::a9fe:a9fe',
    // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052)
    '64:ff9b::10.0.0.1',
    '64:ff9b::7f00:1',
    '64:ff9b::a9fe:a9fe',
    // NAT64 local-use 64:ff9b:1::/48 (RFC 8215), refused whole
    '64:ff9b:1::a9fe:a9fe',
    '64:ff9b:1::808:808',
    '64:ff9b:1:ffff::1',
    // 6to4 2002::/16 (RFC 3056): the IPv4 is bits 16-47
    '2002:a9fe:a9fe::',
    '2002:7f00:1::1',
    '2002:a00:1::',
    '2002:c0a8:101::1',
    // Teredo 2001::/32 (RFC 4380): server bits 32-63, client bits 96-127 inverted
    '2001:0:7f00:1::ffff:ffff', // server 127.0.0.1
    '2001:0:808:808:0:0:80ff:fffe', // client 127.0.0.1 (inverted 0x7f000001)
    '2001:0:808:808::f5fd:fefe', // client 10.2.1.1 (inverted)
    // brackets and garbage
    '[::1]',
    '[::ffff:0:7f00:1]',
    'not-an-ip',
    '',
  ])('%s is refused', (ip) => {
    expect(isPrivateAddress(ip)).toBe(true);
    expect(privateAddressReason(ip)).toEqual(expect.any(String));
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '172.15.255.255',
    '100.128.0.1',
    '192.169.0.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001::200e',
    '::ffff:8.8.8.8',
    '::ffff:0:8.8.8.8',
    '64:ff9b::8.8.8.8',
    '2002:808:808::1', // 6to4 of 8.8.8.8
    '2001:0:808:808:0:0:f7f7:f7f7', // Teredo: server 8.8.8.8, client 8.8.8.8
  ])('%s is public', (ip) => expect(isPrivateAddress(ip)).toBe(false));

  it('names the range and the embedded address in its reason', () => {
    expect(privateAddressReason('2002:a9fe:a9fe::')).toBe('2002:a9fe:a9fe:: embeds 169.254.169.254 is linkLocal');
    expect(privateAddressReason('::ffff:0:7f00:1')).toBe('::ffff:0:7f00:1 embeds 127.0.0.1 is loopback');
    expect(privateAddressReason('64:ff9b:1::a9fe:a9fe')).toMatch(/local-use NAT64, RFC 8215/);
  });
});

describe('TargetGuard (before any connection)', () => {
  it('refuses private IP literals and non-http schemes, leaves names to the connection', async () => {
    const guard = new TargetGuard({ allowPrivate: false });
    expect(await guard.check('https://hooks.example.com/a')).toEqual({ ok: true });
    expect(await guard.check('http://127.0.0.1:9/x')).toEqual({
      ok: false,
      reason: 'target refused: 127.0.0.1 is loopback',
    });
    expect(await guard.check('http://[::1]:9/x')).toMatchObject({ ok: false });
    expect(await guard.check('http://[::ffff:0:7f00:1]:9/x')).toMatchObject({ ok: false });
    expect(await guard.check('http://[2002:a9fe:a9fe::]/latest/meta-data')).toMatchObject({ ok: false });
    // WHATWG URL parsing turns the shorthand and hex IPv4 forms into dotted quads before the check sees them.
    expect(await guard.check('http://127.1/x')).toMatchObject({ ok: false });
    expect(await guard.check('http://0x7f000001/x')).toMatchObject({ ok: false });
    expect(await guard.check('http://169.254.169.254/latest/meta-data')).toMatchObject({ ok: false });
    expect(await guard.check('file:///etc/passwd')).toMatchObject({ ok: false });
    expect(await guard.check('not a url')).toMatchObject({ ok: false, reason: 'target refused: not a URL' });
    await guard.close();
  });

  it('allows private targets when the profile does, but still only http(s)', async () => {
    const guard = new TargetGuard({ allowPrivate: true });
    expect(await guard.check('http://127.0.0.1:9/x')).toEqual({ ok: true });
    expect(await guard.check('gopher://127.0.0.1/')).toMatchObject({ ok: false });
    await guard.close();
  });
});
