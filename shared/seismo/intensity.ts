/**
 * Predicted Modified Mercalli Intensity at a site, and the footprint used for fan-out planning.
 *
 * Which equation (see docs/seismology.md for the validation behind these choices):
 * - Vrancea intermediate-depth events (`vrancea.ts`): Vacareanu et al. (2015) PGA with its fore-arc / back-arc term,
 *   converted to MMI with Worden et al. (2012). California-calibrated intensity equations under-predict these deep
 *   events by 1–2 units at 100–300 km and cannot tell the two sides of the Carpathians apart.
 * - M 7.5+ with a known rupture: Allen, Wald & Worden (2012) rupture-distance form.
 * - Everything else: Allen, Wald & Worden (2012) hypocentral form. It is fitted to global active-crust data (not
 *   California only), it takes depth into account through R_hyp, and it is the better generic form on deep events.
 * Atkinson & Wald (2007) California / CEUS stay available through `opts.model` for comparison.
 *
 * Hot path: `intensityModelFor(quake)` does the per-event work once and returns a closure; one prediction is a
 * haversine plus a log or two (about 10⁷ per second on one core).
 */
import {
  AW07_CA,
  AW07_CEUS,
  aw07,
  aww12Hypocentral,
  aww12Rupture,
  vacareanu15LnPga,
  wgrw12MmiFromPga,
} from './equations.ts';
import { EARTH_RADIUS_KM } from './geodesy.ts';
import { type Rupture, ruptureDistanceKm, ruptureReachKm } from './rupture.ts';
import { isBackArc, isVranceaIntermediateDepth } from './vrancea.ts';

export type IntensityModelName =
  | 'aww12-hypocentral'
  | 'aww12-rupture'
  | 'aw07-california'
  | 'aw07-ceus'
  | 'vacareanu15-vrancea';

export const INTENSITY_MODELS: readonly IntensityModelName[] = [
  'aww12-hypocentral',
  'aww12-rupture',
  'aw07-california',
  'aw07-ceus',
  'vacareanu15-vrancea',
];

/** What the seismology needs of an event (a `Quake` fits). */
export interface QuakeSource {
  magnitude: number;
  lat: number;
  lon: number;
  depthKm: number;
}

export interface SiteLocation {
  lat: number;
  lon: number;
}

export interface PredictOptions {
  /** Force an equation instead of the automatic choice. */
  model?: IntensityModelName;
  /** A known finite rupture; used for M ≥ `ruptureMinMagnitude` (or always when `model` is 'aww12-rupture'). */
  rupture?: Rupture;
  /** Default 7.5. */
  ruptureMinMagnitude?: number;
}

export interface IntensityModel {
  readonly name: IntensityModelName;
  /** Predicted MMI at a site, clipped to 1–10. */
  predict(lat: number, lon: number): number;
  /** Largest epicentral distance (km) at which some site can reach `mmi`; 0 when none can. */
  footprintRadiusKm(mmi: number): number;
}

export const MMI_MIN = 1;
export const MMI_MAX = 10;
/** The footprint search stops here: beyond ~3000 km no equation here is meaningful. */
export const FOOTPRINT_MAX_KM = 3000;

const RAD = Math.PI / 180;

export function chooseModel(q: QuakeSource, opts: PredictOptions = {}): IntensityModelName {
  if (opts.model) return opts.model;
  if (isVranceaIntermediateDepth(q.lat, q.lon, q.depthKm)) return 'vacareanu15-vrancea';
  if (opts.rupture && q.magnitude >= (opts.ruptureMinMagnitude ?? 7.5)) return 'aww12-rupture';
  return 'aww12-hypocentral';
}

