/**
 * Fan-out planning (system.md 7.1), pure: the footprint of an event for the lowest subscriber threshold, the H3 cells
 * that cover it, their non-empty shards, nearest first. I/O (the segments table) is passed in as `segmentsForCells`.
 *
 * Earliest S arrival first, because the nearest subscribers have the least warning time: segments are ordered by the
 * S-wave arrival time (shared/seismo/travel.ts) at the nearest point of their area (the res-7 cells their subscribers
 * occupy, recorded by the store; a shard without one: its res-5 cell), ties by centre distance. For a point source this
 * is the order of epicentral distance; it is the arrival time that counts, and it differs from distance once the
 * travel-time model is not a function of distance alone. Shards are laid out compact in space (store.ts, "Layout"), so
 * a city cell's shards are ordered by where their subscribers are, not all by the nearest point of the 17 km cell.
 *
 * Where the S front is close (a shallow event under a city: it crosses the nearest tens of km in seconds), the P
 * chains work on P units at once, so a unit's size blurs the order by P units' worth of subscribers: units whose S
 * arrives within `urgentS` of planning are kept small (one city shard each). Cells the S wave has entirely passed by
 * the time the first alert can leave (the blind zone) are delivered after the other urgent units, not before them:
 * a second earlier is worth less to someone already shaking than to someone it can still warn (docs/fanout-benchmark.md).
 */
import type { Quake } from '../quake/types.ts';
import { cellCircle, cellMinDistanceKm, type SegmentRef } from '../segments/index.ts';
import { haversineKm } from '../seismo/geodesy.ts';
import { intensityModelFor } from '../seismo/index.ts';
import { sTravelTimeS, travelTimeCurve } from '../seismo/travel.ts';

export type FanoutStrategy = 'geo' | 'scan';

export interface PlanInput {
  /** The lowest threshold any subscriber may have (default 3: the schema's default minMmi). */
  minSubscriberMmi?: number;
  strategy?: FanoutStrategy;
  /** `scan` strategy: how many parallel Scan segments (TotalSegments). */
  scanSegments?: number;
  /** Covering cells of a disk (shared/segments `coveringCells`). */
  coveringCells(lat: number, lon: number, radiusKm: number): string[];
  /** Non-empty shards of these cells (shared/segments `SubscriberStore.segmentsForCells`). */
  segmentsForCells(cells: readonly string[]): Promise<SegmentRef[]>;
  /**
   * Every non-empty row of the segments table (shared/segments `SubscriberStore.allSegments`). When given and the
   * footprint spans more than `WHOLE_TABLE_ABOVE_CELLS` cells, the planner filters these rows by distance instead of
   * enumerating the footprint's cells: the store reads the whole segments table for such footprints anyway, and
   * walking ~8,000 cells of an M7.4's 800 km footprint cost 55–180 ms of CPU on the alert path (profiled).
   */
  allSegments?(): Promise<SegmentRef[]>;
  /** Work units: the base size in subscribers (segments-table counts), the profile's maxSegmentSize (default 2,000). */
  maxUnitSize?: number;
  /**
   * Chains that will share the units (P). When given, the unit size adapts to the footprint: about four units per
   * chain (so the last units do not leave chains idle), between a quarter of and four times the base size (a large
   * footprint costs fewer claim/lock/count writes per subscriber; profiled at 1M: one unit per full shard made geo
   * write ~2,400 times more than scan).
   */
  chains?: number;
  /** Work units: at most this spread of segment distances within one unit (default 10 km, ≈ 3 s of S-wave travel). */
  unitBandKm?: number;
  /** fanout.alertProbability (default: shared/seismo's default policy level). */
  alertProbability?: number;
  /**
   * Units whose S arrival (at their nearest point) is within this many seconds of planning are urgent: kept to
   * `urgentUnitSize` (default 10 s: the S front's first ~35 km; 0 turns it off).
   */
  urgentS?: number;
  /** Size of urgent units (default a quarter of the base size: one shard of a city cell, or small rural shards together). */
  urgentUnitSize?: number;
  /**
   * Cells the S wave has wholly passed this many seconds after planning (the first alert's expected latency) are
   * delivered after the other urgent units (default 0.5 s; a negative value turns the deferral off, and with it
   * `expectedRate`'s).
   */
  blindMarginS?: number;
  /**
   * The near-field front (see `FanoutFront`): the leading urgent units whose nearest point's S arrives within this
   * many seconds of planning (default 0: off; the benchmark's `geo:front` sets 10). Needs `chains` ≥ 2. Off by
   * default because its first alert waits for a whole shard (up to maxSegmentSize items) where a unit's waits for
   * 100 (docs/fanout-benchmark.md).
   */
  frontS?: number;
  /**
   * The fan-out's expected throughput across all chains, in the plan's subscribers (segment counts) per second
   * (default `DEFAULT_EXPECTED_RATE`; 0 turns it off, as do `urgentS` 0 and a negative `blindMarginS`). When set, a
   * segment the S wave will have wholly passed before the expected rate can reach it goes after everyone it can still
   * warn, instead of where its nearest point puts it (`deferUnreachable`): a front that outruns the rate is not chased.
   * A function is asked once with the footprint's subscribers (segment counts) before the order is made: the rate
   * for a fan-out of that size (shared/fanout/rate.ts `expectedRateFor`). Throws RangeError (from `planFanout`) when
   * negative or not finite.
   */
  expectedRate?: number | ((subscribers: number) => number);
  /** Planning time, epoch ms (default now): where the S front is when the plan is made. */
  now?: number;
}

