/**
 * Where a system's CAP feed goes (shared/notify/cap-config.ts): from the profile (local directory served by the
 * stack, S3 bucket on AWS), through the environment deploy gives the consumer and back, and the refusals.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { roleEnv } from '../../shared/deploy/desired.ts';
import { loadProfile, type Profile } from '../../shared/infra/config.ts';
import { ConfigError } from '../../shared/infra/errors.ts';
import { parseFunctionEnv } from '../../shared/infra/function-env.ts';
import { resourceNames } from '../../shared/infra/names.ts';
import type { StackState } from '../../shared/infra/stack-state.ts';
import { capFunctionEnv, capSettingsFromEnv, capSettingsOfProfile } from '../../shared/notify/cap-config.ts';

function profileFrom(yaml: string, name: string): Profile {
  const dir = mkdtempSync(join(tmpdir(), 'quakectl-capcfg-'));
  const file = join(dir, 'quakectl.config.yaml');
  writeFileSync(file, yaml);
  return loadProfile({ profile: name, configFile: file, cwd: dir, env: {} });
}

const stack = {
  kafka: { port: 1, brokers: [] },
  sqs: { port: 2, endpoint: 'http://127.0.0.1:2' },
  dynamodb: { port: 3, endpoint: 'http://127.0.0.1:3' },
  cap: { port: 19090, endpoint: 'http://127.0.0.1:19090', dir: '/state/cap' },
} as StackState;
const base = { type: 'local', name: 'local', fanout: {}, eventsPartitions: 6 } as unknown as Profile;

describe('CAP feed settings', () => {
  // The profile's stateDir is what is under test: QUAKECTL_STATE_DIR (set by .ci/run) would override it.
  beforeEach(() => {
    vi.stubEnv('QUAKECTL_STATE_DIR', undefined);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  it('local: the stack serves the default system at /cap and any other prefix at /cap/<prefix>', () => {
    expect(capSettingsOfProfile({ ...base, prefix: 'quakectl' }, stack)).toEqual({
      target: { kind: 'dir', dir: '/state/cap' },
      sender: 'quakectl.local',
      baseUrl: 'http://127.0.0.1:19090/cap',
    });
    expect(capSettingsOfProfile({ ...base, prefix: 'tcap1' }, stack)).toMatchObject({
      target: { kind: 'dir', dir: '/state/cap/tcap1' },
      baseUrl: 'http://127.0.0.1:19090/cap/tcap1',
    });
    expect(capSettingsOfProfile({ ...base, prefix: 'quakectl', stateDir: '/s' } as Profile)?.baseUrl).toBe(
      'file:///s/cap',
    );
    expect(capSettingsOfProfile({ ...base, prefix: 'quakectl', cap: { prefix: '', enabled: false } }, stack)).toBe(
      undefined,
    );
  });

  it('aws: a bucket needs a sender; the default URL is the bucket’s virtual-hosted one', () => {
    const yaml = (cap: string) =>
      `profiles:\n  prod:\n    type: aws\n    region: eu-central-1\n    kafka: { brokers: ["b:9092"] }\n${cap}`;
    expect(capSettingsOfProfile(profileFrom(yaml(''), 'prod'))).toBeUndefined();
    expect(() => capSettingsOfProfile(profileFrom(yaml('    cap: { bucket: feed-bucket }\n'), 'prod'))).toThrow(
      ConfigError,
    );
    const prod = profileFrom(
      yaml('    cap: { bucket: feed-bucket, prefix: cap/, sender: alerts.example.org }\n'),
      'prod',
    );
    const settings = capSettingsOfProfile(prod)!;
    expect(settings).toEqual({
      target: { kind: 's3', bucket: 'feed-bucket', prefix: 'cap/' },
      sender: 'alerts.example.org',
      baseUrl: 'https://feed-bucket.s3.eu-central-1.amazonaws.com/cap',
    });
    // What deploy gives the consumer parses back to the same settings, and only the consumer gets it.
    const env = { QUAKECTL_PREFIX: 'quakectl', QUAKECTL_KAFKA_BROKERS: 'b:9092', ...capFunctionEnv(settings) };
    expect(capSettingsFromEnv(parseFunctionEnv(env), 'eu-central-1')).toEqual(settings);
    const input = {
      profile: prod,
      names: resourceNames(),
      brokers: ['b:9092'],
      roleArn: 'arn:aws:iam::1:role/r',
      bundles: {},
      allowPrivateTargets: false,
      capEnv: capFunctionEnv(settings),
    };
    expect(roleEnv('consumer', input)).toMatchObject({
      QUAKECTL_CAP_BUCKET: 'feed-bucket',
      QUAKECTL_CAP_PREFIX: 'cap/',
    });
    expect(Object.keys(roleEnv('segment-worker', input)).filter((k) => k.startsWith('QUAKECTL_CAP'))).toEqual([]);
  });

  it('refuses a bad bucket, prefix or sender in the profile, and a directory and a bucket at once', () => {
    const yaml = (cap: string) =>
      `profiles:\n  prod:\n    type: aws\n    kafka: { brokers: ["b:9092"] }\n    cap: ${cap}\n`;
    expect(() => profileFrom(yaml('{ bucket: Bad_Bucket }'), 'prod')).toThrow(/cap\.bucket/);
    expect(() => profileFrom(yaml('{ bucket: ok-bucket, prefix: /abs/ }'), 'prod')).toThrow(/cap\.prefix/);
    expect(() => profileFrom(yaml('{ bucket: ok-bucket, sender: "a b" }'), 'prod')).toThrow(/cap\.sender/);
    expect(() => profileFrom(yaml('{ bucket: ok-bucket, bukcet: x }'), 'prod')).toThrow(/bukcet/);
    expect(() =>
      parseFunctionEnv({
        QUAKECTL_PREFIX: 'q',
        QUAKECTL_KAFKA_BROKERS: 'b:9092',
        QUAKECTL_CAP_DIR: '/d',
        QUAKECTL_CAP_BUCKET: 'feed-bucket',
      }),
    ).toThrow(/QUAKECTL_CAP_BUCKET/);
  });
});
