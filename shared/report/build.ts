/**
 * The report's data from what the system recorded (pure; `gather.ts` reads the records). Per subscriber of the plan's
 * segments: predicted MMI (the event's intensity model, `intensityModelFor`), eligibility (the worker's own rule,
 * `subscriberLevel` under the alert policy), S arrival at the site (shared/seismo ak135 travel times),
 * and the delivery time: the local receiver's first receipt when there was one, else the time the subscriber's work
 * unit finished (its lock's last write, an upper bound on every delivery in that unit). Warning time = S arrival −
 * delivery; notified after the S wave = in the blind zone.
 */
import type { EventPlan, EventRecord } from '../events/types.ts';
import { subscriberLevel } from '../fanout/ledger.ts';
import { frontPieceKey, frontPieceOf, unitKey, unitSegments } from '../fanout/plan.ts';
import type { LockItem } from '../locks/types.ts';
import type { Quake } from '../quake/types.ts';
import {
  blindZoneRadiusKm,
  destination,
  epicentralKm,
  hypocentralKm,
  intensityModelFor,
  pTravelTimeS,
  sTravelTimeS,
} from '../seismo/index.ts';
import { cellRing, intensityBands } from './geo.ts';
import {
  type CellShape,
  type ChannelRow,
  type ColdRow,
  type DlqRow,
  type ReportData,
  type SubscriberPoint,
  type UnitRow,
  type VersionRow,
  WARNING_CLASS_BOUNDS_S,
  WARNING_CLASSES,
  type WarningClass,
} from './types.ts';

/** A subscriber as read from a plan segment (what `SubscriberStore.readSegment` returns, plus the segment key). */
export interface PlannedSubscriber {
  id: string;
  lat: number;
  lon: number;
  minMmi: number;
  channel: { type: string };
  segment: string;
}

export interface ReportReceipt {
  subscriberId: string;
  /** Epoch ms the receiver accepted the batch holding the notification. */
  receivedAt: number;
}

export interface ReportInput {
  eventId: string;
  record: EventRecord;
  plan?: EventPlan;
  /** Lock items of the plan's units, by unit key (`unitKey`). */
  locks?: Map<string, LockItem>;
  /** Subscribers of the plan's segments; undefined when not read (the live console). */
  subscribers?: PlannedSubscriber[];
  /** Every receipt of this event at the local receiver; undefined without a receiver. */
  receipts?: ReportReceipt[];
  duplicates?: number;
  dlq?: DlqRow[];
  cold?: ColdRow[] | null;
  /** fanout.alertProbability the pipeline decided with (default: the policy's). */
  alertProbability?: number;
  /** Most subscriber points drawn (default 4000); more are sampled evenly by distance. */
  maxPoints?: number;
  now?: number;
  notes?: string[];
}

export const DEFAULT_MAX_POINTS = 4000;

/** The class of a warning time (seconds; null = never notified). */
export function warningClass(warningS: number | null): WarningClass {
  if (warningS === null) return 'missing';
  if (warningS < WARNING_CLASS_BOUNDS_S.underFive) return 'after-s';
  if (warningS < WARNING_CLASS_BOUNDS_S.underFifteen) return 'under-5s';
  if (warningS < WARNING_CLASS_BOUNDS_S.overFifteen) return 'under-15s';
  return 'over-15s';
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const sec = (at: number | undefined | null, origin: number) => (at == null ? null : round((at - origin) / 1000, 2));

function share(n: number, of: number): number | null {
  return of > 0 ? round(n / of, 4) : null;
}

function versionRow(role: VersionRow['role'], q: Quake): VersionRow {
  return {
    role,
    updatedAt: q.updatedAt,
    magnitude: q.magnitude,
    magType: q.magType,
    lat: q.lat,
    lon: q.lon,
    depthKm: q.depthKm,
    status: q.status,
    source: q.source,
    sourceIds: q.sourceIds,
  };
}

function groupBy<T, K>(items: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const t of items) {
    const k = key(t);
    const list = m.get(k);
    if (list) list.push(t);
    else m.set(k, [t]);
  }
  return m;
}

/** Evenly spaced sample of at most `max` items (every k-th of the array as given), deterministic. */
export function evenSample<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const step = items.length / max;
  return Array.from({ length: max }, (_, i) => items[Math.floor(i * step)]);
}

