import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FeedFormat, parseFeed, QuakeSchema } from '../../shared/quake/index.ts';

const FIX = join(import.meta.dirname, '../fixtures/quake');
const usgs = JSON.parse(readFileSync(join(FIX, 'usgs-all_week-2023-04-07-cut.geojson'), 'utf8'));
const emsc = JSON.parse(readFileSync(join(FIX, 'emsc-websocket-create.jsonl'), 'utf8'));
const FORMATS: (FeedFormat | undefined)[] = [undefined, 'usgs-geojson', 'usgs-feature', 'emsc-ws', 'fdsn-text'];

/** Accepts or rejects with a reason; never throws; every accepted event is a valid Quake. */
function wellBehaved(input: unknown, format?: FeedFormat): void {
  const r = parseFeed(input, { format });
  for (const q of r.accepted) expect(QuakeSchema.safeParse(q).success).toBe(true);
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
