/**
 * CAP 1.2 messages (shared/notify/cap.ts) validated by an independent validator: `capvalidator` (WMO,
 * github.com/wmo-im/capvalidator, pinned in scripts/python-requirements.txt), which checks a message against the OASIS
 * CAP 1.2 XML schema it ships (CAP-v1.2-schema.xsd, © OASIS Open 2010) with lxml. The venv is the project's own
 * (scripts/python-env.sh, built by .ci/run). lxml's error log with the same schema is printed when a message fails.
 */
import { XMLParser } from 'fast-xml-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CapMessage,
  capAtomIndex,
  capCancel,
  capDateTime,
  capMessagesForEvent,
  intensityBands,
  severityForMmi,
} from '../../shared/notify/cap.ts';
import type { Quake } from '../../shared/quake/types.ts';
import { intensityModelFor } from '../../shared/seismo/index.ts';
import { capValidator } from '../cap-validator.ts';

let validate: Awaited<ReturnType<typeof capValidator>>;
beforeAll(async () => {
  validate = await capValidator();
}, 600_000);

const base: Quake = {
  id: 'us7000abcd',
  source: 'usgs',
  sourceIds: ['us7000abcd'],
  originTime: Date.UTC(2023, 1, 6, 1, 17, 34, 250),
  lat: 37.226,
  lon: 37.014,
  depthKm: 10,
  magnitude: 7.8,
  magType: 'mww',
  place: 'Pazarcık, Kahramanmaraş <Türkiye> & Syria',
  updatedAt: Date.UTC(2023, 1, 6, 1, 18, 40),
  status: 'automatic',
  kind: 'earthquake',
  drill: false,
};
const opts = { sender: 'alerts.quakectl.example', minMmi: 3, baseUrl: 'http://127.0.0.1:9/cap/' };
const xml = new XMLParser({ ignoreAttributes: false, isArray: (n) => ['area', 'parameter', 'entry'].includes(n) });

/** A revision stream: automatic solution, revised magnitude, a reviewed one, then the network withdraws it. */
function stream(q: Quake): CapMessage[] {
  return capMessagesForEvent(
    [
      q,
      { ...q, magnitude: 7.5, updatedAt: q.updatedAt + 90_000 },
      { ...q, magnitude: 7.8, status: 'reviewed', updatedAt: q.updatedAt + 600_000 },
    ],
    { reason: 'usgs status "deleted"', updatedAt: q.updatedAt + 900_000 },
    opts,
  );
}

