/**
 * Event identity in DynamoDB: every version and every source of one earthquake maps to one canonical event id for its
 * whole life, whichever producer environment (cold or warm, one of up to ten in parallel) sees it first. The
 * association rule is the Associator's (`shared/quake/associate.ts`: |Δt| ≤ 10 s, ≤ 100 km, |ΔM| ≤ 0.8, never one
 * source with itself, never a drill with a real event); what it is decided against lives in the events table, so the
 * decision is shared, not per process.
 *
 * Items (events table, beside the events; none has `state`, so scans for events in progress skip them):
 *   alias   `_alias#<space>#<feed id>`        {kind: "alias", canonical, canonicalSource, source, createdAt}
 *           one per feed id ever seen (the report's own id and its `sourceIds`); written once, never changed.
 *   bucket  `_assoc#<space>#<floor(t / W)>`   {kind: "assoc-bucket", ver, reports: {"<source>|<id>": Report}}
 *           the reports whose association window [t − Δ, t + Δ] touches the bucket's W = Δ (10 s) of origin time.
 *   <space> is `real` or `drill`: drills live in their own id space end to end.
 *
 * Protocol for a report r (source s, id i, origin t), `resolveIdentity`:
 *   1. BatchGet the aliases of r's ids. One exists → its canonical id (the first id seen wins forever). Done.
 *   2. BatchGet (consistent) every bucket of r's window, and the aliases of the canonical ids its entries name: an
 *      entry's choice is final once that canonical id's own alias exists, and the alias resolves entries a writer left
 *      before it lost a round and joined another event. Reports are grouped by resolved canonical id. One naming r's
 *      ids → that event (a racing producer handled this very report). Else the best-scoring report from another source
 *      whose event has no report from s → its event; none → r is a new event and its own id is canonical. A match whose
 *      event is not final yet (its creator is still registering) → wait 25–400 ms and start again at 1.
 *   3. Register r in every bucket of its window, in ascending order, each UpdateItem conditional on the `ver` read in
 *      step 2 (`attribute_not_exists(eventId)` for a bucket that did not exist), `ver + 1`:
 *        SET reports.#r = :report, ver = :v + 1      condition ver = :v
 *      Any condition failure → start again at 1 (at most 8 rounds, then `IdentityContentionError`; the producer fails
 *      and its caller retries).
 *   4. PutItem each alias, condition attribute_not_exists(eventId). An alias written meanwhile by someone else wins:
 *      its canonical is returned.
 *
 * Why two racers cannot both create: two reports that must associate have |t1 − t2| ≤ Δ, so the bucket holding t1 lies
 * in both windows. Both read it (step 2) before writing it (step 3); the second write to it carries a stale `ver` and
 * fails, so the second racer starts again, now sees the first report, and joins its event once it is final. A third
 * report can no longer join a loser's abandoned choice: it only joins final events, through their aliases. A report's
 * entry is keyed by its own source and id, so a retry overwrites what an earlier failed round wrote. A producer that
 * dies inside step 3 leaves a choice that never becomes final: others wait for it up to the round limit and then
 * decide without it.
 *
 * A new version of a known report (`registerSolution`, after the producer accepted it) overwrites that report's
 * entry in the buckets of its window (version + 1, creating a bucket if needed): later reports from other agencies are
 * matched against the latest solution, not the first automatic one (whose magnitude a large event outgrows).
 *
 * Cost: one BatchGet of aliases per report; for a first sighting a BatchGet of 2–3 buckets, 2–3 conditional writes and
 * one alias put per id. Nothing here is on the per-subscriber path. Buckets and aliases are small and never updated
 * after their minute has passed (on AWS a TTL attribute `expiresAt`, 30 days, lets DynamoDB drop them).
 */
