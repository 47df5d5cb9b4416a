import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KAHRAMANMARAS, loadRupture, loadStations, residualStats } from '../../bench/ipe-validation.ts';
import {
  AW07_CA,
  AW07_CEUS,
  aw07,
  aww12Hypocentral,
  aww12Rupture,
  destination,
  footprintRadiusKm,
  intensityModelFor,
  isBackArc,
  isVranceaIntermediateDepth,
  predictMmi,
  vacareanu15LnPga,
  wgrw12MmiFromPga,
} from '../../shared/seismo/index.ts';

const VRANCEA_1977 = { magnitude: 7.4, lat: 45.77, lon: 26.76, depthKm: 94 };

describe('equations at known points (values computed by hand from the published coefficients)', () => {
  it('Allen, Wald & Worden 2012 hypocentral', () => {
    expect(aww12Hypocentral(6, 10)).toBeCloseTo(7.2488, 3);
    expect(aww12Hypocentral(6, 100)).toBeCloseTo(4.2486, 3); // includes the 0.078·ln(R/50) term
    expect(aww12Hypocentral(5, 30)).toBeCloseTo(4.4539, 3);
  });

  it('Allen, Wald & Worden 2012 rupture', () => {
    expect(aww12Rupture(7.8, 20)).toBeCloseTo(7.5248, 3);
    expect(aww12Rupture(7.8, 200)).toBeCloseTo(5.2033, 3);
  });

  it('Atkinson & Wald 2007, California and CEUS', () => {
    expect(aw07(6, 20, AW07_CA)).toBeCloseTo(5.6449, 3);
    expect(aw07(6, 20, AW07_CEUS)).toBeCloseTo(6.9634, 3);
  });

  it('Vacareanu et al. 2015: fore-arc attenuates less than back-arc; M6 at 100 km', () => {
    expect(vacareanu15LnPga(7.4, 150, 94, false)).toBeCloseTo(5.2638, 3);
    expect(vacareanu15LnPga(7.4, 150, 94, true)).toBeCloseTo(3.9138, 3);
    expect(vacareanu15LnPga(6, 100, 100, false)).toBeCloseTo(4.1507, 3);
  });

  it('Worden et al. 2012 GMICE: both branches, nearly continuous at log PGA 1.57', () => {
    expect(wgrw12MmiFromPga(10)).toBeCloseTo(3.33, 6);
    expect(wgrw12MmiFromPga(100)).toBeCloseTo(5.8, 6);
    expect(Math.abs(wgrw12MmiFromPga(10 ** 1.5699) - wgrw12MmiFromPga(10 ** 1.5701))).toBeLessThan(0.01);
  });
});

