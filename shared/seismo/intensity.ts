/**
 * Predicted Modified Mercalli Intensity at a site, its uncertainty, and the footprint used for fan-out planning.
 *
 * Which equation (see docs/seismology.md for the validation behind these choices):
 * - Vrancea intermediate-depth events (`vrancea.ts`): Vacareanu et al. (2015) PGA converted to MMI with Worden et al.
 *   (2012), recalibrated on observed intensities of the 1990-05-30 event (`vrancea-calibrated`): fore-arc sites up to
 *   a unit higher than the published model, back-arc sites falling with the path length behind the Carpathian crest.
 * - A known finite rupture (`opts.rupture`): Allen, Wald & Worden (2012) rupture-distance form.
 * - M ≥ 7 shallower than 70 km without a rupture (`aww12-line-source`): a line of the Wells & Coppersmith (1994)
 *   length, centred on the epicentre, of unknown strike: every site is taken at the distance of the nearest possible
 *   line (d − L/2), which is conservative in distance (it over-predicts across strike, never under-predicts along it),
 *   with the rupture-distance form.
 * - Everything else: Allen, Wald & Worden (2012) hypocentral form.
 * Atkinson & Wald (2007) California / CEUS and the uncalibrated Vacareanu (2015) stay available through `opts.model`.
 *
 * Near-source saturation: the distance term never uses less than `NEAR_SOURCE_MIN_KM` (8 km) of near-source term, so
 * a small event at depth ≤ 0 does not predict MMI 9–10 at its epicentre (Allen et al. 2012's R_M → 0.07 km at M3, an
 * extrapolation outside their M5–7.9 data). Unknown depth (`depthKnown: false`) is taken as `UNKNOWN_DEPTH_KM`.
 *
 * Uncertainty: each model states σ (MMI units) at a site; `probabilityAtLeast` and `footprintRadiusKm(mmi, p)` use it
 * (normal residuals in MMI). The alert policy itself is in `alert.ts`.
 *
 * Hot path: `intensityModelFor(quake)` does the per-event work once and returns closures; one prediction is a
 * haversine plus a log or two (millions per second; `node bench/ipe-validation.ts` measures it).
 */
import {
  type AlertLevel,
  type AlertPolicy,
  alertMarginMmi,
  DEFAULT_ALERT_POLICY,
  DEFAULT_ALERT_PROBABILITY,
  exceedanceProbability,
} from './alert.ts';
import {
  AW07_CA,
  AW07_CEUS,
  AW07_SIGMA_ASSUMED,
  aw07,
  aww12Hypocentral,
  aww12Rupture,
  aww12Sigma,
  VACAREANU15_PGA,
  vacareanu15LnPga,
  WGRW12_SIGMA_MMI_PGA,
  wgrw12MmiFromPga,
  wgrw12SlopePerLn,
} from './equations.ts';
import { EARTH_RADIUS_KM } from './geodesy.ts';
import { type Rupture, ruptureDistanceKm, ruptureReachKm } from './rupture.ts';
import {
  arcDistanceKm,
  isBackArc,
  isVranceaIntermediateDepth,
  VRANCEA_CALIBRATION,
  vranceaCorrection,
} from './vrancea.ts';

export type IntensityModelName =
  | 'aww12-hypocentral'
  | 'aww12-rupture'
  | 'aww12-line-source'
  | 'aw07-california'
  | 'aw07-ceus'
  | 'vacareanu15-vrancea'
  | 'vrancea-calibrated';

export const INTENSITY_MODELS: readonly IntensityModelName[] = [
  'aww12-hypocentral',
  'aww12-rupture',
  'aww12-line-source',
  'aw07-california',
  'aw07-ceus',
  'vacareanu15-vrancea',
  'vrancea-calibrated',
];

