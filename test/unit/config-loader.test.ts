/** The one config loader (shared/infra/config.ts): profile resolution order, validation, state and cache dirs. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readDeploySettings } from '../../shared/deploy/settings.ts';
import { cacheDir, configFileCandidates, loadProfile, stateDir } from '../../shared/infra/config.ts';
import { ConfigError } from '../../shared/infra/errors.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'quakectl-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const yaml = `
defaultProfile: staging
profiles:
  staging:
    type: aws
    region: eu-west-1
    kafka:
      brokers: [pkc-1.example:9092]
      ssl: true
      sasl: { mechanism: plain, username: u, password: p }
  dev:
    type: local
    stateDir: .dev-stack
    prefix: dev
`;

describe('loadProfile', () => {
  it('falls back to the built-in local profile with no file', () => {
    const p = loadProfile({ cwd: dir, env: { XDG_CONFIG_HOME: join(dir, 'xdg') } });
    expect(p).toMatchObject({ name: 'local', type: 'local', prefix: 'quakectl' });
    expect(p.fanout.parallelism).toBeGreaterThan(0);
  });

  it('fan-out: minSubscriberMmi and scanSegments default for the consumer; lease and reserve only when set', () => {
    const p = loadProfile({ cwd: dir, env: { XDG_CONFIG_HOME: join(dir, 'xdg') } });
    expect(p.fanout).toMatchObject({ minSubscriberMmi: 3, scanSegments: 32 });
    expect(p.fanout).not.toHaveProperty('leaseMs');
    expect(p.fanout).not.toHaveProperty('reserveMs');
    writeFileSync(
      join(dir, 'quakectl.config.yaml'),
      'profiles:\n  local:\n    type: local\n    fanout: { minSubscriberMmi: 4, scanSegments: 8, leaseMs: 20000 }\n',
    );
    expect(loadProfile({ cwd: dir, env: {} }).fanout).toMatchObject({
      minSubscriberMmi: 4,
      scanSegments: 8,
      leaseMs: 20000,
    });
  });

  it('reads ./quakectl.config.yaml: default profile, then QUAKECTL_PROFILE, then the flag', () => {
    writeFileSync(join(dir, 'quakectl.config.yaml'), yaml);
    const env = { XDG_CONFIG_HOME: join(dir, 'xdg') };
    expect(loadProfile({ cwd: dir, env })).toMatchObject({ name: 'staging', type: 'aws', region: 'eu-west-1' });
    expect(loadProfile({ cwd: dir, env: { ...env, QUAKECTL_PROFILE: 'dev' } }).name).toBe('dev');
    expect(loadProfile({ cwd: dir, env: { ...env, QUAKECTL_PROFILE: 'dev' }, profile: 'local' }).name).toBe('local');
  });

  it('uses ~/.config/quakectl/config.yaml when the project has none', () => {
    mkdirSync(join(dir, 'xdg', 'quakectl'), { recursive: true });
    writeFileSync(join(dir, 'xdg', 'quakectl', 'config.yaml'), yaml);
    const env = { XDG_CONFIG_HOME: join(dir, 'xdg') };
    expect(configFileCandidates({ cwd: dir, env })).toEqual([
      join(dir, 'quakectl.config.yaml'),
      join(dir, 'xdg', 'quakectl', 'config.yaml'),
    ]);
    expect(loadProfile({ cwd: dir, env }).name).toBe('staging');
  });

  it('says which profiles exist when asked for an unknown one, and rejects invalid files', () => {
    writeFileSync(join(dir, 'quakectl.config.yaml'), yaml);
    const env = { XDG_CONFIG_HOME: join(dir, 'xdg') };
    expect(() => loadProfile({ cwd: dir, env, profile: 'prod' })).toThrow(
      /unknown profile "prod".*local, staging, dev/,
    );
    writeFileSync(join(dir, 'bad.yaml'), 'profiles:\n  x:\n    type: aws\n');
    expect(() => loadProfile({ cwd: dir, env, configFile: 'bad.yaml', profile: 'x' })).toThrow(ConfigError);
    expect(() => loadProfile({ cwd: dir, env, configFile: 'missing.yaml' })).toThrow(/not found/);
  });

  it('rejects a misspelt key instead of ignoring it, and keeps the deploy: block for deploy to validate', () => {
    const env = { XDG_CONFIG_HOME: join(dir, 'xdg') };
    writeFileSync(join(dir, 'typo.yaml'), 'profiles:\n  local:\n    type: local\n    fanout: { paralellism: 8 }\n');
    expect(() => loadProfile({ cwd: dir, env, configFile: 'typo.yaml' })).toThrow(
      /profiles\.local\.fanout: Unrecognized key: "paralellism"/,
    );
    writeFileSync(join(dir, 'extra.yaml'), 'profiles:\n  local:\n    type: local\n    bogusField: 1\n');
    expect(() => loadProfile({ cwd: dir, env, configFile: 'extra.yaml' })).toThrow(/Unrecognized key: "bogusField"/);
    writeFileSync(
      join(dir, 'deploy.yaml'),
      'profiles:\n  local:\n    type: local\n    deploy: { consumerBatchSize: 50 }\n    autoscaler: { enabled: false }\n',
    );
    expect(loadProfile({ cwd: dir, env, configFile: 'deploy.yaml' }).type).toBe('local');
  });

  it('deploy settings are strict too: a misspelt key in deploy:, its functions or its ingest is an error naming it', () => {
    const env = { XDG_CONFIG_HOME: join(dir, 'xdg'), QUAKECTL_CONFIG: join(dir, 'deploy-typo.yaml') };
    const cases: [string, RegExp][] = [
      ['{ prim: false }', /deploy: Unrecognized key: "prim"/],
      ['{ functions: { consumer: { provisionedConcurency: 1 } } }', /deploy\.functions\.consumer: Unrecognized key/],
      ['{ ingest: { usgsFeedURL: "https://x.example/f" } }', /deploy\.ingest: Unrecognized key: "usgsFeedURL"/],
      ['{ prime: "yes" }', /deploy\.prime: /],
    ];
    for (const [block, error] of cases) {
      writeFileSync(env.QUAKECTL_CONFIG, `profiles:\n  local:\n    type: local\n    deploy: ${block}\n`);
      expect(() => readDeploySettings('local', { cwd: dir, env }), block).toThrow(error);
    }
    writeFileSync(env.QUAKECTL_CONFIG, 'profiles:\n  local:\n    type: local\n    deploy: { prime: false }\n');
    expect(readDeploySettings('local', { cwd: dir, env })).toMatchObject({ prime: false });
  });
});

describe('stateDir and cacheDir', () => {
  it('prefers QUAKECTL_STATE_DIR, then the local profile, then ./.quakectl', () => {
    expect(stateDir(undefined, {}, dir)).toBe(join(dir, '.quakectl'));
    const dev = { ...loadProfile({ cwd: dir, env: {} }), stateDir: 'custom' } as const;
    expect(stateDir(dev, {}, dir)).toBe(join(dir, 'custom'));
    expect(stateDir(dev, { QUAKECTL_STATE_DIR: '/x/y' }, dir)).toBe('/x/y');
  });

  it('caches under QUAKECTL_CACHE, else XDG_CACHE_HOME or ~/.cache', () => {
    expect(cacheDir({ QUAKECTL_CACHE: '/c' })).toBe('/c');
    expect(cacheDir({ XDG_CACHE_HOME: '/xdg' })).toBe(join('/xdg', 'quakectl'));
  });
});
