/**
 * The drill report (issue 6): what reached the receiving end, measured from the moment the producer accepted the
 * event. Pure: the caller gathers the event record, the receipts at the sink and the eligible subscribers.
 *
 * "Before shaking" per subscriber: the first notification's arrival at the receiver is earlier than the predicted S
 * arrival at the subscriber's location, origin time + hypocentral distance / 3.5 km/s (shared/seismo travel.ts).
 */
import type { EventRecord } from '../events/types.ts';
import type { Quake } from '../quake/types.ts';
import type { ColdRow } from '../report/types.ts';
import { sTravelTimeS } from '../seismo/index.ts';
import { epicentralKm } from '../seismo/travel.ts';

/**
 * One epicentral band of the drill: of the subscribers notified at the receiver, those outside the blind zone (S
 * arrival after the first notification: nobody could have warned the others) and how many of them were notified
 * before their S arrival.
 */
export interface BandRow {
  fromKm: number;
  /** null: the open band beyond the last bound. */
  toKm: number | null;
  eligible: number;
  outsideBlind: number;
  beforeS: number;
  /** beforeS / outsideBlind in percent (null: nobody outside the blind zone). */
  pct: number | null;
}

/** Epicentral band bounds (km) of the drill report, as in docs/fanout-benchmark.md's city layout. */
export const BAND_BOUNDS_KM = [0, 20, 40, 60, 80] as const;

export interface DrillReport {
  eventId: string;
  drill: boolean;
  subscribersInFootprint: number | null;
  eligible: number;
  delivered: number;
  failed: number;
  duplicates: number | null;
  segments: { total: number; done: number };
  firstDeliveryMs: number | null;
  lastDeliveryMs: number | null;
  p50DeliveryMs: number | null;
  p90DeliveryMs: number | null;
  p99DeliveryMs: number | null;
  /** Per epicentral band (0–20, 20–40, 40–60, 60–80 km, then beyond): before-S share outside the blind zone. */
  bands: BandRow[] | null;
  /**
   * The consumer's and segment worker's invocations during the event, how many started a new environment (cold),
   * and how many of those started before the first notification (its path was cold). null: logs not read.
   */
  environments: ColdRow[] | null;
  /**
   * `quakectl drill` only: the population it asked for and what it found (shared/drill/layout.ts): `seeded` into an
   * empty table, `reseeded` (--reseed), `same` (already there), `other` (drilled with another population, `reason`).
   */
  population?: { asked: string; found: 'seeded' | 'reseeded' | 'same' | 'other'; subscribers: number; reason?: string };
  notifiedBeforeShakingPct: number | null;
  strategy: string | null;
  /** Beyond the fields: */
  state: string;
  /** Why the event was not alerted (state `skipped`: kind, magnitude, origin age, retracted), else null. */
  reason: string | null;
  complete: boolean;
  /** Where delivered/duplicates/latencies were measured: at the receiving end, or from the sender's counters. */
  measuredAt: 'receiver' | 'sender';
  /** Eligible subscribers routed to the receiver (recomputed from the store) with no notification there. */
  missing: number | null;
  /** Notifications the local receiver itself received (its latencies and before-S share cover only these). */
  receivedAtSink: number | null;
  /** Eligible subscribers whose channel is the local receiver (null: not known). */
  eligibleAtSink: number | null;
  /** Notifications per second between first and last delivery. */
  ratePerS: number | null;
  magnitude: number;
  place: string;
}

export interface Receipt {
  subscriberId: string;
  receivedAt: number;
}

export interface EligibleSite {
  id: string;
  lat: number;
  lon: number;
  /** False when the subscriber's channel is not the local receiver (absent: it is). */
  viaSink?: boolean;
}

