/**
 * What ingestion remembers of the versions it forwarded, per source id: enough to forward only new or updated events,
 * and bounded. An entry lives while its event keeps appearing (a feed snapshot, a replayed websocket message) and is
 * dropped `retentionMs` after it was last seen; past `maxEntries` the least recently seen go first. Forgetting is safe:
 * a forgotten event that reappears is forwarded once more and the producer drops it as superseded (events table).
 */
import type { Quake } from '../quake/types.ts';

export type Verdict = 'new' | 'updated' | 'revised' | 'same' | 'stale';

interface Seen {
  updatedAt: number;
  fingerprint: string;
  seenAt: number;
}

export interface VersionMemoryOptions {
  /** Default 2 days: longer than any gap between two appearances of an event in a feed or a replay. */
  retentionMs?: number;
  /** Default 200,000 (a USGS all_month feed holds about 10,000 events). */
  maxEntries?: number;
  now?: () => number;
}

/** The content a network can revise without telling us when (FDSN text has no update time). */
export function fingerprint(q: Quake): string {
  return [q.magnitude, q.magType, q.lat, q.lon, q.depthKm, q.kind, q.status].join('|');
}

export function versionKey(q: Pick<Quake, 'source' | 'id'>): string {
  return `${q.source}:${q.id}`;
}

export class VersionMemory {
  readonly retentionMs: number;
  readonly maxEntries: number;
  private readonly now: () => number;
  // Map order = least recently seen first: touching an entry re-inserts it at the end.
  private readonly entries = new Map<string, Seen>();

  constructor(opts: VersionMemoryOptions = {}) {
    this.retentionMs = opts.retentionMs ?? 2 * 24 * 3600_000;
    this.maxEntries = opts.maxEntries ?? 200_000;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** How `q` compares with the version last remembered for its source id; marks the id as seen now. */
  check(q: Quake): Verdict {
    const key = versionKey(q);
    const seen = this.entries.get(key);
    if (!seen) return 'new';
    this.entries.delete(key);
    this.entries.set(key, { ...seen, seenAt: this.now() });
    if (q.updatedAt > seen.updatedAt) return 'updated';
    if (q.updatedAt < seen.updatedAt) return 'stale';
    return fingerprint(q) === seen.fingerprint ? 'same' : 'revised';
  }

  /** The version remembered for `q`'s source id, if any. */
  updatedAt(q: Pick<Quake, 'source' | 'id'>): number | undefined {
    return this.entries.get(versionKey(q))?.updatedAt;
  }

  /** Records `q` as forwarded. */
  remember(q: Quake): void {
    const key = versionKey(q);
    this.entries.delete(key);
    this.entries.set(key, { updatedAt: q.updatedAt, fingerprint: fingerprint(q), seenAt: this.now() });
    if (this.entries.size > this.maxEntries) this.prune();
  }

  /** Drops entries not seen within the retention, then the least recently seen beyond `maxEntries`. */
  prune(): number {
    const cutoff = this.now() - this.retentionMs;
    let dropped = 0;
    for (const [key, seen] of this.entries) {
      if (seen.seenAt >= cutoff && this.entries.size <= this.maxEntries) break;
      this.entries.delete(key);
      dropped++;
    }
    return dropped;
  }
}
