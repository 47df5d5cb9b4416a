/** Which events alert, and which version of an event wins (system.md section 3). */
import type { Quake } from './types.ts';

/**
 * Event types that say the event is NOT an earthquake, lower-cased: the QuakeML 1.2 EventType vocabulary (QuakeML BED
 * 1.2, 2013, `EventType`) without its earthquake-like entries, plus USGS ComCat words outside it. Only these suppress
 * an alert.
 *
 * Alertable, because they say "possibly an earthquake": 'earthquake'; 'unknown', 'not reported' and '' (a fresh
 * automatic solution has no type yet: GeoNet writes `unknown`, SeisComP leaves it out); the induced-seismicity types
 * ('induced or triggered event', 'reservoir loading', 'fluid injection', 'fluid extraction'), which shake like any
 * earthquake of their magnitude; and any word not in this list (failing towards a warning, not towards silence).
 * 'not existing' is a retraction (parsers emit a `Retraction`); it is listed so that a Quake carrying it never alerts.
 */
export const NON_EARTHQUAKE_KINDS: ReadonlySet<string> = new Set([
  'not existing',
  'anthropogenic event',
  'collapse',
  'cavity collapse',
  'mine collapse',
  'building collapse',
  'explosion',
  'accidental explosion',
  'chemical explosion',
  'controlled explosion',
  'experimental explosion',
  'industrial explosion',
  'mining explosion',
  'quarry blast',
  'road cut',
  'blasting levee',
  'nuclear explosion',
  'rock burst',
  'crash',
  'plane crash',
  'train crash',
  'boat crash',
  'other event',
  'atmospheric event',
  'sonic boom',
  'sonic blast',
  'acoustic noise',
  'thunder',
  'avalanche',
  'snow avalanche',
  'debris avalanche',
  'hydroacoustic event',
  'ice quake',
  'slide',
  'landslide',
  'rockslide',
  'meteorite',
  'volcanic eruption',
  // USGS ComCat words outside the QuakeML vocabulary.
  'rock slide',
  'volcanic explosion',
  'meteor',
]);

/** True unless `kind` is an explicit non-earthquake type (case and surrounding space ignored). */
export function isPossiblyEarthquake(kind: string): boolean {
  return !NON_EARTHQUAKE_KINDS.has(kind.trim().toLowerCase());
}

/** Possibly an earthquake (see `NON_EARTHQUAKE_KINDS`) and at or above `minMagnitude`. */
export function isAlertable(q: Pick<Quake, 'kind' | 'magnitude'>, minMagnitude: number): boolean {
  return isPossiblyEarthquake(q.kind) && q.magnitude >= minMagnitude;
}

/** True when `a` and `b` describe the same event by id (either's id among the other's source ids). */
export function sameEvent(a: Pick<Quake, 'id' | 'sourceIds'>, b: Pick<Quake, 'id' | 'sourceIds'>): boolean {
  if (a.id === b.id) return true;
  const ids = new Set(b.sourceIds);
  ids.add(b.id);
  return a.id !== '' && (ids.has(a.id) || a.sourceIds.some((s) => ids.has(s)));
}

/**
 * True when `next` replaces `current`: the same event with a strictly newer `updatedAt`. An equal or older one is a
 * no-op (replayed or out-of-order deliveries must not roll an event back).
 */
export function supersedes(next: Quake, current: Quake): boolean {
  return sameEvent(next, current) && next.updatedAt > current.updatedAt;
}