export interface ReportInput {
  eventId: string;
  quake: Quake;
  record: EventRecord | undefined;
  /** First receipt per notification at the sink, this event only; undefined without a sink. */
  receipts?: Receipt[];
  duplicates?: number;
  /** Eligible subscribers recomputed from the store (id and location); undefined when not computed. */
  eligibleSites?: EligibleSite[];
  subscribersInFootprint?: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Epoch ms at which S waves reach a site. */
export function sArrivalAt(quake: Quake, site: { lat: number; lon: number }): number {
  return quake.originTime + sTravelTimeS(quake, site) * 1000;
}

export function buildReport(input: ReportInput): DrillReport {
  const { record, quake } = input;
  const acceptedAt = record?.acceptedAt ?? quake.updatedAt;
  const state = record?.state ?? 'not-planned';
  const complete = state === 'complete' || state === 'skipped';
  const eligible = input.eligibleSites?.length ?? record?.eligible ?? 0;
  const base = {
    eventId: input.eventId,
    drill: quake.drill,
    subscribersInFootprint: input.subscribersInFootprint ?? null,
    eligible,
    failed: record?.failed ?? 0,
    segments: { total: record?.total ?? 0, done: record?.doneCount ?? 0 },
    strategy: record?.strategy ?? null,
    state,
    reason: record?.reason ?? null,
    complete,
    magnitude: quake.magnitude,
    place: quake.place,
  };
  const sinkSites = input.eligibleSites?.filter((s) => s.viaSink !== false);
  // No eligible subscriber routes to the local receiver (they point at receivers of their own): the pipeline's
  // counters (what those receivers acknowledged) are the measure, not an empty sink.
  if (!input.receipts || (sinkSites && sinkSites.length === 0 && input.receipts.length === 0)) {
    const first = record?.firstDeliveryAt;
    const last = record?.lastDeliveryAt;
    const delivered = record?.delivered ?? 0;
    return {
      ...base,
      delivered,
      duplicates: null,
      firstDeliveryMs: first !== undefined ? first - acceptedAt : null,
      lastDeliveryMs: last !== undefined ? last - acceptedAt : null,
      p50DeliveryMs: null,
      p90DeliveryMs: null,
      p99DeliveryMs: null,
      bands: null,
      environments: null,
      notifiedBeforeShakingPct: null,
      measuredAt: 'sender',
      missing: null,
      receivedAtSink: input.receipts ? 0 : null,
      eligibleAtSink: input.receipts && sinkSites ? sinkSites.length : null,
      ratePerS: rate(delivered, first, last),
    };
  }
  const firstBySubscriber = new Map<string, number>();
  for (const r of input.receipts) {
    const t = firstBySubscriber.get(r.subscriberId);
    if (t === undefined || r.receivedAt < t) firstBySubscriber.set(r.subscriberId, r.receivedAt);
  }
  const latencies = input.receipts.map((r) => r.receivedAt - acceptedAt).sort((a, b) => a - b);
  let beforeShaking = 0;
  let missing = 0;
  for (const site of sinkSites ?? []) {
    const at = firstBySubscriber.get(site.id);
    if (at === undefined) missing++;
    else if (at < sArrivalAt(quake, site)) beforeShaking++;
  }
  const first = latencies[0];
  const last = latencies.at(-1);
  // Receivers other than the sink acknowledged the rest: the pipeline's count covers both.
  const foreign = input.eligibleSites ? input.eligibleSites.length - (sinkSites?.length ?? 0) : 0;
  const atSink = sinkSites?.length ?? eligible;
  return {
    ...base,
    delivered: foreign > 0 ? Math.max(record?.delivered ?? 0, input.receipts.length) : input.receipts.length,
    duplicates: input.duplicates ?? 0,
    firstDeliveryMs: first ?? null,
    lastDeliveryMs: last ?? null,
    p50DeliveryMs: percentile(latencies, 50),
    p90DeliveryMs: percentile(latencies, 90),
    p99DeliveryMs: percentile(latencies, 99),
    bands: sinkSites && first !== undefined ? bandRows(quake, sinkSites, firstBySubscriber, acceptedAt + first) : null,
    environments: null,
    notifiedBeforeShakingPct: atSink > 0 && sinkSites ? round1((100 * beforeShaking) / atSink) : null,
    measuredAt: 'receiver',
    missing: sinkSites ? missing : null,
    receivedAtSink: input.receipts.length,
    eligibleAtSink: sinkSites ? sinkSites.length : null,
    ratePerS: rate(input.receipts.length, first, last),
  };
}

/**
 * The per-band table (pure): sites by epicentral distance; the blind zone is every site whose S wave arrived before
 * `firstAt` (epoch ms, the first notification at the receiver).
 */
export function bandRows(
  quake: Quake,
  sites: readonly EligibleSite[],
  firstBySubscriber: ReadonlyMap<string, number>,
  firstAt: number,
): BandRow[] {
  const rows: BandRow[] = BAND_BOUNDS_KM.map((fromKm, i) => ({
    fromKm,
    toKm: i + 1 < BAND_BOUNDS_KM.length ? BAND_BOUNDS_KM[i + 1] : null,
    eligible: 0,
    outsideBlind: 0,
    beforeS: 0,
    pct: null,
  }));
  for (const site of sites) {
    const km = epicentralKm(quake, site);
    let b = rows.length - 1;
    while (b > 0 && km < rows[b].fromKm) b--;
    const row = rows[b];
    row.eligible++;
    const s = sArrivalAt(quake, site);
    if (s <= firstAt) continue;
    row.outsideBlind++;
    const at = firstBySubscriber.get(site.id);
    if (at !== undefined && at < s) row.beforeS++;
  }
  for (const r of rows) r.pct = r.outsideBlind > 0 ? round1((100 * r.beforeS) / r.outsideBlind) : null;
  // The open band only when someone is in it (the city drills stop at 80 km).
  return rows.filter((r) => r.toKm !== null || r.eligible > 0);
}

/**
 * Exit status of a drill: it completed, nothing failed, every eligible subscriber routed to the receiver was notified
 * there, and the pipeline acknowledged at least as many as were eligible.
 */
export function drillPassed(r: DrillReport): boolean {
  if (!r.complete || r.failed > 0) return false;
  if (r.missing !== null && r.missing > 0) return false;
  return r.delivered >= r.eligible;
}

function rate(n: number, first: number | undefined, last: number | undefined): number | null {
  if (n === 0 || first === undefined || last === undefined) return null;
  const s = Math.max(last - first, 1) / 1000;
  return Math.round(n / s);
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
