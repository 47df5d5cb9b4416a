/**
 * EMSC SeismicPortal websocket messages (wss://www.seismicportal.eu/standing_order/websocket):
 * `{"action":"create"|"update","data":Feature}`. Quirks handled: `geometry.coordinates[2]` is the NEGATIVE depth while
 * `properties.depth` is positive (prefer the property); `unid` like `20250305_0000090` is the stable id; `time` and
 * `lastupdate` are ISO-8601 with variable fractional digits; `magtype` may be a bare `m`. EMSC publishes no review
 * status: events are `automatic`.
 */
import { isRecord, lowerText, normalizeLon, plainText, toEpochMs, toMagnitude, toNumber } from './normalize.ts';
import { type QuakeValidation, showValue, validateQuake } from './schema.ts';
import type { ParseOptions, ParseResult } from './types.ts';

export const EMSC_SOURCE = 'emsc';

/**
 * EMSC `evtype`: first letter k(nown) / s(uspected) / f(elt), then the type: `e` earthquake, `x`/`n` explosion
 * (n: nuclear), `qb` quarry blast, `ls` landslide. Unknown codes are kept as 'other event' (never alerted).
 */
export function emscKind(evtype: unknown): string {
  const t = lowerText(evtype);
  if (t === '') return 'earthquake';
  if (t === 'qb' || t === 'kqb' || t === 'sqb') return 'quarry blast';
  if (t === 'ls' || t === 'kls' || t === 'sls') return 'landslide';
  const last = t.slice(-1);
  if (t.length === 2 && 'ksf'.includes(t[0])) {
    if (last === 'e') return 'earthquake';
    if (last === 'x' || last === 'n') return 'explosion';
  }
  return 'other event';
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

/** One websocket message, or a bare EMSC Feature. */
export function parseEmscMessage(message: unknown, opts: ParseOptions = {}): QuakeValidation {
  // undefined is what a JSON Lines replay holds for a line that did not parse (shared/quake/detect.ts).
  if (message === undefined) return { ok: false, reason: 'message: missing, or not valid JSON' };
  if (!isRecord(message)) return { ok: false, reason: `message: ${showValue(message)} is not an object` };
  let feature: unknown = message;
  if ('action' in message || 'data' in message) {
    if (message.action !== 'create' && message.action !== 'update') {
      return { ok: false, reason: `action: ${showValue(message.action)} is not "create" or "update"` };
    }
    feature = message.data;
  }
  if (!isRecord(feature)) return { ok: false, reason: `data: ${showValue(feature)} is not a Feature` };
  const p = isRecord(feature.properties) ? feature.properties : undefined;
  if (!p) return { ok: false, reason: `data.properties: ${showValue(feature.properties)} is not an object` };
  const coords =
    isRecord(feature.geometry) && Array.isArray(feature.geometry.coordinates) ? feature.geometry.coordinates : [];
  const id = plainText(p.unid) || plainText(feature.id);
  const depthRaw = p.depth ?? (coords[2] === undefined || coords[2] === null ? undefined : -toNumber(coords[2]));
  const time = toEpochMs(p.time);
  const candidate = {
    id,
    source: EMSC_SOURCE,
    sourceIds: id ? [id] : [],
    originTime: time,
    lat: toNumber(p.lat ?? coords[1]),
    lon: normalizeLon(toNumber(p.lon ?? coords[0])),
    depthKm: toNumber(depthRaw),
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
  return validateQuake(candidate, raw, NAMES);
}

/** A list of messages (a replay file in JSON Lines, or a JSON array). */
export function parseEmscMessages(messages: unknown[], opts: ParseOptions = {}): ParseResult {
  const result: ParseResult = { accepted: [], rejected: [] };
  messages.forEach((m, index) => {
    const r = parseEmscMessage(m, opts);
    if (r.ok) result.accepted.push(r.quake);
    else result.rejected.push({ index, reason: r.reason });
  });
  return result;
}