import { BatchGetCommand, type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { QuakectlError } from '../infra/errors.ts';
import { isConditionFailed } from '../locks/errors.ts';
import { type AssociationThresholds, associationScore, DEFAULT_ASSOCIATION_THRESHOLDS } from '../quake/associate.ts';
import { publisherKey } from '../quake/publisher.ts';
import type { Quake } from '../quake/types.ts';

export interface IdentityStore {
  ddb: DynamoDBDocumentClient;
  /** The events table. */
  table: string;
  now?: () => number;
}

export interface IdentityResult {
  /** The event id every version and source of this quake is published under. */
  canonicalId: string;
  /** The source of the canonical id (the first report's publisher). */
  canonicalSource: string;
  /** `known`: an id seen before; `associated`: joined another source's event; `new`: first sight of this quake. */
  outcome: 'known' | 'associated' | 'new';
}

/** A report as a bucket remembers it: enough to score the next report against. */
interface Report {
  canonical: string;
  canonicalSource: string;
  source: string;
  id: string;
  t: number;
  lat: number;
  lon: number;
  mag: number;
}

interface Bucket {
  eventId: string;
  ver?: number;
  reports?: Record<string, Report>;
}

interface Alias {
  eventId: string;
  canonical: string;
  canonicalSource: string;
}

export class IdentityContentionError extends QuakectlError {
  constructor(id: string, rounds: number) {
    super(`event identity of ${id}: still contended after ${rounds} rounds (many producers on one quake); retry`);
    this.name = 'IdentityContentionError';
  }
}

/**
 * Every round some contender's conditional write succeeds (the one whose read was newest), so N producers writing one
 * time bucket at once need at most N rounds: 32 covers an aftershock burst (20 reports of one network within 12 s,
 * each at its own producer: the identity test) with room, at most ~6 s of jittered waits.
 */
const MAX_ROUNDS = 32;
const RETENTION_MS = 30 * 24 * 3600_000;

const space = (drill: boolean) => (drill ? 'drill' : 'real');
export const aliasKey = (id: string, drill: boolean) => `_alias#${space(drill)}#${id}`;
const bucketKey = (index: number, drill: boolean) => `_assoc#${space(drill)}#${index}`;
const reportKey = (source: string, id: string) => `${source}|${id}`;

/** Bucket indices (of width Δ) that a report's window [t − Δ, t + Δ] touches, ascending. */
export function windowBuckets(originTime: number, deltaMs: number): number[] {
  const first = Math.floor((originTime - deltaMs) / deltaMs);
  const last = Math.floor((originTime + deltaMs) / deltaMs);
  const out: number[] = [];
  for (let i = first; i <= last; i++) out.push(i);
  return out;
}

function idsOf(q: Pick<Quake, 'id' | 'sourceIds'>): string[] {
  return [...new Set([q.id, ...q.sourceIds].filter((s) => s !== ''))];
}

async function batchGet<T>(store: IdentityStore, keys: string[]): Promise<Map<string, T>> {
  const found = new Map<string, T>();
  let pending: Record<string, unknown>[] = keys.map((eventId) => ({ eventId }));
  // BatchGetItem may leave keys unprocessed under load: ask again for those (bounded; the SDK retries throttling).
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt >= 5) throw new IdentityContentionError(keys[0] ?? '?', attempt);
    const out = await store.ddb.send(
      new BatchGetCommand({ RequestItems: { [store.table]: { Keys: pending, ConsistentRead: true } } }),
    );
    for (const item of (out.Responses?.[store.table] ?? []) as { eventId: string }[])
      found.set(item.eventId, item as T);
    pending = (out.UnprocessedKeys?.[store.table]?.Keys ?? []) as Record<string, unknown>[];
  }
  return found;
}

/** The canonical id already recorded for any of `ids` (first in `ids` order), or undefined. */
export async function lookupCanonical(
  store: IdentityStore,
  ids: readonly string[],
  drill: boolean,
): Promise<{ canonicalId: string; canonicalSource: string } | undefined> {
  if (ids.length === 0) return undefined;
  const aliases = await batchGet<Alias>(
    store,
    ids.map((id) => aliasKey(id, drill)),
  );
  for (const id of ids) {
    const a = aliases.get(aliasKey(id, drill));
    if (a) return { canonicalId: a.canonical, canonicalSource: a.canonicalSource };
  }
  return undefined;
}

