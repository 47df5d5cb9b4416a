/**
 * The Vrancea intermediate-depth source (Romania): where it is, and which side of the Carpathian arc a site lies on.
 * Vrancea intensities are strongly directional: high on the arc's outer (fore-arc) side — Wallachia, Moldova,
 * Ukraine — and low across the mountains (back-arc: Transylvania, Hungary). Vacareanu et al. (2015) carry that as a
 * different anelastic term per side.
 */
import { distanceToPolylineKm, type Polyline } from './geodesy.ts';

/**
 * The Vrancea nest: epicentres of the 1940, 1977, 1986 and 1990 events fall in about 45.4–46.0N, 26.2–27.0E at
 * 70–160 km depth. The box is a little generous so that relocated automatic solutions still qualify.
 */
export const VRANCEA_BOX = { latMin: 45.2, latMax: 46.2, lonMin: 25.9, lonMax: 27.3, depthMinKm: 60, depthMaxKm: 220 };

export function isVranceaIntermediateDepth(lat: number, lon: number, depthKm: number): boolean {
  const b = VRANCEA_BOX;
  return (
    lat >= b.latMin &&
    lat <= b.latMax &&
    lon >= b.lonMin &&
    lon <= b.lonMax &&
    depthKm >= b.depthMinKm &&
    depthKm <= b.depthMaxKm
  );
}

/**
 * The crest of the Eastern and Southern Carpathians as [lat, lon], digitised by hand from a relief map at about
 * 20 km precision: from the Ukrainian/Polish border (Bieszczady) south-east along the Eastern Carpathians (Chornohora,
 * Rodna, Călimani–Harghita) to the bend at Penteleu/Ciucaș right west of the Vrancea source, then west along the
 * Southern Carpathians (Bucegi, Făgăraș, Parâng, Retezat–Godeanu) to the Danube at the Iron Gates. The Vrancea nest
 * sits just outside the bend, so a straight path from it to a site crosses this line exactly when the site lies
 * inside the arc (back-arc).
 */
export const CARPATHIAN_ARC: Polyline = [
  [49.2, 22.3],
  [48.6, 23.4],
  [48.1, 24.4],
  [47.6, 25.0],
  [47.1, 25.4],
  [46.6, 25.7],
  [46.1, 25.95],
  [45.75, 26.15],
  [45.55, 26.1],
  [45.45, 25.7],
  [45.4, 25.45],
  [45.6, 24.7],
  [45.55, 24.2],
  [45.4, 23.5],
  [45.35, 22.9],
  [45.15, 22.5],
  [44.7, 22.1],
];

/**
 * The back-arc region: inside the Carpathian arc (Transylvanian depression, Pannonian basin). The crest line above,
 * closed to the west along the Danube past the Iron Gates and round the Pannonian basin. Sites outside it are in front
 * of the arc (fore-arc: Wallachia with Oltenia below the southern bend, Dobruja, Moldova, Ukraine, Bulgaria, Serbia
 * south of the Danube).
 */
export const BACK_ARC_POLYGON: Polyline = [...CARPATHIAN_ARC, [44.8, 20.5], [45.5, 16], [49.5, 16], [49.5, 22.3]];

/**
 * True when the site lies inside the Carpathian arc (back-arc). Decided by where the site is, not by whether the
 * straight path from the source crosses the crest: the Vrancea nest sits under the bend's outer flank, so paths to
 * Oltenia, south-west of the bend, graze the crest and a crossing test put them behind the arc (predicted ~II where
 * VI was observed in 1990). `srcLat`/`srcLon` are kept for the callers' signature and must be a Vrancea source.
 */
export function isBackArc(_srcLat: number, _srcLon: number, siteLat: number, siteLon: number): boolean {
  if (siteLat < BACK_ARC_BOX.latMin || siteLat > BACK_ARC_BOX.latMax) return false;
  if (siteLon < BACK_ARC_BOX.lonMin || siteLon > BACK_ARC_BOX.lonMax) return false;
  return insidePolygon(siteLat, siteLon, BACK_ARC_POLYGON);
}

const BACK_ARC_BOX = {
  latMin: Math.min(...BACK_ARC_POLYGON.map((p) => p[0])),
  latMax: Math.max(...BACK_ARC_POLYGON.map((p) => p[0])),
  lonMin: Math.min(...BACK_ARC_POLYGON.map((p) => p[1])),
  lonMax: Math.max(...BACK_ARC_POLYGON.map((p) => p[1])),
};

/** Distance (km) from a site to the Carpathian crest line. */
export function arcDistanceKm(lat: number, lon: number): number {
  return distanceToPolylineKm(lat, lon, CARPATHIAN_ARC);
}

/** Even–odd ray casting in lon/lat degrees (regional scale, no antimeridian). */
function insidePolygon(lat: number, lon: number, poly: Polyline): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [yi, xi] = poly[i];
    const [yj, xj] = poly[j];
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * Recalibration of Vacareanu et al. (2015) + Worden et al. (2012) on observed intensities (bench/vrancea-calibration.ts
 * fits it; docs/seismology.md reports it on held-out data). The published model, taken on its fore-arc branch, under-
 * predicted the 1990-05-30 Mw 6.95 intensities by +0.5 to +1.1 units at 100–400 km in front of the arc and its back-arc
 * branch attenuated too fast behind the crest. The correction keeps the published magnitude and depth scaling and adds:
 *   MMI = MMI_V15+WGRW12,fore-arc(M, R_hyp, h) + k0 + k1·ln(clamp(R_hyp, 90, 300) / 90)
 *         − [site inside the arc] (kB0 + kB1·min(d_arc, 300) / 100)
 * with d_arc the site's distance to the Carpathian crest (km): behind the crest intensity falls with the path length
 * travelled inside the arc, not with the distance from the source (the Brașov depression, just behind the bend, keeps
 * VI–VII while the Transylvanian basin further in drops to III–IV).
 */
export const VRANCEA_CALIBRATION = {
  k0: 0.292,
  k1: 0.473,
  kB0: 1.222,
  kB1: 0.568,
  /** σ (MMI units) of the fit residuals. */
  sigma: 0.65,
} as const;

export interface VranceaCalibration {
  k0: number;
  k1: number;
  kB0: number;
  kB1: number;
  sigma: number;
}

/** The calibration's correction (MMI units) to the fore-arc branch of Vacareanu et al. (2015) + WGRW12. */
export function vranceaCorrection(
  rHypKm: number,
  backArc: boolean,
  arcKm: number,
  c: VranceaCalibration = VRANCEA_CALIBRATION,
): number {
  const r = Math.min(300, Math.max(90, rHypKm));
  const base = c.k0 + c.k1 * Math.log(r / 90);
  return backArc ? base - c.kB0 - (c.kB1 * Math.min(arcKm, 300)) / 100 : base;
}