/**
 * The near-field front of a plan: its leading `units` work units are delivered in S-arrival order per subscriber, not
 * unit by unit. Front unit u belongs to piece `u mod pieces`, so each of the P pieces holds every P-th of the nearest
 * shards and spans the whole front; chain c works piece c first (one lock, `frontPieceKey`), reading its shards
 * nearest first and delivering them in windows of what it has read, each window in S-arrival order per subscriber
 * (`frontOrderKey`; those whose S arrives before `lateBefore` last). Units in flight blur the order by P whole shards
 * spanning a 17 km cell each; the windows sort across every shard the chains have read (docs/fanout-benchmark.md).
 * A piece's lock cursor (shared/fanout/worker.ts `FrontCursor`) says exactly whom the piece reached: the ledger reads
 * it with the same order key.
 */
export interface FanoutFront {
  /** Units [0, units) of the plan form the front. */
  units: number;
  /** Pieces (≤ P chains); the work index of piece c is c, and the plan's other units follow (`workCount`). */
  pieces: number;
  /** Epoch ms: a subscriber whose S arrives before this is already shaking when the first alert can leave: last. */
  lateBefore: number;
}

export interface FanoutPlan {
  strategy: FanoutStrategy;
  minMmi: number;
  /** Epicentral km within which some site can reach `minMmi`. */
  radiusKm: number;
  /** Footprint cells (covering cells; with `allSegments`, only the footprint's cells that have subscribers). */
  cells: number;
  /** Segment keys in delivery order: `<cell>#<shard>` for geo, `scan#<i>/<n>` for scan. */
  segments: string[];
  /** Distance from the epicentre to each segment's cell (nearest point), same order; 0 for scan segments. */
  distancesKm: number[];
  /** Subscribers in the planned segments (segments-table counts; scan: unknown = 0). */
  subscribers: number;
  /** Subscribers per segment (segments-table counts, same order; 0 = unknown): lets a worker read small shards together. */
  counts: number[];
  /**
   * Work units, in delivery order (by S arrival, see `orderByArrival` and `deferUnreachable`): unit i is `segments[units[i] .. units[i+1])`. A unit is what a worker claims, locks and
   * checkpoints: consecutive small shards grouped so each claim/lock/count costs a few writes per ~2,000 subscribers
   * instead of per shard of tens (the profile in docs/fanout-benchmark.md). Scan: one unit per Scan segment.
   */
  units: number[];
  /** The near-field front: its units are delivered by pieces in S order (absent: none). */
  front?: FanoutFront;
  /**
   * What the expected rate could not reach before its S wave and the plan put after the warnable
   * (`deferUnreachable`'s tier 3; absent: nothing): segments and their subscribers (segment counts), and the rate.
   */
  deferred?: { segments: number; subscribers: number; expectedRate: number };
}