describe('CAP 1.2 messages', () => {
  it('every message of real and drill streams, small to great events, passes the OASIS schema (capvalidator)', async () => {
    const cases: Quake[] = [
      base,
      {
        ...base,
        id: 'drill-vrancea-1977',
        source: 'drill',
        lat: 45.77,
        lon: 26.76,
        depthKm: 94,
        magnitude: 7.4,
        drill: true,
      },
      { ...base, id: 'emsc:20240101_0000123', magnitude: 3.1, depthKnown: false, place: '', magType: '' },
      { ...base, id: 'small', magnitude: 1.2 },
    ];
    const docs = cases.flatMap(stream);
    expect(docs).toHaveLength(16);
    const verdicts = await validate(docs.map((m) => m.xml));
    expect(verdicts.filter((v) => !v.passed)).toEqual([]);
    expect(verdicts).toHaveLength(16);
  });

  it('the validator can fail: a wrong status, a sent time in Z form and a missing scope are refused', async () => {
    const good = stream(base)[0].xml;
    const verdicts = await validate([
      good,
      good.replace('<status>Actual</status>', '<status>Real</status>'),
      good.replace(/<sent>[^<]+<\/sent>/, '<sent>2023-02-06T01:18:40Z</sent>'),
      good.replace('<scope>Public</scope>', ''),
    ]);
    expect(verdicts.map((v) => v.passed)).toEqual([true, false, false, false]);
  });

  it('Alert, then Updates and a Cancel that reference every earlier message; Exercise for drills', () => {
    const ms = stream(base);
    expect(ms.map((m) => m.msgType)).toEqual(['Alert', 'Update', 'Update', 'Cancel']);
    const parsed = ms.map((m) => xml.parse(m.xml).alert);
    expect(parsed[0].references).toBeUndefined();
    for (let i = 1; i < ms.length; i++) {
      expect(String(parsed[i].references).split(' ')).toEqual(
        ms.slice(0, i).map((m) => `${m.sender},${m.identifier},${m.sent}`),
      );
    }
    expect(new Set(ms.map((m) => m.identifier)).size).toBe(4);
    expect(parsed.map((a) => a.status)).toEqual(['Actual', 'Actual', 'Actual', 'Actual']);
    expect(stream({ ...base, drill: true }).map((m) => xml.parse(m.xml).alert.status)).toEqual(
      Array(4).fill('Exercise'),
    );
    expect(parsed[3].info).toMatchObject({ responseType: 'AllClear', urgency: 'Past', certainty: 'Unlikely' });
    expect(() => capCancel(base, { reason: 'x', updatedAt: 1 }, [], opts)).toThrow(RangeError);
  });

  it('info: Geo, severity and areas from the intensity model, parameters for origin time and magnitude', () => {
    const alert = xml.parse(stream(base)[0].xml).alert;
    const model = intensityModelFor(base);
    const maxMmi = model.predict(base.lat, base.lon);
    expect(alert.info).toMatchObject({
      category: 'Geo',
      event: 'Earthquake',
      urgency: 'Immediate',
      severity: severityForMmi(maxMmi),
      certainty: 'Likely',
    });
    const params = Object.fromEntries(
      alert.info.parameter.map((p: { valueName: string; value: unknown }) => [p.valueName, String(p.value)]),
    );
    expect(params).toMatchObject({ OriginTime: '2023-02-06T01:17:34.250Z', Magnitude: '7.8', MagnitudeType: 'mww' });
    const circles = alert.info.area.map((a: { circle: string }) => a.circle);
    const bands = intensityBands(base, 3);
    expect(bands.length).toBeGreaterThan(1);
    expect(circles).toEqual(bands.map((b) => `37.2260,37.0140 ${b.radiusKm.toFixed(1)}`));
    for (const b of bands) expect(b.radiusKm).toBeCloseTo(model.footprintRadiusKm(b.mmi, 0.5), 6);
    // Strongest band first, and radii shrink as the band rises: the circles nest.
    expect(bands.map((b) => b.mmi)).toEqual([8, 6, 4, 3]);
    for (let i = 1; i < bands.length; i++) expect(bands[i].radiusKm).toBeGreaterThan(bands[i - 1].radiusKm);
    // The place's markup characters are escaped, not dropped.
    expect(alert.info.headline).toContain('Kahramanmaraş');
    expect(stream(base)[0].xml).toContain('&lt;Türkiye&gt; &amp; Syria');
  });

  it('a message sent long after the origin is Past, not Immediate; CAP dateTime has no fraction and no Z', () => {
    const late = stream({ ...base, updatedAt: base.originTime + 3 * 3600_000 })[0];
    expect(xml.parse(late.xml).alert.info.urgency).toBe('Past');
    expect(capDateTime(Date.UTC(2023, 1, 6, 1, 17, 34, 999))).toBe('2023-02-06T01:17:34+00:00');
  });

  it('the Atom index lists every message newest first, linked as application/cap+xml', () => {
    const ms = stream(base);
    const feed = xml.parse(capAtomIndex(ms, { baseUrl: opts.baseUrl, sender: opts.sender })).feed;
    expect(feed.updated).toBe(new Date(base.updatedAt + 900_000).toISOString());
    expect(feed.entry.map((e: { link: Record<string, string> }) => e.link['@_href'])).toEqual(
      [...ms].reverse().map((m) => `http://127.0.0.1:9/cap/${m.identifier}.xml`),
    );
    expect(feed.entry[0].link['@_type']).toBe('application/cap+xml');
    expect(feed.entry[0].category['@_term']).toBe('Cancel');
  });
});
