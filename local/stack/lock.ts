/**
 * A lock on one state directory, so that concurrent `local up` / `down` calls (several terminals, test runs) do not
 * start the same services twice. `mkdir` is atomic; the owner's pid inside lets a later caller break a stale lock.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QuakectlError } from '../../shared/infra/errors.ts';
import { sleep } from './ports.ts';
import { isAlive } from './processes.ts';

export async function withStateLock<T>(stateDir: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const dir = join(stateDir, 'lock');
  const deadline = Date.now() + timeoutMs;
  mkdirSync(stateDir, { recursive: true });
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readOwner(dir);
      // No pid yet means the owner is between mkdir and write: give it a moment before calling it stale.
      const stale = owner === undefined ? ageMs(dir) > 5000 : owner !== process.pid && !isAlive(owner);
      if (stale) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() >= deadline) {
        throw new QuakectlError(`the local stack in ${stateDir} is locked by process ${owner ?? '?'}; try again`);
      }
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readOwner(dir: string): number | undefined {
  try {
    const n = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function ageMs(dir: string): number {
  try {
    return Date.now() - statSync(dir).mtimeMs;
  } catch {
    return 0;
  }
}
