/**
 * Local function logs: the emulator appends one JSON object per line to `<emulator state>/lambda/logs/<function>.log`
 * (format and path in local/lambda/logging.ts `logFilePath`); `quakectl local up` gives the emulator
 * `<stack state>/lambda` as its state dir (local/stack/stack.ts). Reading is by byte offset so `--follow` only reads what was
 * appended since the last poll.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LogLine } from './types.ts';

/** `emulatorStateDir` is the state dir the emulator was started with (the stack's own under `local up`). */
export function localLogPath(emulatorStateDir: string, functionName: string): string {
  return join(emulatorStateDir, 'lambda', 'logs', `${functionName}.log`);
}

/** The emulator's state dir as `quakectl local up` starts it: the stack's, so its files live in `<stack>/lambda/`. */
export function emulatorStateDir(stackStateDir: string): string {
  return stackStateDir;
}

export interface LocalChunk {
  lines: LogLine[];
  /** Offset to continue from (only whole lines are consumed). */
  offset: number;
}

/** Reads whole lines appended after `offset`. A missing file reads as empty. */
export function readLocalLog(path: string, offset = 0, sinceMs?: number): LocalChunk {
  if (!existsSync(path)) return { lines: [], offset };
  const size = statSync(path).size;
  if (size < offset) offset = 0; // truncated or replaced: start over
  if (size === offset) return { lines: [], offset };
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(size - offset);
  try {
    readSync(fd, buf, 0, buf.length, offset);
  } finally {
    closeSync(fd);
  }
  const text = buf.toString('utf8');
  const end = text.lastIndexOf('\n');
  if (end < 0) return { lines: [], offset };
  const lines: LogLine[] = [];
  let pos = offset;
  for (const raw of text.slice(0, end).split('\n')) {
    const at = pos;
    pos += Buffer.byteLength(raw) + 1;
    if (!raw.trim()) continue;
    try {
      const l = JSON.parse(raw) as LogLine;
      if (typeof l?.message !== 'string' || typeof l.timestamp !== 'number') continue;
      if (sinceMs !== undefined && l.timestamp < sinceMs) continue;
      lines.push({ ...l, eventId: String(at) });
    } catch {
      // a torn line from a crashed writer: skip it
    }
  }
  return { lines, offset: offset + Buffer.byteLength(text.slice(0, end + 1)) };
}
