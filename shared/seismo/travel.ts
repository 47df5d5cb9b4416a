/**
 * Travel times and warning time (system.md section 11) from the ak135 Earth model (Kennett, Engdahl & Buland 1995,
 * Geophys. J. Int. 122:108–124): first-arrival P and S times for a surface site, precomputed by ray tracing over
 * source depth 0–700 km and epicentral distance 0–40° (`ak135-table.json`, written by `node bench/gen-ak135-table.ts`)
 * and interpolated linearly in depth and distance. The first arrival includes the direct wave near the source and
 * Pn/Sn (diving just below the Moho) at regional distance. Against TauP's ak135 (ObsPy 1.5.1) the interpolated table
 * is within 0.11 s / 0.7 % at 400 random depths and distances (test/unit/seismo-travel.test.ts).
 *
 * Replaces constant 6.5 / 3.5 km/s over the hypocentral distance, which made S up to 20 % late near a deep source
 * (Vrancea → Bucharest 52.5 s instead of 43.8 s) and 40–55 s late for deep-focus events: late S overstates warning time.
 *
 * Hot path: `travelTimeCurve(phase, depthKm)` interpolates the two depth rows once; a lookup is then an index and one
 * linear interpolation (tens of millions per second, `node bench/travel-times.ts`). Per-call functions below reuse
 * curves through a small cache keyed by depth.
 */

import TABLE from './ak135-table.json' with { type: 'json' };
import { EARTH_RADIUS_KM, haversineKm } from './geodesy.ts';
import { UNKNOWN_DEPTH_KM } from './intensity.ts';

export interface Hypocentre {
  lat: number;
  lon: number;
  depthKm: number;
  /** False when the feed gave no depth: timed from `UNKNOWN_DEPTH_KM` like the intensity. Absent means known. */
  depthKnown?: boolean;
}

const depthOf = (q: Hypocentre) => (q.depthKnown === false ? UNKNOWN_DEPTH_KM : q.depthKm);

export interface Site {
  lat: number;
  lon: number;
}

export type Phase = 'P' | 'S';

/** Kilometres per degree of epicentral distance on the sphere `epicentralKm` uses. */
export const KM_PER_DEGREE = (EARTH_RADIUS_KM * Math.PI) / 180;
/** Deepest source depth in the table (km); deeper foci are timed as 700 km (the deepest earthquakes are about 700 km). */
export const TRAVEL_TABLE_MAX_DEPTH_KM = TABLE.depthsKm[TABLE.depthsKm.length - 1];
/** Largest tabulated distance (degrees); beyond it times are extrapolated with the last slope (slowness). */
export const TRAVEL_TABLE_MAX_DEG = TABLE.maxDeg;

const FINE_N = Math.round(TABLE.fineToDeg / TABLE.fineStepDeg); // fine samples before fineToDeg
const N_DIST = FINE_N + Math.round((TABLE.maxDeg - TABLE.fineToDeg) / TABLE.coarseStepDeg) + 1;

export function epicentralKm(q: Hypocentre, site: Site): number {
  return haversineKm(q.lat, q.lon, site.lat, site.lon);
}

/** Straight-line distance from the hypocentre to the site (depth clipped at 0: above-sea-level foci count as 0). */
export function hypocentralKm(q: Hypocentre, site: Site): number {
  const d = epicentralKm(q, site);
  const z = Math.max(0, q.depthKm);
  return Math.sqrt(d * d + z * z);
}

/** First-arrival time (s after origin) of one phase as a function of epicentral distance, for one source depth. */
export interface TravelTimeCurve {
  readonly phase: Phase;
  readonly depthKm: number;
  /** Seconds after origin at epicentral distance `km` (≥ 0). */
  timeAtKm(km: number): number;
  /** Epicentral distance (km) the first arrival has reached `seconds` after origin; 0 before it reaches the surface. */
  distanceAtS(seconds: number): number;
}

/** Distance in degrees of grid index i. */
function gridDeg(i: number): number {
  return i <= FINE_N ? i * TABLE.fineStepDeg : TABLE.fineToDeg + (i - FINE_N) * TABLE.coarseStepDeg;
}

/**
 * The curve for a source depth (km; clipped to 0–700). Depth interpolation is linear between the two tabulated
 * depths around it (5 km apart to 100 km, then 10 km).
 */
