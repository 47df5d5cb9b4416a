/** An import file that names one subscriber id twice is refused for that id, naming every line, in both formats. */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { refuseDuplicateIds } from '../../shared/drill/duplicate-ids.ts';
import { parseSubscribersFile } from '../../shared/drill/subscribers-file.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('refuseDuplicateIds', () => {
  it('refuses every row of a repeated id, each naming the others; keeps the rest in order', () => {
    const csv = [
      'id,lat,lon,minMmi,channel,target',
      'a,45,26,3,log,x',
      'b,45,26,3,log,x',
      'a,46,27,4,log,y',
      'c,45,26,3,log,x',
      'a,47,28,5,log,z',
    ].join('\n');
    const { rows, duplicates } = refuseDuplicateIds(parseSubscribersFile(csv, 'csv').rows);
    expect(rows.map((r) => r.subscriber.id)).toEqual(['b', 'c']);
    expect(duplicates).toEqual([
      { line: 2, id: 'a', reason: 'duplicate id "a": also on lines 4, 6' },
      { line: 4, id: 'a', reason: 'duplicate id "a": also on lines 2, 6' },
      { line: 6, id: 'a', reason: 'duplicate id "a": also on lines 2, 4' },
    ]);
  });

  it('works on NDJSON rows too (line numbers of the file, blank lines counted)', () => {
    const nd = [
      '{"id":"x","lat":45,"lon":26,"channel":"log","target":"o"}',
      '',
      '{"id":"x","lat":45,"lon":26,"channel":"log","target":"p"}',
    ].join('\n');
    const { rows, duplicates } = refuseDuplicateIds(parseSubscribersFile(nd, 'ndjson').rows);
    expect(rows).toEqual([]);
    expect(duplicates.map((d) => [d.line, d.reason])).toEqual([
      [1, 'duplicate id "x": also on line 3'],
      [3, 'duplicate id "x": also on line 1'],
    ]);
  });

  it('a file without repeats passes untouched', () => {
    const rows = parseSubscribersFile('id,lat,lon,minMmi,channel,target\na,45,26,3,log,x\n', 'csv').rows;
    expect(refuseDuplicateIds(rows)).toEqual({ rows, duplicates: [] });
  });

  it('`subscribers import --dry-run` reports both lines and exits 1 (no stack needed)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-dups-'));
    const file = join(dir, 'subs.csv');
    writeFileSync(file, 'id,lat,lon,minMmi,channel,target\ns1,45,26,3,log,x\ns2,45,26,3,log,x\ns1,45.1,26,3,log,x\n');
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'bin', 'quakectl'), 'subscribers', 'import', file, '--dry-run', '-o', 'json'],
      {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      rows: 3,
      valid: 1,
      rejected: [
        { line: 2, id: 's1', reason: 'duplicate id "s1": also on line 4' },
        { line: 4, id: 's1', reason: 'duplicate id "s1": also on line 2' },
      ],
    });
  });
});