/** What the seismology needs of an event (a `Quake` fits). */
export interface QuakeSource {
  magnitude: number;
  lat: number;
  lon: number;
  depthKm: number;
  /** False when the feed gave no depth (the parser's 0 is then not a depth). Absent means known. */
  depthKnown?: boolean;
}

export interface SiteLocation {
  lat: number;
  lon: number;
}

export interface PredictOptions {
  /** Force an equation instead of the automatic choice. */
  model?: IntensityModelName;
  /** A known finite rupture (e.g. a USGS finite-fault model); uses the rupture-distance form at any magnitude. */
  rupture?: Rupture;
  /** Use a magnitude-scaled line source for M ≥ `LINE_SOURCE_MIN_MAGNITUDE` without a rupture (default true). */
  lineSource?: boolean;
}

/** The source geometry a model used: stated in `predict -o json` and in the docs' validation. */
export type SourceGeometry =
  | { kind: 'point' }
  | { kind: 'rupture'; traces: number; topKm: number }
  | { kind: 'line'; lengthKm: number; topKm: number; scaling: 'Wells & Coppersmith 1994, subsurface length, all slip' };

/** Everything the segment worker decides for one subscriber (`IntensityModel.assess`). */
export interface SiteAssessment {
  /** Predicted (median) MMI, clipped to 1–10: the number the alert text shows. */
  mmi: number;
  /** σ of the prediction (MMI units). */
  sigma: number;
  /** P(MMI ≥ the subscriber's threshold). */
  probability: number;
  /** probability ≥ the policy's level: send an alert. */
  notify: boolean;
  /** Level under the policy; at least `be-aware` is the worker's business when `notify` is true. */
  level: AlertLevel;
}

export interface IntensityModel {
  readonly name: IntensityModelName;
  readonly source: SourceGeometry;
  /** Predicted (median) MMI at a site, clipped to 1–10. */
  predict(lat: number, lon: number): number;
  /** σ of the prediction at a site (MMI units). */
  sigma(lat: number, lon: number): number;
  /** Probability (0–1) that MMI at the site reaches `threshold`. */
  probabilityAtLeast(lat: number, lon: number, threshold: number): number;
  /** Alert level under a probability policy (alert.ts `alertLevelWithUncertainty`). */
  level(lat: number, lon: number, policy?: AlertPolicy): AlertLevel;
  /**
   * The whole decision for a subscriber with threshold `minMmi` under `policy` (default: the default policy): what
   * the worker calls per subscriber. Same results as `predict`, `sigma`, `probabilityAtLeast` and `level`.
   */
  assess(lat: number, lon: number, minMmi: number, policy?: AlertPolicy): SiteAssessment;
  /**
   * Largest epicentral distance (km) at which some site can reach `mmi` with probability ≥ `probability` (default: the
   * default alert policy's level); 0 when none can. With probability 0.5 it is the median footprint.
   */
  footprintRadiusKm(mmi: number, probability?: number): number;
}

export const MMI_MIN = 1;
export const MMI_MAX = 10;
/** The footprint search stops here: beyond ~3000 km no equation here is meaningful. */
export const FOOTPRINT_MAX_KM = 3000;
/**
 * Least near-source term (km) in every distance: a finite source is never closer than this to a site. Chosen so that
 * an M3 event at depth ≤ 0 predicts at most about MMI 3.5 at its epicentre and an M3.9 about 4.8 — what such events
 * produce (the largest "Did You Feel It?" intensity of M < 4 events in the USGS week of 2023-04-07 is 2–5, median 2;
 * docs/seismology.md, small events). For M ≥ 6.4 Allen et al.'s own near-source terms are larger, so the floor changes
 * nothing there.
 */
