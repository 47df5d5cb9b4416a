/**
 * A finite rupture, for the rupture-distance form of Allen, Wald & Worden (2012). Modelled as vertical planes under
 * surface traces from `topKm` to `bottomKm` (strike-slip geometry such as the 2023 Kahramanmaraş rupture); the
 * rupture distance is then √(d_trace² + topKm²) with d_trace the distance to the nearest trace.
 */
import { distanceToPolylineKm, haversineKm, type Polyline } from './geodesy.ts';

export interface Rupture {
  /** Surface traces of the rupture's top edge, each a [lat, lon] polyline. */
  traces: Polyline[];
  topKm: number;
  bottomKm: number;
}

export function ruptureDistanceKm(r: Rupture, lat: number, lon: number): number {
  let d = Number.POSITIVE_INFINITY;
  for (const t of r.traces) d = Math.min(d, distanceToPolylineKm(lat, lon, t));
  return Math.sqrt(d * d + r.topKm * r.topKm);
}

/** Farthest trace vertex from a point (km): how far the rupture reaches from the epicentre. */
export function ruptureReachKm(r: Rupture, lat: number, lon: number): number {
  let reach = 0;
  for (const t of r.traces) for (const [la, lo] of t) reach = Math.max(reach, haversineKm(lat, lon, la, lo));
  return reach;
}

/**
 * Reads a USGS ShakeMap `rupture.json` (GeoJSON FeatureCollection of Polygon / MultiPolygon with [lon, lat, depth]
 * vertices). The top edge of each polygon — its vertices at the polygon's shallowest depth, in ring order — becomes a
 * trace. Returns undefined when the document holds no polygon (a point-source rupture.json).
 */
export function ruptureFromGeoJson(doc: unknown): Rupture | undefined {
  const polygons: number[][][][] = [];
  const features = (doc as { features?: unknown[] })?.features;
  if (!Array.isArray(features)) return undefined;
  for (const f of features) {
    const g = (f as { geometry?: { type?: string; coordinates?: unknown } })?.geometry;
    if (g?.type === 'Polygon') polygons.push(g.coordinates as number[][][]);
    else if (g?.type === 'MultiPolygon') polygons.push(...(g.coordinates as number[][][][]));
  }
  const traces: [number, number][][] = [];
  let top = Number.POSITIVE_INFINITY;
  let bottom = Number.NEGATIVE_INFINITY;
  for (const poly of polygons) {
    const ring = poly[0];
    if (!Array.isArray(ring) || ring.length < 3) continue;
    const depths = ring.map((p) => Number(p[2] ?? 0));
    const zTop = Math.min(...depths);
    top = Math.min(top, zTop);
    bottom = Math.max(bottom, ...depths);
    const trace: [number, number][] = [];
    for (const p of ring) {
      if (Number(p[2] ?? 0) !== zTop) continue;
      const last = trace[trace.length - 1];
      if (last && last[0] === p[1] && last[1] === p[0]) continue;
      trace.push([p[1], p[0]]);
    }
    if (trace.length > 1 && trace[0][0] === trace[trace.length - 1][0] && trace[0][1] === trace[trace.length - 1][1]) {
      trace.pop();
    }
    if (trace.length > 0) traces.push(trace);
  }
  if (traces.length === 0) return undefined;
  return { traces, topKm: Math.max(0, top), bottomKm: bottom };
}
