/**
 * Integration tests run against the local stack. If one already answers in the state dir (QUAKECTL_STATE_DIR, else
 * ./.quakectl), it is used as it is; otherwise it is started here through the same code as `quakectl local up`, and
 * stopped at teardown, but only if this run started it and no other test run registered itself as a user since.
 * Tests find the stack through `inject('localStack')` or test/helpers/stack.ts.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { isAlive } from '../../local/stack/processes.ts';
import { down, type StackView, up } from '../../local/stack/stack.ts';
import { cacheDir, stateDir } from '../../shared/infra/config.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    localStack: StackView & { stateDir: string };
  }
}

function otherUsers(usersDir: string): number[] {
  let names: string[] = [];
  try {
    names = readdirSync(usersDir);
  } catch {
    return [];
  }
  return names.map(Number).filter((pid) => pid !== process.pid && isAlive(pid));
}

export default async function setup(project: TestProject) {
  const dir = stateDir();
  process.env.QUAKECTL_STATE_DIR = dir;
  const result = await up({
    stateDir: dir,
    cacheDir: cacheDir(),
    onProgress: (m) => process.stderr.write(`[local stack] ${m}\n`),
  });
  for (const w of result.warnings) process.stderr.write(`[local stack] warning: ${w}\n`);
  const startedHere = ['kafka', 'sqs', 'dynamodb'].every((s) => result.started.includes(s as 'kafka'));
  process.stderr.write(
    `[local stack] ${result.alreadyRunning ? 'using the running stack' : `started ${result.started.join(', ')} in ${(result.elapsedMs / 1000).toFixed(1)} s`} (${dir})\n`,
  );
  const usersDir = join(dir, 'users');
  mkdirSync(usersDir, { recursive: true });
  const me = join(usersDir, String(process.pid));
  writeFileSync(me, new Date().toISOString());
  project.provide('localStack', { ...result.view, stateDir: dir });

  return async () => {
    rmSync(me, { force: true });
    if (!startedHere || process.env.QUAKECTL_KEEP_STACK) return;
    if (otherUsers(usersDir).length > 0) {
      process.stderr.write('[local stack] left running: another test run is using it\n');
      return;
    }
    await down({ stateDir: dir });
  };
}
