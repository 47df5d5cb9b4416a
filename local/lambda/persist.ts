/**
 * Durable JSON files under the state dir: written to a temporary file, fsynced and renamed, so a crash leaves either
 * the old or the new content, never half a file. What the emulator persists is listed in docs/lambda-emulator.md.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

export function writeJsonDurable(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify(value));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function readJsonDir<T>(dir: string): T[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: T[] = [];
  for (const n of names.filter((f) => f.endsWith('.json')).sort()) {
    try {
      out.push(JSON.parse(readFileSync(join(dir, n), 'utf8')) as T);
    } catch (err) {
      console.error(`lambda emulator: skipping unreadable ${join(dir, n)}: ${(err as Error).message}`);
    }
  }
  return out;
}

export function removeFile(path: string): void {
  rmSync(path, { force: true });
}
