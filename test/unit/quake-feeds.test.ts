/**
 * Issue 12: the feeds as the field publishes them. Each case is a hand-written input in its source's shape
 * (test/fixtures/quake/README.md names the source of each) and the value the issue says is right.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  associateAll,
  detectFormat,
  isAlertable,
  MAX_ORIGIN_LEAD_MS,
  NON_EARTHQUAKE_KINDS,
  parseFeed,
  parseQuakeml,
  type Quake,
  QuakeSchema,
  replayFeed,
  replayParsed,
  validateQuake,
} from '../../shared/quake/index.ts';

const FIX = join(import.meta.dirname, '../fixtures/quake');
const read = (f: string) => readFileSync(join(FIX, f), 'utf8');
/** The clock of every parse here: after every fixture's times, so that no origin is "in the future". */
const NOW = Date.UTC(2026, 10, 30, 9, 0, 0);
const at = (iso: string) => Date.parse(iso);

describe('QuakeML 1.2 (case 1)', () => {
  it('SeisComP export (BED default namespace, q: root): preferred origin and magnitude, depth in metres, version', () => {
    const r = parseFeed(read('quakeml-seiscomp.xml'), { now: NOW });
    expect(r.format).toBe('quakeml');
    expect(r.rejected).toEqual([]);
    expect(r.accepted[0]).toEqual({
      id: 'infp2026xabc',
      source: 'niep',
      sourceIds: ['infp2026xabc'],
      // The second origin (preferredOriginID), not the first automatic one (07:43:00.91, 120 km, MLv 4.3).
      originTime: at('2026-11-30T07:43:00.52Z'),
      lat: 45.68,
      lon: 26.55,
      depthKm: 128,
      magnitude: 4.1,
      magType: 'ml',
      place: 'Vrancea, Romania',
      // The newest creationTime of event (07:43:20), origin (07:51:40.118) and magnitude (07:51:41.002).
      updatedAt: at('2026-11-30T07:51:41.002Z'),
      status: 'reviewed',
      kind: 'earthquake',
      drill: false,
    });
  });

  it('several events per document: type "not existing" and a rejected origin are retractions, not rejections', () => {
    const r = parseFeed(read('quakeml-seiscomp.xml'), { now: NOW });
    expect(r.accepted.map((q) => q.id)).toEqual(['infp2026xabc', 'infp2026xabf']);
    expect(r.retracted).toEqual([
      {
        id: 'infp2026xabd',
        source: 'niep',
        updatedAt: at('2026-11-30T07:58:00Z'),
        reason: 'quakeml type "not existing"',
        drill: false,
      },
      {
        id: 'infp2026xabe',
        source: 'niep',
        updatedAt: at('2026-11-30T07:31:05Z'),
        reason: 'quakeml origin evaluationStatus "rejected"',
        drill: false,
      },
    ]);
  });

  it('a fresh automatic solution with no type and no depth: not reported (alertable), 10 km not measured', () => {
    const q = parseFeed(read('quakeml-seiscomp.xml'), { now: NOW }).accepted[1];
    expect(q).toMatchObject({ kind: 'not reported', depthKm: 10, depthKnown: false, status: 'automatic' });
    expect(isAlertable(q, 2)).toBe(true);
  });

  it('USGS export: ANSS catalog attributes give the id, agencyID the source, preferred ids after the elements', () => {
    const r = parseFeed(read('quakeml-usgs.xml'), { now: NOW });
    expect(r.rejected).toEqual([]);
    const byId = Object.fromEntries(r.accepted.map((q) => [q.id, q]));
    expect(Object.keys(byId).sort()).toEqual(['us7000r4kq', 'us7000r4kx']);
    expect(byId.us7000r4kx).toMatchObject({
      source: 'us',
      depthKm: 131.4,
      magnitude: 4.3,
      magType: 'mb',
      place: '48 km NNE of Focșani, Romania',
      status: 'automatic',
      updatedAt: at('2026-11-30T07:53:32.040Z'),
    });
    expect(byId.us7000r4kq).toMatchObject({ depthKm: 10, status: 'reviewed', magType: 'mww' });
    expect(byId.us7000r4kq.depthKnown).toBeUndefined(); // an operator-assigned depth is still a given depth
  });

  it('default-namespace root, no preferred ids, no agency, version only: first origin, server or fdsn, version', () => {
    const text = read('quakeml-obspy-default-ns.xml');
    const q = parseFeed(text, { now: NOW }).accepted[0];
    expect(q).toMatchObject({ id: 'ro2026wxyz', source: 'fdsn', depthKm: 128, magnitude: 4.1, magType: 'ml' });
    // creationInfo/version 3 orders versions of the id: origin time + 3 ms.
    expect(q.updatedAt).toBe(at('2026-11-30T07:43:00.503Z'));
    expect(parseFeed(text, { now: NOW, server: 'eida.infp.ro' }).accepted[0].source).toBe('eida.infp.ro');
  });

  it('a bed: prefix reads the same as the default namespace', () => {
    const prefixed = `<?xml version="1.0"?>
<q:quakeml xmlns:q="http://quakeml.org/xmlns/quakeml/1.2" xmlns:bed="http://quakeml.org/xmlns/bed/1.2">
 <bed:eventParameters publicID="smi:x/ep">
  <bed:event publicID="smi:x/event/gfz2026wabc">
   <bed:type>earthquake</bed:type>
   <bed:creationInfo><bed:agencyID>GFZ</bed:agencyID><bed:creationTime>2026-11-30T07:45:00Z</bed:creationTime></bed:creationInfo>
   <bed:origin publicID="smi:x/o/1"><bed:time><bed:value>2026-11-30T07:43:01Z</bed:value></bed:time>
    <bed:latitude><bed:value>45.7</bed:value></bed:latitude><bed:longitude><bed:value>26.6</bed:value></bed:longitude>
    <bed:depth><bed:value>125000</bed:value></bed:depth></bed:origin>
   <bed:magnitude publicID="smi:x/m/1"><bed:mag><bed:value>4.4</bed:value></bed:mag><bed:type>mb</bed:type></bed:magnitude>
  </bed:event>
 </bed:eventParameters>
</q:quakeml>`;
    const r = parseFeed(prefixed, { now: NOW });
    expect(r.format).toBe('quakeml');
    expect(r.accepted[0]).toMatchObject({ id: 'gfz2026wabc', source: 'gfz', depthKm: 125, magnitude: 4.4 });
  });

  it('bad documents are one rejection with a reason; XML that is not QuakeML is not a known format', () => {
    expect(parseQuakeml('<q:quakeml><eventParameters><event>').rejected[0].reason).toMatch(
      /^document: not well-formed XML \(line \d+, column \d+: /,
    );
    const laughs = '<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "aaaa">]><q:quakeml><eventParameters/></q:quakeml>';
    expect(parseFeed(laughs).rejected).toEqual([
      { index: 0, reason: 'document: has a DOCTYPE; QuakeML declares none (refused: entity expansion)' },
    ]);
    const station = parseFeed('<?xml version="1.0"?><FDSNStationXML schemaVersion="1.2"></FDSNStationXML>');
    expect(station.format).toBeUndefined();
    expect(station.rejected[0].reason).toMatch(/^format: an XML document with root <FDSNStationXML> is not/);
    expect(detectFormat('<q:quakeml xmlns:q="x"/>')).toBe('quakeml');
    // A BOM or blank lines before the XML declaration (as files and some servers have them) are not malformed.
    expect(parseQuakeml(`\uFEFF\n  ${read('quakeml-usgs.xml')}`).accepted).toHaveLength(2);
    const noOrigin = parseQuakeml(
      '<quakeml><eventParameters><event publicID="smi:a/b/e1"><type>earthquake</type></event></eventParameters></quakeml>',
    );
    expect(noOrigin.rejected).toEqual([{ index: 0, reason: 'e1: origin: missing, the event has none' }]);
  });
});

describe("EMSC's FDSN format=json (case 2)", () => {
  const r = parseFeed(read('emsc-fdsn-events.json'), { now: NOW });
  const byId = Object.fromEntries(r.accepted.map((q) => [q.id, q]));

  it('is told from USGS GeoJSON by its features; the USGS feed is still USGS', () => {
    expect(r.format).toBe('emsc-json');
    expect(detectFormat(read('usgs-all_week-2023-04-07-cut.geojson'))).toBe('usgs-geojson');
    expect(r.rejected).toEqual([]);
    expect(r.accepted).toHaveLength(5);
  });

  it('the Vrancea event at 128 km is accepted at 128 km (positive properties.depth, not the negative geometry)', () => {
    expect(byId['20261130_0000050']).toEqual({
      id: '20261130_0000050',
      source: 'emsc',
      sourceIds: ['20261130_0000050'],
      originTime: at('2026-11-30T07:43:01.1Z'),
      lat: 45.68,
      lon: 26.55,
      depthKm: 128,
      magnitude: 4.1,
      magType: 'ml',
      place: 'ROMANIA',
      updatedAt: at('2026-11-30T07:51:40.121Z'), // lastupdate 07:51:40.120833, to the millisecond
      status: 'automatic',
      kind: 'earthquake',
      drill: false,
    });
  });

  it('10 km and 2 km are below sea level; evtype codes map to kinds; no depth is 10 km not measured', () => {
    expect(byId['20261130_0000047'].depthKm).toBe(10);
    expect(byId['20261130_0000044']).toMatchObject({ depthKm: 2, kind: 'earthquake' }); // se: suspected earthquake
    expect(byId['20261130_0000041']).toMatchObject({ kind: 'quarry blast', magType: 'm' });
    expect(byId['20261130_0000039']).toMatchObject({ kind: 'mining explosion', depthKm: 10, depthKnown: false });
    expect(isAlertable(byId['20261130_0000041'], 0)).toBe(false);
    expect(isAlertable(byId['20261130_0000039'], 0)).toBe(false);
  });
});

describe('event types: unknown, empty and not reported are possibly earthquakes (case 3)', () => {
  it("GeoNet's fresh automatic row with EventType unknown alerts", () => {
    const [q] = parseFeed(read('fdsn-geonet-unknown-type.txt'), { now: NOW }).accepted;
    expect(q).toMatchObject({ id: '2026p902311', kind: 'unknown', source: 'gns', magnitude: 5.3, depthKm: 12.4 });
    expect(isAlertable(q, 4)).toBe(true);
  });

  it('empty → not reported (alertable), explicit blast not, induced seismicity alerts, not existing retracts', () => {
    const r = parseFeed(read('fdsn-event-types.txt'), { now: NOW });
    const kinds = r.accepted.map((q) => [q.id, q.kind, isAlertable(q, 0)]);
    expect(kinds).toEqual([
      ['2026p902400', 'not reported', true],
      ['2026p902401', 'not reported', true],
      ['2026p902402', 'quarry blast', false],
      ['2026p902403', 'induced or triggered event', true],
    ]);
    // The row has no time for its withdrawal: the time of parsing.
    expect(r.retracted).toEqual([
      { id: '2026p902404', source: 'gns', updatedAt: NOW, reason: 'fdsn EventType "not existing"', drill: false },
    ]);
  });

  it('only explicit non-earthquake types suppress, in any case; magnitude still applies', () => {
    const q = (kind: string, magnitude = 5) => ({ kind, magnitude });
    for (const k of ['earthquake', 'unknown', 'not reported', '', 'Earthquake', 'fluid injection', 'something new']) {
      expect(isAlertable(q(k), 4), k).toBe(true);
    }
    for (const k of NON_EARTHQUAKE_KINDS) expect(isAlertable(q(k), 4), k).toBe(false);
    expect(isAlertable(q('Quarry Blast'), 4)).toBe(false);
    expect(isAlertable(q('unknown', 3.9), 4)).toBe(false);
  });
});

describe('deletions are retractions of a known id (case 4)', () => {
  it('USGS status "deleted": FDSN API nulls and summary-feed fields alike', () => {
    const r = parseFeed(read('usgs-deleted.geojson'), { now: NOW });
    expect(r.accepted.map((q) => q.id)).toEqual(['hv74512345']);
    expect(r.rejected).toEqual([]);
    expect(r.retracted).toEqual([
      { id: 'ak0267abcd', source: 'usgs', updatedAt: 1796019000000, reason: 'usgs status "deleted"', drill: false },
      { id: 'hv74512300', source: 'usgs', updatedAt: 1796018400000, reason: 'usgs status "deleted"', drill: false },
    ]);
  });

  it('EMSC action "delete" withdraws the earlier versions of the same input', () => {
    const r = replayFeed(read('emsc-websocket-delete.jsonl'), { now: NOW });
    expect(r.rejected).toEqual([]);
    expect(r.accepted.map((q) => q.id)).toEqual(['20261130_0000063']);
    expect(r.retracted).toEqual([
      {
        id: '20261130_0000061',
        source: 'emsc',
        updatedAt: at('2026-11-30T08:04:15Z'),
        reason: 'emsc action "delete"',
        drill: false,
      },
    ]);
    expect(r).toMatchObject({ superseded: 1, withdrawn: 1 });
  });

  it('a deletion with no id is a rejection (it cannot say what it withdraws)', () => {
    const r = parseFeed('{"action":"delete","data":{"properties":{}}}', { now: NOW });
    expect(r.rejected[0].reason).toBe('id: missing, a retraction (emsc action "delete") must name the event');
  });

  it("one source's retraction leaves another source's solution of the same earthquake standing", () => {
    const usgs = parseFeed(read('mixed-capture/usgs-all_hour-0615.geojson'), { now: NOW }).accepted;
    const hv = usgs.find((q) => q.id === 'hv74512300') as Quake;
    const emscOfHv: Quake = { ...hv, id: '20261130_0000020', source: 'emsc', sourceIds: ['20261130_0000020'] };
    const retraction = {
      id: 'hv74512300',
      source: 'usgs',
      updatedAt: 1796018400000,
      reason: 'usgs status "deleted"',
      drill: false,
    };
    const both = associateAll([hv, { ...emscOfHv, updatedAt: hv.updatedAt + 1 }], {}, [retraction]);
    expect(both).toMatchObject({ associated: 1, withdrawn: 0 });
    expect(both.events).toHaveLength(1);
    const alone = associateAll([hv], {}, [retraction]);
    expect(alone).toMatchObject({ events: [], withdrawn: 1 });
    // Published again after the deletion: the event stands.
    const again = associateAll([hv, { ...hv, updatedAt: retraction.updatedAt + 60_000 }], {}, [retraction]);
    expect(again.events.map((q) => q.id)).toEqual(['hv74512300']);
  });
});

describe('source is the publisher (case 5)', () => {
  it("two FDSN servers' rows of one Vrancea earthquake carry two sources and associate", () => {
    const r = replayFeed(read('fdsn-two-servers.txt'), { now: NOW });
    expect(r.associated).toBe(1);
    expect(r.accepted).toHaveLength(1);
    expect(r.accepted[0].sourceIds.sort()).toEqual(['20261130_0000050', 'infp2026xabc']);
    const sources = parseFeed(read('fdsn-two-servers.txt'), { now: NOW }).accepted.map((q) => q.source);
    expect(sources).toEqual(['emsc-rts', 'niep']);
  });

  it('Catalog, else Contributor, else Author, else the server, else fdsn', () => {
    const row = (author: string, catalog: string, contributor: string) =>
      `x1|2026-11-30T07:00:00|45|26|10|${author}|${catalog}|${contributor}|x1|ml|3||place`;
    const src = (text: string, server?: string) => parseFeed(text, { now: NOW, server }).accepted[0].source;
    expect(src(row('A', 'CAT', 'C'))).toBe('cat');
    expect(src(row('A', '', 'C'))).toBe('c');
    expect(src(row('A', '', ''))).toBe('a');
    expect(src(row('', '', ''), 'service.geonet.org.nz')).toBe('service.geonet.org.nz');
    expect(src(row('', '', ''))).toBe('fdsn');
  });
});

describe('a missing depth is unknown, not 0 km (case 6)', () => {
  it('USGS null or absent depth: 10 km, depthKnown false (it was 0 km)', () => {
    const r = parseFeed(read('usgs-depth-missing.geojson'), { now: NOW });
    expect(r.accepted.map((q) => [q.id, q.depthKm, q.depthKnown])).toEqual([
      ['ak0267aaaa', 10, false],
      ['ak0267aaab', 10, false],
    ]);
  });

  it('FDSN empty depth is flagged; a measured depth carries no flag', () => {
    const r = parseFeed(read('fdsn-emsc-14col.txt'), { now: NOW });
    expect(r.accepted.map((q) => [q.id, q.depthKm, q.depthKnown])).toEqual([
      ['20230407_0000034', 80, undefined],
      ['20230407_0000071', 7, undefined],
      ['20230407_0000090', 10, false],
    ]);
  });

  it('the schema takes depthKnown as an optional boolean', () => {
    const q = parseFeed(read('usgs-depth-missing.geojson'), { now: NOW }).accepted[0];
    expect(QuakeSchema.safeParse(q).success).toBe(true);
    expect(validateQuake({ ...q, depthKnown: 'no' }, {}, {}, { now: NOW })).toEqual({
      ok: false,
      reason: 'depthKnown: "no" is not a boolean',
    });
  });
});

describe('origin times (case 7)', () => {
  it(`an origin more than ${MAX_ORIGIN_LEAD_MS / 60_000} min ahead of now is refused, saying so; seconds of skew pass`, () => {
    expect(MAX_ORIGIN_LEAD_MS).toBe(300_000);
    const r = parseFeed(read('fdsn-origin-times.txt'), { now: NOW });
    expect(r.accepted.map((q) => q.id)).toEqual(['ro2026wxyz']);
    expect(r.rejected[1]).toEqual({
      index: 1,
      reason:
        'future2099: originTime (Time): "2099-01-01T00:00:00" is 72 years ahead of now (2026-11-30T09:00:00.000Z); ' +
        'times more than 5 min in the future are refused (a clock, time-zone or unit error at the source)',
    });
    const origin = at('2026-11-30T07:43:00.5Z');
    expect(parseFeed(read('fdsn-origin-times.txt'), { now: origin - 4 * 60_000 }).accepted).toHaveLength(1);
    const early = parseFeed(read('fdsn-origin-times.txt'), { now: origin - 6 * 60_000 });
    expect(early.accepted).toHaveLength(0);
    expect(early.rejected[2].reason).toMatch(/is 6 min ahead of now/);
  });

  it('a pre-1900 historical event gets a reason that says why, not the unit-mistake text', () => {
    const r = parseFeed(read('fdsn-origin-times.txt'), { now: NOW });
    expect(r.rejected[0]).toEqual({
      index: 0,
      reason:
        'hist1802: originTime (Time): "1802-10-26T10:55:00" is before 1900: a historical event, refused because ' +
        'quakectl alerts on events as they happen (replay history as a drill scenario)',
    });
    // A unit mistake (µs read as ms) keeps its own text.
    const q = parseFeed(read('usgs-depth-missing.geojson'), { now: NOW }).accepted[0];
    expect(validateQuake({ ...q, originTime: q.originTime * 1000 }).ok).toBe(false);
    expect(validateQuake({ ...q, originTime: q.originTime * 1000 })).toMatchObject({
      reason: expect.stringContaining('is not a plausible epoch-ms time (1900..2200)'),
    });
  });

  it('an update time in the future is refused too (it would block every real update of the event)', () => {
    const q = parseFeed(read('usgs-depth-missing.geojson'), { now: NOW }).accepted[0];
    expect(validateQuake({ ...q, updatedAt: NOW + 3600_000 }, {}, {}, { now: NOW })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^updatedAt: "2026-11-30T10:00:00.000Z" is 60 min ahead of now/),
    });
  });
});

describe('replay of several files in time order (case 7)', () => {
  it('a mixed capture (USGS snapshots + EMSC websocket): versions, deletions and formats together', () => {
    const files = [
      'mixed-capture/usgs-fdsn-0700.geojson',
      'mixed-capture/emsc-websocket-0800.jsonl',
      'mixed-capture/usgs-all_hour-0615.geojson',
    ];
    const parsed = files.map((f) => parseFeed(read(f), { now: NOW }));
    expect(parsed.map((p) => p.format)).toEqual(['usgs-geojson', 'emsc-ws', 'usgs-geojson']);
    const r = replayParsed(parsed);
    expect(r.accepted.map((q) => q.id)).toEqual(['hv74512345', '20261130_0000063']);
    // Retractions in time order, whichever file held them.
    expect(r.retracted.map((x) => x.id)).toEqual(['hv74512300', 'ak0267abcd', '20261130_0000061']);
    expect(r).toMatchObject({ withdrawn: 3, superseded: 1, associated: 0 });
  });
});
