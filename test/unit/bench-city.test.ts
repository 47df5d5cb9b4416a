import { describe, expect, it } from 'vitest';
import {
  bandShares,
  CITY_CENTRE,
  CITY_DENSITY_SCALE_KM,
  CITY_EVENT,
  citySubscribers,
  idealOnSchedule,
  idealSchedule,
  percentile,
  type Site,
} from '../../bench/city.ts';
import { haversineKm } from '../../shared/seismo/geodesy.ts';

describe('city layout', () => {
  const subs = [...citySubscribers({ count: 20_000, webhook: 'http://127.0.0.1:1/x', secret: 's', seed: 3 })];
  const r = subs.map((s) => haversineKm(CITY_CENTRE.lat, CITY_CENTRE.lon, s.lat, s.lon));

  it('places everyone within 80 km with radial density r·exp(−r/15 km) (mean 2L, truncated)', () => {
    expect(Math.max(...r)).toBeLessThanOrEqual(80.01);
    const mean = r.reduce((a, b) => a + b, 0) / r.length;
    // Gamma(2, 15) has mean 30 km; truncation at 80 km (5.3 L) lowers it by ~1 km.
    expect(mean).toBeGreaterThan(27);
    expect(mean).toBeLessThan(31);
    // Share within L: 1 − 2/e = 26.4 % for Gamma(2, L).
    const within = r.filter((x) => x < CITY_DENSITY_SCALE_KM).length / r.length;
    expect(within).toBeGreaterThan(0.25);
    expect(within).toBeLessThan(0.29);
  });

  it('is reproducible and puts the event about 30 km from the centre', () => {
    const again = [...citySubscribers({ count: 5, webhook: 'http://127.0.0.1:1/x', secret: 's', seed: 3 })];
    expect(again.map((s) => s.id)).toEqual(subs.slice(0, 5).map((s) => s.id));
    expect(again[4].lat).toBe(subs[4].lat);
    const d = haversineKm(CITY_CENTRE.lat, CITY_CENTRE.lon, CITY_EVENT.lat, CITY_EVENT.lon);
    expect(d).toBeGreaterThan(25);
    expect(d).toBeLessThan(35);
  });
});

describe('warning measures', () => {
  const sites: Site[] = [
    { epicentralKm: 5, sAt: 100 }, // blind (S before 200)
    { epicentralKm: 15, sAt: 300 },
    { epicentralKm: 18, sAt: 400 },
    { epicentralKm: 25, sAt: 1000 },
    { epicentralKm: 70, sAt: 5000 },
  ];

  it('counts before-S shares per band outside the blind zone; unnotified counts as late', () => {
    const at = [150, 250, Number.NaN, 1200, 4000];
    const shares = bandShares(sites, at, 200);
    expect(shares.map((b) => [b.outside, b.before, b.pct])).toEqual([
      [2, 1, 50],
      [1, 0, 0],
      [0, 0, null],
      [1, 1, 100],
    ]);
  });

  it('ideal: S order from the first notification at the given rate, late ones deferred to the end', () => {
    // 10/s = one every 100 ms from 200: site 0 is already shaken at 200 and is deferred.
    const at = idealSchedule(sites, 200, 10);
    expect(Array.from(at)).toEqual([600, 200, 300, 400, 500]);
    const strict = idealSchedule(sites, 200, 10, { plainOrder: true });
    expect(Array.from(strict)).toEqual([200, 300, 400, 500, 600]);
    // Deferring the blind site reaches sites 1 and 2 in time; strict order reaches each exactly at its S (too late).
    expect(bandShares(sites, at, 200)[0].before).toBe(2);
    expect(bandShares(sites, strict, 200)[0].before).toBe(0);
  });

  it('ideal on a measured schedule: the measured times, slowest start included, given out in the ideal order', () => {
    // Measured: 2 deliveries at 250 and 260, then 700, 710, 900 (a slow start); NaN is a site never notified.
    const at = idealOnSchedule(sites, [900, 250, Number.NaN, 700, 260, 710]);
    // Site 0 (S before 250) is deferred; sites 1, 2 take 250 and 260; sites 3, 4 take 700, 710; site 0 gets 900.
    expect(Array.from(at)).toEqual([900, 250, 260, 700, 710]);
    // The same slots at a constant rate from 250 would be 250, 260, 270…: the ramp-up is what separates the two.
    expect(bandShares(sites, at, 200)[0].before).toBeLessThanOrEqual(
      bandShares(sites, idealSchedule(sites, 250, 100), 200)[0].before,
    );
    // Fewer deliveries than sites: the rest are not notified.
    expect(Number.isNaN(idealOnSchedule(sites, [250, 260])[4])).toBe(true);
  });

  it('percentile is nearest rank', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
    expect(percentile([], 50)).toBeNull();
  });
});
