/** Field conversions shared by the parsers: each maps a feed's quirk to the normalized Quake's convention. */

/** Longitudes 180..360 (some catalogues) become −180..180; anything else is left for validation to judge. */
export function normalizeLon(lon: number): number {
  return lon > 180 && lon <= 360 ? lon - 360 : lon;
}

/** A number from a number or numeric string; null, undefined, '' and anything else become NaN (validation names it). */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v.trim());
  return Number.NaN;
}

/** Magnitudes: float noise from single-precision storage (1.92999995) rounds to 3 decimals (1.93). */
export function toMagnitude(v: unknown): number {
  const n = toNumber(v);
  return Number.isFinite(n) ? Math.round(n * 1000) / 1000 : n;
}

/**
 * Epoch milliseconds from a number (USGS: already ms) or an ISO-8601 string with any number of fractional digits and
 * with or without a zone (FDSN text omits it: UTC). NaN when neither.
 */
export function toEpochMs(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return Number.NaN;
  const s = v.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(s);
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, sec = '0', frac = '', zone] = m;
  const ms = frac ? Math.round(Number(`0.${frac}`) * 1000) : 0;
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), ms);
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  // Date.UTC accepts 2023-02-31 (rolls over): reject dates that do not round-trip.
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d)) return Number.NaN;
  return t;
}

export function lowerText(v: unknown): string {
  return typeof v === 'string' ? v.trim().toLowerCase() : '';
}

export function plainText(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}

/** USGS `ids` / `sources` / `types` are comma-wrapped lists: ",ak0234gpdcgp,us6000k2pa," → ["ak0234gpdcgp", …]. */
export function splitCommaList(v: unknown): string[] {
  if (typeof v !== 'string') return [];
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Unique, order kept. */
export function uniq(xs: string[]): string[] {
  return [...new Set(xs)];
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** QuakeML 1.2's EventType for "the network gave no type": what `kind` is when a feed leaves the type out. */
export const NOT_REPORTED = 'not reported';

/** The QuakeML 1.2 EventType by which a network withdraws an event it published. */
export const NOT_EXISTING = 'not existing';

/**
 * The depth used when a feed gives none: 10 km, the fixed depth networks themselves assign to a solution whose depth
 * the data cannot constrain (USGS ComCat, "depth" in its event terms; EMSC and GeoNet do the same). Such a quake
 * carries `depthKnown: false`. Zero would be wrong: at 0 km an intensity equation puts MMI 9–10 over the epicentre of
 * an M2–3 event.
 */
export const UNKNOWN_DEPTH_KM = 10;

/** The network's event type, lower-cased; `NOT_REPORTED` when empty or absent. */
export function eventKind(v: unknown): string {
  return lowerText(v) || NOT_REPORTED;
}

/** The first non-empty text, lower-cased (the publisher's code as `Quake.source`); '' when none. */
export function firstSource(...candidates: unknown[]): string {
  for (const c of candidates) {
    const s = lowerText(c);
    if (s !== '') return s;
  }
  return '';
}
