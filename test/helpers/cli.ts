/**
 * Runs the real `bin/quakectl` as a child process, as a user would: `isolated` gives it an empty working directory,
 * its own state dir and no config file (commands that must fail before touching any service); otherwise it runs in
 * the project root. NO_COLOR keeps the output plain. Returns the exit code and both streams.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROJECT_ROOT = join(import.meta.dirname, '../..');
export const QUAKECTL_BIN = join(PROJECT_ROOT, 'bin/quakectl');

export function runQuakectl(args: string[], opts: { isolated?: string } = {}) {
  const dir = opts.isolated ? mkdtempSync(join(tmpdir(), `quakectl-${opts.isolated}-`)) : PROJECT_ROOT;
  const r = spawnSync(process.execPath, [QUAKECTL_BIN, ...args], {
    cwd: dir,
    encoding: 'utf8',
    ...(opts.isolated ? { input: '' } : {}),
    env: {
      ...process.env,
      NO_COLOR: '1',
      ...(opts.isolated ? { QUAKECTL_STATE_DIR: join(dir, 'state'), QUAKECTL_CONFIG: '' } : {}),
    },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