export function buildReportData(input: ReportInput): ReportData {
  const { record, plan } = input;
  const quake = (record.plannedQuake ?? record.quake) as Quake;
  const origin = quake.originTime;
  const model = intensityModelFor(quake);
  const minMmi = record.minMmi ?? 3;
  const radiusKm = record.radiusKm ?? model.footprintRadiusKm(minMmi);
  const notes = [...(input.notes ?? [])];

  // Units and where each plan segment belongs.
  const unitOfSegment = new Map<string, number>();
  const units: UnitRow[] = [];
  if (plan) {
    for (let i = 0; i < plan.units.length; i++) {
      const segs = unitSegments(plan.plan, plan.units, i);
      const dists = unitSegments(plan.planDistancesKm, plan.units, i);
      const counts = unitSegments(plan.planCounts, plan.units, i);
      for (const s of segs) unitOfSegment.set(s, i);
      // A front unit is delivered by its piece (shared/fanout `FanoutFront`): the piece's lock says its state, and its
      // counts go to the piece's first unit only, so the units' sums stay the event's.
      const piece = frontPieceOf(plan, i);
      const key = piece === undefined ? unitKey(plan.plan, plan.units, i) : frontPieceKey(piece, plan.front!.pieces);
      const pieceLock = input.locks?.get(key);
      const lock =
        piece === undefined || i === piece
          ? pieceLock
          : pieceLock && { ...pieceLock, delivered: 0, failed: 0, eligible: 0 };
      units.push({
        index: i,
        key,
        segments: segs.length,
        minKm: round(Math.min(...dists)),
        maxKm: round(Math.max(...dists)),
        planned: counts.reduce((a, b) => a + b, 0),
        delivered: lock?.delivered ?? 0,
        failed: lock?.failed ?? 0,
        eligible: lock?.eligible ?? 0,
        state: lock?.state ?? 'pending',
        attempts: lock?.attempts ?? 0,
        doneS: lock?.state === 'done' ? sec(lock.updatedAt, origin) : null,
        firstS: null,
        lastS: null,
        beforeSShare: null,
      });
    }
  }

  // Delivery time per subscriber.
  const firstReceipt = new Map<string, number>();
  for (const r of input.receipts ?? []) {
    const t = firstReceipt.get(r.subscriberId);
    if (t === undefined || r.receivedAt < t) firstReceipt.set(r.subscriberId, r.receivedAt);
  }
  const receiver = input.receipts !== undefined;
  const all: SubscriberPoint[] = [];
  for (const s of input.subscribers ?? []) {
    const { mmi, level } = subscriberLevel(model, s, { probability: input.alertProbability });
    if (level === 'none') continue;
    const unit = unitOfSegment.get(s.segment) ?? -1;
    const hyp = hypocentralKm(quake, s);
    const sS = sTravelTimeS(quake, s);
    // Without a receiver, a unit's completion time stands for its subscribers' delivery (an upper bound) only when the
    // unit's lock counted no failure: a unit whose notifications went to the delivery DLQ delivered nobody we can name.
    const deliveredS = receiver
      ? sec(firstReceipt.get(s.id), origin)
      : unit >= 0 && units[unit].failed === 0
        ? units[unit].doneS
        : null;
    const warningS = deliveredS === null ? null : round(sS - deliveredS, 2);
    all.push({
      id: s.id,
      lat: s.lat,
      lon: s.lon,
      hypocentralKm: round(hyp),
      mmi: round(mmi, 2),
      channel: s.channel.type,
      unit,
      deliveredS,
      sArrivalS: round(sS, 2),
      warningS,
      cls: warningClass(warningS),
    });
  }
  all.sort((a, b) => a.hypocentralKm - b.hypocentralKm || (a.id < b.id ? -1 : 1));
  const classCounts = Object.fromEntries(WARNING_CLASSES.map((c) => [c, 0])) as Record<WarningClass, number>;
  for (const p of all) classCounts[p.cls]++;

  // Per unit and per channel, from the points.
  const stats = (pts: SubscriberPoint[]) => {
    const delivered = pts.filter((p) => p.deliveredS !== null);
    const times = delivered.map((p) => p.deliveredS as number);
    const beforeS = delivered.filter((p) => (p.warningS as number) >= 0).length;
    return {
      delivered: delivered.length,
      firstS: times.length ? Math.min(...times) : null,
      lastS: times.length ? Math.max(...times) : null,
      beforeS,
      beforeSShare: share(beforeS, pts.length),
    };
  };
  if (input.subscribers) {
    const byUnit = groupBy(all, (p) => p.unit);
    for (const u of units) {
      const st = stats(byUnit.get(u.index) ?? []);
      Object.assign(u, { firstS: st.firstS, lastS: st.lastS, beforeSShare: st.beforeSShare });
    }
  }
  const channels: ChannelRow[] = [];
  const byChannel = groupBy(all, (p) => p.channel);
  for (const [channel, pts] of [...byChannel].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const st = stats(pts);
    channels.push({
      channel,
      eligible: pts.length,
      delivered: st.delivered,
      missing: pts.length - st.delivered,
      firstS: st.firstS,
      lastS: st.lastS,
      beforeSShare: st.beforeSShare,
    });
  }

  // Cells of the plan (geo strategy: `<cell>#<shard>` keys), coloured by their unit's completion.
  const cells: CellShape[] = [];
  if (plan) {
    const seen = new Set<string>();
    plan.plan.forEach((key, i) => {
      const cell = key.split('#')[0];
      if (key.startsWith('scan#') || seen.has(cell)) return;
      seen.add(cell);
      const unit = unitOfSegment.get(key) ?? -1;
      const u = units[unit];
      const [nlat, nlon] = destination(quake.lat, quake.lon, 0, plan.planDistancesKm[i] ?? 0);
      const nearestS = sTravelTimeS(quake, { lat: nlat, lon: nlon });
      cells.push({
        unit,
        ring: cellRing(cell),
        state: u?.state ?? 'pending',
        cls: u?.doneS != null ? warningClass(round(nearestS - u.doneS, 2)) : null,
      });
    });
  }

  const st = stats(all);
  const firstDeliveryS = receiver ? st.firstS : sec(record.firstDeliveryAt, origin);
  const lastDeliveryS = receiver ? st.lastS : sec(record.lastDeliveryAt, origin);
  // The plot spans the subscribers (the footprint can reach far beyond them), or the footprint when there are none.
  // Curves: first-arrival times (ak135, `pTravelTimeS`/`sTravelTimeS`) at sites due north, plotted against their
  // hypocentral distance like the points.
  const maxEpi = all.length ? Math.max(...all.map((p) => epicentralKm(quake, p))) * 1.05 : radiusKm;
  const curves = Array.from({ length: 121 }, (_, i) => {
    const [lat, lon] = destination(quake.lat, quake.lon, 0, (maxEpi * i) / 120);
    const site = { lat, lon };
    return {
      hypocentralKm: round(hypocentralKm(quake, site)),
      pS: round(pTravelTimeS(quake, site), 2),
      sS: round(sTravelTimeS(quake, site), 2),
    };
  });
  if (record.reason) notes.push(`${record.state ?? 'event'}: ${record.reason}`);
  if (!input.subscribers)
    notes.push('subscribers not read: the map shows the plan cells, coloured when their unit finished');
  else if (!receiver)
    notes.push(
      'no receiver: delivery times are the completion of each subscriber’s work unit (an upper bound), from the locks',
    );
  if ((record.revision ?? 1) > 1)
    notes.push(
      `revision ${record.revision}: eligibility here is the threshold rule; an update alerts rising levels only`,
    );

  const versions: VersionRow[] = [versionRow('latest', record.quake)];
  if (record.plannedQuake) versions.push(versionRow('planned', record.plannedQuake));
  if (record.previousQuake) versions.push(versionRow('previous', record.previousQuake));
  for (const run of record.runs ?? []) versions.push(versionRow(`run ${run.revision} (${run.mode})`, run.quake));

  return {
    generatedAt: input.now ?? Date.now(),
    eventId: input.eventId,
    drill: quake.drill,
    quake: {
      magnitude: quake.magnitude,
      magType: quake.magType,
      place: quake.place,
      lat: quake.lat,
      lon: quake.lon,
      depthKm: quake.depthKm,
      originTime: origin,
      source: quake.source,
    },
    intensityModel: model.name,
    state: record.state ?? 'not-planned',
    revision: record.revision ?? null,
    strategy: record.strategy ?? null,
    radiusKm: record.radiusKm ?? null,
    minMmi: record.minMmi ?? null,
    acceptedAt: record.acceptedAt ?? null,
    detectionDelayS: sec(record.acceptedAt, origin),
    firstDeliveryS,
    lastDeliveryS,
    blindZoneKm: firstDeliveryS === null ? null : round(blindZoneRadiusKm(quake.depthKm, firstDeliveryS)),
    deliveryTimes: receiver ? 'receiver' : 'unit-done',
    totals: {
      eligible: input.subscribers ? all.length : null,
      countedEligible: record.eligible ?? 0,
      countedDelivered: record.delivered ?? 0,
      countedFailed: record.failed ?? 0,
      // From the receiver when there is one; else the pipeline's own count (acknowledged), never the unit's eligible.
      delivered: input.subscribers && receiver ? st.delivered : (record.delivered ?? 0),
      missing: input.subscribers ? Math.max(0, all.length - (receiver ? st.delivered : (record.delivered ?? 0))) : null,
      duplicates: input.duplicates ?? null,
      beforeS: input.subscribers ? st.beforeS : null,
      beforeSShare: input.subscribers ? share(st.beforeS, all.length) : null,
    },
    points: evenSample(all, input.maxPoints ?? DEFAULT_MAX_POINTS),
    pointsTotal: all.length,
    classCounts,
    bands: intensityBands(model, quake, minMmi, Math.min(radiusKm * 1.05 + 5, 3000)),
    curves,
    cells,
    units,
    channels,
    versions,
    sources: [...(record.sources ?? [])].sort(),
    retraction: record.retraction
      ? { source: record.retraction.source, reason: record.retraction.reason, updatedAt: record.retraction.updatedAt }
      : null,
    dlq: input.dlq ?? [],
    cold: input.cold ?? null,
    notes,
  };
}