export const DEFAULT_MAX_UNIT_SIZE = 2000;
/** Mean area of an H3 resolution-5 cell (km²), to estimate how many cells a footprint spans. */
const CELL_AREA_KM2 = 252.9;
export const WHOLE_TABLE_ABOVE_CELLS = 100;
export const DEFAULT_UNIT_BAND_KM = 10;
export const DEFAULT_URGENT_S = 10;
export const DEFAULT_BLIND_MARGIN_S = 0.5;
export const DEFAULT_FRONT_S = 0;
/** `PlanInput.expectedRate`'s default, notifications/s: the profiles' fanout.expectedRate (shared/infra/config.ts). */
export const DEFAULT_EXPECTED_RATE = 20_000;

/**
 * Groups segments (already nearest first) into units of consecutive segments: a unit closes before it would exceed
 * `maxSize` subscribers or span more than `bandKm` of distance, so delivery order stays nearest first to within one
 * band (pure). Returns the start index of each unit.
 */
export function groupUnits(
  ordered: readonly { count: number; nearestKm: number }[],
  maxSize = DEFAULT_MAX_UNIT_SIZE,
  bandKm = DEFAULT_UNIT_BAND_KM,
): number[] {
  const starts: number[] = [];
  let size = 0;
  let bandStart = 0;
  for (let i = 0; i < ordered.length; i++) {
    const s = ordered[i];
    if (starts.length === 0 || size + s.count > maxSize || s.nearestKm - bandStart > bandKm) {
      starts.push(i);
      size = 0;
      bandStart = s.nearestKm;
    }
    size += s.count;
  }
  return starts;
}

/** The segment keys of unit `i` (pure). */
export function unitSegments<T>(plan: readonly T[], units: readonly number[], i: number): T[] {
  return plan.slice(units[i], i + 1 < units.length ? units[i + 1] : plan.length);
}

/** The lock name of a unit: its first segment, and how many follow (`<cell>#<shard>+<n>`); a one-segment unit is that segment. */
export function unitKey(plan: readonly string[], units: readonly number[], i: number): string {
  const segs = unitSegments(plan, units, i);
  return segs.length === 1 ? segs[0] : `${segs[0]}+${segs.length - 1}`;
}

export const DEFAULT_MIN_SUBSCRIBER_MMI = 3;

/** The lock name of front piece `c` of `pieces` (no segment key has this shape: cells are H3 hex, scan keys `scan#`). */
export function frontPieceKey(c: number, pieces: number): string {
  return `front#${c}/${pieces}`;
}

type WorkPlan = { units: readonly number[]; front?: FanoutFront };

/** Work items of a plan (pure): the front's pieces, then every unit after the front. What `doneCount` must reach. */
export function workCount(plan: WorkPlan): number {
  const f = plan.front;
  return f ? f.pieces + plan.units.length - f.units : plan.units.length;
}

/** The unit of work item `k` (pure): undefined for a front piece (k < pieces), else its unit index in the plan. */
export function workUnit(plan: WorkPlan, k: number): number | undefined {
  const f = plan.front;
  if (!f) return k;
  return k < f.pieces ? undefined : f.units + k - f.pieces;
}

/** The lock name of work item `k` (pure): a front piece's, or its unit's (`unitKey`). */
export function workKey(segments: readonly string[], plan: WorkPlan, k: number): string {
  const u = workUnit(plan, k);
  return u === undefined ? frontPieceKey(k, plan.front!.pieces) : unitKey(segments, plan.units, u);
}

/** Every work item's lock name, in work order (pure). */
export function workKeys(segments: readonly string[], plan: WorkPlan): string[] {
  return Array.from({ length: workCount(plan) }, (_, k) => workKey(segments, plan, k));
}

/** Segment indices (plan order, so nearest first) of front piece `c` (pure): every unit u < front.units with u ≡ c. */
export function frontPieceSegments(plan: WorkPlan, segmentCount: number, c: number): number[] {
  const f = plan.front;
  if (!f) return [];
  const out: number[] = [];
  for (let u = c; u < f.units; u += f.pieces) {
    const end = u + 1 < plan.units.length ? plan.units[u + 1] : segmentCount;
    for (let i = plan.units[u]; i < end; i++) out.push(i);
  }
  return out;
}

/** The piece of the front holding unit `u`, or undefined when u is not a front unit (pure). */
export function frontPieceOf(plan: WorkPlan, u: number): number | undefined {
  const f = plan.front;
  return f && u < f.units ? u % f.pieces : undefined;
}

