/**
 * Association across sources: the same earthquake published by USGS and by EMSC has two ids. The `Associator` keeps
 * an in-memory set of recent events (the producer holds one per process) and decides for each incoming version
 * whether it is new, a newer version of a known event, a stale or duplicate version, or another source's solution of
 * a known event.
 *
 * Thresholds (defaults), all three must hold:
 * - |Δ origin time| ≤ 10 s. Independent automatic solutions of one event agree to 1–3 s (EMSC and USGS solutions of
 *   the same M4–6 event typically differ by under 2 s); 10 s leaves room for large events whose origin moves as the
 *   rupture is resolved, while staying far below the minutes between most distinct events.
 * - epicentre distance ≤ 100 km. Automatic epicentres differ by 5–30 km, more offshore and for sparse networks;
 *   100 km is USGS ComCat's own association radius and the distance an S wave covers in under 30 s.
 * - |Δ magnitude| ≤ 0.8. Magnitude types differ between agencies (ml vs mb vs mww) by up to about half a unit; 0.8
 *   still separates a mainshock from a smaller aftershock seconds later.
 * Guards: a source never associates with itself (two ids from one network within seconds are two events, the network
 * said so); a drill never associates with a real event. When several events qualify, the closest in the normalised
 * sum (Δt/10 s)² + (Δd/100 km)² + (ΔM/0.8)² wins.
 *
 * Identity: the first id seen stays canonical (`id`, `source`); `sourceIds` accumulate. The event's solution
 * (location, magnitude, …) is the version with the newest `updatedAt` across sources, so a later reviewed USGS
 * solution replaces an earlier automatic EMSC one and never the other way round.
 */
import { haversineKm } from '../seismo/geodesy.ts';
import { publisherKey } from './publisher.ts';
import type { Quake } from './types.ts';

export interface AssociationThresholds {
  maxTimeDeltaMs: number;
  maxDistanceKm: number;
  maxMagnitudeDelta: number;
}

export const DEFAULT_ASSOCIATION_THRESHOLDS: AssociationThresholds = {
  maxTimeDeltaMs: 10_000,
  maxDistanceKm: 100,
  maxMagnitudeDelta: 0.8,
};

export interface AssociatorOptions {
  thresholds?: Partial<AssociationThresholds>;
  /**
   * An event is forgotten when both its origin and its last update are this much older than the newest origin time
   * seen (the associator's clock, so replays of old files behave as live). Default 6 h.
   */
  retentionMs?: number;
  /** Hard cap on remembered events (oldest forgotten first). Default 10 000. */
  maxEvents?: number;
}

/**
 * - `new`: first sight of this earthquake.
 * - `updated`: a newer version of a known event (same id, or another source's solution with newer updatedAt).
 * - `associated`: another source's first solution of a known event (ids merged; solution replaced only if newer).
 * - `stale`: an equal or older version of a known id: no-op.
 */
export type AssociationOutcome = 'new' | 'updated' | 'associated' | 'stale';

export interface AssociationResult {
  outcome: AssociationOutcome;
  /** The event as it now stands (canonical id). */
  event: Quake;
  /** The event before this input, for `updated` and `associated`. */
  previous?: Quake;
}

interface Entry {
  event: Quake;
  sources: Set<string>;
}

export class Associator {
  readonly thresholds: AssociationThresholds;
  private readonly retentionMs: number;
  private readonly maxEvents: number;
  /** Key (canonical id, drills in their own namespace) → entry, in insertion order (oldest first). */
  private readonly entries = new Map<string, Entry>();
  /** Key of any source id → key of the canonical id. */
  private readonly byId = new Map<string, string>();
  private highWaterMs = Number.NEGATIVE_INFINITY;