export function travelTimeCurve(phase: Phase, depthKm: number): TravelTimeCurve {
  const rows = phase === 'P' ? TABLE.p : TABLE.s;
  const depths = TABLE.depthsKm;
  const z = Math.min(TRAVEL_TABLE_MAX_DEPTH_KM, Math.max(0, Number.isFinite(depthKm) ? depthKm : 0));
  let i = 0;
  while (i < depths.length - 2 && depths[i + 1] < z) i++;
  const f = (z - depths[i]) / (depths[i + 1] - depths[i]);
  const t = new Float64Array(N_DIST);
  for (let k = 0; k < N_DIST; k++) t[k] = rows[i][k] + (rows[i + 1][k] - rows[i][k]) * f;
  const lastSlope = (t[N_DIST - 1] - t[N_DIST - 2]) / TABLE.coarseStepDeg;
  const fineInv = 1 / TABLE.fineStepDeg;
  const coarseInv = 1 / TABLE.coarseStepDeg;

  const timeAtDeg = (deg: number): number => {
    if (!(deg > 0)) return t[0];
    if (deg >= TABLE.maxDeg) return t[N_DIST - 1] + (deg - TABLE.maxDeg) * lastSlope;
    let x: number;
    let k: number;
    if (deg < TABLE.fineToDeg) {
      x = deg * fineInv;
      k = Math.floor(x);
    } else {
      x = FINE_N + (deg - TABLE.fineToDeg) * coarseInv;
      k = Math.min(N_DIST - 2, Math.floor(x));
    }
    return t[k] + (t[k + 1] - t[k]) * (x - k);
  };

  return {
    phase,
    depthKm: z,
    timeAtKm: (km) => timeAtDeg(km / KM_PER_DEGREE),
    distanceAtS: (seconds) => {
      if (!(seconds > t[0])) return 0;
      if (seconds >= t[N_DIST - 1]) return (TABLE.maxDeg + (seconds - t[N_DIST - 1]) / lastSlope) * KM_PER_DEGREE;
      // First arrivals rise monotonically with distance: bisect the grid, then interpolate within the cell.
      let lo = 0;
      let hi = N_DIST - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (t[mid] <= seconds) lo = mid;
        else hi = mid;
      }
      const a = gridDeg(lo);
      const b = gridDeg(hi);
      return (a + ((b - a) * (seconds - t[lo])) / (t[hi] - t[lo])) * KM_PER_DEGREE;
    },
  };
}

// Curves for the per-call functions, keyed by phase and depth to 0.1 km; a handful of events are live at once.
const cache = new Map<string, TravelTimeCurve>();
function cachedCurve(phase: Phase, depthKm: number): TravelTimeCurve {
  const key = `${phase}${Math.round(depthKm * 10)}`;
  let c = cache.get(key);
  if (!c) {
    if (cache.size >= 64) cache.delete(cache.keys().next().value as string);
    c = travelTimeCurve(phase, Math.round(depthKm * 10) / 10);
    cache.set(key, c);
  }
  return c;
}

/** Seconds after origin at which the first P wave reaches the site (ak135). */
export function pTravelTimeS(q: Hypocentre, site: Site): number {
  return cachedCurve('P', depthOf(q)).timeAtKm(epicentralKm(q, site));
}

/** Seconds after origin at which the first S wave — the damaging shaking — reaches the site (ak135). */
export function sTravelTimeS(q: Hypocentre, site: Site): number {
  return cachedCurve('S', depthOf(q)).timeAtKm(epicentralKm(q, site));
}

/**
 * Warning time: seconds between delivery at `atMs` (epoch ms) and the S wave's arrival. Negative means the shaking
 * came first (the site was in the blind zone for this delivery).
 */
export function secondsUntilShaking(q: Hypocentre & { originTime: number }, site: Site, atMs: number): number {
  return q.originTime / 1000 + sTravelTimeS(q, site) - atMs / 1000;
}

/**
 * Radius (epicentral km) of the blind zone for an alert delivered `delayS` seconds after origin: inside it the S wave
 * arrives before the alert. 0 while the S wave has not yet reached the surface (deep events).
 */
export function blindZoneRadiusKm(depthKm: number, delayS: number): number {
  return cachedCurve('S', depthKm).distanceAtS(Math.max(0, delayS));
}
