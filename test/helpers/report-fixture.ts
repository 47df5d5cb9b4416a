/**
 * A known drill for the report's tests, built deterministically without services: the vrancea-1977 scenario,
 * synthetic subscribers (seeded PRNG) within 220 km, a plan of their H3 segments nearest first in units of 4, done
 * locks, and receipts whose timing gives each subscriber a chosen warning time, so the count per warning class is
 * known before anything is drawn.
 */
import { seededRandom } from '../../shared/drill/random.ts';
import { findScenario, scenarioQuake } from '../../shared/drill/scenarios.ts';
import type { EventPlan, EventRecord } from '../../shared/events/types.ts';
import { unitKey } from '../../shared/fanout/plan.ts';
import type { LockItem } from '../../shared/locks/types.ts';
import type { PlannedSubscriber, ReportInput, ReportReceipt } from '../../shared/report/build.ts';
import type { WarningClass } from '../../shared/report/types.ts';
import { cellFor, cellMinDistanceKm, segmentKey } from '../../shared/segments/cells.ts';
import { destination, sTravelTimeS } from '../../shared/seismo/index.ts';

export const ACCEPTED_AT = Date.UTC(2026, 10, 30, 9, 0, 0);

/** Warning time given to subscriber i (by i mod 10); null = never notified. */
const PATTERN: Array<{ warningS: number | null; cls: WarningClass }> = [
  // cls: before the 6 s floor below
  { warningS: null, cls: 'missing' },
  { warningS: -3, cls: 'after-s' },
  { warningS: 2.5, cls: 'under-5s' },
  { warningS: 4, cls: 'under-5s' },
  { warningS: 7, cls: 'under-15s' },
  { warningS: 11, cls: 'under-15s' },
  { warningS: 14, cls: 'under-15s' },
  { warningS: 16, cls: 'over-15s' },
  { warningS: 25, cls: 'over-15s' },
  { warningS: 40, cls: 'over-15s' },
];

export interface KnownDrill {
  input: ReportInput;
  expected: Record<WarningClass, number>;
  /** Subscribers above their own threshold (all of them here: minMmi 2 everywhere inside 220 km). */
  eligible: number;
}

export function knownDrill(n = 600, opts: { maxPoints?: number } = {}): KnownDrill {
  const quake = scenarioQuake(findScenario('vrancea-1977'), { now: ACCEPTED_AT, detectionDelayS: 5 });
  const rand = seededRandom(17);
  const subscribers: PlannedSubscriber[] = [];
  for (let i = 0; i < n; i++) {
    const [lat, lon] = destination(quake.lat, quake.lon, rand() * 360, 220 * Math.sqrt(rand()));
    const cell = cellFor(lat, lon);
    subscribers.push({
      id: `s${i}`,
      lat,
      lon,
      minMmi: 2,
      channel: { type: i % 7 === 0 ? 'kafka' : 'webhook' },
      segment: segmentKey(cell, 0),
    });
  }
  const segs = [...new Set(subscribers.map((s) => s.segment))]
    .map((key) => ({ key, km: cellMinDistanceKm(key.split('#')[0], quake.lat, quake.lon) }))
    .sort((a, b) => a.km - b.km || (a.key < b.key ? -1 : 1));
  const plan: EventPlan = {
    plan: segs.map((s) => s.key),
    planDistancesKm: segs.map((s) => Math.round(s.km * 10) / 10),
    planCounts: segs.map((s) => subscribers.filter((x) => x.segment === s.key).length),
    units: segs.map((_, i) => i).filter((i) => i % 4 === 0),
  };
  const receipts: ReportReceipt[] = [];
  const expected: Record<WarningClass, number> = {
    'after-s': 0,
    'under-5s': 0,
    'under-15s': 0,
    'over-15s': 0,
    missing: 0,
  };
  subscribers.forEach((s, i) => {
    const p = PATTERN[i % PATTERN.length];
    if (p.warningS === null) {
      expected.missing++;
      return;
    }
    // No alert leaves before acceptance (5 s after origin) + 1 s: near sites get less warning than the pattern asks.
    const sS = sTravelTimeS(quake, s);
    const deliveredS = Math.max(6, sS - p.warningS);
    const w = sS - deliveredS;
    expected[w < 0 ? 'after-s' : w < 5 ? 'under-5s' : w < 15 ? 'under-15s' : 'over-15s']++;
    const at = quake.originTime + deliveredS * 1000;
    receipts.push({ subscriberId: s.id, receivedAt: Math.round(at) });
    if (i % 50 === 3) receipts.push({ subscriberId: s.id, receivedAt: Math.round(at) + 900 }); // a later duplicate
  });
  const locks = new Map<string, LockItem>();
  plan.units.forEach((_, u) => {
    const key = unitKey(plan.plan, plan.units, u);
    locks.set(key, {
      pk: `${quake.id}#${key}`,
      eventId: quake.id,
      segment: key,
      leaseUntil: 0,
      version: 1,
      state: 'done',
      attempts: 1,
      delivered: 10,
      eligible: 10,
      failed: 0,
      updatedAt: ACCEPTED_AT + 2000 + 100 * u,
    });
  });
  const delivered = receipts.length;
  const record: EventRecord = {
    eventId: quake.id,
    quake,
    plannedQuake: quake,
    updatedAt: quake.updatedAt,
    acceptedAt: ACCEPTED_AT,
    revision: 1,
    state: 'complete',
    strategy: 'geo',
    radiusKm: 240,
    minMmi: 2,
    total: plan.units.length,
    doneCount: plan.units.length,
    eligible: n,
    delivered,
    failed: 0,
    firstDeliveryAt: Math.min(...receipts.map((r) => r.receivedAt)),
    lastDeliveryAt: Math.max(...receipts.map((r) => r.receivedAt)),
  };
  return {
    input: {
      eventId: quake.id,
      record,
      plan,
      locks,
      subscribers,
      receipts,
      duplicates: receipts.length - new Set(receipts.map((r) => r.subscriberId)).size,
      dlq: [],
      cold: [{ function: 'quakectl-segment-worker', invocations: 8, cold: 4, maxInitMs: 310 }],
      now: ACCEPTED_AT + 60_000,
      maxPoints: opts.maxPoints,
    },
    expected,
    eligible: n,
  };
}