export function intensityModelFor(q: QuakeSource, opts: PredictOptions = {}): IntensityModel {
  const name = chooseModel(q, opts);
  const m = q.magnitude;
  const z = Math.max(0, q.depthKm);
  const z2 = z * z;
  const lat0 = q.lat * RAD;
  const lon0 = q.lon * RAD;
  const cosLat0 = Math.cos(lat0);
  // Epicentral distance, haversine with the source's trigonometry precomputed.
  const epi = (lat: number, lon: number): number => {
    const la = lat * RAD;
    const s = Math.sin((la - lat0) / 2);
    const t = Math.sin((lon * RAD - lon0) / 2);
    const a = s * s + cosLat0 * Math.cos(la) * t * t;
    return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
  };
  // Each model's MMI as a function of epicentral distance along its most-shaking direction (for the footprint).
  let byDistance: (d: number) => number;
  let predict: (lat: number, lon: number) => number;

  switch (name) {
    case 'vacareanu15-vrancea': {
      const mmiAt = (d: number, backArc: boolean) =>
        wgrw12MmiFromPga(Math.exp(vacareanu15LnPga(m, Math.sqrt(d * d + z2), z, backArc)));
      predict = (lat, lon) => mmiAt(epi(lat, lon), isBackArc(q.lat, q.lon, lat, lon));
      // The fore-arc term attenuates less: the fore-arc curve bounds every direction, so the footprint never misses.
      byDistance = (d) => mmiAt(d, false);
      break;
    }
    case 'aww12-rupture': {
      const rupture = opts.rupture;
      if (!rupture) {
        // No rupture known: the hypocentre is the rupture.
        byDistance = (d) => aww12Rupture(m, Math.sqrt(d * d + z2));
        predict = (lat, lon) => byDistance(epi(lat, lon));
        break;
      }
      const reach = ruptureReachKm(rupture, q.lat, q.lon);
      const top2 = rupture.topKm * rupture.topKm;
      predict = (lat, lon) => aww12Rupture(m, ruptureDistanceKm(rupture, lat, lon));
      // A site at epicentral distance d is at least d − reach from the rupture's trace.
      byDistance = (d) => {
        const x = Math.max(0, d - reach);
        return aww12Rupture(m, Math.sqrt(x * x + top2));
      };
      break;
    }
    case 'aw07-california':
    case 'aw07-ceus': {
      const c = name === 'aw07-ceus' ? AW07_CEUS : AW07_CA;
      byDistance = (d) => aw07(m, Math.sqrt(d * d + z2), c);
      predict = (lat, lon) => byDistance(epi(lat, lon));
      break;
    }
    default: {
      byDistance = (d) => aww12Hypocentral(m, Math.sqrt(d * d + z2));
      predict = (lat, lon) => byDistance(epi(lat, lon));
    }
  }

  return {
    name,
    predict: (lat, lon) => clipMmi(predict(lat, lon)),
    footprintRadiusKm: (mmi) => searchRadius((d) => clipMmi(byDistance(d)), mmi),
  };
}

export function clipMmi(x: number): number {
  if (Number.isNaN(x)) return MMI_MIN;
  return Math.min(MMI_MAX, Math.max(MMI_MIN, x));
}

/**
 * Largest d in [0, FOOTPRINT_MAX_KM] with f(d) ≥ threshold, for f non-increasing in d (every equation here decays
 * with distance). Bisection to 0.1 km, then rounded up so that a site on the boundary is inside.
 */
function searchRadius(f: (d: number) => number, threshold: number): number {
  if (!(f(0) >= threshold)) return 0;
  if (f(FOOTPRINT_MAX_KM) >= threshold) return FOOTPRINT_MAX_KM;
  let lo = 0;
  let hi = FOOTPRINT_MAX_KM;
  while (hi - lo > 0.05) {
    const mid = (lo + hi) / 2;
    if (f(mid) >= threshold) lo = mid;
    else hi = mid;
  }
  return Math.ceil(hi * 10) / 10;
}

/** One-off prediction. For many sites of one event use `intensityModelFor(quake).predict`. */
export function predictMmi(q: QuakeSource, site: SiteLocation, opts?: PredictOptions): number {
  return intensityModelFor(q, opts).predict(site.lat, site.lon);
}

/** Largest epicentral distance (km) at which predicted MMI reaches `mmi`, over all directions. */
export function footprintRadiusKm(q: QuakeSource, mmi: number, opts?: PredictOptions): number {
  return intensityModelFor(q, opts).footprintRadiusKm(mmi);
}
