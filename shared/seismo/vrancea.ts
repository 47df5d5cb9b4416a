/**
 * The Vrancea intermediate-depth source (Romania): where it is, and which side of the Carpathian arc a site lies on.
 * Vrancea intensities are strongly directional: high on the arc's outer (fore-arc) side — Wallachia, Moldova,
 * Ukraine — and low across the mountains (back-arc: Transylvania, Hungary). Vacareanu et al. (2015) carry that as a
 * different anelastic term per side.
 */
import { type Polyline, segmentsCross } from './geodesy.ts';

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

/** True when the straight path from the source to the site crosses the Carpathian crest (site in the back-arc). */
export function isBackArc(srcLat: number, srcLon: number, siteLat: number, siteLon: number): boolean {
  const p1 = [srcLat, srcLon] as const;
  const p2 = [siteLat, siteLon] as const;
  for (let i = 1; i < CARPATHIAN_ARC.length; i++) {
    if (segmentsCross(p1, p2, CARPATHIAN_ARC[i - 1], CARPATHIAN_ARC[i])) return true;
  }
  return false;
}
