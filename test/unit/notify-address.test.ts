import { describe, expect, it } from 'vitest';
import { isPrivateAddress, TargetGuard } from '../../shared/notify/index.ts';

describe('private address classification', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::10.0.0.1',
    '[::1]',
    'not-an-ip',
  ])('%s is refused', (ip) => expect(isPrivateAddress(ip)).toBe(true));

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
    '64:ff9b::8.8.8.8',
  ])('%s is public', (ip) => expect(isPrivateAddress(ip)).toBe(false));
});

describe('TargetGuard', () => {
  const lookup = async (host: string) => {
    const table: Record<string, string[]> = {
      'hooks.example.com': ['93.184.216.34', '2606:2800:220:1::1'],
      'mixed.example.com': ['93.184.216.34', '10.0.0.5'],
      localhost: ['127.0.0.1', '::1'],
    };
    if (!table[host]) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return table[host];
  };

  it('refuses names resolving to any private address, and private literals', async () => {
    const guard = new TargetGuard({ allowPrivate: false, lookup });
    expect(await guard.check('https://hooks.example.com/a')).toEqual({ ok: true });
    expect(await guard.check('https://mixed.example.com/a')).toEqual({
      ok: false,
      reason: 'target refused: private address',
    });
    expect(await guard.check('http://localhost:8080/x')).toEqual({
      ok: false,
      reason: 'target refused: private address',
    });
    expect(await guard.check('http://127.0.0.1:9/x')).toEqual({ ok: false, reason: 'target refused: private address' });
    expect(await guard.check('http://[::1]:9/x')).toEqual({ ok: false, reason: 'target refused: private address' });
    expect(await guard.check('http://169.254.169.254/latest/meta-data')).toMatchObject({ ok: false });
    expect(await guard.check('file:///etc/passwd')).toMatchObject({ ok: false });
    expect(await guard.check('https://nowhere.invalid/')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/unresolvable/),
    });
  });

  it('allows private targets when the profile does, but still only http(s)', async () => {
    const guard = new TargetGuard({ allowPrivate: true, lookup });
    expect(await guard.check('http://127.0.0.1:9/x')).toEqual({ ok: true });
    expect(await guard.check('gopher://127.0.0.1/')).toMatchObject({ ok: false });
  });

  it('resolves each host once while cached', async () => {
    let calls = 0;
    const counting = async (h: string) => {
      calls++;
      return lookup(h);
    };
    const guard = new TargetGuard({ allowPrivate: false, lookup: counting });
    await Promise.all(Array.from({ length: 50 }, () => guard.check('https://hooks.example.com/p')));
    expect(calls).toBe(1);
  });
});
