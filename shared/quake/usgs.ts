/**
 * USGS GeoJSON summary feed (https://earthquake.usgs.gov/earthquakes/feed/v1.0/geojson.php), the FDSN event API's
 * `format=geojson`, and single Features.
 * Quirks handled (../shared/data/README.md): `tz` integer or null and `tsunami` null/0/1 (ignored); `status` in either
 * case; `magType` in any case; `mag` 0, null (rejected: no magnitude, no prediction) or float noise; negative depth
 * (above sea level); a null or missing depth (unknown: 10 km, `depthKnown: false`); comma-wrapped `ids`; epoch-ms
 * `time`/`updated`; `[lon, lat, depth]` geometry.
 * Deletions: `status: "deleted"` withdraws the event (a `Retraction` of the feature id, at `updated`). The FDSN API
 * sends such features with `time`, `mag` and depth null (usgs/earthquake-website#2304: "The api doesn't return
 * time/magnitude/depth for deleted events"); the summary feed keeps them. Either way nothing else is read.
 * `source` is 'usgs': ComCat is the publisher, whichever contributing network (`net`) located the event.
 */
import {
  eventKind,
  isRecord,
  lowerText,
  NOT_EXISTING,
  normalizeLon,
  plainText,
  splitCommaList,
  toEpochMs,
  toMagnitude,
  toNumber,
  UNKNOWN_DEPTH_KM,
  uniq,
} from './normalize.ts';
import { collectOutcomes, retractionOutcome } from './outcome.ts';
import { type QuakeValidation, showValue, validateQuake } from './schema.ts';
import type { ItemOutcome, ParseOptions, ParseResult } from './types.ts';

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

/** One Feature: an event, a retraction (`status: "deleted"`, type `not existing`) or a rejection. */
export function parseUsgsItem(feature: unknown, opts: ParseOptions = {}): ItemOutcome {
  if (!isRecord(feature)) return { kind: 'rejection', reason: `feature: ${showValue(feature)} is not an object` };
  if (feature.type !== 'Feature') {
    return { kind: 'rejection', reason: `type: ${showValue(feature.type)} is not "Feature"` };
  }
  const p = isRecord(feature.properties) ? feature.properties : undefined;
  if (!p) return { kind: 'rejection', reason: `properties: ${showValue(feature.properties)} is not an object` };
  const net = plainText(p.net);
  const code = plainText(p.code);
  const id = plainText(feature.id) || (net && code ? `${net}${code}` : '');
  const status = lowerText(p.status);
  if (status === 'deleted' || lowerText(p.type) === NOT_EXISTING) {
    const why = status === 'deleted' ? 'usgs status "deleted"' : `usgs type "${NOT_EXISTING}"`;
    return retractionOutcome(id, USGS_SOURCE, p.updated, why, opts, p.drill === true);
  }
  const g = isRecord(feature.geometry) ? feature.geometry : undefined;
  const coords = g?.coordinates;
  if (!Array.isArray(coords) || coords.length < 2) {
    return { kind: 'rejection', reason: `geometry.coordinates: ${showValue(coords)} is not [lon, lat, depth]` };
  }
  const time = toEpochMs(p.time);
  const updated = p.updated === null || p.updated === undefined ? time : toEpochMs(p.updated);
  const depthGiven = coords.length > 2 && coords[2] !== null && coords[2] !== undefined;
  const candidate = {
    id,
    source: USGS_SOURCE,
    sourceIds: uniq([id, ...splitCommaList(p.ids)].filter(Boolean)),
    originTime: time,
    lat: toNumber(coords[1]),
    lon: normalizeLon(toNumber(coords[0])),
    depthKm: depthGiven ? toNumber(coords[2]) : UNKNOWN_DEPTH_KM,
    ...(depthGiven ? {} : { depthKnown: false }),
    magnitude: toMagnitude(p.mag),
    magType: lowerText(p.magType),
    place: plainText(p.place) || plainText(p.title),
    updatedAt: updated,
    status: status || 'automatic',
    kind: eventKind(p.type),
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
  const v = validateQuake(candidate, raw, NAMES, { now: opts.now });
  return v.ok ? { kind: 'quake', quake: v.quake } : { kind: 'rejection', reason: v.reason };
}

/** One Feature as an event; a retraction or a rejection is `ok: false` with its reason. */
export function parseUsgsFeature(feature: unknown, opts: ParseOptions = {}): QuakeValidation {
  const o = parseUsgsItem(feature, opts);
  if (o.kind === 'quake') return { ok: true, quake: o.quake };
  if (o.kind === 'retraction') return { ok: false, reason: `${o.retraction.reason}: a retraction, not an event` };
  return { ok: false, reason: o.reason };
}

export function parseUsgsCollection(doc: unknown, opts: ParseOptions = {}): ParseResult {
  if (!isRecord(doc) || doc.type !== 'FeatureCollection' || !Array.isArray(doc.features)) {
    return {
      accepted: [],
      rejected: [{ index: 0, reason: `features: ${showValue(isRecord(doc) ? doc.features : doc)} is not a list` }],
    };
  }
  return collectOutcomes(doc.features, (f) => parseUsgsItem(f, opts), idOf);
}

function idOf(f: unknown): string {
  return isRecord(f) ? plainText(f.id) : '';
}
