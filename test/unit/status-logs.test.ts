import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { peakConcurrency } from '../../shared/ops/logs/concurrency.ts';
import { readLocalLog } from '../../shared/ops/logs/local.ts';
import type { LogLine } from '../../shared/ops/logs/types.ts';
import { formatAgo, parseSince } from '../../shared/ops/time.ts';

const line = (timestamp: number, message: string): LogLine => ({ timestamp, logStreamName: 's', message });

describe('concurrent executions from START/REPORT lines', () => {
  it('counts overlapping invocations; back-to-back ones are not concurrent', () => {
    const lines = [
      line(0, 'START RequestId: a Version: $LATEST'),
      line(10, 'START RequestId: b Version: $LATEST'),
      line(20, 'START RequestId: c Version: $LATEST'),
      line(30, 'REPORT RequestId: a\tDuration: 30 ms'),
      line(30, 'START RequestId: d Version: $LATEST'),
      line(40, 'REPORT RequestId: b\tDuration: 30 ms'),
      line(50, 'REPORT RequestId: c\tDuration: 30 ms'),
      line(60, 'REPORT RequestId: d\tDuration: 30 ms'),
    ];
    expect(peakConcurrency(lines, 0, 100)).toBe(3);
    // Window after a, b, c ended: only d.
    expect(peakConcurrency(lines, 51, 100)).toBe(1);
    expect(peakConcurrency(lines, 61, 100)).toBe(0);
  });
  it('an invocation still running (no REPORT yet) counts until now', () => {
    expect(
      peakConcurrency([line(0, 'START RequestId: x Version: 1'), line(5, 'START RequestId: y Version: 1')], 50, 100),
    ).toBe(2);
  });
});

describe('local log files', () => {
  it('reads whole lines after an offset, skips torn lines, filters by time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ops-logs-'));
    const p = join(dir, 'f.log');
    writeFileSync(p, `${JSON.stringify(line(1, 'one'))}\n{torn\n${JSON.stringify(line(5, 'two'))}\n{"partial`);
    const a = readLocalLog(p);
    expect(a.lines.map((l) => l.message)).toEqual(['one', 'two']);
    appendFileSync(p, `":1}\n${JSON.stringify(line(9, 'three'))}\n`);
    const b = readLocalLog(p, a.offset);
    expect(b.lines.map((l) => l.message)).toEqual(['three']);
    expect(readLocalLog(p, 0, 5).lines.map((l) => l.message)).toEqual(['two', 'three']);
    expect(readLocalLog(join(dir, 'missing.log')).lines).toEqual([]);
  });
});

describe('time arguments', () => {
  it('reads durations ago, ISO dates and epoch ms', () => {
    const now = Date.parse('2026-11-26T12:00:00Z');
    expect(parseSince('15m', now)).toBe(now - 15 * 60_000);
    expect(parseSince('2h', now)).toBe(now - 7_200_000);
    expect(parseSince('2026-11-26T11:00:00Z', now)).toBe(now - 3_600_000);
    expect(parseSince('1764150000000', now)).toBe(1764150000000);
    expect(() => parseSince('yesterday-ish', now)).toThrow(/15m, 2h, 1d/);
    expect(formatAgo(now - 90_000, now)).toBe('90s ago');
  });
});
