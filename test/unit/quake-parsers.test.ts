import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  detectFormat,
  emscKind,
  parseEmscMessage,
  parseFdsnText,
  parseFeed,
  parseUsgsFeature,
  QuakeSchema,
  toEpochMs,
  validateQuake,
} from '../../shared/quake/index.ts';

const FIX = join(import.meta.dirname, '../fixtures/quake');
const read = (f: string) => readFileSync(join(FIX, f), 'utf8');
const usgsCut = () => JSON.parse(read('usgs-all_week-2023-04-07-cut.geojson'));

describe('USGS GeoJSON summary feed (real cut of all_week 2023-04-07)', () => {
  it('accepts every one of the 283 real features and keeps the feed order', () => {
    const text = read('usgs-all_week-2023-04-07-cut.geojson');
    const r = parseFeed(text);
    expect(r.format).toBe('usgs-geojson');
    expect(r.rejected).toEqual([]);
    expect(r.accepted).toHaveLength(283);
    expect(r.accepted[0]).toEqual({
      id: 'ak0234gpdcgp',
      source: 'usgs',
      sourceIds: ['ak0234gpdcgp'],
      originTime: 1680888012380,
      lat: 64.7564,
      lon: -149.0596,
      depthKm: 17.7,
      magnitude: 0.7,
      magType: 'ml',
      place: '17 km N of Four Mile Road, Alaska',
      updatedAt: 1680888163412,
      status: 'automatic',
      kind: 'earthquake',
      drill: false,
    });
    for (const q of r.accepted) expect(QuakeSchema.safeParse(q).success).toBe(true);
  });

  it('keeps non-earthquakes with their kind', () => {
    const kinds = new Map<string, number>();
    for (const q of parseFeed(read('usgs-all_week-2023-04-07-cut.geojson')).accepted) {
      kinds.set(q.kind, (kinds.get(q.kind) ?? 0) + 1);
    }
    expect(Object.fromEntries(kinds)).toEqual({
      earthquake: 240,
      explosion: 20,
      'quarry blast': 16,
      'ice quake': 2,
      'other event': 5,
    });
  });

  it('mag 0 is a magnitude, float noise is rounded, negative depth (above sea level) is kept', () => {
    const doc = usgsCut();
    const qs = parseFeed(doc).accepted;
    const byId = new Map(qs.map((q) => [q.id, q]));
    const zero = doc.features.find((f: { properties: { mag: number } }) => f.properties.mag === 0);
    expect(byId.get(zero.id)?.magnitude).toBe(0);
    const noisy = doc.features.find((f: { properties: { mag: number } }) => f.properties.mag === 1.92999995);
    expect(byId.get(noisy.id)?.magnitude).toBe(1.93);
    const neg = qs.filter((q) => q.depthKm < 0);
    expect(neg.length).toBeGreaterThan(40);
    expect(Math.min(...neg.map((q) => q.depthKm))).toBeGreaterThanOrEqual(-10);
  });

  it('splits comma-wrapped ids into sourceIds, the feature id first', () => {
    const q = parseFeed(usgsCut()).accepted.find((x) => x.id === 'ak0234goc1xx');
    expect(q?.sourceIds).toEqual(['ak0234goc1xx', 'us6000k2pa']);
  });

  it('magType in any case becomes lower case', () => {
    const types = new Set(parseFeed(usgsCut()).accepted.map((q) => q.magType));
    for (const t of types) expect(t).toBe(t.toLowerCase());
    expect(types.has('mww')).toBe(true);
  });

  it('a single Feature is detected and parsed', () => {
    const f = usgsCut().features[0];
    expect(detectFormat(f)).toBe('usgs-feature');
    expect(detectFormat(JSON.stringify(f))).toBe('usgs-feature');
    expect(parseFeed(JSON.stringify(f)).accepted[0].id).toBe('ak0234gpdcgp');
  });

  it('older-feed quirks: upper-case status, integer tz, null tsunami, Md, 0..360 longitude', () => {
    const r = parseFeed(read('usgs-older-feed-quirks.geojson'));
    const hv = r.accepted.find((q) => q.id === 'hv73358452');
    expect(hv).toMatchObject({ status: 'reviewed', magType: 'md', magnitude: 1.93 });
    const fiji = r.accepted.find((q) => q.id === 'us6000k25r');
    expect(fiji).toMatchObject({ status: 'automatic', lon: -178.8696, depthKm: 555.349 });
    expect(r.accepted).toHaveLength(2);
  });

  it('each bad feature is rejected with the field and the value, and does not sink the rest', () => {
    const r = parseFeed(read('usgs-older-feed-quirks.geojson'));
    const reasons = Object.fromEntries(r.rejected.map((x) => [x.index, x.reason]));
    expect(reasons[2]).toBe('ci40437712: magnitude (properties.mag): null is not a finite number');
    expect(reasons[3]).toBe('ak0234gow89o: lat (geometry.coordinates[1]): 95.2 is out of range -90..90');
    expect(reasons[4]).toBe('ak0234goznn6: depthKm (geometry.coordinates[2]): -12.5 is out of range -10..800');
    expect(reasons[5]).toBe('ci40437704: originTime (properties.time): "not a time" is not a time (epoch ms)');
  });

  it('a feature without geometry or properties is rejected with a reason', () => {
    expect(parseUsgsFeature({ type: 'Feature', properties: {} })).toEqual({
      ok: false,
      reason: 'geometry.coordinates: missing, is not [lon, lat, depth]',
    });
    expect(parseUsgsFeature({ type: 'Feature', geometry: null })).toMatchObject({ ok: false });
    expect(parseUsgsFeature('x')).toMatchObject({ ok: false, reason: 'feature: "x" is not an object' });
  });
});

