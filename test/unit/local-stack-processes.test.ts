/**
 * `runToCompletion` keeps its caller alive until the child exits: a module whose only pending work is that child
 * (as `local up` is when Kafka alone is restarted and its storage must be formatted) must finish with the child's
 * result, not with Node's exit 13 "unsettled top-level await" (what an unref'd detached child gave).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const PROCESSES = join(import.meta.dirname, '../../local/stack/processes.ts');

describe('runToCompletion', () => {
  it('a top-level await on a short child ends with the child’s exit code and output', () => {
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-run-'));
    const log = join(dir, 'child.log');
    const script = join(dir, 'main.mjs');
    writeFileSync(
      script,
      [
        `import { runToCompletion } from ${JSON.stringify(PROCESSES)};`,
        `const code = await runToCompletion(process.execPath, ['-e', 'setTimeout(() => { console.log("formatted"); process.exit(3); }, 300)'], { log: ${JSON.stringify(log)} });`,
        "console.log('child exited', code);",
      ].join('\n'),
    );
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).not.toMatch(/unsettled top-level await/);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('child exited 3');
    expect(readFileSync(log, 'utf8')).toBe('formatted\n');
  });
});
