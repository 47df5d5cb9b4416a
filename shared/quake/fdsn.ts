/**
 * FDSN event web service text format (`format=text`, FDSN Web Service Specifications 1.2, fdsnws-event):
 *   #EventID|Time|Latitude|Longitude|Depth/km|Author|Catalog|Contributor|ContributorID|MagType|Magnitude|MagAuthor|EventLocationName
 * Some servers (EMSC, INGV, GeoNet) add a 14th column `EventType`. Empty columns are common; an empty result is HTTP 204
 * with no body (parsed as no events, not an error). `Time` has no zone: UTC. The format carries no update time and no
 * review status: `updatedAt` is the origin time, marked `updatedAtKnown: false` (the producer stamps the version with
 * the time it received it), and `status` is `automatic` (claiming review we cannot see would be wrong). An empty depth is unknown: 10 km, the networks' usual fixed depth for an unconstrained solution, with
 * `depthKnown: false`. An empty or absent EventType is 'not reported'; `not existing` withdraws the event (a
 * `Retraction`, at the time of parsing: the row has no time of its own for it).
 * `source` is the publisher: the Catalog column (`EMSC-RTS`, `us`, `GNS`), else Contributor, else Author, lower-cased;
 * with all three empty, the server (`ParseOptions.server`), else 'fdsn'. So two servers' rows of one earthquake carry
 * two sources and can associate (the Associator never merges one source with itself).
 */
import {
  eventKind,
  firstSource,
  lowerText,
  NOT_EXISTING,
  normalizeLon,
  plainText,
  toEpochMs,
  toMagnitude,
  toNumber,
  UNKNOWN_DEPTH_KM,
} from './normalize.ts';
import { collectOutcomes, retractionOutcome } from './outcome.ts';
import { showValue, validateQuake } from './schema.ts';
import type { ItemOutcome, ParseOptions, ParseResult } from './types.ts';

/** The source of a row (or a QuakeML event) that names no publisher and came from no known server. */
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

/** One data line (not blank, not a comment). */
export function parseFdsnLine(line: string, opts: ParseOptions = {}): ItemOutcome {
  const cols = line.split('|');
  if (cols.length !== 13 && cols.length !== 14) {
    return { kind: 'rejection', reason: `line: ${showValue(line)} has ${cols.length} columns, expected 13 or 14` };
  }
  const [id, time, lat, lon, depth, author, catalog, contributor, , magType, mag, , place, eventType] = cols.map((c) =>
    c.trim(),
  );
  const source = firstSource(catalog, contributor, author, opts.server) || FDSN_SOURCE;
  if (lowerText(eventType) === NOT_EXISTING) {
    return retractionOutcome(id, source, undefined, `fdsn EventType "${NOT_EXISTING}"`, opts);
  }
  const t = toEpochMs(time);
  const candidate = {
    id,
    source,
    sourceIds: id ? [id] : [],
    originTime: t,
    lat: toNumber(lat),
    lon: normalizeLon(toNumber(lon)),
    depthKm: depth === '' ? UNKNOWN_DEPTH_KM : toNumber(depth),
    ...(depth === '' ? { depthKnown: false } : {}),
    magnitude: toMagnitude(mag),
    magType: lowerText(magType),
    place: plainText(place),
    updatedAt: t,
    updatedAtKnown: false,
    status: 'automatic',
    kind: eventKind(eventType),
    drill: opts.drill === true,
  };
  const raw = { id, originTime: time, updatedAt: time, lat, lon, depthKm: depth, magnitude: mag };
  const v = validateQuake(candidate, raw, { ...NAMES, updatedAt: 'Time' }, { now: opts.now });
  return v.ok ? { kind: 'quake', quake: v.quake } : { kind: 'rejection', reason: v.reason };
}

/** Rejection index: the data line's position among non-comment, non-blank lines. */
export function parseFdsnText(text: string, opts: ParseOptions = {}): ParseResult {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  return collectOutcomes(
    lines,
    (l) => parseFdsnLine(l, opts),
    (l) => {
      const cols = l.split('|');
      return cols.length === 13 || cols.length === 14 ? cols[0].trim() : '';
    },
  );
}
