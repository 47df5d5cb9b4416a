/**
 * Distances on the Earth for intensity and travel times. A spherical Earth (mean radius 6371.0088 km, IUGG) is
 * accurate to about 0.5 % — far inside the scatter of any intensity equation.
 */

export const EARTH_RADIUS_KM = 6371.0088;
const RAD = Math.PI / 180;

/** Great-circle (haversine) distance in km between two points given in degrees. */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const s = Math.sin(dLat / 2);
  const t = Math.sin(dLon / 2);
  const a = s * s + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * t * t;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Initial bearing from point 1 to point 2, degrees clockwise from north (0..360). */
export function bearingDeg(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const φ1 = lat1 * RAD;
  const φ2 = lat2 * RAD;
  const dλ = (lon2 - lon1) * RAD;
  const y = Math.sin(dλ) * Math.cos(φ2);
  const x = Math.cos(φ1) * Math.sin(φ2) - Math.sin(φ1) * Math.cos(φ2) * Math.cos(dλ);
  return (Math.atan2(y, x) / RAD + 360) % 360;
}

/** The point at `distanceKm` along `bearing` from (lat, lon), degrees. */
export function destination(lat: number, lon: number, bearing: number, distanceKm: number): [number, number] {
  const δ = distanceKm / EARTH_RADIUS_KM;
  const θ = bearing * RAD;
  const φ1 = lat * RAD;
  const λ1 = lon * RAD;
  const φ2 = Math.asin(Math.sin(φ1) * Math.cos(δ) + Math.cos(φ1) * Math.sin(δ) * Math.cos(θ));
  const λ2 = λ1 + Math.atan2(Math.sin(θ) * Math.sin(δ) * Math.cos(φ1), Math.cos(δ) - Math.sin(φ1) * Math.sin(φ2));
  return [φ2 / RAD, ((((λ2 / RAD + 540) % 360) + 360) % 360) - 180];
}

/** A polyline as [lat, lon] vertices in degrees. */
export type Polyline = ReadonlyArray<readonly [number, number]>;

/**
 * Shortest distance in km from a point to a polyline. Each segment is measured in a local equirectangular projection
 * centred on the point (error well under 1 % within a few hundred km, which is where a rupture distance matters;
 * beyond that the difference between rupture and point-source distance is small anyway).
 */
export function distanceToPolylineKm(lat: number, lon: number, line: Polyline): number {
  if (line.length === 0) return Number.POSITIVE_INFINITY;
  if (line.length === 1) return haversineKm(lat, lon, line[0][0], line[0][1]);
  const kx = Math.cos(lat * RAD) * RAD * EARTH_RADIUS_KM;
  const ky = RAD * EARTH_RADIUS_KM;
  let best = Number.POSITIVE_INFINITY;
  for (let i = 1; i < line.length; i++) {
    const ax = wrapLon(line[i - 1][1] - lon) * kx;
    const ay = (line[i - 1][0] - lat) * ky;
    const bx = wrapLon(line[i][1] - lon) * kx;
    const by = (line[i][0] - lat) * ky;
    const dx = bx - ax;
    const dy = by - ay;
    const len2 = dx * dx + dy * dy;
    const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len2));
    const px = ax + t * dx;
    const py = ay + t * dy;
    const d = Math.sqrt(px * px + py * py);
    if (d < best) best = d;
  }
  return best;
}

function wrapLon(d: number): number {
  if (d > 180) return d - 360;
  if (d < -180) return d + 360;
  return d;
}

/** True when segment p1–p2 crosses segment q1–q2 (plane geometry in lon/lat degrees; for regional-scale tests). */
export function segmentsCross(
  p1: readonly [number, number],
  p2: readonly [number, number],
  q1: readonly [number, number],
  q2: readonly [number, number],
): boolean {
  const d1 = orient(q1, q2, p1);
  const d2 = orient(q1, q2, p2);
  const d3 = orient(p1, p2, q1);
  const d4 = orient(p1, p2, q2);
  return d1 * d2 < 0 && d3 * d4 < 0;
}

function orient(a: readonly [number, number], b: readonly [number, number], c: readonly [number, number]): number {
  return (b[1] - a[1]) * (c[0] - a[0]) - (b[0] - a[0]) * (c[1] - a[1]);
}