describe('model choice and predictMmi', () => {
  it('Vrancea intermediate depth uses Vacareanu 2015; shallow Vrancea and elsewhere use AWW12', () => {
    expect(intensityModelFor(VRANCEA_1977).name).toBe('vacareanu15-vrancea');
    expect(intensityModelFor({ ...VRANCEA_1977, depthKm: 10 }).name).toBe('aww12-hypocentral');
    expect(intensityModelFor({ ...VRANCEA_1977, lat: 38 }).name).toBe('aww12-hypocentral');
    expect(isVranceaIntermediateDepth(45.5, 26.5, 140)).toBe(true);
  });

  it('M7.5+ with a rupture uses the rupture form; smaller ones do not', () => {
    const rupture = loadRupture();
    expect(intensityModelFor(KAHRAMANMARAS, { rupture }).name).toBe('aww12-rupture');
    expect(intensityModelFor({ ...KAHRAMANMARAS, magnitude: 7.2 }, { rupture }).name).toBe('aww12-hypocentral');
  });

  it('clips to 1..10', () => {
    // AWW12 saturates near the source (about 8.4 at M10); AW07 CEUS does not.
    expect(predictMmi({ magnitude: 9.5, lat: 0, lon: 0, depthKm: 0 }, { lat: 0, lon: 0 }, { model: 'aw07-ceus' })).toBe(
      10,
    );
    expect(predictMmi({ magnitude: 2, lat: 0, lon: 0, depthKm: 10 }, { lat: 10, lon: 10 })).toBe(1);
  });

  it('decreases with distance for every model', () => {
    const rupture = loadRupture();
    fc.assert(
      fc.property(
        fc.constantFrom('aww12-hypocentral', 'aww12-rupture', 'aw07-california', 'aw07-ceus', 'vacareanu15-vrancea'),
        fc.double({ min: 3, max: 8.5, noNaN: true }),
        fc.double({ min: 0, max: 360, noNaN: true }),
        fc.double({ min: 0, max: 800, noNaN: true }),
        (model, m, bearing, d) => {
          const q = { ...VRANCEA_1977, magnitude: m };
          const f = intensityModelFor(q, {
            model: model as never,
            rupture: model === 'aww12-rupture' ? undefined : rupture,
          });
          const [la1, lo1] = destination(q.lat, q.lon, bearing, d);
          const [la2, lo2] = destination(q.lat, q.lon, bearing, d + 20);
          // Along a ray the arc side can only switch from fore- to back-arc, which lowers MMI further.
          expect(f.predict(la2, lo2)).toBeLessThanOrEqual(f.predict(la1, lo1) + 1e-9);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Vrancea: sides of the Carpathian arc', () => {
  const side = (lat: number, lon: number) =>
    isBackArc(VRANCEA_1977.lat, VRANCEA_1977.lon, lat, lon) ? 'back' : 'fore';
  it.each([
    ['Bucharest', 'fore', 44.43, 26.1],
    ['Iași', 'fore', 47.16, 27.59],
    ['Chișinău', 'fore', 47.01, 28.86],
    ['Odesa', 'fore', 46.48, 30.72],
    ['Lviv', 'fore', 49.84, 24.03],
    ['Sofia', 'fore', 42.7, 23.32],
    ['Brașov', 'back', 45.66, 25.61],
    ['Cluj-Napoca', 'back', 46.77, 23.6],
    ['Sibiu', 'back', 45.79, 24.15],
    ['Budapest', 'back', 47.5, 19.04],
  ])('%s is %s-arc', (_name, expected, lat, lon) => {
    expect(side(lat, lon)).toBe(expected);
  });

  it('at equal distance, the fore-arc site is predicted 2+ units above the back-arc site', () => {
    const m = intensityModelFor(VRANCEA_1977);
    const cluj = m.predict(46.77, 23.6); // 267 km, back-arc
    const [la, lo] = destination(VRANCEA_1977.lat, VRANCEA_1977.lon, 45, 267); // NE: Moldova, fore-arc
    expect(m.predict(la, lo) - cluj).toBeGreaterThan(2);
  });

  it('Bucharest 1977: about VI–VII, take-action (observed VIII–IX MSK, see docs/seismology.md)', () => {
    const mmi = predictMmi(VRANCEA_1977, { lat: 44.43, lon: 26.1 });
    expect(mmi).toBeGreaterThan(6);
    expect(mmi).toBeLessThan(7);
  });
});

describe('footprint', () => {
  it('every site predicted at or above the threshold lies inside the footprint (all models, all directions)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 3, max: 8.5, noNaN: true }),
        fc.constantFrom(10, 94, 150),
        fc.constantFrom(3, 4, 5, 6),
        fc.double({ min: 0, max: 360, noNaN: true }),
        fc.double({ min: 0, max: 1500, noNaN: true }),
        (m, depthKm, threshold, bearing, d) => {
          const q = { ...VRANCEA_1977, magnitude: m, depthKm };
          const model = intensityModelFor(q);
          const [la, lo] = destination(q.lat, q.lon, bearing, d);
          if (model.predict(la, lo) >= threshold) expect(d).toBeLessThanOrEqual(model.footprintRadiusKm(threshold));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('is tight for radially symmetric models: just inside ≥ threshold, just outside below', () => {
    const q = { magnitude: 6.5, lat: 38, lon: 23, depthKm: 12 };
    const r5 = footprintRadiusKm(q, 5);
    expect(r5).toBeGreaterThan(10);
    const [la1, lo1] = destination(q.lat, q.lon, 90, r5 - 0.5);
    const [la2, lo2] = destination(q.lat, q.lon, 90, r5 + 0.5);
    expect(predictMmi(q, { lat: la1, lon: lo1 })).toBeGreaterThanOrEqual(5);
    expect(predictMmi(q, { lat: la2, lon: lo2 })).toBeLessThan(5);
    expect(footprintRadiusKm(q, 3)).toBeGreaterThan(r5);
  });

  it('is 0 when no site reaches the threshold', () => {
    expect(footprintRadiusKm({ magnitude: 2, lat: 0, lon: 0, depthKm: 10 }, 5)).toBe(0);
  });

  it('with a rupture it reaches beyond the rupture end', () => {
    const rupture = loadRupture();
    // The rupture reaches about 200 km from the epicentre; MMI 5 extends well past that.
    expect(footprintRadiusKm(KAHRAMANMARAS, 5, { rupture })).toBeGreaterThan(footprintRadiusKm(KAHRAMANMARAS, 5));
  });
});

describe('validation on Kahramanmaraş 2023 (the goal in issue 4)', () => {
  it('instrument stations: |bias| ≤ 0.5, mean absolute residual < 1.0', () => {
    const s = residualStats(loadStations(), loadRupture(), 'aww12-rupture', 'seismic');
    expect(s.overall.n).toBe(262);
    expect(Math.abs(s.overall.bias)).toBeLessThanOrEqual(0.5);
    expect(s.overall.mae).toBeLessThan(1);
  });
});

describe('speed', () => {
  it('1,000,000 predictions take well under 2 s', () => {
    const model = intensityModelFor(VRANCEA_1977);
    let acc = 0;
    const t0 = performance.now();
    for (let i = 0; i < 1_000_000; i++)
      acc += model.predict(43 + (i % 1000) * 0.005, 22 + Math.floor(i / 1000) * 0.008);
    const ms = performance.now() - t0;
    expect(acc).toBeGreaterThan(0);
    expect(ms).toBeLessThan(2000);
  });
});
