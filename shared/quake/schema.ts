/**
 * Validation of the normalized Quake (issue 4): every rejection names the field and the offending value, e.g.
 * `lat: 95 is out of range -90..90`, so that one bad feature can be reported and skipped.
 */
import { z } from 'zod';
import type { Quake } from './types.ts';

/**
 * 1900-01-01 .. 2200-01-01. Past 2200 is a unit mistake (µs for ms). Before 1900 is, for an origin time, a historical
 * (pre-instrumental) event: quakectl alerts on events as they happen, and a catalogue entry of 1802 sent as a real event
 * would alert today's subscribers for shaking two centuries gone, so it is refused with that reason (replay history as
 * a drill scenario instead). Nothing downstream needs the floor; it is there for the operator.
 */
export const EPOCH_MS_MIN = Date.UTC(1900, 0, 1);
export const EPOCH_MS_MAX = Date.UTC(2200, 0, 1);

/**
 * The largest lead of an origin time (or an update time) over "now" that is accepted: 5 minutes. A solution is published
 * after its origin, never before; a lead of seconds is clock skew between the network and us, a lead of minutes or
 * years is a clock, time-zone or unit error at the source, and a version dated in the future would also block every
 * real update of the event (a newer `updatedAt` supersedes).
 */
export const MAX_ORIGIN_LEAD_MS = 5 * 60_000;

const range = (min: number, max: number) =>
  z
    .number({ error: 'is not a finite number' })
    .min(min, `is out of range ${min}..${max}`)
    .max(max, `is out of range ${min}..${max}`);

const epochMs = z
  .number({ error: 'is not a time (epoch ms)' })
  .min(EPOCH_MS_MIN, 'is not a plausible epoch-ms time (1900..2200)')
  .max(EPOCH_MS_MAX, 'is not a plausible epoch-ms time (1900..2200)');

const originMs = z
  .number({ error: 'is not a time (epoch ms)' })
  .min(
    EPOCH_MS_MIN,
    'is before 1900: a historical event, refused because quakectl alerts on events as they happen (replay history as a drill scenario)',
  )
  .max(EPOCH_MS_MAX, 'is not a plausible epoch-ms time (1900..2200)');

const text = z.string({ error: 'is not a string' });
const nonEmpty = text.min(1, 'is empty');

export const QuakeSchema = z.object({
  id: nonEmpty.max(200, 'is longer than 200 characters'),
  source: nonEmpty,
  sourceIds: z.array(nonEmpty, { error: 'is not a list of ids' }).min(1, 'is empty'),
  originTime: originMs,
  lat: range(-90, 90),
  lon: range(-180, 180),
  depthKm: range(-10, 800),
  depthKnown: z.boolean({ error: 'is not a boolean' }).optional(),
  updatedAtKnown: z.boolean({ error: 'is not a boolean' }).optional(),
  magnitude: range(-2, 10),
  magType: text,
  place: text,
  updatedAt: epochMs,
  status: z.enum(['automatic', 'reviewed'], { error: 'is not automatic or reviewed' }),
  kind: nonEmpty,
  drill: z.boolean({ error: 'is not a boolean' }),
});

export type QuakeValidation = { ok: true; quake: Quake } | { ok: false; reason: string };

export interface ValidateOptions {
  /** "Now", epoch ms, for the future-time check. Default `Date.now()`. */
  now?: number;
}

/**
 * Validates a candidate Quake. `raw` maps Quake fields to the feed's original values (before conversion), so that a
 * rejection shows what the feed sent (`magnitude: null`) rather than the converted NaN; `names` maps Quake fields to
 * the feed's own field names (`properties.mag`). Beyond the schema, an origin or update time more than
 * `MAX_ORIGIN_LEAD_MS` after `opts.now` is refused with a reason that says how far ahead it is.
 */
export function validateQuake(
  candidate: unknown,
  raw: Partial<Record<keyof Quake, unknown>> = {},
  names: Partial<Record<keyof Quake, string>> = {},
  opts: ValidateOptions = {},
): QuakeValidation {
  const label = (field: keyof Quake) => (names[field] ? `${field} (${names[field]})` : field);
  const r = QuakeSchema.safeParse(candidate);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue.path.map(String);
    const field = path[0] as keyof Quake | undefined;
    const value =
      field !== undefined && field in raw
        ? raw[field]
        : path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], candidate);
    const name = field !== undefined && path.length === 1 ? label(field) : path.join('.') || 'quake';
    return { ok: false, reason: `${name}: ${showValue(value)} ${issue.message}` };
  }
  const now = opts.now ?? Date.now();
  for (const field of ['originTime', 'updatedAt'] as const) {
    const lead = r.data[field] - now;
    if (lead > MAX_ORIGIN_LEAD_MS) {
      const value = field in raw ? raw[field] : new Date(r.data[field]).toISOString();
      return {
        ok: false,
        reason:
          `${label(field)}: ${showValue(value)} is ${describeLead(lead)} ahead of now (${new Date(now).toISOString()}); ` +
          `times more than ${MAX_ORIGIN_LEAD_MS / 60_000} min in the future are refused (a clock, time-zone or unit error at the source)`,
      };
    }
  }
  return { ok: true, quake: r.data };
}

function describeLead(ms: number): string {
  const minutes = ms / 60_000;
  if (minutes < 120) return `${Math.round(minutes)} min`;
  const hours = minutes / 60;
  if (hours < 48) return `${Math.round(hours)} h`;
  const days = hours / 24;
  return days < 730 ? `${Math.round(days)} days` : `${Math.round(days / 365.25)} years`;
}

/** A short, printable rendering of a rejected value. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'missing,';
  let s: string;
  try {
    s = typeof value === 'number' && !Number.isFinite(value) ? String(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    s = String(value);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
