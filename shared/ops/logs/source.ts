/**
 * One way to read function logs for both profiles: the emulator's files locally, CloudWatch Logs on AWS.
 * `follow` polls (CloudWatch has no push for FilterLogEvents; the local file is polled by offset).
 */
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { filterLogs } from './cloudwatch.ts';
import { peakConcurrency } from './concurrency.ts';
import { localLogPath, readLocalLog } from './local.ts';
import type { LogLine } from './types.ts';

export type LogSource = { kind: 'local'; stateDir: string } | { kind: 'cloudwatch'; logs: CloudWatchLogsClient };

export async function readLogs(source: LogSource, fn: string, sinceMs: number): Promise<LogLine[]> {
  if (source.kind === 'local') return readLocalLog(localLogPath(source.stateDir, fn), 0, sinceMs).lines;
  return filterLogs(source.logs, fn, sinceMs);
}

export interface FollowOptions {
  sinceMs: number;
  pollMs?: number;
  signal?: AbortSignal;
  onLine: (l: LogLine) => void;
}

export async function followLogs(source: LogSource, fn: string, opts: FollowOptions): Promise<void> {
  const pollMs = opts.pollMs ?? (source.kind === 'local' ? 250 : 2000);
  const sleep = () =>
    new Promise<void>((r) => {
      const t = setTimeout(r, pollMs);
      opts.signal?.addEventListener('abort', () => {
        clearTimeout(t);
        r();
      });
    });
  if (source.kind === 'local') {
    const path = localLogPath(source.stateDir, fn);
    let offset = 0;
    let first = true;
    while (!opts.signal?.aborted) {
      const chunk = readLocalLog(path, offset, first ? opts.sinceMs : undefined);
      first = false;
      offset = chunk.offset;
      for (const l of chunk.lines) opts.onLine(l);
      await sleep();
    }
    return;
  }
  let start = opts.sinceMs;
  const seen = new Set<string>();
  while (!opts.signal?.aborted) {
    const lines = await filterLogs(source.logs, fn, start);
    for (const l of lines) {
      if (l.eventId && seen.has(l.eventId)) continue;
      if (l.eventId) seen.add(l.eventId);
      opts.onLine(l);
      start = Math.max(start, l.timestamp);
    }
    await sleep();
  }
}

/** Peak concurrent executions of `fn` over the last `windowMs`, from its START/REPORT lines. */
export async function concurrentExecutions(source: LogSource, fn: string, windowMs = 60_000, now = Date.now()) {
  // Invocations that started before the window and are still running count too: look back further for STARTs.
  const lookback = now - windowMs - 15 * 60_000;
  const lines =
    source.kind === 'local'
      ? readLocalLog(localLogPath(source.stateDir, fn), 0, lookback).lines
      : await filterLogs(source.logs, fn, lookback, { filterPattern: '?"START RequestId" ?"REPORT RequestId"' });
  return peakConcurrency(lines, now - windowMs, now);
}