export const NEAR_SOURCE_MIN_KM = 8;
/** Depth assumed when the feed has none: the depth catalogues fix for shallow events they cannot constrain. */
export const UNKNOWN_DEPTH_KM = 10;
/** Without a rupture, events from this magnitude (and shallower than `LINE_SOURCE_MAX_DEPTH_KM`) get a line source. */
export const LINE_SOURCE_MIN_MAGNITUDE = 7;
export const LINE_SOURCE_MAX_DEPTH_KM = 70;
/** Longest line source (km): Valdivia 1960, the largest rupture recorded, was about 1000 km. */
export const LINE_SOURCE_MAX_KM = 1500;

const RAD = Math.PI / 180;

/** Focal depth (km) the equations use: unknown → `UNKNOWN_DEPTH_KM`, above sea level → 0. */
export function effectiveDepthKm(q: QuakeSource): number {
  if (q.depthKnown === false || !Number.isFinite(q.depthKm)) return UNKNOWN_DEPTH_KM;
  return Math.max(0, q.depthKm);
}

/**
 * Wells & Coppersmith (1994, BSSA 84:974), subsurface rupture length, all slip types: log10 L = −2.44 + 0.59·M
 * (their table 2A; M 4.8–8.1). Capped at `LINE_SOURCE_MAX_KM`.
 */
export function ruptureLengthKm(m: number): number {
  return Math.min(LINE_SOURCE_MAX_KM, 10 ** (-2.44 + 0.59 * m));
}

export function chooseModel(q: QuakeSource, opts: PredictOptions = {}): IntensityModelName {
  if (opts.model) return opts.model;
  const z = effectiveDepthKm(q);
  if (q.depthKnown !== false && isVranceaIntermediateDepth(q.lat, q.lon, z)) return 'vrancea-calibrated';
  if (opts.rupture) return 'aww12-rupture';
  if (usesLineSource(q, opts)) return 'aww12-line-source';
  return 'aww12-hypocentral';
}

function usesLineSource(q: QuakeSource, opts: PredictOptions): boolean {
  return (
    opts.lineSource !== false &&
    !opts.rupture &&
    q.magnitude >= LINE_SOURCE_MIN_MAGNITUDE &&
    effectiveDepthKm(q) <= LINE_SOURCE_MAX_DEPTH_KM
  );
}

