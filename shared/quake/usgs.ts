/**
 * USGS GeoJSON summary feed (https://earthquake.usgs.gov/earthquakes/feed/v1.0/geojson.php) and single Features.
 * Quirks handled (../shared/data/README.md): `tz` integer or null and `tsunami` null/0/1 (ignored); `status` in either
 * case; `magType` in any case; `mag` 0, null (rejected: no magnitude, no prediction) or float noise; negative depth
 * (above sea level); comma-wrapped `ids`; epoch-ms `time`/`updated`; `[lon, lat, depth]` geometry.
 */
import {
  isRecord,
  lowerText,
  normalizeLon,
  plainText,
  splitCommaList,
  toEpochMs,
  toMagnitude,
  toNumber,
  uniq,
} from './normalize.ts';
import { type QuakeValidation, showValue, validateQuake } from './schema.ts';
import type { ParseOptions, ParseResult } from './types.ts';

export const USGS_SOURCE = 'usgs';

const NAMES = {
  originTime: 'properties.time',
  updatedAt: 'properties.updated',
  magnitude: 'properties.mag',
  lon: 'geometry.coordinates[0]',
  lat: 'geometry.coordinates[1]',
  depthKm: 'geometry.coordinates[2]',
  status: 'properties.status',
  kind: 'properties.type',
} as const;

export function parseUsgsFeature(feature: unknown, opts: ParseOptions = {}): QuakeValidation {
  if (!isRecord(feature)) return { ok: false, reason: `feature: ${showValue(feature)} is not an object` };
  if (feature.type !== 'Feature') return { ok: false, reason: `type: ${showValue(feature.type)} is not "Feature"` };
  const p = isRecord(feature.properties) ? feature.properties : undefined;
  if (!p) return { ok: false, reason: `properties: ${showValue(feature.properties)} is not an object` };
  const g = isRecord(feature.geometry) ? feature.geometry : undefined;
  const coords = g?.coordinates;
  if (!Array.isArray(coords) || coords.length < 2) {
    return { ok: false, reason: `geometry.coordinates: ${showValue(coords)} is not [lon, lat, depth]` };
  }
  const net = plainText(p.net);
  const code = plainText(p.code);
  const id = plainText(feature.id) || (net && code ? `${net}${code}` : '');
  const time = toEpochMs(p.time);
  const updated = p.updated === null || p.updated === undefined ? time : toEpochMs(p.updated);
  const kind = lowerText(p.type) || 'earthquake';
  const candidate = {
    id,
    source: USGS_SOURCE,
    sourceIds: uniq([id, ...splitCommaList(p.ids)].filter(Boolean)),
    originTime: time,
    lat: toNumber(coords[1]),
    lon: normalizeLon(toNumber(coords[0])),
    depthKm: coords.length > 2 && coords[2] !== null ? toNumber(coords[2]) : 0,
    magnitude: toMagnitude(p.mag),
    magType: lowerText(p.magType),
    place: plainText(p.place) || plainText(p.title),
    updatedAt: updated,
    status: lowerText(p.status) || 'automatic',
    kind,
    drill: opts.drill === true || p.drill === true,
  };
  const raw = {
    originTime: p.time,
    updatedAt: p.updated,
    magnitude: p.mag,
    lon: coords[0],
    lat: coords[1],
    depthKm: coords[2],
    status: p.status,
  };
  return validateQuake(candidate, raw, NAMES);
}

export function parseUsgsCollection(doc: unknown, opts: ParseOptions = {}): ParseResult {
  const result: ParseResult = { accepted: [], rejected: [] };
  if (!isRecord(doc) || doc.type !== 'FeatureCollection' || !Array.isArray(doc.features)) {
    result.rejected.push({
      index: 0,
      reason: `features: ${showValue(isRecord(doc) ? doc.features : doc)} is not a list`,
    });
    return result;
  }
  doc.features.forEach((f, index) => {
    const r = parseUsgsFeature(f, opts);
    if (r.ok) result.accepted.push(r.quake);
    else result.rejected.push({ index, reason: idPrefix(f) + r.reason });
  });
  return result;
}

function idPrefix(f: unknown): string {
  const id = isRecord(f) ? plainText(f.id) : '';
  return id ? `${id}: ` : '';
}
