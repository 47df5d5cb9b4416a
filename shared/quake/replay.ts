/**
 * Batch helpers over the Associator: deduplicate a list of versions, and replay feed files (what `quakectl replay`
 * prints, and what the producer would send).
 */
import { Associator, type AssociatorOptions } from './associate.ts';
import { type FeedParseResult, parseFeed } from './detect.ts';
import type { ParseOptions, Quake, Rejection, Retraction } from './types.ts';

export interface AssociateAllResult {
  /** One event per earthquake, final version, in order of first appearance; withdrawn events left out. */
  events: Quake[];
  /** Inputs that were a newer, equal or older version of an id already seen (replaced or ignored). */
  superseded: number;
  /** Inputs that were another source's solution of an event already seen (merged into it). */
  associated: number;
  /** Events left out because every source that published them retracted them (see `associateAll`). */
  withdrawn: number;
}

/**
 * Runs versions and retractions through an Associator in publication order (`updatedAt`, then origin time; stable),
 * the order a live producer would have seen them. Feeds list newest first, so the input order is not used.
 *
 * A retraction withdraws its source's solution of the event known under its id, if that solution is not newer than
 * the retraction (a later version means the network published the event again). An event stays while at least one
 * source that published it has not withdrawn it: USGS deleting its id does not erase EMSC's solution of the same
 * earthquake. A retraction of an id never seen withdraws nothing (it is still reported by the caller).
 * Invariant: events.length + superseded + associated + withdrawn === quakes.length.
 */
export function associateAll(
  quakes: Quake[],
  opts: AssociatorOptions = {},
  retractions: Retraction[] = [],
): AssociateAllResult {
  type Item = { at: number; origin: number; i: number } & ({ q: Quake } | { r: Retraction });
  const items: Item[] = [
    ...quakes.map((q, i) => ({ q, at: q.updatedAt, origin: q.originTime, i })),
    // At equal times a retraction comes after the version it withdraws.
    ...retractions.map((r, i) => ({ r, at: r.updatedAt, origin: Number.POSITIVE_INFINITY, i: quakes.length + i })),
  ];
  items.sort((a, b) => a.at - b.at || a.origin - b.origin || a.i - b.i);
  // A replay spans whatever the file spans: keep everything it holds.
  const associator = new Associator({
    retentionMs: Number.POSITIVE_INFINITY,
    maxEvents: Number.MAX_SAFE_INTEGER,
    ...opts,
  });
  // Canonical event key → source → whether that source's solution stands (false: withdrawn).
  const standing = new Map<string, Map<string, boolean>>();
  const keyOf = (id: string, drill: boolean) => `${drill ? 'drill:' : ''}${id}`;
  let superseded = 0;
  let associated = 0;
  for (const item of items) {
    if ('q' in item) {
      const r = associator.offer(item.q);
      if (r.outcome === 'associated') associated++;
      else if (r.outcome === 'updated' || r.outcome === 'stale') superseded++;
      const key = keyOf(r.event.id, r.event.drill);
      const sources = standing.get(key) ?? new Map<string, boolean>();
      if (r.outcome !== 'stale' || !sources.has(item.q.source)) sources.set(item.q.source, true);
      standing.set(key, sources);
    } else {
      const event = associator.get(item.r.id, item.r.drill);
      const sources = event && standing.get(keyOf(event.id, event.drill));
      if (sources?.has(item.r.source)) sources.set(item.r.source, false);
    }
  }
  const all = associator.events();
  const events = all.filter((e) => [...(standing.get(keyOf(e.id, e.drill))?.values() ?? [true])].some(Boolean));
  return { events, superseded, associated, withdrawn: all.length - events.length };
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
  /** Every retraction the input held, in input order (also those of ids it did not hold). */
  retracted: Retraction[];
  superseded: number;
  associated: number;
  /** Events left out of `accepted` because the input also held their retraction. */
  withdrawn: number;
  format: FeedParseResult['format'];
}

/** Parse (any format), associate and deduplicate: what a replay of this feed would send. */
export function replayFeed(input: unknown, opts: ParseOptions & AssociatorOptions = {}): ReplayResult {
  const parsed = parseFeed(input, opts);
  const retracted = parsed.retracted ?? [];
  const { events, superseded, associated, withdrawn } = associateAll(parsed.accepted, opts, retracted);
  return {
    accepted: events,
    rejected: parsed.rejected,
    retracted,
    superseded,
    associated,
    withdrawn,
    format: parsed.format,
  };
}

/**
 * Several parsed inputs (files of any formats) replayed together, in publication order across all of them;
 * `retracted` sorted by their time.
 */
export function replayParsed(
  parsed: ReadonlyArray<Pick<FeedParseResult, 'accepted' | 'retracted'>>,
  opts: AssociatorOptions = {},
): Omit<ReplayResult, 'rejected' | 'format'> {
  const quakes = parsed.flatMap((p) => p.accepted);
  const retracted = parsed
    .flatMap((p) => p.retracted ?? [])
    .map((r, i) => ({ r, i }))
    .sort((a, b) => a.r.updatedAt - b.r.updatedAt || a.i - b.i)
    .map(({ r }) => r);
  const { events, superseded, associated, withdrawn } = associateAll(quakes, opts, retracted);
  return { accepted: events, retracted, superseded, associated, withdrawn };
}
