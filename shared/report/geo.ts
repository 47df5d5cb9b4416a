/**
 * Geometry of the report's map, computed here so that the page only draws: the footprint's intensity bands from the
 * event's own intensity model (direction-dependent for Vrancea), circles on the sphere (blind zone, footprint), H3
 * cell outlines, and the Natural Earth country outlines of the `world-atlas` package (1:50m) cut down to the map's
 * extent. Coordinates are GeoJSON [lon, lat] in degrees; rings follow d3-geo's spherical winding (clockwise exterior).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { geoArea, geoBounds, geoCircle } from 'd3-geo';
import { cellToBoundary } from 'h3-js';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import { destination } from '../seismo/geodesy.ts';
import type { IntensityModel } from '../seismo/intensity.ts';
import type { GeoJsonPolygon, IntensityBand } from './types.ts';

/** Mean Earth radius (km) d3-geo's degrees convert with: 1° of arc = 111.195 km. */
const KM_PER_DEGREE = (Math.PI * 6371.0088) / 180;

/** Reverses a ring's winding when d3-geo would read it as the complement (area above a hemisphere). */
function wound(polygon: GeoJsonPolygon): GeoJsonPolygon {
  if (geoArea(polygon) > 2 * Math.PI)
    return { type: 'Polygon', coordinates: polygon.coordinates.map((r) => [...r].reverse()) };
  return polygon;
}

/** A circle of `radiusKm` (epicentral) around a point, as a polygon of 128 vertices. */
export function circlePolygon(lat: number, lon: number, radiusKm: number): GeoJsonPolygon {
  const g = geoCircle()
    .center([lon, lat])
    .radius(radiusKm / KM_PER_DEGREE)
    .precision(360 / 128)();
  return { type: 'Polygon', coordinates: g.coordinates as number[][][] };
}

/**
 * The area where the predicted MMI reaches each whole level from `minMmi` up, one polygon per level: along each of
 * `azimuths` bearings the largest distance (to 0.5 km, up to `maxKm`) where `model.predict` is at or above the level.
 * Levels no site reaches are left out. Assumes intensity does not rise with distance along a bearing (true of every
 * equation in shared/seismo; the Vrancea back-arc term switches once per bearing).
 */
export function intensityBands(
  model: IntensityModel,
  centre: { lat: number; lon: number },
  minMmi: number,
  maxKm: number,
  azimuths = 144,
): IntensityBand[] {
  const bands: IntensityBand[] = [];
  const peak = model.predict(centre.lat, centre.lon);
  for (let level = Math.ceil(minMmi); level <= Math.floor(peak); level++) {
    const ring: number[][] = [];
    for (let i = 0; i < azimuths; i++) {
      const bearing = (360 * i) / azimuths;
      const reaches = (d: number) => {
        const [lat, lon] = destination(centre.lat, centre.lon, bearing, d);
        return model.predict(lat, lon) >= level;
      };
      let lo = 0;
      let hi = maxKm;
      if (reaches(hi)) lo = hi;
      else {
        while (hi - lo > 0.5) {
          const mid = (lo + hi) / 2;
          if (reaches(mid)) lo = mid;
          else hi = mid;
        }
      }
      const [lat, lon] = destination(centre.lat, centre.lon, bearing, Math.max(lo, 0.5));
      ring.push([lon, lat]);
    }
    ring.push(ring[0]);
    bands.push({ mmi: level, polygon: wound({ type: 'Polygon', coordinates: [ring] }) });
  }
  return bands;
}

/** The outline of an H3 cell as a closed [lon, lat] ring. */
export function cellRing(cell: string): number[][] {
  const ring = cellToBoundary(cell, true);
  const closed = [...ring, ring[0]];
  return wound({ type: 'Polygon', coordinates: [closed] }).coordinates[0];
}

export interface BaseMapFeature {
  type: 'Feature';
  properties: { name: string };
  geometry: unknown;
}

export interface BaseMap {
  type: 'FeatureCollection';
  features: BaseMapFeature[];
}

let countries: BaseMap | undefined;

function allCountries(): BaseMap {
  if (!countries) {
    const require = createRequire(import.meta.url);
    const path = require.resolve('world-atlas/countries-50m.json');
    const topology = JSON.parse(readFileSync(path, 'utf8')) as Topology;
    countries = feature(topology, topology.objects.countries as GeometryCollection) as unknown as BaseMap;
  }
  return countries;
}

/**
 * Natural Earth 1:50m country outlines (world-atlas 2) whose bounds meet the box around `centre` ± `radiusKm`
 * (twice the radius in longitude margin near the poles). Countries crossing the antimeridian are always kept.
 * Coordinates rounded to 0.01° (about 1 km) to keep the inlined map small.
 */
export function baseMap(centre: { lat: number; lon: number }, radiusKm: number): BaseMap {
  // The console asks for the same view every frame.
  const key = `${centre.lat},${centre.lon},${Math.round(radiusKm)}`;
  const hit = cutCache.get(key);
  if (hit) return hit;
  const map = cutBaseMap(centre, radiusKm);
  cutCache.set(key, map);
  if (cutCache.size > 8) cutCache.delete(cutCache.keys().next().value as string);
  return map;
}

const cutCache = new Map<string, BaseMap>();

function cutBaseMap(centre: { lat: number; lon: number }, radiusKm: number): BaseMap {
  const dLat = radiusKm / KM_PER_DEGREE + 1;
  const dLon = Math.min(
    180,
    dLat / Math.max(0.05, Math.cos((Math.min(89, Math.abs(centre.lat) + dLat) * Math.PI) / 180)),
  );
  const south = centre.lat - dLat;
  const north = centre.lat + dLat;
  const west = centre.lon - dLon;
  const east = centre.lon + dLon;
  const lonOverlap = (w: number, e: number) => [-360, 0, 360].some((shift) => w + shift <= east && e + shift >= west);
  const features = allCountries().features.filter((f) => {
    const [[w, s], [e, n]] = geoBounds(f as never);
    if (n < south || s > north) return false;
    if (w > e) return true;
    return lonOverlap(w, e);
  });
  return {
    type: 'FeatureCollection',
    features: features.map((f) => ({ ...f, geometry: roundCoordinates(f.geometry) })),
  };
}

function roundCoordinates(g: unknown): unknown {
  if (Array.isArray(g)) {
    if (typeof g[0] === 'number') return g.map((x: number) => Math.round(x * 100) / 100);
    return g.map(roundCoordinates);
  }
  if (g && typeof g === 'object') {
    const o = g as Record<string, unknown>;
    return { ...o, coordinates: o.coordinates ? roundCoordinates(o.coordinates) : undefined };
  }
  return g;
}

export { KM_PER_DEGREE };