describe('EMSC websocket messages', () => {
  it('parses the real create message: positive depth from properties, unid as id, ISO times', () => {
    const r = parseFeed(read('emsc-websocket-create.jsonl'));
    expect(r.format).toBe('emsc-ws');
    expect(r.rejected).toEqual([]);
    expect(r.accepted).toEqual([
      {
        id: '20250305_0000090',
        source: 'emsc',
        sourceIds: ['20250305_0000090'],
        originTime: Date.UTC(2025, 2, 5, 9, 45, 7, 0),
        lat: 40.115,
        lon: 28.5381,
        depthKm: 7,
        magnitude: 1.4,
        magType: 'ml',
        place: 'WESTERN TURKEY',
        updatedAt: Date.UTC(2025, 2, 5, 10, 6, 56, 102),
        status: 'automatic',
        kind: 'earthquake',
        drill: false,
      },
    ]);
  });

  it('takes depth from the NEGATIVE geometry depth when properties.depth is missing', () => {
    const m = JSON.parse(read('emsc-websocket-create.jsonl'));
    delete m.data.properties.depth;
    const r = parseEmscMessage(m);
    expect(r.ok && r.quake.depthKm).toBe(7);
  });

  it('rejects unknown actions and non-Feature data, naming them; "delete" is a retraction, not an event', () => {
    const m = JSON.parse(read('emsc-websocket-create.jsonl'));
    expect(parseEmscMessage({ ...m, action: 'remove' })).toEqual({
      ok: false,
      reason: 'action: "remove" is not "create", "update" or "delete"',
    });
    expect(parseEmscMessage({ ...m, action: 'delete' })).toEqual({
      ok: false,
      reason: 'emsc action "delete": a retraction, not an event',
    });
    expect(parseEmscMessage({ action: 'create', data: 3 })).toEqual({ ok: false, reason: 'data: 3 is not a Feature' });
  });

  it('bare magtype "m" and evtype codes', () => {
    const r = parseFeed(read('emsc-websocket-pairs.jsonl'));
    const blast = r.accepted.find((q) => q.id === '20230407_0000090');
    expect(blast).toMatchObject({ magType: 'm', kind: 'quarry blast' });
    expect(emscKind('ke')).toBe('earthquake');
    expect(emscKind('se')).toBe('earthquake');
    expect(emscKind('kx')).toBe('explosion');
    // An unrecognised code is not an explicit non-earthquake: it must not suppress an alert.
    expect(emscKind('zz')).toBe('unknown');
  });

  it('a JSON Lines replay with versions parses every line', () => {
    const r = parseFeed(read('emsc-websocket-versions.jsonl'));
    expect(r.accepted.map((q) => q.updatedAt)).toEqual([
      Date.UTC(2025, 2, 5, 10, 6, 56, 102),
      Date.UTC(2025, 2, 5, 10, 12, 3, 500),
      Date.UTC(2025, 2, 5, 10, 6, 56, 102),
      Date.UTC(2025, 2, 5, 9, 59, 0, 0),
    ]);
  });

  it('a broken line in JSON Lines is one rejection, saying it is not JSON', () => {
    const lines = `${read('emsc-websocket-create.jsonl').trim()}\n{broken\n`;
    const r = parseFeed(lines);
    expect(r.accepted).toHaveLength(1);
    expect(r.rejected).toEqual([{ index: 1, reason: 'message: missing, or not valid JSON' }]);
  });
});

