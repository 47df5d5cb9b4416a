import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPLAY_FORMATS } from '../../cli/commands/replay.ts';
import { FEED_FORMATS } from '../../shared/quake/index.ts';
import { runQuakectl } from '../helpers/cli.ts';

const ROOT = join(import.meta.dirname, '../..');
const FIX = join(ROOT, 'test/fixtures/quake');

const run = (...args: string[]) => runQuakectl(args);

describe('quakectl replay FILE|DIR...', () => {
  it('offers every format shared/quake reads as a --format choice', () => {
    expect([...REPLAY_FORMATS]).toEqual([...FEED_FORMATS]);
  });

  it('a directory of USGS snapshots and an EMSC capture: one replay in time order, deletions withdrawn', () => {
    const r = run('replay', join(FIX, 'mixed-capture'), '--dry-run', '-o', 'json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.accepted.map((q: { id: string }) => q.id)).toEqual(['hv74512345', '20261130_0000063']);
    expect(out.retracted.map((x: { id: string }) => x.id)).toEqual(['hv74512300', 'ak0267abcd', '20261130_0000061']);
    expect(out).toMatchObject({ rejected: [], superseded: 1, associated: 0, withdrawn: 3 });
  });

  it('several files of different formats, and QuakeML (which was "unknown format", exit 1)', () => {
    const r = run(
      'replay',
      join(FIX, 'quakeml-seiscomp.xml'),
      join(FIX, 'emsc-fdsn-events.json'),
      join(FIX, 'fdsn-origin-times.txt'),
      '--dry-run',
    );
    expect(r.code).toBe(0);
    // EMSC's 20261130_0000050 associates with a NIEP solution; NIEP's two ids (QuakeML infp2026xabc, FDSN text
    // ro2026wxyz) stay two events: one network publishing two ids means two events (the Associator's guard).
    expect(r.stdout).toMatch(/^mixed: 7 events, 2 rejected, 0 superseded, 1 associated, 2 retracted \(0 withdrawn\)$/m);
    expect(r.stdout).toContain(
      'fdsn-origin-times.txt #0: hist1802: originTime (Time): "1802-10-26T10:55:00" is before 1900',
    );
    expect(r.stdout).toContain('retracted infp2026xabd (niep)');
  });

  it('an empty directory or a missing path is an error (exit 1), before anything is sent', () => {
    expect(run('replay', mkdtempSync(join(tmpdir(), 'quakectl-replay-empty-')), '--dry-run').code).toBe(1);
    expect(run('replay', join(FIX, 'fdsn-usgs-13col.txt'), '/nonexistent/feed.json', '--dry-run').code).toBe(1);
  });
});