/**
 * Decides the canonical event id of one report (a parsed, validated quake as its network published it), shared by
 * every producer through the events table. See the protocol above. Throws `IdentityContentionError` after 8 lost
 * rounds, and the SDK's errors when DynamoDB fails.
 */
export async function resolveIdentity(
  store: IdentityStore,
  q: Quake,
  thresholds: AssociationThresholds = DEFAULT_ASSOCIATION_THRESHOLDS,
): Promise<IdentityResult> {
  const ids = idsOf(q);
  const own = reportKey(q.source, q.id);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const known = await lookupCanonical(store, ids, q.drill);
    if (known) return { ...known, outcome: 'known' };

    const indices = windowBuckets(q.originTime, thresholds.maxTimeDeltaMs);
    const buckets = await batchGet<Bucket>(
      store,
      indices.map((i) => bucketKey(i, q.drill)),
    );
    const verdict = await decide(store, q, ids, own, [...buckets.values()], thresholds, round >= MAX_ROUNDS - 2);
    if (verdict === 'wait') {
      // The event this report belongs to is being registered by another producer: look again shortly.
      await new Promise((r) => setTimeout(r, Math.min(400, 25 * 2 ** round)));
      continue;
    }
    const decided = verdict;

    let lost = false;
    const now = (store.now ?? Date.now)();
    const report = reportOf(q, decided);
    for (const i of indices) {
      const key = bucketKey(i, q.drill);
      const seen = buckets.get(key);
      try {
        if (seen)
          await store.ddb.send(
            new UpdateCommand({
              TableName: store.table,
              Key: { eventId: key },
              ConditionExpression: 'ver = :v',
              UpdateExpression: 'SET reports.#r = :report, ver = :next',
              ExpressionAttributeNames: { '#r': own },
              ExpressionAttributeValues: { ':v': seen.ver ?? 0, ':next': (seen.ver ?? 0) + 1, ':report': report },
            }),
          );
        else await createBucket(store, key, own, report, now);
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
        lost = true;
        break;
      }
    }
    if (lost) {
      // Another producer wrote one of these buckets since we read it: back off a little (jittered) and decide again.
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 10 * 2 ** round)));
      continue;
    }

    for (const id of ids) {
      try {
        await store.ddb.send(
          new PutCommand({
            TableName: store.table,
            Item: {
              eventId: aliasKey(id, q.drill),
              kind: 'alias',
              canonical: decided.canonicalId,
              canonicalSource: decided.canonicalSource,
              source: q.source,
              createdAt: now,
              expiresAt: Math.floor((now + RETENTION_MS) / 1000),
            },
            ConditionExpression: 'attribute_not_exists(eventId)',
          }),
        );
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
        // Someone aliased this id first: their decision stands (ids never change canonical).
        const winner = await lookupCanonical(store, [id], q.drill);
        if (winner && winner.canonicalId !== decided.canonicalId) return { ...winner, outcome: 'known' };
      }
    }
    return decided;
  }
  throw new IdentityContentionError(q.id, MAX_ROUNDS);
}

function reportOf(q: Quake, c: Pick<IdentityResult, 'canonicalId' | 'canonicalSource'>): Report {
  return {
    canonical: c.canonicalId,
    canonicalSource: c.canonicalSource,
    source: q.source,
    id: q.id,
    t: q.originTime,
    lat: q.lat,
    lon: q.lon,
    mag: q.magnitude,
  };
}

/** Creates a bucket holding one report; a condition failure means someone created it first. */
async function createBucket(store: IdentityStore, key: string, own: string, report: Report, now: number) {
  await store.ddb.send(
    new PutCommand({
      TableName: store.table,
      Item: {
        eventId: key,
        kind: 'assoc-bucket',
        ver: 1,
        reports: { [own]: report },
        expiresAt: Math.floor((now + RETENTION_MS) / 1000),
      },
      ConditionExpression: 'attribute_not_exists(eventId)',
    }),
  );
}