describe('FDSN event text', () => {
  it('13 columns: parses, normalizes longitude 181.13, rejects no-magnitude and latitude 95 by name', () => {
    const r = parseFeed(read('fdsn-usgs-13col.txt'));
    expect(r.format).toBe('fdsn-text');
    expect(r.accepted.map((q) => q.id)).toEqual(['us6000k2kk', 'us6000k2m4', 'us6000k25r', 'ak0234gpdcgp']);
    // source: the Catalog column (the publisher), not the format; kind: the 13-column format has no EventType.
    expect(r.accepted[0]).toMatchObject({
      source: 'us',
      originTime: 1680834161020,
      lat: 49.8608,
      lon: 155.2628,
      depthKm: 86.442,
      magnitude: 5.8,
      magType: 'mww',
      kind: 'not reported',
    });
    expect(r.accepted[3].source).toBe('ak'); // Catalog empty: the Contributor column
    expect(r.accepted[2].lon).toBeCloseTo(-178.8696, 6);
    expect(r.rejected).toEqual([
      { index: 4, reason: 'us6000k2xx: magnitude (Magnitude): "" is not a finite number' },
      { index: 5, reason: 'us6000k2yy: lat (Latitude): "95.0" is out of range -90..90' },
    ]);
  });

  it('14 columns with EventType, empty depth and empty columns', () => {
    const r = parseFdsnText(read('fdsn-emsc-14col.txt'));
    expect(r.accepted.map((q) => [q.id, q.kind, q.depthKm])).toEqual([
      ['20230407_0000034', 'earthquake', 80],
      ['20230407_0000071', 'earthquake', 7],
      ['20230407_0000090', 'quarry blast', 10],
    ]);
    expect(r.rejected).toHaveLength(1);
    expect(r.rejected[0].reason).toContain('magnitude (Magnitude)');
  });

  it('an empty body (HTTP 204) is no events and no error', () => {
    expect(parseFeed(read('fdsn-empty-204.txt'))).toEqual({ format: 'fdsn-text', accepted: [], rejected: [] });
    expect(parseFeed('  \n')).toEqual({ format: 'fdsn-text', accepted: [], rejected: [] });
  });

  it('a line with the wrong number of columns is rejected, the others kept', () => {
    const text = `${read('fdsn-usgs-13col.txt')}a|b|c\n`;
    const r = parseFdsnText(text);
    expect(r.accepted).toHaveLength(4);
    expect(r.rejected.at(-1)).toEqual({ index: 6, reason: 'line: "a|b|c" has 3 columns, expected 13 or 14' });
  });
});

describe('detection and validation', () => {
  it('detects each format and refuses what it cannot read', () => {
    expect(detectFormat(read('usgs-all_week-2023-04-07-cut.geojson'))).toBe('usgs-geojson');
    expect(detectFormat(read('emsc-websocket-create.jsonl'))).toBe('emsc-ws');
    expect(detectFormat(read('fdsn-emsc-14col.txt'))).toBe('fdsn-text');
    expect(detectFormat('')).toBe('fdsn-text');
    expect(detectFormat('hello')).toBeUndefined();
    expect(parseFeed('hello').rejected[0].reason).toMatch(/^format: text starting "hello" is not/);
    expect(parseFeed({ foo: 1 }).rejected[0].reason).toMatch(/^format: a JSON object is not/);
  });

  it('a forced format is honoured', () => {
    const r = parseFeed(read('emsc-websocket-create.jsonl'), { format: 'usgs-feature' });
    expect(r.accepted).toEqual([]);
    expect(r.rejected).toHaveLength(1);
  });

  it('drill marks every event', () => {
    expect(parseFeed(read('fdsn-usgs-13col.txt'), { drill: true }).accepted.every((q) => q.drill)).toBe(true);
  });

  it('validateQuake names the field and value', () => {
    const q = parseFeed(read('emsc-websocket-create.jsonl')).accepted[0];
    expect(validateQuake({ ...q, magnitude: 10.5 })).toEqual({
      ok: false,
      reason: 'magnitude: 10.5 is out of range -2..10',
    });
    expect(validateQuake({ ...q, status: 'deleted' })).toEqual({
      ok: false,
      reason: 'status: "deleted" is not automatic or reviewed',
    });
    expect(validateQuake({ ...q, lon: 200 })).toMatchObject({
      ok: false,
      reason: 'lon: 200 is out of range -180..180',
    });
  });

  it('ISO times with variable fractional digits and optional zone', () => {
    expect(toEpochMs('2025-03-05T09:45:07.0Z')).toBe(Date.UTC(2025, 2, 5, 9, 45, 7));
    expect(toEpochMs('2025-03-05T10:06:56.102425Z')).toBe(Date.UTC(2025, 2, 5, 10, 6, 56, 102));
    expect(toEpochMs('2023-04-07T02:22:41.02')).toBe(Date.UTC(2023, 3, 7, 2, 22, 41, 20));
    expect(toEpochMs('2023-04-07T04:22:41+02:00')).toBe(Date.UTC(2023, 3, 7, 2, 22, 41));
    expect(toEpochMs('2023-02-31T00:00:00Z')).toBeNaN();
    expect(toEpochMs(1680834161020)).toBe(1680834161020);
  });
});
