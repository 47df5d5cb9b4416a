import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FeedFormat, type ParseResult, parseFeed, parseQuakeml, QuakeSchema } from '../../shared/quake/index.ts';

const FIX = join(import.meta.dirname, '../fixtures/quake');
const usgs = JSON.parse(readFileSync(join(FIX, 'usgs-all_week-2023-04-07-cut.geojson'), 'utf8'));
const emsc = JSON.parse(readFileSync(join(FIX, 'emsc-websocket-create.jsonl'), 'utf8'));
const seiscomp = readFileSync(join(FIX, 'quakeml-seiscomp.xml'), 'utf8');
const FORMATS: (FeedFormat | undefined)[] = [
  undefined,
  'usgs-geojson',
  'usgs-feature',
  'emsc-ws',
  'emsc-json',
  'fdsn-text',
  'quakeml',
];

/**
 * Accepts, retracts or rejects with a reason; never throws; every accepted event is a valid Quake and every
 * retraction names an id and a time.
 */
function wellBehaved(input: unknown, format?: FeedFormat): void {
  check(parseFeed(input, { format }));
}

/**
 * parseQuakeml directly, without parseFeed's last-resort catch: the QuakeML reader itself must never throw, and every
 * reason it gives must be its own (not the catch's `input: …`).
 */
function quakemlWellBehaved(text: string): void {
  const r = parseQuakeml(text);
  check(r);
  for (const x of r.rejected) expect(x.reason.startsWith('input: ')).toBe(false);
}

function check(r: ParseResult): void {
  for (const q of r.accepted) expect(QuakeSchema.safeParse(q).success).toBe(true);
  for (const x of r.retracted ?? []) {
    expect(x.id.length).toBeGreaterThan(0);
    expect(Number.isFinite(x.updatedAt)).toBe(true);
  }
  for (const x of r.rejected) {
    expect(typeof x.reason).toBe('string');
    expect(x.reason.length).toBeGreaterThan(0);
    expect(Number.isInteger(x.index)).toBe(true);
  }
}

describe('no input crashes a parser', () => {
  it('any string, in any forced format', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.constantFrom(...FORMATS), (s, f) => wellBehaved(s, f)),
      { numRuns: 500 },
    );
  });

  it('strings that look like FDSN text', () => {
    const cell = fc.oneof(fc.string(), fc.double().map(String), fc.constant(''));
    const line = fc.array(cell, { minLength: 10, maxLength: 16 }).map((cs) => cs.join('|'));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 5 }), (ls) => wellBehaved(`#EventID|Time\n${ls.join('\n')}`)),
      {
        numRuns: 300,
      },
    );
  });

  it('any JSON value, decoded or as text', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(...FORMATS), (v, f) => {
        wellBehaved(v, f);
        wellBehaved(JSON.stringify(v), f);
      }),
      { numRuns: 500 },
    );
  });

  it('no QuakeML string crashes the parser: any text after a QuakeML prefix, in any format', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.constantFrom(...FORMATS), (s, f) => {
        wellBehaved(`<?xml version="1.0"?><q:quakeml>${s}`, f);
        wellBehaved(`<${s}`, f);
        quakemlWellBehaved(s);
        quakemlWellBehaved(`<q:quakeml><eventParameters>${s}</eventParameters></q:quakeml>`);
      }),
      { numRuns: 500 },
    );
  });

  it('QuakeML built from random elements and values', () => {
    const value = fc.oneof(fc.string(), fc.double().map(String), fc.constant(''), fc.constant('NaN'));
    const leaf = fc
      .tuple(fc.constantFrom('value', 'text', 'type', 'agencyID', 'creationTime', 'version', 'evaluationStatus'), value)
      .map(([tag, v]) => `<${tag}>${v.replace(/[<&]/g, '')}</${tag}>`);
    const block = fc
      .tuple(
        fc.constantFrom('time', 'latitude', 'longitude', 'depth', 'mag', 'creationInfo', 'description'),
        fc.array(leaf, { maxLength: 3 }),
      )
      .map(([tag, leaves]) => `<${tag}>${leaves.join('')}</${tag}>`);
    const element = fc
      .tuple(fc.constantFrom('origin', 'magnitude'), fc.string(), fc.array(block, { maxLength: 5 }))
      .map(([tag, id, blocks]) => `<${tag} publicID="${id.replace(/["<&]/g, '')}">${blocks.join('')}</${tag}>`);
    const event = fc
      .tuple(fc.string(), fc.array(fc.oneof(element, leaf, block), { maxLength: 6 }))
      .map(([id, parts]) => `<event publicID="${id.replace(/["<&]/g, '')}">${parts.join('')}</event>`);
    fc.assert(
      fc.property(fc.array(event, { maxLength: 4 }), (events) =>
        quakemlWellBehaved(
          `<q:quakeml xmlns="http://quakeml.org/xmlns/bed/1.2"><eventParameters>${events.join('')}</eventParameters></q:quakeml>`,
        ),
      ),
      { numRuns: 300 },
    );
  });

  it('the SeisComP QuakeML fixture with any slice cut out or replaced', () => {
    fc.assert(
      fc.property(fc.nat(seiscomp.length), fc.nat(200), fc.string(), (start, length, insert) =>
        quakemlWellBehaved(seiscomp.slice(0, start) + insert + seiscomp.slice(start + length)),
      ),
      { numRuns: 300 },
    );
  });

  it('real USGS features with any property replaced by any JSON value', () => {
    const keys = ['mag', 'time', 'updated', 'status', 'type', 'ids', 'magType', 'place', 'tz', 'net', 'code'];
    fc.assert(
      fc.property(
        fc.nat(usgs.features.length - 1),
        fc.constantFrom(...keys),
        fc.jsonValue(),
        fc.option(fc.array(fc.jsonValue(), { maxLength: 4 })),
        (i, key, value, coords) => {
          const f = structuredClone(usgs.features[i]);
          f.properties[key] = value;
          if (coords !== null) f.geometry.coordinates = coords;
          wellBehaved({ type: 'FeatureCollection', features: [f, usgs.features[0]] });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('the real EMSC message with any property or envelope replaced', () => {
    const keys = ['time', 'lastupdate', 'lat', 'lon', 'depth', 'mag', 'magtype', 'unid', 'evtype', 'flynn_region'];
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.jsonValue(), fc.jsonValue(), (key, value, action) => {
        const m = structuredClone(emsc);
        m.data.properties[key] = value;
        wellBehaved(m);
        wellBehaved({ ...emsc, action });
        wellBehaved({ ...emsc, data: value });
      }),
      { numRuns: 300 },
    );
  });
});
