/**
 * Bad input at the CLI's edge: a clear one-line message and the right exit code (0 ok, 1 failure, 2 usage error),
 * decided before any service is contacted. The spawned commands run against an empty state dir (no local stack), so a
 * usage error that were checked too late would show up as "the local stack is not running" (exit 1) instead.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describe as describeError } from '../../cli/main.ts';
import { ConfigError } from '../../shared/infra/errors.ts';
import { runQuakectl } from '../helpers/cli.ts';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/quakectl');

const run = (...args: string[]) => runQuakectl(args, { isolated: 'bad-input' });

describe('error messages', () => {
  it('quote a cause once, not twice', () => {
    const cause = new Error('ENOENT: no such file or directory');
    const err = new ConfigError(`cannot read config file x.yaml: ${cause.message}`, { cause });
    expect(describeError(err)).toBe('cannot read config file x.yaml: ENOENT: no such file or directory');
    expect(describeError(new ConfigError('cannot read x', { cause }))).toBe(
      'cannot read x (ENOENT: no such file or directory)',
    );
  });

  it('say what to check when a service endpoint does not answer', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:39324'), { code: 'ECONNREFUSED' });
    expect(describeError(err)).toMatch(/^connect ECONNREFUSED 127\.0\.0\.1:39324: a service is not answering.*status/);
  });
});

describe('usage errors before any service is contacted', () => {
  it('say to deploy first when a table, function or queue of the profile does not exist', () => {
    const err = Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' });
    expect(describeError(err)).toMatch(
      /^Requested resource not found: .*does not exist: deploy first \(`quakectl deploy`\)/,
    );
    const q = Object.assign(new Error('The specified queue does not exist.'), { name: 'QueueDoesNotExist' });
    expect(describeError(q)).toMatch(/deploy first/);
    expect(describeError(new Error('other'))).toBe('other');
  });

  it('kafka tail --timeout abc / 0 is a usage error (it used to mean "no timeout" and tail forever)', () => {
    for (const t of ['abc', '0']) {
      const r = run('kafka', 'tail', 'quakes.events', '--timeout', t);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--timeout must be a positive number of seconds/);
    }
  });

  it('local up --timeout / --lambda-time-scale abc are usage errors, checked before any port or process', () => {
    for (const [flag, message] of [
      ['--timeout', /invalid --timeout "abc": expected a positive number of seconds/],
      ['--lambda-time-scale', /invalid --lambda-time-scale "abc": expected a positive number/],
    ] as const) {
      const r = run('local', 'up', flag, 'abc');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('simulate: out-of-range coordinates and ports are usage errors, as in predict (not a send the producer rejects)', () => {
    for (const [args, message] of [
      [
        ['--mag', '7', '--lat', '95', '--lon', '26'],
        /'--lat <deg>' argument '95' is invalid\. expected a number from -90 to 90/,
      ],
      [['--mag', '7', '--lat', '45', '--lon', '26', '--depth', '-50'], /'--depth <km>'.*from -10 to 800/],
      [['--mag', 'abc', '--lat', '45', '--lon', '26'], /'--mag <m>' argument 'abc'.*from -2 to 10/],
      [['--mag', '7', '--lat', '45', '--lon', '26', '--sink-port', '99999'], /expected a port from 0 to 65535/],
    ] as const) {
      const r = run('simulate', ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('dlq list --max abc is a usage error (it read no message and printed "empty")', () => {
    const r = run('dlq', 'list', 'delivery', '--max', 'abc');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--max must be a non-negative integer/);
  });
});

describe('quakectl status against a stack whose services do not answer', () => {
  it('prints the report and exits 1, like local status', () => {
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-dead-stack-'));
    // Port 1: nothing listens there, every client is refused at once.
    const dead = { port: 1, endpoint: 'http://127.0.0.1:1', pid: 0, healthy: true, log: join(dir, 'x.log') };
    const stack = {
      kafka: { ...dead, controllerPort: 2, brokers: ['127.0.0.1:1'], version: '3.9.1' },
      sqs: dead,
      dynamodb: dead,
      lambda: dead,
      stateDir: dir,
      persist: false,
    };
    writeFileSync(join(dir, 'stack.json'), JSON.stringify(stack));
    const r = spawnSync(process.execPath, [BIN, 'status', '-o', 'json'], {
      cwd: dir,
      encoding: 'utf8',
      input: '',
      env: { ...process.env, NO_COLOR: '1', QUAKECTL_STATE_DIR: dir, QUAKECTL_CONFIG: '' },
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    const snapshot = JSON.parse(r.stdout) as { services: Array<{ service: string; healthy: boolean }> };
    expect(snapshot.services.every((s) => !s.healthy)).toBe(true);
    expect(r.stderr).toMatch(/not answering: kafka, sqs, dynamodb, lambda/);
  });

  it('--interval abc is a usage error even without a live dashboard', () => {
    const r = run('status', '--interval', 'abc');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--interval must be a number of seconds/);
  });
});

describe('quakectl replay of a file whose every input is rejected', () => {
  it('prints each reason and exits 1, with or without --dry-run, sending nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-replay-bad-'));
    const feed = join(dir, 'bad.fdsn');
    writeFileSync(
      feed,
      '#EventID|Time|Latitude|Longitude|Depth/km|Author|Catalog|Contributor|ContributorID|MagType|Magnitude|MagAuthor|EventLocationName\n' +
        'x1|2024-01-01T00:00:00|95|26|10|a|b|c|d|ml|4.5|e|f\n',
    );
    for (const extra of [['--dry-run'], []]) {
      const r = run('replay', feed, ...extra);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/rejected #0: x1: lat \(Latitude\): "95" is out of range -90\.\.90/);
      expect(r.stderr).toMatch(/no event of .*bad\.fdsn can be sent: all 1 input\(s\) rejected/);
    }
  });
});

describe('quakectl destroy on an AWS profile without roleArn', () => {
  it('does not ask for an execution role it never uses (it refused with "has no execution role")', () => {
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-destroy-'));
    const config = join(dir, 'quakectl.config.yaml');
    writeFileSync(
      config,
      'profiles:\n  prod:\n    type: aws\n    region: eu-central-1\n    kafka:\n      brokers: [127.0.0.1:1]\n',
    );
    const r = spawnSync(process.execPath, [BIN, 'destroy', '--profile', 'prod', '--dry-run'], {
      cwd: dir,
      encoding: 'utf8',
      input: '',
      env: {
        ...process.env,
        NO_COLOR: '1',
        QUAKECTL_CONFIG: config,
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'x',
        // Nothing listens on port 1: the dry run gets as far as reading what exists, and is refused there.
        AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
      },
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(/execution role/);
    expect(r.stderr).toMatch(/ECONNREFUSED 127\.0\.0\.1:1/);
  });
});

describe('quakectl subscribers import / seed write, so they have --dry-run and ask outside local', () => {
  it('import --dry-run validates the file, reports bad rows with lines, writes nothing (no stack needed)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-subs-'));
    const file = join(dir, 'subs.csv');
    writeFileSync(file, 'id,lat,lon,minMmi,channel,target\na,95,26,3,log,x\nb,45,26,3,log,x\n');
    const r = run('subscribers', 'import', file, '--dry-run', '-o', 'json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ dryRun: true, rows: 2, valid: 1, rejected: [{ line: 2, id: 'a' }] });
  });

  it('import refuses a minMmi below the profile planning threshold, naming both numbers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-subs-'));
    const file = join(dir, 'subs.csv');
    writeFileSync(file, 'id,lat,lon,minMmi,channel,target\na,45,26,2,log,x\nb,45,26,3,log,x\nc,45,26,2.9,log,x\n');
    const r = run('subscribers', 'import', file, '--dry-run', '-o', 'json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ rows: 3, valid: 1 });
    expect(report.rejected.map((x: { line: number }) => x.line)).toEqual([2, 4]);
    expect(report.rejected[0].reason).toMatch(
      /minMmi: 2 is below the profile's planning threshold fanout.minSubscriberMmi 3/,
    );
  });

  it('seed --dry-run says what it would seed, writing nothing', () => {
    const r = run('subscribers', 'seed', '--count', '10', '--center', '45,26', '--radius-km', '10', '--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/would seed 10 subscribers within 10 km of 45,26/);
  });

  it('outside local, without --yes and with stdin not a TTY, both refuse before writing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-subs-aws-'));
    const config = join(dir, 'quakectl.config.yaml');
    writeFileSync(
      config,
      'profiles:\n  prod:\n    type: aws\n    region: eu-central-1\n    kafka:\n      brokers: [127.0.0.1:1]\n',
    );
    const file = join(dir, 'subs.csv');
    writeFileSync(file, 'id,lat,lon,minMmi,channel,target\nb,45,26,3,log,x\n');
    const env = { ...process.env, NO_COLOR: '1', QUAKECTL_CONFIG: config, AWS_ACCESS_KEY_ID: 'x' };
    const spawn = (...args: string[]) =>
      spawnSync(process.execPath, [BIN, ...args, '--profile', 'prod'], {
        cwd: dir,
        encoding: 'utf8',
        input: '',
        env: { ...env, AWS_SECRET_ACCESS_KEY: 'x', AWS_ENDPOINT_URL: 'http://127.0.0.1:1' },
        timeout: 30_000,
      });
    const imp = spawn('subscribers', 'import', file);
    expect(imp.status).toBe(1);
    expect(imp.stderr).toMatch(/refusing to import the subscribers of .*subs\.csv into profile "prod".*pass --yes/);
    const seed = spawn('subscribers', 'seed', '--count', '10', '--center', '45,26', '--radius-km', '10');
    expect(seed.status).toBe(1);
    expect(seed.stderr).toMatch(/refusing to seed 10 synthetic subscribers into profile "prod".*pass --yes/);
  });
});
