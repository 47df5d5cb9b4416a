/**
 * The functions' environment contract (shared/infra/function-env.ts): what deploy writes parses back to the settings
 * the profile holds, defaults come from the schemas, and a bad environment fails start-up naming every bad variable.
 */
import { describe, expect, it } from 'vitest';
import { desiredState, functionEnv } from '../../shared/deploy/desired.ts';
import { configFileSchema, DEFAULT_FANOUT, type Profile } from '../../shared/infra/config.ts';
import { ConfigError } from '../../shared/infra/errors.ts';
import { parseFunctionEnv, serviceConfigFromFunctionEnv } from '../../shared/infra/function-env.ts';
import { resourceNames } from '../../shared/infra/names.ts';

const SECRET = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:quakectl/kafka-AbCdEf';

function awsProfile(over: Record<string, unknown> = {}): Profile {
  const file = configFileSchema.parse({
    profiles: {
      prod: {
        type: 'aws',
        roleArn: 'arn:aws:iam::123456789012:role/quakectl-functions',
        kafka: {
          brokers: ['b1:9092'],
          ssl: true,
          sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p4ss', secretArn: SECRET },
        },
        fanout: { parallelism: 7 },
        ...over,
      },
    },
  });
  return { ...file.profiles.prod, name: 'prod' } as Profile;
}

const input = (profile: Profile) => ({
  profile,
  names: resourceNames(profile.prefix),
  brokers: ['b1:9092'],
  roleArn: 'arn:aws:iam::123456789012:role/r',
  bundles: {},
  allowPrivateTargets: false,
  settings: { logUrlPathsFor: ['alerts.example.org'] },
});

describe('function environment contract', () => {
  it('deploy writes the secret ARN, never the username or password, and it parses back', () => {
    const env = functionEnv(input(awsProfile()));
    expect(Object.values(env).join(' ')).not.toMatch(/p4ss/);
    expect(Object.keys(env)).not.toContain('QUAKECTL_KAFKA_PASSWORD');
    const fe = parseFunctionEnv(env);
    expect(fe).toMatchObject({
      QUAKECTL_KAFKA_BROKERS: ['b1:9092'],
      QUAKECTL_KAFKA_SSL: true,
      QUAKECTL_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      QUAKECTL_KAFKA_SECRET_ARN: SECRET,
      QUAKECTL_LOG_URL_PATHS_FOR: ['alerts.example.org'],
    });
    const cfg = serviceConfigFromFunctionEnv(fe, {}, { username: 'u', password: 'p4ss' });
    expect(cfg.fanout).toEqual({ ...DEFAULT_FANOUT, parallelism: 7 });
    expect(cfg.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'u', password: 'p4ss' });
  });

  it('init-phase priming is on unless the profile says deploy.prime: false', () => {
    expect(functionEnv(input(awsProfile())).QUAKECTL_PRIME).toBeUndefined();
    expect(parseFunctionEnv(functionEnv(input(awsProfile()))).QUAKECTL_PRIME).toBe(true);
    const off = functionEnv({ ...input(awsProfile()), settings: { prime: false } });
    expect(off.QUAKECTL_PRIME).toBe('false');
    expect(parseFunctionEnv(off).QUAKECTL_PRIME).toBe(false);
  });

  it('a SASL profile without a secret fails the deploy, not the first invocation', () => {
    const profile = awsProfile({ kafka: { brokers: ['b1:9092'], sasl: { mechanism: 'plain', username: 'u' } } });
    expect(() => functionEnv(input(profile))).toThrow(/secretArn is required/);
  });

  it('defaults live in the schemas: an empty fan-out and no worker settings give the config defaults', () => {
    const fe = parseFunctionEnv({ QUAKECTL_PREFIX: 'q', QUAKECTL_KAFKA_BROKERS: 'k:9092' });
    expect(fe).toMatchObject({
      QUAKECTL_KAFKA_SSL: false,
      QUAKECTL_LOCAL: false,
      QUAKECTL_LEASE_MS: 30_000,
      QUAKECTL_RESERVE_MS: 10_000,
      QUAKECTL_TEST_CRASH_AFTER_BATCHES: 0,
      QUAKECTL_PRIME: true,
    });
    expect(serviceConfigFromFunctionEnv(fe, {}).fanout).toEqual(DEFAULT_FANOUT);
  });

  it('names every bad variable in one ConfigError', () => {
    const bad = {
      QUAKECTL_PREFIX: 'q',
      QUAKECTL_KAFKA_BROKERS: ' , ',
      QUAKECTL_FANOUT: '{"parallelism":',
      QUAKECTL_LEASE_MS: 'soon',
      QUAKECTL_KAFKA_SASL_MECHANISM: 'plain',
    };
    const err = (() => {
      try {
        parseFunctionEnv(bad);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    for (const name of ['QUAKECTL_KAFKA_BROKERS', 'QUAKECTL_FANOUT', 'QUAKECTL_LEASE_MS']) {
      expect(err?.message).toContain(name);
    }
    // A misspelt fan-out key is refused (the config schema is strict), not silently ignored.
    expect(() =>
      parseFunctionEnv({ QUAKECTL_PREFIX: 'q', QUAKECTL_KAFKA_BROKERS: 'k', QUAKECTL_FANOUT: '{"paralellism":4}' }),
    ).toThrow(/QUAKECTL_FANOUT/);
  });

  it('every function of a desired state gets an environment the contract accepts', () => {
    const local = configFileSchema.parse({ profiles: { local: { type: 'local' } } }).profiles.local;
    const state = desiredState({
      ...input({ ...local, name: 'local' } as Profile),
      bundles: Object.fromEntries(['producer', 'consumer', 'segment-worker'].map((r) => [r, { codeSha256: 'x' }])),
    });
    const fns = state.resources.filter((r) => r.kind === 'function');
    expect(fns).toHaveLength(3);
    for (const fn of fns) expect(() => parseFunctionEnv(fn.env)).not.toThrow();
  });
});