/**
 * Where a subscriber stands in a front piece's delivery order (pure): not yet shaking at `lateBefore` first, then by
 * S arrival (epoch ms, ak135 over epicentral distance: shared/seismo/travel.ts), then by id. A deterministic function of
 * (version, subscriber): the worker orders by it and the ledger re-computes it to read a piece's cursor.
 */
export interface FrontOrderKey {
  late: 0 | 1;
  sMs: number;
  id: string;
}

export function frontOrderKey(
  quake: { lat: number; lon: number; depthKm: number; originTime: number },
  front: Pick<FanoutFront, 'lateBefore'>,
  s: { id: string; lat: number; lon: number },
): FrontOrderKey {
  const sMs = quake.originTime + sTravelTimeS(quake, s) * 1000;
  return { late: sMs < front.lateBefore ? 1 : 0, sMs, id: s.id };
}

/**
 * One window of pass 1: the shards [from, to) of the item; or, with `throughId`, a *prefix window*: the subscribers of
 * shard `from` whose id is at or before `throughId` in DynamoDB's key order (UTF-8 bytes: the order a Query returns a
 * shard's items in), what a chain's first page reads, so its first alert waits for one small read instead of whole
 * shards (`to` = `from`). A range window never holds what a prefix window of the same shard holds.
 */
export type FrontWindow =
  | [from: number, to: number, late: number]
  | [from: number, to: number, late: number, throughId: string];

/**
 * The lock cursor of an item delivered in S order per subscriber (shared/fanout/worker.ts `processSorted`: a front
 * piece, or an urgent unit). Pass 1 delivers the item window by window (`windows[w]`, in order, the last one current;
 * `FrontWindow`), and in each, in order-key order, the subscribers whose S arrives at or after the window's `late`
 * (epoch ms); those before it are deferred. Pass 2 delivers every deferred subscriber of the item, in order-key order.
 * `key` is the last acknowledged subscriber of the current window (pass 1) or of pass 2.
 */
export interface FrontCursor {
  pass: 1 | 2;
  /** [from, to, late] (or a prefix window's [from, from, late, throughId]) per window of pass 1, in order. */
  windows: FrontWindow[];
  key: FrontOrderKey;
}

/** Whether id `a` sorts at or before id `b` in DynamoDB's order of string keys (UTF-8 bytes). */
export function idAtOrBefore(a: string, b: string): boolean {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) <= 0;
}

/**
 * The window of pass 1 holding subscriber `id` of the item's shard `j` (pure), or -1: a prefix window of shard j
 * whose `throughId` the id is at or before, else the range window holding j.
 */
export function frontWindowOf(cursor: Pick<FrontCursor, 'windows'>, j: number, id: string): number {
  const prefix = cursor.windows.findIndex((w) => w[3] !== undefined && w[0] === j && idAtOrBefore(id, w[3]));
  if (prefix >= 0) return prefix;
  return cursor.windows.findIndex((w) => w[3] === undefined && j >= w[0] && j < w[1]);
}

/**
 * Whether an item with this cursor delivered subscriber `s` of its shard `j` (pure): what the worker resumes from and
 * the ledger reads. `version` is the version the item's run alerted for.
 */
export function frontCursorCovers(
  cursor: FrontCursor,
  version: { lat: number; lon: number; depthKm: number; originTime: number },
  j: number,
  s: { id: string; lat: number; lon: number },
): boolean {
  const w = frontWindowOf(cursor, j, s.id);
  if (w < 0) return false;
  const key = frontOrderKey(version, { lateBefore: cursor.windows[w][2] }, s);
  if (cursor.pass === 2) return key.late === 0 || compareFrontKeys(key, cursor.key) <= 0;
  if (key.late === 1) return false;
  return w < cursor.windows.length - 1 || compareFrontKeys(key, cursor.key) <= 0;
}

