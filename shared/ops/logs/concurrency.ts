/**
 * Concurrent executions from log lines (pure): each invocation runs from its `START RequestId:` line to its
 * `REPORT RequestId:` line; one still running has no REPORT yet and counts until `now`. The peak of overlapping
 * invocations in a window is what CloudWatch's ConcurrentExecutions (Maximum) reports; the local stack has no
 * CloudWatch metrics, so the scaling rules read it from here.
 */
import type { LogLine } from './types.ts';

export function peakConcurrency(lines: LogLine[], windowStart: number, now: number): number {
  const starts = new Map<string, number>();
  const ends = new Map<string, number>();
  for (const l of lines) {
    const m = /^(START|REPORT) RequestId: (\S+)/.exec(l.message);
    if (!m) continue;
    if (m[1] === 'START') starts.set(m[2], l.timestamp);
    else ends.set(m[2], l.timestamp);
  }
  const points: Array<[number, number]> = [];
  for (const [id, s] of starts) {
    const e = ends.get(id) ?? now;
    if (e < windowStart) continue;
    points.push([Math.max(s, windowStart), 1], [e, -1]);
  }
  // Ends before starts at the same instant: back-to-back invocations on one environment are not concurrent.
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let peak = 0;
  for (const [, d] of points) {
    cur += d;
    peak = Math.max(peak, cur);
  }
  return peak;
}
