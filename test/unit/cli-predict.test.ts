import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runQuakectl } from '../helpers/cli.ts';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/quakectl');
const FIX = join(ROOT, 'test/fixtures/quake');

const run = (...args: string[]) => runQuakectl(args);

const VRANCEA = ['--mag', '7.4', '--lat', '45.77', '--lon', '26.76', '--depth', '94'];

describe('quakectl predict', () => {
  it('-o json: model, source, policy and footprint, then one object per site in input order', () => {
    const r = run('predict', ...VRANCEA, '--site', '44.43,26.10,Bucharest', '--site', '46.77,23.6', '-o', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['model', 'source', 'alertProbability', 'footprintKm', 'sites']);
    expect(out).toMatchObject({ model: 'vrancea-calibrated', source: { kind: 'point' }, alertProbability: 0.3 });
    expect(out.footprintKm.mmi5).toBeGreaterThan(300);
    expect(out.footprintKm.mmi3).toBeGreaterThan(out.footprintKm.mmi5);
    const rows = out.sites;
    expect(rows).toHaveLength(2);
    expect(Object.keys(rows[0])).toEqual([
      'name',
      'lat',
      'lon',
      'distanceKm',
      'hypocentralKm',
      'mmi',
      'sigma',
      'probabilityTakeAction',
      'level',
      'pArrivalS',
      'sArrivalS',
    ]);
    expect(rows[0]).toMatchObject({ name: 'Bucharest', lat: 44.43, lon: 26.1, level: 'take-action' });
    expect(rows[0].distanceKm).toBeCloseTo(157.7, 0);
    expect(rows[0].hypocentralKm).toBeCloseTo(183.6, 0);
    expect(rows[0].sArrivalS).toBeCloseTo(43.8, 0); // ak135 (TauP): P 24.9 s, S 43.8 s
    expect(rows[0].pArrivalS).toBeCloseTo(24.9, 0);
    expect(rows[0].probabilityTakeAction).toBeGreaterThan(0.9);
    expect(rows[1]).toMatchObject({ name: 'site 2', level: 'be-aware' }); // Cluj, back-arc
    expect(rows[1].probabilityTakeAction).toBeLessThan(0.3);
    expect(rows[0].mmi).toBeGreaterThan(rows[1].mmi + 2);
  });

  it('table: sites with σ and P(≥V), then model, policy and footprint underneath', () => {
    const r = run('predict', ...VRANCEA, '--site', '44.43,26.10,Bucharest');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Bucharest');
    expect(r.stdout).toContain('take-action');
    expect(r.stdout).toContain('P(≥V)');
    expect(r.stdout).toContain('model: vrancea-calibrated, point source');
    expect(r.stdout).toContain('alert policy: a level is given when P(MMI ≥ its threshold) ≥ 30%');
    expect(r.stdout).toMatch(/footprint: P\(MMI ≥ 3\) ≥ 30% within \d+ km, P\(MMI ≥ 5\) ≥ 30% within \d+ km/);
  });

  it('the issue’s M3.0 at depth 0 under the site: not MMI 10, not take-action', () => {
    const r = run(
      'predict',
      '--mag',
      '3.0',
      '--lat',
      '36.89',
      '--lon',
      '-121.6',
      '--depth',
      '0',
      '--site',
      '36.89,-121.6',
    );
    const out = JSON.parse(
      run(
        'predict',
        '--mag',
        '3.0',
        '--lat',
        '36.89',
        '--lon',
        '-121.6',
        '--depth',
        '0',
        '--site',
        '36.89,-121.6',
        '-o',
        'json',
      ).stdout,
    );
    expect(r.code).toBe(0);
    expect(out.sites[0].mmi).toBeLessThan(4);
    expect(out.sites[0].level).not.toBe('take-action');
  });

  it('--rupture FILE: the USGS finite-fault GeoJSON of Kahramanmaraş; --alert-probability changes the levels', () => {
    const args = ['--mag', '7.8', '--lat', '37.2199', '--lon', '37.0189', '--depth', '10'];
    const rupture = join(ROOT, 'test/fixtures/shakemap/us6000jllz-rupture.json');
    const withRupture = JSON.parse(
      run('predict', ...args, '--rupture', rupture, '--site', '36.2,36.16', '-o', 'json').stdout,
    );
    expect(withRupture).toMatchObject({ model: 'aww12-rupture', source: { kind: 'rupture' } });
    const line = JSON.parse(run('predict', ...args, '--site', '36.2,36.16', '-o', 'json').stdout);
    expect(line).toMatchObject({ model: 'aww12-line-source', source: { kind: 'line', lengthKm: 145 } });
    const median = JSON.parse(
      run('predict', ...args, '--alert-probability', '0.5', '--site', '36.2,36.16', '-o', 'json').stdout,
    );
    expect(median.alertProbability).toBe(0.5);
    expect(median.footprintKm.mmi5).toBeLessThan(line.footprintKm.mmi5);
  });

  it('--rupture: unreadable or not a rupture exits 1; --alert-probability outside (0, 1) exits 2', () => {
    const missing = run('predict', ...VRANCEA, '--site', '1,2', '--rupture', '/nonexistent/rupture.json');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read --rupture /nonexistent/rupture.json');
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-predict-'));
    writeFileSync(
      join(dir, 'point.json'),
      '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]}}]}',
    );
    const point = run('predict', ...VRANCEA, '--site', '1,2', '--rupture', join(dir, 'point.json'));
    expect(point.code).toBe(1);
    expect(point.stderr).toContain('no rupture polygon');
    const bad = run('predict', ...VRANCEA, '--site', '1,2', '--alert-probability', '1.5');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid --alert-probability "1.5"/);
  });

  it('--sites: an empty lat is an error naming the line, not latitude 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-predict-'));
    const csv = join(dir, 'sites.csv');
    writeFileSync(csv, 'name,lat,lon\nA,44.43,26.1\nB,,26.1\n');
    const r = run('predict', ...VRANCEA, '--sites', csv);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('line 3: lat "" is not a latitude');
    expect(r.stdout).toBe('');
  });

  it('--sites FILE.csv with a name,lat,lon header (any column order, quotes)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-predict-'));
    const csv = join(dir, 'sites.csv');
    writeFileSync(csv, 'lat,lon,name\n44.43,26.10,"Bucharest, RO"\n47.01,28.86,Chisinau\n');
    const r = run('predict', ...VRANCEA, '--sites', csv, '--site', '45.66,25.61,Brasov', '-o', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).sites.map((x: { name: string }) => x.name)).toEqual([
      'Brasov',
      'Bucharest, RO',
      'Chisinau',
    ]);
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
    expect(JSON.parse(r.stdout).sites[0].level).toBe('take-action');
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
