import { describe, expect, it } from 'vitest';
import {
  alertLevel,
  blindZoneRadiusKm,
  distanceToPolylineKm,
  epicentralKm,
  haversineKm,
  hypocentralKm,
  levelRises,
  pArrivalS,
  sArrivalS,
  secondsUntilShaking,
} from '../../shared/seismo/index.ts';

describe('geodesy', () => {
  it('haversine: one degree of latitude ≈ 111.2 km; Bucharest–Vrancea 1977 ≈ 158 km', () => {
    expect(haversineKm(0, 0, 1, 0)).toBeCloseTo(111.195, 2);
    expect(haversineKm(45.77, 26.76, 44.43, 26.1)).toBeCloseTo(157.7, 0);
    expect(haversineKm(0, 179.5, 0, -179.5)).toBeCloseTo(111.195, 2);
  });

  it('distance to a polyline: perpendicular inside a segment, to the end beyond it', () => {
    const line = [
      [0, 0],
      [0, 1],
    ] as const;
    expect(distanceToPolylineKm(0.5, 0.5, line)).toBeCloseTo(55.6, 0);
    expect(distanceToPolylineKm(0, 2, line)).toBeCloseTo(111.2, 0);
  });

  it('hypocentral distance combines epicentral distance and depth; negative depth counts as 0', () => {
    const q = { lat: 45.77, lon: 26.76, depthKm: 94 };
    const site = { lat: 44.43, lon: 26.1 };
    expect(hypocentralKm(q, site)).toBeCloseTo(Math.hypot(epicentralKm(q, site), 94), 9);
    expect(hypocentralKm({ ...q, depthKm: -2 }, site)).toBeCloseTo(epicentralKm(q, site), 9);
  });
});

describe('travel times and warning', () => {
  it('P at 6.5 km/s, S at 3.5 km/s', () => {
    expect(pArrivalS(65)).toBeCloseTo(10, 9);
    expect(sArrivalS(35)).toBeCloseTo(10, 9);
  });

  it('warning time = S arrival − delivery time; negative inside the blind zone', () => {
    const q = { lat: 45.77, lon: 26.76, depthKm: 94, originTime: Date.UTC(1977, 2, 4, 19, 21, 54) };
    const bucharest = { lat: 44.43, lon: 26.1 };
    const s = sArrivalS(hypocentralKm(q, bucharest)); // ≈ 52.5 s
    expect(secondsUntilShaking(q, bucharest, q.originTime + 10_000)).toBeCloseTo(s - 10, 6);
    expect(secondsUntilShaking(q, bucharest, q.originTime + 60_000)).toBeLessThan(0);
  });

  it('blind zone: S reaches 3.5·delay km of hypocentral distance; 0 while still at depth', () => {
    expect(blindZoneRadiusKm(0, 10)).toBeCloseTo(35, 9);
    expect(blindZoneRadiusKm(10, 10)).toBeCloseTo(Math.sqrt(35 ** 2 - 100), 9);
    expect(blindZoneRadiusKm(94, 20)).toBe(0); // 70 km < 94 km depth: no blind zone yet
    expect(blindZoneRadiusKm(94, 40)).toBeCloseTo(Math.sqrt(140 ** 2 - 94 ** 2), 9);
    expect(blindZoneRadiusKm(10, -5)).toBe(0);
  });

  it('a site at the blind-zone radius gets its S wave exactly at the delay', () => {
    const q = { lat: 40, lon: 20, depthKm: 15, originTime: 0 };
    const r = blindZoneRadiusKm(15, 12);
    const site = { lat: 40 + r / 111.195, lon: 20 };
    expect(secondsUntilShaking(q, site, 12_000)).toBeCloseTo(0, 1);
  });
});

describe('alert level', () => {
  it('take-action at 5 and above, be-aware 3 to 5, none below', () => {
    expect(alertLevel(8.2)).toBe('take-action');
    expect(alertLevel(5)).toBe('take-action');
    expect(alertLevel(4.99)).toBe('be-aware');
    expect(alertLevel(3)).toBe('be-aware');
    expect(alertLevel(2.99)).toBe('none');
    expect(alertLevel(Number.NaN)).toBe('none');
  });

  it('thresholds are configurable', () => {
    expect(alertLevel(4, { takeAction: 4, beAware: 2 })).toBe('take-action');
    expect(alertLevel(2, { takeAction: 4, beAware: 2 })).toBe('be-aware');
  });

  it('levelRises orders none < be-aware < take-action', () => {
    expect(levelRises('none', 'be-aware')).toBe(true);
    expect(levelRises('be-aware', 'take-action')).toBe(true);
    expect(levelRises('take-action', 'be-aware')).toBe(false);
    expect(levelRises('be-aware', 'be-aware')).toBe(false);
  });
});