  constructor(opts: AssociatorOptions = {}) {
    this.thresholds = { ...DEFAULT_ASSOCIATION_THRESHOLDS, ...opts.thresholds };
    this.retentionMs = opts.retentionMs ?? 6 * 3600_000;
    this.maxEvents = opts.maxEvents ?? 10_000;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The event known under any of its ids. */
  get(id: string, drill = false): Quake | undefined {
    const canonical = this.byId.get(key(id, drill));
    return canonical === undefined ? undefined : this.entries.get(canonical)?.event;
  }

  events(): Quake[] {
    return [...this.entries.values()].map((e) => e.event);
  }

  offer(q: Quake): AssociationResult {
    this.highWaterMs = Math.max(this.highWaterMs, q.originTime);
    this.prune();
    const known = this.findById(q);
    if (known) return this.merge(known, q, 'updated');
    const match = this.findMatch(q);
    if (match) return this.merge(match, q, 'associated');
    const event: Quake = { ...q, sourceIds: uniqueIds([q.id, ...q.sourceIds]) };
    const entry = { event, sources: new Set([publisherKey(q.source)]) };
    this.entries.set(key(event.id, event.drill), entry);
    this.index(entry);
    return { outcome: 'new', event };
  }

  /** True when `q` and `e` pass every threshold (ignores the same-source and drill guards). */
  matches(q: Quake, e: Quake): boolean {
    return this.score(q, e) !== undefined;
  }

  private findById(q: Quake): Entry | undefined {
    for (const id of [q.id, ...q.sourceIds]) {
      const canonical = this.byId.get(key(id, q.drill));
      const entry = canonical === undefined ? undefined : this.entries.get(canonical);
      if (entry) return entry;
    }
    return undefined;
  }

  private findMatch(q: Quake): Entry | undefined {
    let best: Entry | undefined;
    let bestScore = Number.POSITIVE_INFINITY;
    for (const entry of this.entries.values()) {
      if (entry.sources.has(publisherKey(q.source)) || entry.event.drill !== q.drill) continue;
      const s = this.score(q, entry.event);
      if (s !== undefined && s < bestScore) {
        best = entry;
        bestScore = s;
      }
    }
    return best;
  }

  private score(q: Quake, e: Quake): number | undefined {
    return associationScore(q, e, this.thresholds);
  }

  private merge(entry: Entry, q: Quake, outcome: 'updated' | 'associated'): AssociationResult {
    const previous = entry.event;
    const sourceIds = uniqueIds([...previous.sourceIds, q.id, ...q.sourceIds]);
    const newer = q.updatedAt > previous.updatedAt;
    const isNewSource = !entry.sources.has(publisherKey(q.source));
    entry.sources.add(publisherKey(q.source));
    const event: Quake = newer
      ? { ...q, id: previous.id, source: previous.source, sourceIds }
      : { ...previous, sourceIds };
    entry.event = event;
    this.index(entry);
    if (outcome === 'associated' || (isNewSource && !newer)) {
      return { outcome: 'associated', event, previous };
    }
    return newer ? { outcome: 'updated', event, previous } : { outcome: 'stale', event, previous };
  }

  private index(entry: Entry): void {
    const e = entry.event;
    for (const id of [e.id, ...e.sourceIds]) this.byId.set(key(id, e.drill), key(e.id, e.drill));
  }

  private prune(): void {
    const cutoff = this.highWaterMs - this.retentionMs;
    for (const [id, entry] of this.entries) {
      if (Math.max(entry.event.originTime, entry.event.updatedAt) >= cutoff && this.entries.size <= this.maxEvents)
        break;
      this.forget(id, entry);
    }
  }

  private forget(id: string, entry: Entry): void {
    this.entries.delete(id);
    for (const s of entry.event.sourceIds) {
      const k = key(s, entry.event.drill);
      if (this.byId.get(k) === id) this.byId.delete(k);
    }
  }
}

type Solution = Pick<Quake, 'originTime' | 'lat' | 'lon' | 'magnitude'>;

/**
 * How well two solutions fit one earthquake: undefined unless all three thresholds hold, else the normalised sum
 * (Δt/maxΔt)² + (Δd/maxΔd)² + (ΔM/maxΔM)² (lower is closer). The one rule both the in-memory `Associator` (replay)
 * and the producers' shared identity in DynamoDB (`shared/events/identity.ts`) decide with.
 */
export function associationScore(
  q: Solution,
  e: Solution,
  t: AssociationThresholds = DEFAULT_ASSOCIATION_THRESHOLDS,
): number | undefined {
  const dt = Math.abs(q.originTime - e.originTime);
  if (dt > t.maxTimeDeltaMs) return undefined;
  const dm = Math.abs(q.magnitude - e.magnitude);
  // Magnitudes are decimals in binary floating point: 7.4 − 6.6 is 0.8000000000000007, which must count as 0.8.
  if (dm > t.maxMagnitudeDelta + 1e-9) return undefined;
  const dd = haversineKm(q.lat, q.lon, e.lat, e.lon);
  if (dd > t.maxDistanceKm) return undefined;
  return (dt / t.maxTimeDeltaMs) ** 2 + (dd / t.maxDistanceKm) ** 2 + (dm / t.maxMagnitudeDelta) ** 2;
}

/** Drills live in their own id space: a drill can never update or shadow a real event with the same id. */
function key(id: string, drill: boolean): string {
  return drill ? `drill\u0000${id}` : id;
}

function uniqueIds(ids: string[]): string[] {
  return [...new Set(ids.filter((s) => s !== ''))];
}
