/**
 * EMSC SeismicPortal: websocket messages (wss://www.seismicportal.eu/standing_order/websocket,
 * `{"action":"create"|"update"|"delete","data":Feature}`) and the FDSN event service's `format=json`
 * (https://www.seismicportal.eu/fdsnws/event/1/query?format=json: a GeoJSON FeatureCollection of the same Features).
 * Quirks handled: `geometry.coordinates[2]` is the NEGATIVE depth while `properties.depth` is positive (prefer the
 * property; with neither, the depth is unknown: 10 km, `depthKnown: false`); `unid` like `20250305_0000090` is the
 * stable id; `time` and `lastupdate` are ISO-8601 with variable fractional digits; `magtype` may be a bare `m`;
 * `evtype` is a two-letter IMS1.0 event-type code (`emscKind`). EMSC publishes no review status: events are
 * `automatic`. `action: "delete"` withdraws the `unid` (a `Retraction` at its `lastupdate`).
 * `source` is 'emsc' for both: EMSC is the publisher, whichever agency (`auth`) contributed the solution.
 */
import {
  isRecord,
  lowerText,
  NOT_REPORTED,
  normalizeLon,
  plainText,
  toEpochMs,
  toMagnitude,
  toNumber,
  UNKNOWN_DEPTH_KM,
} from './normalize.ts';
import { collectOutcomes, retractionOutcome } from './outcome.ts';
import { type QuakeValidation, showValue, validateQuake } from './schema.ts';
import type { ItemOutcome, ParseOptions, ParseResult } from './types.ts';

export const EMSC_SOURCE = 'emsc';

/**
 * IMS1.0 event-type codes (IDC-3.4.1, "Formats and Protocols for Messages", origin block; the ISF bulletin format
 * keeps them), as EMSC writes them in `evtype`: first letter k(nown) / s(uspected), f(elt) / d(amaging) for
 * earthquakes, then the type. EMSC adds `qb` (quarry blast). The certainty letter does not change the type: a
 * suspected earthquake may well be one.
 */
const EVTYPE_KINDS: Record<string, string> = {
  uk: 'unknown',
  ke: 'earthquake',
  se: 'earthquake',
  fe: 'earthquake',
  de: 'earthquake',
  kr: 'rock burst',
  sr: 'rock burst',
  ki: 'induced or triggered event',
  si: 'induced or triggered event',
  km: 'mining explosion',
  sm: 'mining explosion',
  kh: 'chemical explosion',
  sh: 'chemical explosion',
  kx: 'explosion',
  sx: 'explosion',
  kn: 'nuclear explosion',
  sn: 'nuclear explosion',
  ls: 'landslide',
  kls: 'landslide',
  sls: 'landslide',
  qb: 'quarry blast',
  kqb: 'quarry blast',
  sqb: 'quarry blast',
};

/**
 * `Quake.kind` for an EMSC `evtype` (see `EVTYPE_KINDS`): 'not reported' when empty or absent, 'unknown' for a code
 * not in the table (an unrecognised code is not an explicit non-earthquake, so it does not suppress an alert).
 */
export function emscKind(evtype: unknown): string {
  const t = lowerText(evtype);
  if (t === '') return NOT_REPORTED;
  return EVTYPE_KINDS[t] ?? 'unknown';
}

/**
 * True when a Feature is EMSC's rather than USGS's: its properties carry `unid`, or at least two of EMSC's own names
 * (`evtype`, `lastupdate`, `flynn_region`, `source_catalog`, lower-case `magtype`). The envelope (a
 * FeatureCollection) is the same for both, so detection looks at the features.
 */
export function looksLikeEmscFeature(feature: unknown): boolean {
  if (!isRecord(feature) || !isRecord(feature.properties)) return false;
  const p = feature.properties;
  if ('unid' in p) return true;
  return ['evtype', 'lastupdate', 'flynn_region', 'source_catalog', 'magtype'].filter((k) => k in p).length >= 2;
}

const NAMES = {
  id: 'properties.unid',
  originTime: 'properties.time',
  updatedAt: 'properties.lastupdate',
  magnitude: 'properties.mag',
  lat: 'properties.lat',
  lon: 'properties.lon',
  depthKm: 'properties.depth',
} as const;