/**
 * The decision of one round. Entries name the canonical id their writer chose; a choice is final once the canonical
 * id's own alias exists (its creator wrote it after registering in every bucket), and an alias may point elsewhere (a
 * writer that lost a round and then joined another event left entries naming its own id: the alias resolves them).
 * Reports are grouped by their resolved canonical id; a match whose event is not final yet is `wait`: decide again
 * shortly rather than create a second event beside one still being registered.
 */
async function decide(
  store: IdentityStore,
  q: Quake,
  ids: readonly string[],
  own: string,
  buckets: readonly Bucket[],
  thresholds: AssociationThresholds,
  /** Late rounds: a choice that never became final (its writer died) is taken as it stands. */
  acceptPending = false,
): Promise<IdentityResult | 'wait'> {
  const reports: Report[] = [];
  for (const b of buckets) for (const [k, r] of Object.entries(b.reports ?? {})) if (k !== own) reports.push(r);
  const named = [...new Set(reports.map((r) => r.canonical))];
  const aliases = named.length
    ? await batchGet<Alias>(
        store,
        named.map((id) => aliasKey(id, q.drill)),
      )
    : new Map<string, Alias>();
  const resolved = (r: Report) => {
    const a = aliases.get(aliasKey(r.canonical, q.drill));
    return a
      ? { canonicalId: a.canonical, canonicalSource: a.canonicalSource, final: true }
      : { canonicalId: r.canonical, canonicalSource: r.canonicalSource, final: false };
  };
  const byEvent = new Map<string, { c: ReturnType<typeof resolved>; sources: Set<string>; reports: Report[] }>();
  for (const r of reports) {
    const c = resolved(r);
    if (ids.includes(r.id) || ids.includes(c.canonicalId)) {
      // This very quake, registered by another producer (or under another of its ids).
      return c.final || acceptPending
        ? { canonicalId: c.canonicalId, canonicalSource: c.canonicalSource, outcome: 'known' }
        : 'wait';
    }
    const e = byEvent.get(c.canonicalId) ?? { c, sources: new Set<string>(), reports: [] };
    e.sources.add(publisherKey(r.source));
    e.reports.push(r);
    if (!c.final) e.c = c;
    byEvent.set(c.canonicalId, e);
  }
  let best: { c: ReturnType<typeof resolved>; score: number } | undefined;
  for (const e of byEvent.values()) {
    // A network's two ids within seconds are two events: it said so.
    if (e.sources.has(publisherKey(q.source))) continue;
    for (const r of e.reports) {
      const score = associationScore(q, { originTime: r.t, lat: r.lat, lon: r.lon, magnitude: r.mag }, thresholds);
      if (score === undefined) continue;
      if (!best || score < best.score || (score === best.score && e.c.canonicalId < best.c.canonicalId)) {
        best = { c: e.c, score };
      }
    }
  }
  if (!best) return { canonicalId: q.id, canonicalSource: q.source, outcome: 'new' };
  if (!best.c.final && !acceptPending) return 'wait';
  return { canonicalId: best.c.canonicalId, canonicalSource: best.c.canonicalSource, outcome: 'associated' };
}

/**
 * Records the latest solution of a known report (its source and feed id) in the buckets of its window, so reports
 * from other sources are matched against it. Call once per accepted version. Best effort against races: each write
 * bumps the bucket version, so a racer that read the bucket before retries its decision.
 */
export async function registerSolution(store: IdentityStore, q: Quake, canonical: IdentityResult): Promise<void> {
  const own = reportKey(q.source, q.id);
  const now = (store.now ?? Date.now)();
  const report = reportOf(q, canonical);
  for (const i of windowBuckets(q.originTime, DEFAULT_ASSOCIATION_THRESHOLDS.maxTimeDeltaMs)) {
    const key = bucketKey(i, q.drill);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await store.ddb.send(
          new UpdateCommand({
            TableName: store.table,
            Key: { eventId: key },
            ConditionExpression: 'attribute_exists(eventId)',
            UpdateExpression: 'SET reports.#r = :report ADD ver :one',
            ExpressionAttributeNames: { '#r': own },
            ExpressionAttributeValues: { ':report': report, ':one': 1 },
          }),
        );
        break;
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
      try {
        await createBucket(store, key, own, report, now);
        break;
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
    }
  }
}
