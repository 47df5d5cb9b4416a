/**
 * `report` and `console` at the CLI's edge: usage errors exit 2 with the flag named, before any service is contacted
 * (the commands run against an empty state dir with no local stack).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../bin/quakectl');

function run(...args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'quakectl-report-cli-'));
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: dir,
    encoding: 'utf8',
    input: '',
    env: { ...process.env, NO_COLOR: '1', QUAKECTL_STATE_DIR: join(dir, 'state'), QUAKECTL_CONFIG: '' },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('report and console usage', () => {
  it('report needs an event id and somewhere to write', () => {
    expect(run('report').code).toBe(2);
    const r = run('report', 'some-event');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--html FILE/);
  });

  it('numeric flags are checked', () => {
    const r = run('report', 'e', '--html', 'x.html', '--max-points', '0');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--max-points/);
    expect(run('console', '--port', '70000').code).toBe(2);
    expect(run('console', '--interval', '0.1').code).toBe(2);
  });

  it('drill offers --report', () => {
    const r = run('drill', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--report <file>/);
  });
});
