/**
 * The local profile's VAPID keys (shared/notify/push-keys.ts): created once in the state dir, private to its owner,
 * the same on every later deploy (subscriptions made for the public key stay valid), and put by deploy into the
 * segment worker's environment only — the one function that sends pushes.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { desiredState } from '../../shared/deploy/desired.ts';
import { LOCAL_ROLE_ARN } from '../../shared/deploy/settings.ts';
import type { FunctionSpec } from '../../shared/deploy/types.ts';
import { DEFAULT_FANOUT, type LocalProfile } from '../../shared/infra/config.ts';
import { resourceNames } from '../../shared/infra/names.ts';
import { localVapidKeys, vapidEnv } from '../../shared/notify/push-keys.ts';
import { channelSendersFromEnv } from '../../shared/notify/senders.ts';

describe('local VAPID keys', () => {
  it('are created once (mode 0600) and read back unchanged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vapid-'));
    const a = localVapidKeys(dir);
    expect(statSync(join(dir, 'vapid.json')).mode & 0o777).toBe(0o600);
    expect(Buffer.from(a.publicKey, 'base64url')).toHaveLength(65);
    expect(Buffer.from(a.privateKey, 'base64url')).toHaveLength(32);
    expect(localVapidKeys(dir)).toEqual(a);
  });

  it('deploy puts them in the segment worker’s environment only, and the worker builds a push sender from it', () => {
    const keys = localVapidKeys(mkdtempSync(join(tmpdir(), 'vapid-')));
    const profile: LocalProfile = {
      name: 'local',
      type: 'local',
      prefix: 'qt',
      fanout: DEFAULT_FANOUT,
      eventsPartitions: 6,
    };
    const state = desiredState({
      profile,
      names: resourceNames('qt'),
      brokers: ['127.0.0.1:19092'],
      roleArn: LOCAL_ROLE_ARN,
      bundles: Object.fromEntries(['producer', 'consumer', 'segment-worker'].map((r) => [r, { codeSha256: r }])),
      allowPrivateTargets: true,
      channelEnv: vapidEnv(keys),
    });
    const fns = state.resources.filter((r): r is FunctionSpec => r.kind === 'function');
    const withKey = fns.filter((f) => f.env.QUAKECTL_VAPID_PRIVATE_KEY).map((f) => f.role);
    expect(withKey).toEqual(['segment-worker']);
    const worker = fns.find((f) => f.role === 'segment-worker')!;
    expect(channelSendersFromEnv(worker.env).push?.type).toBe('push');
    expect(channelSendersFromEnv({}).push).toBeUndefined();
  });
});
