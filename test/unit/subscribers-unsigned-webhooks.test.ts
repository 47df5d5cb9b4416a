/**
 * Webhook channels without a secret are refused at import unless the profile sets `allowUnsignedWebhooks: true`;
 * `whsec_` secrets must be what the Standard Webhooks spec calls a secret (base64 of 24–64 bytes).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { privateTargetRefusal, subscriberSchema, unsignedWebhookRefusal } from '../../shared/segments/index.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('unsignedWebhookRefusal', () => {
  it('refuses a webhook without a secret unless allowed; other channels and signed webhooks pass', () => {
    const hook = { type: 'webhook' as const, target: 'https://example.org/h' };
    expect(unsignedWebhookRefusal(hook, undefined)).toMatch(/needs a secret.*allowUnsignedWebhooks: true/);
    expect(unsignedWebhookRefusal(hook, false)).toMatch(/needs a secret/);
    expect(unsignedWebhookRefusal(hook, true)).toBeUndefined();
    expect(unsignedWebhookRefusal({ ...hook, secret: 's' }, false)).toBeUndefined();
    expect(unsignedWebhookRefusal({ type: 'log', target: 'x' }, false)).toBeUndefined();
  });

  it('the schema checks whsec_ secrets', () => {
    const base = { id: 'a', lat: 45, lon: 26, channel: { type: 'webhook', target: 'https://example.org/h' } };
    const withSecret = (secret: string) =>
      subscriberSchema.safeParse({ ...base, channel: { ...base.channel, secret } });
    expect(withSecret(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).success).toBe(true);
    expect(withSecret('plain-old-secret').success).toBe(true);
    const short = withSecret(`whsec_${Buffer.alloc(8, 7).toString('base64')}`);
    expect(short.success).toBe(false);
    expect(short.error?.issues[0]).toMatchObject({ path: ['channel', 'secret'] });
  });
});

describe('`subscribers import --dry-run`', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quakectl-unsigned-'));
  const file = join(dir, 'subs.csv');
  writeFileSync(
    file,
    [
      'id,lat,lon,minMmi,channel,target,secret',
      's1,45,26,3,webhook,https://example.org/a,',
      's2,45,26,3,webhook,https://example.org/b,k2',
      's3,45,26,3,log,x,',
    ].join('\n'),
  );
  const run = (config: string) =>
    spawnSync(
      process.execPath,
      [join(ROOT, 'bin', 'quakectl'), 'subscribers', 'import', file, '--dry-run', '-o', 'json'],
      {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', QUAKECTL_CONFIG: config, QUAKECTL_PROFILE: 'p' },
      },
    );

  it('refuses the unsigned webhook row by default and exits 1', () => {
    const config = join(dir, 'default.yaml');
    writeFileSync(config, 'profiles:\n  p:\n    type: local\n');
    const r = run(config);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      rows: 3,
      valid: 2,
      rejected: [{ line: 2, id: 's1', reason: expect.stringMatching(/needs a secret/) }],
    });
  });

  it('accepts it when the profile allows unsigned webhooks', () => {
    const config = join(dir, 'allow.yaml');
    writeFileSync(config, 'profiles:\n  p:\n    type: local\n    allowUnsignedWebhooks: true\n');
    const r = run(config);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ rows: 3, valid: 3, rejected: [] });
  });
});

describe('privateTargetRefusal', () => {
  const hook = (target: string) => ({ type: 'webhook' as const, target, secret: 's' });
  it('refuses private IP literals when the profile does not allow private targets, names resolved at delivery', () => {
    expect(privateTargetRefusal(hook('http://127.0.0.1:9/h'), false)).toMatch(/loopback.*allowPrivateTargets: false/);
    expect(privateTargetRefusal(hook('http://10.1.2.3/h'), false)).toMatch(/private/);
    expect(privateTargetRefusal(hook('http://[::ffff:7f00:1]/h'), false)).toMatch(/allowPrivateTargets/);
    expect(privateTargetRefusal(hook('http://169.254.169.254/latest'), false)).toBeDefined();
    expect(privateTargetRefusal(hook('https://93.184.215.14/h'), false)).toBeUndefined();
    expect(privateTargetRefusal(hook('https://localhost/h'), false)).toMatch(/localhost/);
    expect(privateTargetRefusal(hook('https://example.org/h'), false)).toBeUndefined();
    expect(privateTargetRefusal(hook('http://127.0.0.1:9/h'), true)).toBeUndefined();
    expect(privateTargetRefusal(hook('http://127.0.0.1:9/h'), undefined)).toBeUndefined();
  });

  it('judges a push subscription by its endpoint', () => {
    const push = {
      type: 'push' as const,
      target: JSON.stringify({
        endpoint: 'http://192.168.1.20/push/abc',
        keys: { p256dh: Buffer.alloc(65, 4).toString('base64url'), auth: Buffer.alloc(16, 1).toString('base64url') },
      }),
    };
    expect(privateTargetRefusal(push, false)).toMatch(/must be https/);
    const https = { ...push, target: push.target.replace('http://192.168.1.20', 'https://192.168.1.20') };
    expect(privateTargetRefusal(https, false)).toMatch(/private/);
    const publicHttp = { ...push, target: push.target.replace('http://192.168.1.20', 'http://push.example.net') };
    expect(privateTargetRefusal(publicHttp, false)).toMatch(/must be https/);
    // Allowing private targets allows http only for a local push service, never for a public one.
    expect(privateTargetRefusal(publicHttp, true)).toMatch(/must be https/);
    expect(privateTargetRefusal(push, true)).toBeUndefined();
  });
});
