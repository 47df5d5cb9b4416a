/**
 * Validation of the normalized Quake (issue 4): every rejection names the field and the offending value, e.g.
 * `lat: 95 is out of range -90..90`, so that one bad feature can be reported and skipped.
 */
import { z } from 'zod';
import type { Quake } from './types.ts';

/** 1900-01-01 .. 2200-01-01: anything outside is a unit mistake (seconds for ms, or ms for µs). */
export const EPOCH_MS_MIN = Date.UTC(1900, 0, 1);
export const EPOCH_MS_MAX = Date.UTC(2200, 0, 1);

const range = (min: number, max: number) =>
  z
    .number({ error: 'is not a finite number' })
    .min(min, `is out of range ${min}..${max}`)
    .max(max, `is out of range ${min}..${max}`);

const epochMs = z
  .number({ error: 'is not a time (epoch ms)' })
  .min(EPOCH_MS_MIN, 'is not a plausible epoch-ms time (1900..2200)')
  .max(EPOCH_MS_MAX, 'is not a plausible epoch-ms time (1900..2200)');

const text = z.string({ error: 'is not a string' });
const nonEmpty = text.min(1, 'is empty');

export const QuakeSchema = z.object({
  id: nonEmpty.max(200, 'is longer than 200 characters'),
  source: nonEmpty,
  sourceIds: z.array(nonEmpty, { error: 'is not a list of ids' }).min(1, 'is empty'),
  originTime: epochMs,
  lat: range(-90, 90),
  lon: range(-180, 180),
  depthKm: range(-10, 800),
  magnitude: range(-2, 10),
  magType: text,
  place: text,
  updatedAt: epochMs,
  status: z.enum(['automatic', 'reviewed'], { error: 'is not automatic or reviewed' }),
  kind: nonEmpty,
  drill: z.boolean({ error: 'is not a boolean' }),
});

export type QuakeValidation = { ok: true; quake: Quake } | { ok: false; reason: string };

/**
 * Validates a candidate Quake. `raw` maps Quake fields to the feed's original values (before conversion), so that a
 * rejection shows what the feed sent (`magnitude: null`) rather than the converted NaN; `names` maps Quake fields to
 * the feed's own field names (`properties.mag`).
 */
export function validateQuake(
  candidate: unknown,
  raw: Partial<Record<keyof Quake, unknown>> = {},
  names: Partial<Record<keyof Quake, string>> = {},
): QuakeValidation {
  const r = QuakeSchema.safeParse(candidate);
  if (r.success) return { ok: true, quake: r.data };
  const issue = r.error.issues[0];
  const path = issue.path.map(String);
  const field = path[0] as keyof Quake | undefined;
  const value =
    field !== undefined && field in raw
      ? raw[field]
      : path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], candidate);
  const name = field !== undefined && names[field] ? `${field} (${names[field]})` : path.join('.') || 'quake';
  return { ok: false, reason: `${name}: ${showValue(value)} ${issue.message}` };
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
