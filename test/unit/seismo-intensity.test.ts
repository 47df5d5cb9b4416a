import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KAHRAMANMARAS, loadRupture, loadStations, residualStats } from '../../bench/ipe-validation.ts';
import { fitVrancea, isHeldOutSite, loadVrancea1990, VRANCEA_1990 } from '../../bench/vrancea-calibration.ts';
import {
  AW07_CA,
  AW07_CEUS,
  aw07,
  aww12Hypocentral,
  aww12Rupture,
  DEFAULT_ALERT_PROBABILITY,
  DEFAULT_ALERT_THRESHOLDS,
  destination,
  footprintRadiusKm,
  INTENSITY_MODELS,
  intensityModelFor,
  isBackArc,
  isVranceaIntermediateDepth,
  predictMmi,
  ruptureLengthKm,
  VRANCEA_CALIBRATION,
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
  it('Vrancea intermediate depth uses the recalibrated Vrancea model; shallow Vrancea and elsewhere use AWW12', () => {
    expect(intensityModelFor(VRANCEA_1977).name).toBe('vrancea-calibrated');
    expect(intensityModelFor({ ...VRANCEA_1977, magnitude: 6.5, depthKm: 10 }).name).toBe('aww12-hypocentral');
    expect(intensityModelFor({ ...VRANCEA_1977, lat: 38 }).name).toBe('aww12-hypocentral');
    expect(isVranceaIntermediateDepth(45.5, 26.5, 140)).toBe(true);
    // Unknown depth is not an intermediate depth: it is taken as 10 km.
    expect(intensityModelFor({ ...VRANCEA_1977, depthKnown: false }).name).not.toBe('vrancea-calibrated');
  });

  it('a given rupture uses the rupture form; M ≥ 7 shallow without one gets a line source; smaller a point', () => {
    const rupture = loadRupture();
    const withRupture = intensityModelFor(KAHRAMANMARAS, { rupture });
    expect(withRupture.name).toBe('aww12-rupture');
    expect(withRupture.source).toMatchObject({ kind: 'rupture', traces: rupture.traces.length });
    const line = intensityModelFor({ ...KAHRAMANMARAS, magnitude: 7.2 });
    expect(line.name).toBe('aww12-line-source');
    expect(line.source).toMatchObject({ kind: 'line', lengthKm: Math.round(ruptureLengthKm(7.2)) });
    expect(intensityModelFor({ ...KAHRAMANMARAS, magnitude: 6.9 }).source.kind).toBe('point');
    expect(intensityModelFor({ ...KAHRAMANMARAS, magnitude: 7.2 }, { lineSource: false }).name).toBe(
      'aww12-hypocentral',
    );
    // Deep events keep a point source: a 563 km deep M8.2 has no surface-length rupture.
    expect(intensityModelFor({ magnitude: 8.2, lat: -18.1, lon: -178.15, depthKm: 563 }).source.kind).toBe('point');
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
        fc.constantFrom(
          'aww12-hypocentral',
          'aww12-rupture',
          'aww12-line-source',
          'aw07-california',
          'aw07-ceus',
          'vacareanu15-vrancea',
          'vrancea-calibrated',
        ),
        fc.double({ min: 3, max: 8.5, noNaN: true }),
        fc.double({ min: 0, max: 360, noNaN: true }),
        // Beyond ~450 km a few northern rays leave the arc again (Carpathian foreland of Ukraine and Poland).
        fc.double({ min: 0, max: 450, noNaN: true }),
        (model, m, bearing, d) => {
          const q = { ...VRANCEA_1977, magnitude: m };
          const f = intensityModelFor(q, {
            model: model as never,
            rupture: model === 'aww12-rupture' ? undefined : rupture,
          });
          const [la1, lo1] = destination(q.lat, q.lon, bearing, d);
          const [la2, lo2] = destination(q.lat, q.lon, bearing, d + 20);
          // Within 450 km a ray only goes from fore-arc into the arc, which lowers MMI further.
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
    ['Craiova (Oltenia, south-west of the bend)', 'fore', 44.32, 23.8],
    ['Pitești (below the Southern Carpathians)', 'fore', 44.86, 24.87],
    ['Câmpina (Prahova valley, outside the bend)', 'fore', 45.13, 25.74],
    ['Belgrade (south of the Danube)', 'fore', 44.79, 20.45],
    ['Brașov', 'back', 45.66, 25.61],
    ['Cluj-Napoca', 'back', 46.77, 23.6],
    ['Sibiu', 'back', 45.79, 24.15],
    ['Budapest', 'back', 47.5, 19.04],
    ['Sfântu Gheorghe (Brașov depression)', 'back', 45.86, 25.79],
    ['Făgăraș', 'back', 45.84, 24.97],
  ])('%s is %s-arc', (_name, expected, lat, lon) => {
    expect(side(lat, lon)).toBe(expected);
  });

  it('at equal distance, the fore-arc site is predicted 2+ units above the back-arc site', () => {
    const m = intensityModelFor(VRANCEA_1977);
    const cluj = m.predict(46.77, 23.6); // 267 km, back-arc
    const [la, lo] = destination(VRANCEA_1977.lat, VRANCEA_1977.lon, 45, 267); // NE: Moldova, fore-arc
    expect(m.predict(la, lo) - cluj).toBeGreaterThan(2);
  });

  it('Bucharest 1977: about VII, take-action (observed VIII–IX MSK, see docs/seismology.md)', () => {
    const mmi = predictMmi(VRANCEA_1977, { lat: 44.43, lon: 26.1 });
    expect(mmi).toBeGreaterThan(6.5);
    expect(mmi).toBeLessThan(7.5);
  });

  it('the Brașov depression, just behind the bend, keeps VI or more in 1977; the Transylvanian basin drops', () => {
    const m = intensityModelFor(VRANCEA_1977);
    expect(m.predict(45.66, 25.61)).toBeGreaterThan(6); // Brașov
    expect(m.predict(46.77, 23.6)).toBeLessThan(4.5); // Cluj-Napoca
  });

  it('the committed calibration is what bench/vrancea-calibration.ts fits on the fit half', () => {
    expect(fitVrancea()).toEqual(VRANCEA_CALIBRATION);
  });

  it('held-out 1990 intensities: |bias| ≤ 0.3, MAE ≤ 0.8, missed take-action ≤ 10 %, false ≤ 15 % (issue 13 goal)', () => {
    const held = loadVrancea1990().filter(isHeldOutSite);
    const m = intensityModelFor(VRANCEA_1990);
    const res = held.map((o) => o.mmi - m.predict(o.lat, o.lon));
    const bias = res.reduce((a, b) => a + b, 0) / res.length;
    const mae = res.reduce((a, b) => a + Math.abs(b), 0) / res.length;
    const atLeastV = held.filter((o) => o.mmi >= 5);
    const atMostIV = held.filter((o) => o.mmi <= 4);
    const missed = atLeastV.filter((o) => m.level(o.lat, o.lon) !== 'take-action').length / atLeastV.length;
    const falseAlarms = atMostIV.filter((o) => m.level(o.lat, o.lon) === 'take-action').length / atMostIV.length;
    expect(held.length).toBeGreaterThan(800);
    expect(Math.abs(bias)).toBeLessThanOrEqual(0.3);
    expect(mae).toBeLessThanOrEqual(0.8);
    expect(missed).toBeLessThanOrEqual(0.1);
    expect(falseAlarms).toBeLessThanOrEqual(0.15);
  });
});