/** Total order of `FrontOrderKey`s (pure): negative when a comes first. */
export function compareFrontKeys(a: FrontOrderKey, b: FrontOrderKey): number {
  return a.late - b.late || a.sMs - b.sMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function scanSegmentKey(i: number, total: number): string {
  return `scan#${i}/${total}`;
}

export function parseScanSegmentKey(key: string): { segment: number; totalSegments: number } | undefined {
  const m = /^scan#(\d+)\/(\d+)$/.exec(key);
  return m ? { segment: Number(m[1]), totalSegments: Number(m[2]) } : undefined;
}

export interface OrderedSegment {
  key: string;
  nearestKm: number;
  centreKm: number;
  count: number;
}

/** Epicentral distances (km) of a segment: to the nearest possible point, to the nearest centre, to the farthest point. */
interface SegmentReach {
  nearestKm: number;
  centreKm: number;
  farthestKm: number;
}

/**
 * Where a segment's subscribers can be, seen from (lat, lon): over the res-7 cells of its recorded `area` when it has
 * one (a compact shard is ordered by its own subscribers), else over its whole res-5 cell. Each H3 cell is taken as
 * its circumscribed circle (cells.ts `cellCircle`), so `nearestKm` is a lower bound and `farthestKm` an upper bound of
 * every subscriber's epicentral distance. `cache` keeps each H3 cell's distances for one epicentre.
 */
function segmentReach(lat: number, lon: number, ref: SegmentRef, cache: Map<string, SegmentReach>): SegmentReach {
  const of = (cell: string): SegmentReach => {
    let d = cache.get(cell);
    if (!d) {
      const c = cellCircle(cell);
      const centreKm = haversineKm(lat, lon, c.lat, c.lon);
      d = { nearestKm: Math.max(0, centreKm - c.radiusKm), centreKm, farthestKm: centreKm + c.radiusKm };
      cache.set(cell, d);
    }
    return d;
  };
  if (!ref.area?.length) return of(ref.cell);
  let nearestKm = Number.POSITIVE_INFINITY;
  let centreKm = Number.POSITIVE_INFINITY;
  let farthestKm = 0;
  for (const cell of ref.area) {
    const d = of(cell);
    nearestKm = Math.min(nearestKm, d.nearestKm);
    centreKm = Math.min(centreKm, d.centreKm);
    farthestKm = Math.max(farthestKm, d.farthestKm);
  }
  return { nearestKm, centreKm, farthestKm };
}

/** Orders segments nearest first (pure), by the nearest point of each segment's area (`segmentReach`). */
export function orderNearestFirst(lat: number, lon: number, refs: readonly SegmentRef[]): OrderedSegment[] {
  const cache = new Map<string, SegmentReach>();
  const out: OrderedSegment[] = refs.map((r) => {
    const { nearestKm, centreKm } = segmentReach(lat, lon, r, cache);
    return { key: r.key, count: r.count, nearestKm, centreKm };
  });
  return out.sort(
    (a, b) => a.nearestKm - b.nearestKm || a.centreKm - b.centreKm || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
}

export interface ArrivalSegment extends OrderedSegment {
  /** Seconds after origin at which the S wave reaches the nearest and the farthest point of the segment's area. */
  sNearS: number;
  sFarS: number;
  /**
   * 0: urgent and still warnable; 1: urgent, wholly in the blind zone; 2: the rest; 3: wholly passed by the S wave
   * before the expected rate reaches it (`deferUnreachable`).
   */
  tier: 0 | 1 | 2 | 3;
}

/**
 * Orders segments by S arrival at their cell's nearest point (pure): urgent warnable cells first (S at the nearest
 * point before `urgentUntilS`), then cells wholly in the blind zone (S at the farthest point before `blindUntilS`),
 * then the rest; within each, earliest arrival first. In the first tier that is the earliest arrival that can still
 * be warned: a cell the S wave has entered by `warnableFromS` (planning) counts from then, and such cells go farthest
 * point nearest first (earliest deadline first over their warnable subscribers). Times are seconds after origin.
 */
export function orderByArrival(
  quake: { lat: number; lon: number; depthKm: number },
  refs: readonly SegmentRef[],
  opts: { urgentUntilS: number; blindUntilS: number; warnableFromS?: number },
): ArrivalSegment[] {
  // S first arrival at epicentral distance km from the ak135 table (one curve per event: the source depth).
  const curve = travelTimeCurve('S', Math.max(0, quake.depthKm));
  const arrival = (km: number) => curve.timeAtKm(km);
  const cache = new Map<string, SegmentReach>();
  const out: ArrivalSegment[] = refs.map((r) => {
    const { nearestKm, centreKm, farthestKm } = segmentReach(quake.lat, quake.lon, r, cache);
    const sNearS = arrival(nearestKm);
    const sFarS = arrival(farthestKm);
    const tier = sFarS < opts.blindUntilS ? 1 : sNearS < opts.urgentUntilS ? 0 : 2;
    return { key: r.key, count: r.count, centreKm, nearestKm, sNearS, sFarS, tier };
  });
  // In tier 0 the earliest S arrival that can still be warned: a shard the S wave has already entered (at planning,
  // `warnableFromS`) counts from then, not from its nearest point (nobody there can be warned); among those, the one
  // whose farthest point is nearest first (earliest deadline first over its warnable subscribers).
  const from = opts.warnableFromS ?? Number.NEGATIVE_INFINITY;
  const warnable = (a: ArrivalSegment) => (a.tier === 0 ? Math.max(a.sNearS, from) : a.sNearS);
  return out.sort(
    (a, b) =>
      a.tier - b.tier ||
      warnable(a) - warnable(b) ||
      (a.tier === 0 ? a.sFarS - b.sFarS : 0) ||
      a.sNearS - b.sNearS ||
      a.centreKm - b.centreKm ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
}

/**
 * Places the segments no order can warn at the expected rate after those it can (pure; a new array). `ordered` is
 * `orderByArrival`'s order; `rate` the expected notifications per second across all chains, `startS` when the first
 * notification is expected (seconds after origin). Walking the order with a clock that advances `count / rate` per
 * kept segment, a segment whose farthest point the S wave passes before the clock reaches it becomes tier 3 and is
 * not counted; tier 1 (wholly in the blind zone) joins them. Those unreachable segments, tier 1 first, each in their
 * order, are then put back as early as the kept segments' slack allows, never before an urgent one (tier 0): before
 * kept segment p only while no kept segment from p on would be pushed past its nearest point's S arrival (slack = S at
 * its nearest point minus its projected end; a segment partly late already has none), the rest at the end. With equal service times this is
 * Moore's rule at the level of segments: earliest deadline first, dropping what would be late (Moore 1968,
 * Management Science 15(1)), and what was dropped served in the idle slack rather than last. The unreachable are put
 * back greedily in their order: one that does not fit holds back the ones after it. Throws RangeError on a rate that
 * is not a finite positive number.
 */
export function deferUnreachable(
  ordered: readonly ArrivalSegment[],
  opts: { rate: number; startS: number },
): ArrivalSegment[] {
  const { rate, startS } = opts;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`expected rate must be positive, got ${rate}`);
  const kept: ArrivalSegment[] = [];
  const slack: number[] = [];
  const blind: ArrivalSegment[] = [];
  const late: ArrivalSegment[] = [];
  let clock = startS;
  for (const s of ordered) {
    if (s.tier === 1) blind.push(s);
    else if (s.sFarS < clock) late.push({ ...s, tier: 3 });
    else {
      kept.push(s);
      clock += s.count / rate;
      slack.push(s.sNearS - clock);
    }
  }
  const unreachable = [...blind, ...late];
  // Least slack from kept segment p on: what a block inserted before p may take.
  const room = new Array<number>(kept.length + 1);
  room[kept.length] = Number.POSITIVE_INFINITY;
  for (let p = kept.length - 1; p >= 0; p--) room[p] = Math.min(room[p + 1], slack[p]);
  // Never before an urgent warnable segment: the chains serve a unit at 1/P of the rate, which the slack does not see,
  // and the urgent ones have the least of it.
  const lastUrgent = kept.findLastIndex((s) => s.tier === 0);
  for (let p = 0; p <= lastUrgent; p++) room[p] = Number.NEGATIVE_INFINITY;
  const out: ArrivalSegment[] = [];
  let used = 0;
  let next = 0;
  for (let p = 0; p <= kept.length; p++) {
    while (next < unreachable.length && used + unreachable[next].count / rate <= room[p]) {
      used += unreachable[next].count / rate;
      out.push(unreachable[next++]);
    }
    if (p < kept.length) out.push(kept[p]);
  }
  while (next < unreachable.length) out.push(unreachable[next++]);
  return out;
}

/**
 * Groups arrival-ordered segments into units (pure): like `groupUnits`, and a unit never mixes tiers, spans at most
 * `bandS` seconds of S arrival, and holds at most `urgentSize` subscribers in tiers 0 and 1 (a single larger shard
 * is a unit of its own; tier 3 takes `maxSize` as tier 2 does). Returns the start index of each unit.
 */
export function groupByArrival(
  ordered: readonly Pick<ArrivalSegment, 'count' | 'sNearS' | 'tier'>[],
  maxSize: number,
  urgentSize: number,
  bandS: number,
): number[] {
  const starts: number[] = [];
  let size = 0;
  let bandStart = 0;
  for (let i = 0; i < ordered.length; i++) {
    const s = ordered[i];
    const cap = s.tier === 0 || s.tier === 1 ? urgentSize : maxSize;
    if (starts.length === 0 || s.tier !== ordered[i - 1].tier || size + s.count > cap || s.sNearS - bandStart > bandS) {
      starts.push(i);
      size = 0;
      bandStart = s.sNearS;
    }
    size += s.count;
  }
  return starts;
}

/** Unit size for this footprint (see `PlanInput.chains`). */
export function unitSize(
  ordered: readonly { count: number }[],
  input: Pick<PlanInput, 'maxUnitSize' | 'chains'>,
): number {
  const base = input.maxUnitSize ?? DEFAULT_MAX_UNIT_SIZE;
  if (!input.chains) return base;
  const total = ordered.reduce((n, s) => n + s.count, 0);
  const wanted = Math.ceil(total / (UNITS_PER_CHAIN * input.chains));
  return Math.min(4 * base, Math.max(Math.ceil(base / 4), wanted));
}

const UNITS_PER_CHAIN = 4;

export async function planFanout(quake: Quake, input: PlanInput): Promise<FanoutPlan> {
  const minMmi = input.minSubscriberMmi ?? DEFAULT_MIN_SUBSCRIBER_MMI;
  // Every site the worker may alert under the policy lies inside (P(MMI ≥ minMmi) ≥ alertProbability).
  const radiusKm = intensityModelFor(quake).footprintRadiusKm(minMmi, input.alertProbability);
  const strategy = input.strategy ?? 'geo';
  if (strategy === 'scan') {
    // The seed's baseline: every subscriber is read; the worker filters by predicted intensity.
    const n = Math.max(1, input.scanSegments ?? 16);
    const segments = Array.from({ length: n }, (_, i) => scanSegmentKey(i, n));
    const units = segments.map((_, i) => i);
    return {
      strategy,
      minMmi,
      radiusKm,
      cells: 0,
      segments,
      distancesKm: segments.map(() => 0),
      subscribers: 0,
      counts: segments.map(() => 0),
      units,
    };
  }
  if (radiusKm <= 0) {
    return {
      strategy,
      minMmi,
      radiusKm,
      cells: 0,
      segments: [],
      distancesKm: [],
      subscribers: 0,
      counts: [],
      units: [],
    };
  }
  let cells: number;
  let refs: SegmentRef[];
  if (input.allSegments && (Math.PI * radiusKm * radiusKm) / CELL_AREA_KM2 > WHOLE_TABLE_ABOVE_CELLS) {
    // The same set coveringCells would select: every cell whose nearest possible point is within the radius.
    const near = new Map<string, boolean>();
    refs = (await input.allSegments()).filter((r) => {
      let inside = near.get(r.cell);
      if (inside === undefined) {
        inside = cellMinDistanceKm(r.cell, quake.lat, quake.lon) <= radiusKm;
        near.set(r.cell, inside);
      }
      return inside && r.count > 0;
    });
    cells = new Set(refs.map((r) => r.cell)).size;
  } else {
    const covering = input.coveringCells(quake.lat, quake.lon, radiusKm);
    refs = await input.segmentsForCells(covering);
    cells = covering.length;
  }
  const sinceOriginS = ((input.now ?? Date.now()) - quake.originTime) / 1000;
  const urgentS = input.urgentS ?? DEFAULT_URGENT_S;
  const margin = input.blindMarginS ?? DEFAULT_BLIND_MARGIN_S;
  const byArrival = orderByArrival(quake, refs, {
    urgentUntilS: urgentS > 0 ? sinceOriginS + urgentS : Number.NEGATIVE_INFINITY,
    blindUntilS: margin >= 0 && urgentS > 0 ? sinceOriginS + margin : Number.NEGATIVE_INFINITY,
    warnableFromS: sinceOriginS,
  });
  const rate =
    typeof input.expectedRate === 'function'
      ? input.expectedRate(refs.reduce((n, r) => n + r.count, 0))
      : (input.expectedRate ?? DEFAULT_EXPECTED_RATE);
  if (!(Number.isFinite(rate) && rate >= 0)) throw new RangeError(`expectedRate must be 0 or more, got ${rate}`);
  // The deferral builds on the urgent and blind tiers: with either turned off (urgentS 0: no urgent segment to keep
  // first; blindMarginS < 0: nobody deferred), so is it.
  const ordered =
    rate > 0 && urgentS > 0 && margin >= 0
      ? deferUnreachable(byArrival, { rate, startS: sinceOriginS + margin })
      : byArrival;
  const base = unitSize(ordered, input);
  const urgentSize = input.urgentUnitSize ?? Math.ceil((input.maxUnitSize ?? DEFAULT_MAX_UNIT_SIZE) / 4);
  // The km band as S seconds at crustal shear velocity (ak135's upper crust, 3.46 km/s: 10 km ≈ 2.9 s).
  const bandS = (input.unitBandKm ?? DEFAULT_UNIT_BAND_KM) / 3.46;
  const units = groupByArrival(ordered, base, urgentSize, bandS);
  const frontS = input.frontS ?? DEFAULT_FRONT_S;
  const front = frontOf(ordered, units, {
    untilS: frontS > 0 ? sinceOriginS + frontS : Number.NEGATIVE_INFINITY,
    chains: input.chains ?? 1,
    lateBefore: quake.originTime + (sinceOriginS + Math.max(0, margin)) * 1000,
  });
  return {
    strategy,
    minMmi,
    radiusKm,
    cells,
    segments: ordered.map((s) => s.key),
    distancesKm: ordered.map((s) => Math.round(s.nearestKm * 10) / 10),
    subscribers: ordered.reduce((n, s) => n + s.count, 0),
    counts: ordered.map((s) => s.count),
    units,
    ...(front ? { front } : {}),
    ...deferredOf(ordered, rate),
  };
}

/** `FanoutPlan.deferred` of an order (pure): its tier-3 segments, when there are any. */
function deferredOf(ordered: readonly ArrivalSegment[], expectedRate: number): Pick<FanoutPlan, 'deferred'> {
  let segments = 0;
  let subscribers = 0;
  for (const s of ordered) {
    if (s.tier !== 3) continue;
    segments++;
    subscribers += s.count;
  }
  return segments ? { deferred: { segments, subscribers, expectedRate } } : {};
}

/**
 * The front (pure): the leading units of tier 0 (urgent, still warnable) whose first segment's S arrival at its
 * nearest point is before `untilS` (seconds after origin). None with fewer than two chains or two such units: one
 * piece is one unit's order with more reading.
 */
export function frontOf(
  ordered: readonly Pick<ArrivalSegment, 'sNearS' | 'tier'>[],
  units: readonly number[],
  opts: { untilS: number; chains: number; lateBefore: number },
): FanoutFront | undefined {
  let n = 0;
  while (n < units.length && ordered[units[n]].tier === 0 && ordered[units[n]].sNearS < opts.untilS) n++;
  const pieces = Math.min(opts.chains, n);
  if (pieces < 2) return undefined;
  return { units: n, pieces, lateBefore: Math.round(opts.lateBefore) };
}

/**
 * For an update of an already planned event: can any subscriber's level rise? Intensity at every site grows only if
 * the magnitude grows or the hypocentre moves; an unchanged or smaller event re-alerts nobody (system.md section 3).
 * Conservative: a moved hypocentre always re-plans, and the worker then delivers only to sites whose level rose.
 */
export function levelMayRise(previous: Quake, next: Quake): boolean {
  if (next.magnitude > previous.magnitude) return true;
  const movedKm = haversineKm(previous.lat, previous.lon, next.lat, next.lon);
  return movedKm > 1 || Math.abs(previous.depthKm - next.depthKm) > 1;
}
