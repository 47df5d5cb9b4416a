import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/quakectl');
const FIX = join(ROOT, 'test/fixtures/quake');

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const VRANCEA = ['--mag', '7.4', '--lat', '45.77', '--lon', '26.76', '--depth', '94'];

describe('quakectl predict', () => {
  it('-o json: one object per site in input order, with the issue’s fields', () => {
    const r = run('predict', ...VRANCEA, '--site', '44.43,26.10,Bucharest', '--site', '46.77,23.6', '-o', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout);
    expect(rows).toHaveLength(2);
    expect(Object.keys(rows[0])).toEqual([
      'name',
      'lat',
      'lon',
      'distanceKm',
      'hypocentralKm',
      'mmi',
      'level',
      'pArrivalS',
      'sArrivalS',
    ]);
    expect(rows[0]).toMatchObject({ name: 'Bucharest', lat: 44.43, lon: 26.1, level: 'take-action' });
    expect(rows[0].distanceKm).toBeCloseTo(157.7, 0);
    expect(rows[0].hypocentralKm).toBeCloseTo(183.6, 0);
    expect(rows[0].sArrivalS).toBeCloseTo(183.6 / 3.5, 0);
    expect(rows[0].pArrivalS).toBeCloseTo(183.6 / 6.5, 0);
    expect(rows[1]).toMatchObject({ name: 'site 2', level: 'none' }); // Cluj, back-arc
    expect(rows[0].mmi).toBeGreaterThan(rows[1].mmi + 2);
  });

  it('table: sites, model and the footprint for MMI 3 and 5 underneath', () => {
    const r = run('predict', ...VRANCEA, '--site', '44.43,26.10,Bucharest');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Bucharest');
    expect(r.stdout).toContain('take-action');
    expect(r.stdout).toContain('model: vacareanu15-vrancea');
    expect(r.stdout).toMatch(/footprint: MMI ≥ 3 within \d+ km, MMI ≥ 5 within \d+ km/);
  });

  it('--sites FILE.csv with a name,lat,lon header (any column order, quotes)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-predict-'));
    const csv = join(dir, 'sites.csv');
    writeFileSync(csv, 'lat,lon,name\n44.43,26.10,"Bucharest, RO"\n47.01,28.86,Chisinau\n');
    const r = run('predict', ...VRANCEA, '--sites', csv, '--site', '45.66,25.61,Brasov', '-o', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).map((x: { name: string }) => x.name)).toEqual(['Brasov', 'Bucharest, RO', 'Chisinau']);
  });

  it('negative coordinates as flag values', () => {
    const r = run(
      'predict',
      '--mag',
      '6',
      '--lat',
      '-33.4',
      '--lon',
      '-70.6',
      '--depth',
      '30',
      '--site',
      '-33.45,-70.66',
      '-o',
      'json',
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)[0].level).toBe('take-action');
  });

  it.each([
    [['--mag', '11', '--lat', '1', '--lon', '2', '--depth', '3', '--site', '1,2'], /invalid --mag "11"/],
    [['--mag', '6', '--lat', 'north', '--lon', '2', '--depth', '3', '--site', '1,2'], /invalid --lat "north"/],
    [['--mag', '6', '--lat', '1', '--lon', '2', '--depth', '900', '--site', '1,2'], /invalid --depth "900"/],
    [['--mag', '6', '--lat', '1', '--lon', '2', '--depth', '3'], /no sites/],
    [['--mag', '6', '--lat', '1', '--lon', '2', '--depth', '3', '--site', '95,2'], /invalid --site latitude "95"/],
    [['--mag', '6', '--lat', '1', '--lon', '2', '--depth', '3', '--site', 'x'], /invalid --site "x"/],
    [['--lat', '1', '--lon', '2', '--depth', '3', '--site', '1,2'], /--mag is required/],
    [['--mag', '6', '--lat', '1', '--lon', '2', '--depth', '3', '--site', '1,2', '-o', 'xml'], /invalid --output/],
  ])('invalid flags exit 2 with a clear message: %j', (args, message) => {
    const r = run('predict', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('an unreadable --sites file exits 1; a CSV without lat exits 1 naming the column', () => {
    const missing = run('predict', ...VRANCEA, '--sites', '/nonexistent/sites.csv');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read --sites /nonexistent/sites.csv');
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-predict-'));
    writeFileSync(join(dir, 'bad.csv'), 'name,latitude_x,lon\nA,1,2\n');
    const bad = run('predict', ...VRANCEA, '--sites', join(dir, 'bad.csv'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('header has no "lat" column');
  });
});

describe('quakectl replay', () => {
  it('--dry-run -o json on EMSC versions: the issue’s shape', () => {
    const r = run('replay', join(FIX, 'emsc-websocket-versions.jsonl'), '--dry-run', '-o', 'json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['accepted', 'rejected', 'retracted', 'superseded', 'associated', 'withdrawn']);
    expect(out).toMatchObject({ rejected: [], superseded: 3, associated: 0 });
    expect(out.accepted).toHaveLength(1);
    expect(out.accepted[0]).toMatchObject({ id: '20250305_0000090', magnitude: 1.6, depthKm: 8 });
  });

  it('--dry-run on the USGS cut and on FDSN text with rejects', () => {
    const usgs = JSON.parse(
      run('replay', join(FIX, 'usgs-all_week-2023-04-07-cut.geojson'), '--dry-run', '-o', 'json').stdout,
    );
    expect(usgs.accepted).toHaveLength(283);
    const fdsn = run('replay', join(FIX, 'fdsn-usgs-13col.txt'), '--dry-run');
    expect(fdsn.code).toBe(0);
    expect(fdsn.stdout).toContain('fdsn-text: 4 events, 2 rejected, 0 superseded, 0 associated');
    expect(fdsn.stdout).toContain('rejected #5: us6000k2yy: lat (Latitude): "95.0" is out of range -90..90');
  });

  it('without --dry-run it sends through the producer: with no local stack, a clear error and exit 1', () => {
    // An empty state dir: this unit test must never reach a stack that happens to run on the machine.
    const state = mkdtempSync(join(tmpdir(), 'quakectl-nostack-'));
    const r = spawnSync(process.execPath, [BIN, 'replay', join(FIX, 'emsc-websocket-versions.jsonl')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', QUAKECTL_STATE_DIR: state },
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the local stack is not running');
    expect(r.stderr).toContain('quakectl local up');
  });

  it('unreadable file and unknown format exit 1; an invalid --format exits 2', () => {
    expect(run('replay', '/nonexistent/feed.json', '--dry-run').code).toBe(1);
    const unknown = run('replay', join(ROOT, 'package.json'), '--dry-run');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('is not a USGS GeoJSON feed');
    const badFormat = run('replay', join(FIX, 'fdsn-empty-204.txt'), '--dry-run', '--format', 'xml');
    expect(badFormat.code).toBe(2);
  });

  it('an empty FDSN body is an empty replay', () => {
    const r = run('replay', join(FIX, 'fdsn-empty-204.txt'), '--dry-run', '-o', 'json');
    expect(JSON.parse(r.stdout)).toEqual({
      accepted: [],
      rejected: [],
      retracted: [],
      superseded: 0,
      associated: 0,
      withdrawn: 0,
    });
  });
});