describe('assess: the per-subscriber decision', () => {
  it('agrees with predict, sigma, probabilityAtLeast and level for every model and policy', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...INTENSITY_MODELS),
        fc.double({ min: 3, max: 8.5, noNaN: true }),
        fc.double({ min: 0, max: 360, noNaN: true }),
        fc.double({ min: 0, max: 800, noNaN: true }),
        fc.constantFrom(2, 3, 4, 5, 6),
        fc.constantFrom(0.1, 0.3, 0.5),
        (model, mag, bearing, d, minMmi, probability) => {
          const m = intensityModelFor({ ...VRANCEA_1977, magnitude: mag }, { model });
          const [la, lo] = destination(VRANCEA_1977.lat, VRANCEA_1977.lon, bearing, d);
          const policy = { probability, thresholds: DEFAULT_ALERT_THRESHOLDS };
          const a = m.assess(la, lo, minMmi, policy);
          expect(a.mmi).toBe(m.predict(la, lo));
          expect(a.sigma).toBe(m.sigma(la, lo));
          expect(a.probability).toBe(m.probabilityAtLeast(la, lo, minMmi));
          expect(a.notify).toBe(a.probability >= probability);
          expect(a.level).toBe(m.level(la, lo, policy));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('near-source floor and unknown depth', () => {
  it('no M < 4 event predicts above 4.9 anywhere, whatever its depth (≤ 0 included); M < 3.6 is never take-action', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -2, max: 3.999, noNaN: true }),
        fc.double({ min: -10, max: 40, noNaN: true }),
        fc.double({ min: 0, max: 50, noNaN: true }),
        (mag, depthKm, d) => {
          const q = { magnitude: mag, lat: 36.89, lon: -121.6, depthKm };
          const m = intensityModelFor(q);
          const [la, lo] = destination(q.lat, q.lon, 30, d);
          expect(m.predict(la, lo)).toBeLessThan(4.9);
          if (mag < 3.6) expect(m.level(la, lo)).not.toBe('take-action');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('the issue case: M3.0 at depth 0 under the site is be-aware at most, not MMI 10', () => {
    const m = intensityModelFor({ magnitude: 3, lat: 36.89, lon: -121.6, depthKm: 0 });
    expect(m.predict(36.89, -121.6)).toBeLessThan(4);
    expect(m.level(36.89, -121.6)).not.toBe('take-action');
  });

  it('the floor leaves large events alone (M ≥ 6.4: Allen et al.’s own near-source term is larger)', () => {
    for (const [m, r] of [
      [6.5, 5],
      [7.8, 0],
    ]) {
      const q = { magnitude: m, lat: 0, lon: 0, depthKm: r };
      expect(predictMmi(q, { lat: 0, lon: 0 }, { lineSource: false })).toBeCloseTo(aww12Hypocentral(m, r), 9);
    }
  });

  it('unknown depth is taken as 10 km, not 0', () => {
    const known0 = intensityModelFor({ magnitude: 5, lat: 0, lon: 0, depthKm: 0 });
    const unknown = intensityModelFor({ magnitude: 5, lat: 0, lon: 0, depthKm: 0, depthKnown: false });
    const at10 = intensityModelFor({ magnitude: 5, lat: 0, lon: 0, depthKm: 10 });
    expect(unknown.predict(0, 0)).toBeCloseTo(at10.predict(0, 0), 9);
    expect(unknown.predict(0, 0)).toBeLessThan(known0.predict(0, 0));
  });
});

describe('line source for great earthquakes without a rupture', () => {
  it('Valdivia 1960 (M9.5): sites along a 1,460 km line get near-fault intensity; footprint far beyond the point', () => {
    const q = { magnitude: 9.5, lat: -38.24, lon: -73.05, depthKm: 25 };
    const line = intensityModelFor(q);
    const point = intensityModelFor(q, { lineSource: false });
    expect(line.source).toMatchObject({ kind: 'line', lengthKm: 1462 });
    const [la, lo] = destination(q.lat, q.lon, 180, 600); // 600 km south: Chiloé/Aysén, inside the 1960 rupture
    expect(line.predict(la, lo)).toBeGreaterThan(point.predict(la, lo) + 1); // 7.9 against 6.8
    const [fa, fo] = destination(q.lat, q.lon, 180, 700);
    expect(line.predict(fa, fo)).toBeGreaterThan(point.predict(fa, fo) + 1);
    expect(line.footprintRadiusKm(7)).toBeGreaterThan(point.footprintRadiusKm(7) + 200);
  });

  it('is conservative in distance: never below the same equation on the point source', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 7, max: 9.5, noNaN: true }),
        fc.double({ min: 0, max: 360, noNaN: true }),
        fc.double({ min: 0, max: 2000, noNaN: true }),
        (m, bearing, d) => {
          const q = { magnitude: m, lat: 10, lon: 100, depthKm: 15 };
          const [la, lo] = destination(q.lat, q.lon, bearing, d);
          const line = intensityModelFor(q).predict(la, lo);
          const point = intensityModelFor(q, { model: 'aww12-rupture', lineSource: false }).predict(la, lo);
          expect(line).toBeGreaterThanOrEqual(point - 1e-9);
        },
      ),
    );
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

  it('is tight for radially symmetric models at probability 0.5: just inside ≥ threshold, just outside below', () => {
    const q = { magnitude: 6.5, lat: 38, lon: 23, depthKm: 12 };
    const r5 = footprintRadiusKm(q, 5, {}, 0.5);
    expect(r5).toBeGreaterThan(10);
    const [la1, lo1] = destination(q.lat, q.lon, 90, r5 - 0.5);
    const [la2, lo2] = destination(q.lat, q.lon, 90, r5 + 0.5);
    expect(predictMmi(q, { lat: la1, lon: lo1 })).toBeGreaterThanOrEqual(5);
    expect(predictMmi(q, { lat: la2, lon: lo2 })).toBeLessThan(5);
    expect(footprintRadiusKm(q, 3, {}, 0.5)).toBeGreaterThan(r5);
  });

  it('honours the alert probability: every site alerted at probability p lies inside footprintRadiusKm(T, p)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 3, max: 8.5, noNaN: true }),
        fc.constantFrom(0, 10, 94, 150),
        fc.constantFrom(3, 4, 5, 6),
        fc.constantFrom(0.1, 0.3, 0.5, 0.7),
        fc.double({ min: 0, max: 360, noNaN: true }),
        fc.double({ min: 0, max: 1500, noNaN: true }),
        (m, depthKm, threshold, p, bearing, d) => {
          const q = { ...VRANCEA_1977, magnitude: m, depthKm };
          const model = intensityModelFor(q);
          const [la, lo] = destination(q.lat, q.lon, bearing, d);
          if (model.probabilityAtLeast(la, lo, threshold) >= p) {
            expect(d).toBeLessThanOrEqual(model.footprintRadiusKm(threshold, p));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a lower alert probability widens the footprint', () => {
    const q = { magnitude: 6, lat: 38, lon: 23, depthKm: 10 };
    const m = intensityModelFor(q);
    expect(m.footprintRadiusKm(5, 0.1)).toBeGreaterThan(m.footprintRadiusKm(5, 0.3));
    expect(m.footprintRadiusKm(5, 0.3)).toBeGreaterThan(m.footprintRadiusKm(5, 0.5));
    expect(m.footprintRadiusKm(5)).toBe(m.footprintRadiusKm(5, DEFAULT_ALERT_PROBABILITY));
  });

  it('is 0 when no site reaches the threshold', () => {
    expect(footprintRadiusKm({ magnitude: 2, lat: 0, lon: 0, depthKm: 10 }, 5)).toBe(0);
  });

  it('with a rupture it reaches beyond the rupture end', () => {
    const rupture = loadRupture();
    // The rupture reaches about 200 km from the epicentre; MMI 5 extends well past that.
    // Median footprints (probability 0.5): the rupture form's σ is smaller than the hypocentral form's.
    expect(footprintRadiusKm(KAHRAMANMARAS, 5, { rupture }, 0.5)).toBeGreaterThan(
      footprintRadiusKm(KAHRAMANMARAS, 5, { lineSource: false }, 0.5),
    );
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