export function intensityModelFor(q: QuakeSource, opts: PredictOptions = {}): IntensityModel {
  const name = chooseModel(q, opts);
  const m = q.magnitude;
  const z = effectiveDepthKm(q);
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
  const floor2 = NEAR_SOURCE_MIN_KM * NEAR_SOURCE_MIN_KM;
  // Distance with the near-source floor added where the equation's own saturation term is smaller than the floor.
  const hypWithFloor = (d: number) => Math.sqrt(d * d + z2 + Math.max(0, floor2 - rmHyp(m) ** 2));

  // Per model: MMI and σ as functions of (lat, lon), and the upper envelope over direction as a function of epicentral
  // distance (for the footprint): `mu(d)` and `sig(d)`.
  let predict: (lat: number, lon: number) => number;
  let sigma: (lat: number, lon: number) => number;
  let mu: (d: number) => number;
  let sig: (d: number) => number;
  let source: SourceGeometry = { kind: 'point' };

  switch (name) {
    case 'vacareanu15-vrancea':
    case 'vrancea-calibrated': {
      const calibrated = name === 'vrancea-calibrated';
      const lnPga = (d: number, back: boolean) => vacareanu15LnPga(m, Math.sqrt(d * d + z2), z, back);
      const sigmaAt = (d: number, back: boolean) => {
        if (calibrated) return VRANCEA_CALIBRATION.sigma;
        const b = wgrw12SlopePerLn(Math.exp(lnPga(d, back)));
        return Math.hypot(b * VACAREANU15_PGA.sigmaLn, WGRW12_SIGMA_MMI_PGA);
      };
      const mmiAt = (d: number, lat: number, lon: number) => {
        const back = isBackArc(q.lat, q.lon, lat, lon);
        if (!calibrated) return wgrw12MmiFromLnPga(lnPga(d, back));
        const r = Math.sqrt(d * d + z2);
        const fore = wgrw12MmiFromLnPga(vacareanu15LnPga(m, r, z, false));
        return fore + vranceaCorrection(r, back, back ? arcDistanceKm(lat, lon) : 0);
      };
      predict = (lat, lon) => mmiAt(epi(lat, lon), lat, lon);
      sigma = (lat, lon) => sigmaAt(epi(lat, lon), isBackArc(q.lat, q.lon, lat, lon));
      // Both back-arc corrections only lower MMI: the fore-arc curve bounds every direction.
      mu = (d) =>
        wgrw12MmiFromPga(Math.exp(lnPga(d, false))) +
        (calibrated ? vranceaCorrection(Math.sqrt(d * d + z2), false, 0) : 0);
      sig = (d) => Math.max(sigmaAt(d, false), sigmaAt(d, true));
      break;
    }
    case 'aww12-rupture': {
      const near = (r: number) => Math.sqrt(r * r + Math.max(0, floor2 - nearRup(m) ** 2));
      if (opts.rupture) {
        const rupture = opts.rupture;
        const reach = ruptureReachKm(rupture, q.lat, q.lon);
        const top2 = rupture.topKm * rupture.topKm;
        source = { kind: 'rupture', traces: rupture.traces.length, topKm: rupture.topKm };
        predict = (lat, lon) => aww12Rupture(m, near(ruptureDistanceKm(rupture, lat, lon)));
        sigma = (lat, lon) => aww12Sigma('rupture', ruptureDistanceKm(rupture, lat, lon));
        // A site at epicentral distance d is at least d − reach from the rupture's trace.
        const rAt = (d: number) => {
          const x = Math.max(0, d - reach);
          return Math.sqrt(x * x + top2);
        };
        mu = (d) => aww12Rupture(m, near(rAt(d)));
        sig = (d) => aww12Sigma('rupture', rAt(d));
      } else {
        // Forced rupture form without rupture or line: the hypocentre is the rupture.
        mu = (d) => aww12Rupture(m, near(Math.sqrt(d * d + z2)));
        sig = (d) => aww12Sigma('rupture', Math.sqrt(d * d + z2));
        predict = (lat, lon) => mu(epi(lat, lon));
        sigma = (lat, lon) => sig(epi(lat, lon));
      }
      break;
    }
    case 'aww12-line-source': {
      // Line of unknown strike centred on the epicentre: nearest possible point at max(0, d − L/2), top at the surface
      // (large shallow ruptures reach or approach it). Conservative in distance: no site is taken farther from the
      // source than the point source would put it. The rupture form is the one validated at M7.8 (docs/seismology.md).
      const half = ruptureLengthKm(m) / 2;
      source = {
        kind: 'line',
        lengthKm: Math.round(2 * half),
        topKm: 0,
        scaling: 'Wells & Coppersmith 1994, subsurface length, all slip',
      };
      const near = (r: number) => Math.sqrt(r * r + Math.max(0, floor2 - nearRup(m) ** 2));
      const rLine = (d: number) => Math.max(0, d - half);
      mu = (d) => aww12Rupture(m, near(rLine(d)));
      sig = (d) => aww12Sigma('rupture', rLine(d));
      predict = (lat, lon) => mu(epi(lat, lon));
      sigma = (lat, lon) => sig(epi(lat, lon));
      break;
    }
    case 'aw07-california':
    case 'aw07-ceus': {
      const c = name === 'aw07-ceus' ? AW07_CEUS : AW07_CA;
      mu = (d) => aw07(m, Math.sqrt(d * d + z2), c);
      sig = () => AW07_SIGMA_ASSUMED;
      predict = (lat, lon) => mu(epi(lat, lon));
      sigma = () => AW07_SIGMA_ASSUMED;
      break;
    }
    default: {
      mu = (d) => aww12HypocentralFloored(m, Math.sqrt(d * d + z2), hypWithFloor(d));
      sig = (d) => aww12Sigma('hypocentral', Math.sqrt(d * d + z2));
      predict = (lat, lon) => mu(epi(lat, lon));
      sigma = (lat, lon) => sig(epi(lat, lon));
    }
  }

  const probabilityAtLeast = (lat: number, lon: number, threshold: number) =>
    exceedanceProbability(clipMmi(predict(lat, lon)), threshold, sigma(lat, lon));
  const levelOf = (mmi: number, s: number, policy: AlertPolicy): AlertLevel => {
    const p = policy.probability;
    if (exceedanceProbability(mmi, policy.thresholds.takeAction, s) >= p) return 'take-action';
    if (exceedanceProbability(mmi, policy.thresholds.beAware, s) >= p) return 'be-aware';
    return 'none';
  };
  return {
    name,
    source,
    assess: (lat, lon, minMmi, policy = DEFAULT_ALERT_POLICY) => {
      const mmi = clipMmi(predict(lat, lon));
      const s = sigma(lat, lon);
      const probability = exceedanceProbability(mmi, minMmi, s);
      return { mmi, sigma: s, probability, notify: probability >= policy.probability, level: levelOf(mmi, s, policy) };
    },
    predict: (lat, lon) => clipMmi(predict(lat, lon)),
    sigma,
    probabilityAtLeast,
    level: (lat, lon, policy = DEFAULT_ALERT_POLICY) => levelOf(clipMmi(predict(lat, lon)), sigma(lat, lon), policy),
    footprintRadiusKm: (mmi, probability = DEFAULT_ALERT_PROBABILITY) =>
      searchRadius((d) => clipMmi(mu(d)) + alertMarginMmi(sig(d), probability), mmi),
  };
}

