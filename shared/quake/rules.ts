/** Which events alert, and which version of an event wins (system.md section 3). */
import type { Quake } from './types.ts';

/** Only earthquakes alert: quarry blasts, explosions, ice quakes and the like are kept but never alerted. */
export const ALERTABLE_KINDS: ReadonlySet<string> = new Set(['earthquake']);

export function isAlertable(q: Pick<Quake, 'kind' | 'magnitude'>, minMagnitude: number): boolean {
  return ALERTABLE_KINDS.has(q.kind.toLowerCase()) && q.magnitude >= minMagnitude;
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
