/**
 * Where drills send their notifications on the local profile: the loopback webhook sink on a fixed port, so the
 * targets of seeded subscribers stay valid from one drill to the next. Override with QUAKECTL_DRILL_SINK_PORT.
 */
import { UsageError } from '../infra/errors.ts';

export const DEFAULT_SINK_PORT = 19080;
export const SINK_PATH = '/drill';

/**
 * An integer setting of the drill receivers from environment variable `name`, within [min, max], else `fallback` when
 * unset or empty. A set but invalid value is a UsageError naming the variable and what it expects (`what`), never
 * silently replaced: seeded subscribers keep a receiver's port in their target URL.
 */
export function intFromEnv(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  range: { min: number; max: number; what: string },
): number {
  const v = env[name];
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < range.min || n > range.max) {
    throw new UsageError(`${name}="${v}": expected ${range.what}`);
  }
  return n;
}

/** A drill receiver's port from environment variable `name` (1–65535), else `fallback` (`intFromEnv`'s errors). */
export function portFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  return intFromEnv(env, name, fallback, { min: 1, max: 65535, what: 'a port from 1 to 65535' });
}

/** The webhook sink's port: QUAKECTL_DRILL_SINK_PORT, default 19080 (`portFromEnv`'s errors). */
export function sinkPort(env: NodeJS.ProcessEnv = process.env): number {
  return portFromEnv(env, 'QUAKECTL_DRILL_SINK_PORT', DEFAULT_SINK_PORT);
}

export function sinkUrl(port: number): string {
  return `http://127.0.0.1:${port}${SINK_PATH}`;
}
