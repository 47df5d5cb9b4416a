/**
 * `quakectl replay FILE` without --dry-run, outside the local profile: it sends real alerts, so it asks first, and with
 * stdin not a TTY it refuses (exit 1, hint --yes) before any client is built. The AWS profile's brokers and region
 * are unreachable on purpose: a refusal must not depend on them. Sending itself is tested on the local stack
 * (test/integration/drill-simulate.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/quakectl');
const FEED = join(ROOT, 'test/fixtures/quake/fdsn-usgs-13col.txt');

function run(...args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'quakectl-replay-'));
  const config = join(dir, 'quakectl.config.yaml');
  writeFileSync(
    config,
    'profiles:\n  prod:\n    type: aws\n    region: eu-central-1\n    kafka:\n      brokers: [b-1.example.invalid:9092]\n',
  );
  const r = spawnSync(process.execPath, [BIN, ...args, '--profile', 'prod'], {
    cwd: dir,
    encoding: 'utf8',
    input: '',
    env: { ...process.env, NO_COLOR: '1', QUAKECTL_CONFIG: config, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('quakectl replay (sending) outside the local profile', () => {
  it('refuses real events without --yes when stdin is not a TTY', () => {
    const r = run('replay', FEED);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/refusing to send 4 REAL \(non-drill.*profile "prod".*pass --yes/);
  });

  it('refuses drills too (a changing command asks outside local), naming them as drills', () => {
    const r = run('replay', FEED, '--drill');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to send 4 drill event\(s\)/);
  });

  it('--dry-run sends nothing and needs no confirmation', () => {
    const r = run('replay', FEED, '--dry-run', '-o', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).accepted).toHaveLength(4);
  });
});
