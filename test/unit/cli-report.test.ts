import { describe, expect, it } from 'vitest';
import { runQuakectl } from '../helpers/cli.ts';

const run = (...args: string[]) => runQuakectl(args, { isolated: 'report-cli' });

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