/** One EMSC Feature (from a websocket message's `data`, or from an FDSN JSON FeatureCollection). */
export function parseEmscFeature(feature: unknown, opts: ParseOptions = {}, where = 'data'): ItemOutcome {
  if (!isRecord(feature)) return { kind: 'rejection', reason: `${where}: ${showValue(feature)} is not a Feature` };
  const p = isRecord(feature.properties) ? feature.properties : undefined;
  if (!p)
    return { kind: 'rejection', reason: `${where}.properties: ${showValue(feature.properties)} is not an object` };
  const coords =
    isRecord(feature.geometry) && Array.isArray(feature.geometry.coordinates) ? feature.geometry.coordinates : [];
  const id = plainText(p.unid) || plainText(feature.id);
  const geometryDepth = coords[2] === undefined || coords[2] === null ? undefined : -toNumber(coords[2]);
  const depthRaw = p.depth ?? geometryDepth;
  const depthGiven = depthRaw !== undefined && depthRaw !== null;
  const time = toEpochMs(p.time);
  const candidate = {
    id,
    source: EMSC_SOURCE,
    sourceIds: id ? [id] : [],
    originTime: time,
    lat: toNumber(p.lat ?? coords[1]),
    lon: normalizeLon(toNumber(p.lon ?? coords[0])),
    depthKm: depthGiven ? toNumber(depthRaw) : UNKNOWN_DEPTH_KM,
    ...(depthGiven ? {} : { depthKnown: false }),
    magnitude: toMagnitude(p.mag),
    magType: lowerText(p.magtype),
    place: plainText(p.flynn_region),
    updatedAt: p.lastupdate === undefined || p.lastupdate === null ? time : toEpochMs(p.lastupdate),
    status: 'automatic',
    kind: emscKind(p.evtype),
    drill: opts.drill === true || p.drill === true,
  };
  const raw = {
    id: p.unid ?? feature.id,
    originTime: p.time,
    updatedAt: p.lastupdate,
    magnitude: p.mag,
    lat: p.lat ?? coords[1],
    lon: p.lon ?? coords[0],
    depthKm: depthRaw,
  };
  const v = validateQuake(candidate, raw, NAMES, { now: opts.now });
  return v.ok ? { kind: 'quake', quake: v.quake } : { kind: 'rejection', reason: v.reason };
}

/** One websocket message (create, update or delete), or a bare EMSC Feature. */
export function parseEmscItem(message: unknown, opts: ParseOptions = {}): ItemOutcome {
  // undefined is what a JSON Lines replay holds for a line that did not parse (shared/quake/detect.ts).
  if (message === undefined) return { kind: 'rejection', reason: 'message: missing, or not valid JSON' };
  if (!isRecord(message)) return { kind: 'rejection', reason: `message: ${showValue(message)} is not an object` };
  if (!('action' in message) && !('data' in message)) return parseEmscFeature(message, opts, 'feature');
  const action = message.action;
  if (action === 'delete') {
    const data = isRecord(message.data) ? message.data : {};
    const p = isRecord(data.properties) ? data.properties : {};
    return retractionOutcome(
      plainText(p.unid) || plainText(data.id),
      EMSC_SOURCE,
      p.lastupdate,
      'emsc action "delete"',
      opts,
      p.drill === true,
    );
  }
  if (action !== 'create' && action !== 'update') {
    return { kind: 'rejection', reason: `action: ${showValue(action)} is not "create", "update" or "delete"` };
  }
  return parseEmscFeature(message.data, opts);
}

/** One websocket message as an event; a retraction or a rejection is `ok: false` with its reason. */
export function parseEmscMessage(message: unknown, opts: ParseOptions = {}): QuakeValidation {
  const o = parseEmscItem(message, opts);
  if (o.kind === 'quake') return { ok: true, quake: o.quake };
  if (o.kind === 'retraction') return { ok: false, reason: `${o.retraction.reason}: a retraction, not an event` };
  return { ok: false, reason: o.reason };
}

/** A list of messages (a replay file in JSON Lines, or a JSON array). */
export function parseEmscMessages(messages: unknown[], opts: ParseOptions = {}): ParseResult {
  return collectOutcomes(messages, (m) => parseEmscItem(m, opts));
}

/** EMSC's FDSN `format=json`: a FeatureCollection of EMSC Features. */
export function parseEmscCollection(doc: unknown, opts: ParseOptions = {}): ParseResult {
  if (!isRecord(doc) || doc.type !== 'FeatureCollection' || !Array.isArray(doc.features)) {
    return {
      accepted: [],
      rejected: [{ index: 0, reason: `features: ${showValue(isRecord(doc) ? doc.features : doc)} is not a list` }],
    };
  }
  return collectOutcomes(
    doc.features,
    (f) => parseEmscFeature(f, opts, 'feature'),
    (f) => (isRecord(f) && isRecord(f.properties) ? plainText(f.properties.unid) || plainText(f.id) : ''),
  );
}
