/**
 * Batch helpers over the Associator: deduplicate a list of versions, and replay a feed file (what `quakectl replay`
 * prints, and what the producer would send).
 */
import { Associator, type AssociatorOptions } from './associate.ts';
import { type FeedParseResult, parseFeed } from './detect.ts';
import type { ParseOptions, Quake, Rejection } from './types.ts';

export interface AssociateAllResult {
  /** One event per earthquake, final version, in order of first appearance. */
  events: Quake[];
  /** Inputs that were a newer, equal or older version of an id already seen (replaced or ignored). */
  superseded: number;
  /** Inputs that were another source's solution of an event already seen (merged into it). */
  associated: number;
}

/**
 * Runs versions through an Associator in publication order (`updatedAt`, then origin time; stable), the order a
 * live producer would have seen them. Feeds list newest first, so the input order is not used.
 * Invariant: events.length + superseded + associated === quakes.length.
 */
export function associateAll(quakes: Quake[], opts: AssociatorOptions = {}): AssociateAllResult {
  const ordered = quakes
    .map((q, i) => ({ q, i }))
    .sort((a, b) => a.q.updatedAt - b.q.updatedAt || a.q.originTime - b.q.originTime || a.i - b.i);
  // A replay spans whatever the file spans: keep everything it holds.
  const associator = new Associator({
    retentionMs: Number.POSITIVE_INFINITY,
    maxEvents: Number.MAX_SAFE_INTEGER,
    ...opts,
  });
  let superseded = 0;
  let associated = 0;
  for (const { q } of ordered) {
    const r = associator.offer(q);
    if (r.outcome === 'associated') associated++;
    else if (r.outcome === 'updated' || r.outcome === 'stale') superseded++;
  }
  return { events: associator.events(), superseded, associated };
}

/** Same-id deduplication only (no association across sources): the newest `updatedAt` of each id wins. */
export function dedupe(quakes: Quake[]): Quake[] {
  const byId = new Map<string, Quake>();
  for (const q of quakes) {
    const current = byId.get(q.id);
    if (!current || q.updatedAt > current.updatedAt) byId.set(q.id, q);
  }
  return [...byId.values()];
}

export interface ReplayResult {
  accepted: Quake[];
  rejected: Rejection[];
  superseded: number;
  associated: number;
  format: FeedParseResult['format'];
}

/** Parse (any format), associate and deduplicate: what a replay of this feed would send. */
export function replayFeed(input: unknown, opts: ParseOptions & AssociatorOptions = {}): ReplayResult {
  const parsed = parseFeed(input, opts);
  const { events, superseded, associated } = associateAll(parsed.accepted, opts);
  return { accepted: events, rejected: parsed.rejected, superseded, associated, format: parsed.format };
}
