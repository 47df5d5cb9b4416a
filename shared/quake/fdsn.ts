/**
 * FDSN event web service text format (`format=text`, FDSN Web Service Specifications 1.2, fdsnws-event):
 *   #EventID|Time|Latitude|Longitude|Depth/km|Author|Catalog|Contributor|ContributorID|MagType|Magnitude|MagAuthor|EventLocationName
 * Some servers (EMSC, INGV) add a 14th column `EventType`. Empty columns are common; an empty result is HTTP 204 with
 * no body (parsed as no events, not an error). `Time` has no zone: UTC. The format carries no update time and no
 * review status: `updatedAt` is the origin time and `status` is `automatic` (claiming review we cannot see would be
 * wrong). An empty depth becomes 10 km, the networks' usual fixed depth for an unconstrained solution.
 */
import { lowerText, normalizeLon, plainText, toEpochMs, toMagnitude, toNumber } from './normalize.ts';
import { showValue, validateQuake } from './schema.ts';
import type { ParseOptions, ParseResult } from './types.ts';

export const FDSN_SOURCE = 'fdsn';

export const FDSN_COLUMNS = [
  'EventID',
  'Time',
  'Latitude',
  'Longitude',
  'Depth/km',
  'Author',
  'Catalog',
  'Contributor',
  'ContributorID',
  'MagType',
  'Magnitude',
  'MagAuthor',
  'EventLocationName',
  'EventType',
] as const;

const NAMES = {
  id: 'EventID',
  originTime: 'Time',
  lat: 'Latitude',
  lon: 'Longitude',
  depthKm: 'Depth/km',
  magnitude: 'Magnitude',
  kind: 'EventType',
} as const;

/** Rejection index: the data line's position among non-comment, non-blank lines. */
export function parseFdsnText(text: string, opts: ParseOptions = {}): ParseResult {
  const result: ParseResult = { accepted: [], rejected: [] };
  let index = 0;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const i = index++;
    const cols = line.split('|');
    if (cols.length !== 13 && cols.length !== 14) {
      result.rejected.push({
        index: i,
        reason: `line: ${showValue(line)} has ${cols.length} columns, expected 13 or 14`,
      });
      continue;
    }
    const [id, time, lat, lon, depth, , , , , magType, mag, , place, eventType] = cols.map((c) => c.trim());
    const t = toEpochMs(time);
    const candidate = {
      id,
      source: FDSN_SOURCE,
      sourceIds: id ? [id] : [],
      originTime: t,
      lat: toNumber(lat),
      lon: normalizeLon(toNumber(lon)),
      depthKm: depth === '' ? 10 : toNumber(depth),
      magnitude: toMagnitude(mag),
      magType: lowerText(magType),
      place: plainText(place),
      updatedAt: t,
      status: 'automatic',
      kind: lowerText(eventType) || 'earthquake',
      drill: opts.drill === true,
    };
    const r = validateQuake(candidate, { id, originTime: time, lat, lon, depthKm: depth, magnitude: mag }, NAMES);
    if (r.ok) result.accepted.push(r.quake);
    else result.rejected.push({ index: i, reason: id ? `${id}: ${r.reason}` : r.reason });
  }
  return result;
}