/** `wgrw12MmiFromPga(exp(lnPga))` without the exp/log round trip (hot path). */
function wgrw12MmiFromLnPga(lnPga: number): number {
  const l = lnPga * Math.LOG10E;
  return l <= 1.57 ? 1.78 + 1.55 * l : -1.6 + 3.7 * l;
}

/** Allen et al. (2012) R_M = m1 + m2·e^(M−5) (km). */
function rmHyp(m: number): number {
  return -0.209 + 2.042 * Math.exp(m - 5);
}

/** Allen et al. (2012) rupture form's near-source term 1 + c3·e^(M−5) (km). */
function nearRup(m: number): number {
  return 1 + 0.813 * Math.exp(m - 5);
}

/**
 * Allen et al. (2012) hypocentral form with the near-source floor: the geometric term uses √(R² + max(R_M, floor)²)
 * (`rWithFloor`), the anelastic term the true R_hyp. Equal to `aww12Hypocentral` whenever R_M ≥ the floor (M ≥ 6.4).
 */
function aww12HypocentralFloored(m: number, rHyp: number, rWithFloor: number): number {
  const rm = rmHyp(m);
  if (rm * rm >= NEAR_SOURCE_MIN_KM * NEAR_SOURCE_MIN_KM) return aww12Hypocentral(m, rHyp);
  // aww12Hypocentral(m, r) = c0 + c1·M + c2·ln√(r² + R_M²) + S(r); swap the geometric term.
  const s = rHyp > 50 ? 0.078 * Math.log(rHyp / 50) : 0;
  return 2.085 + 1.428 * m - 1.402 * Math.log(rWithFloor) + s;
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

/**
 * Largest epicentral distance (km) at which a site can reach `mmi` with probability ≥ `probability` (default: the
 * default alert policy), over all directions. The planner calls this with `minSubscriberMmi` and
 * `fanout.alertProbability`, so every subscriber the worker would alert lies inside.
 */
export function footprintRadiusKm(q: QuakeSource, mmi: number, opts?: PredictOptions, probability?: number): number {
  return intensityModelFor(q, opts).footprintRadiusKm(mmi, probability);
}
