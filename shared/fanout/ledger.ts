/**
 * The notification ledger: for one event, the highest alert level each subscriber was already sent, so that a new
 * version (a magnitude or location revision, possibly mid-fan-out) or a retraction sends each subscriber exactly one
 * notification per level reached, skips nobody, and cancels exactly the alerts that went out.
 *
 * It costs no write per subscriber. A level is a pure function of (version, subscriber): `subscriberLevel(model of
 * the version, subscriber)`. So the ledger only has to know WHICH version reached WHICH subscriber, and the fan-out
 * already records that: every run (plan revision) has immutable plan items and unit locks whose cursors say exactly
 * how far each unit got (shared/locks/segment-lock.ts). When a newer revision is planned, the consumer supersedes the
 * older run's unfinished units (`supersede`), which freezes its coverage. For a subscriber s of shard S:
 *
 *   run j covered s  ⇔  j's plan has S in unit u, and lock(j, u) is `done`, or its cursor {shard i, key k} has
 *                       S before shard i of u, or S = shard i and s.subscriberId ≤ k.subscriberId (DynamoDB returns a
 *                       shard's items in subscriberId byte order; the cursor only moves after a batch was handled:
 *                       acknowledged, or parked in the delivery DLQ for a redrive); for a unit delivered in S order
 *                       (an urgent unit, or a front piece's units) its order-key cursor covers s (`frontCursorCovers`)
 *   sent(s)          =  max over covering alert runs j of subscriberLevel(version_j, s)
 *
 * A run of revision r sends s a notification at level L(s) iff L(s) > sent(s) (an update: new version's alert to
 * everyone not yet reached, another only when the level rises); a cancellation run sends one iff sent(s) ≠ none.
 * This holds because every run sent exactly when its level rose above the max of the runs before it, so the max over
 * covering runs is the highest level sent. Scan-strategy runs (parallel Scan segments, whose cursors cannot place a
 * subscriber) count as covering only when all their units are done.
 *
 * Limits, stated: the batches a worker had sent but not checkpointed when its run was superseded are not covered (the
 * batch in flight, and those sent while an earlier batch's paced part — SMS, e-mail, Telegram at the providers' rates
 * — or a parked unit's pass 1 was still settling: the cursor moves only past batches wholly handled, in order). They
 * are sent again by the next run — at the same level under the same notification id, so receivers de-duplicate them,
 * as after a worker crash; a retraction's cancellation does not reach them, nor does an update that lowers a level
 * know they were alerted. A subscriber who moved or changed `minMmi` between versions is judged with
 * their current record.
 *
 * Reads per work unit of a re-planned event: one BatchGet of the older runs' locks for the unit's shards (plans are
 * cached per environment). Nothing is read for an event's first run.
 */
import { type EventPlan, type RunRecord, runId } from '../events/index.ts';
import { getMany, type LockItem, type LockStore } from '../locks/index.ts';
import type { Quake } from '../quake/types.ts';
import { pageCursorSubscriberId } from '../segments/store.ts';
import type { Subscriber } from '../segments/types.ts';
import { type AlertLevel, type AlertPolicy, DEFAULT_ALERT_POLICY, levelRises } from '../seismo/alert.ts';
import { type IntensityModel, intensityModelFor } from '../seismo/intensity.ts';
import {
  type FrontCursor,
  frontCursorCovers,
  frontPieceKey,
  frontPieceOf,
  frontPieceSegments,
  idAtOrBefore,
  parseScanSegmentKey,
  unitKey,
  unitSegments,
  workKeys,
} from './plan.ts';

/**
 * The level a version gives one subscriber under the alert policy (shared/seismo/alert.ts, fanout.alertProbability):
 * `none` unless the probability that the subscriber's own threshold is reached is at least the policy's level, else
 * the policy's level, at least `be-aware` (a subscriber who asked for MMI 2 is told though MMI 2 is below the
 * be-aware band). Pure; the one rule the current run, the ledger's view of earlier runs, redrives and drill censuses
 * use. `mmi` is the median prediction, the number the text shows.
 */
export function subscriberLevel(
  model: IntensityModel,
  s: Pick<Subscriber, 'lat' | 'lon' | 'minMmi'>,
  policy: Partial<AlertPolicy> = {},
): { mmi: number; level: AlertLevel } {
  const a = model.assess(s.lat, s.lon, s.minMmi, { ...DEFAULT_ALERT_POLICY, ...definedOnly(policy) });
  if (!a.notify) return { mmi: a.mmi, level: 'none' };
  return { mmi: a.mmi, level: a.level === 'none' ? 'be-aware' : a.level };
}

function definedOnly(p: Partial<AlertPolicy>): Partial<AlertPolicy> {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));
}

/** Where one earlier run got to in one shard. */
interface ShardCoverage {
  model: IntensityModel;
  /** Undefined: the whole shard; else subscribers with an id ≤ this (byte order). */
  throughId?: string;
  /** A front piece's shard: the subscribers its cursor covers (plan.ts `frontCursorCovers`). */
  includes?: (s: Subscriber) => boolean;
}

interface PriorRun {
  run: RunRecord;
  plan: EventPlan;
  model: IntensityModel;
  /** Segment key → unit index in that run's plan. */
  unitOf: Map<string, number>;
  scan: boolean;
}

/** Earlier runs' coverage of a set of shards: answers "highest level already sent" per subscriber. */
export class Coverage {
  private readonly byShard: Map<string, ShardCoverage[]>;
  private readonly everywhere: IntensityModel[];
  private readonly policy: Partial<AlertPolicy>;

  constructor(byShard: Map<string, ShardCoverage[]>, everywhere: IntensityModel[], policy: Partial<AlertPolicy> = {}) {
    this.byShard = byShard;
    this.everywhere = everywhere;
    this.policy = policy;
  }

  /** No earlier run reached any of these shards. */
  get empty(): boolean {
    return this.byShard.size === 0 && this.everywhere.length === 0;
  }

  /** Highest level earlier runs sent subscriber `s` of shard `segment` (`none`: nothing sent). */
  sent(segment: string | undefined, s: Subscriber): AlertLevel {
    let best: AlertLevel = 'none';
    const consider = (model: IntensityModel) => {
      const { level } = subscriberLevel(model, s, this.policy);
      if (levelRises(best, level)) best = level;
    };
    for (const m of this.everywhere) consider(m);
    for (const c of (segment && this.byShard.get(segment)) || []) {
      if (c.includes) {
        if (c.includes(s)) consider(c.model);
      } else if (c.throughId === undefined || idAtOrBefore(s.id, c.throughId)) {
        consider(c.model);
      }
    }
    return best;
  }
}

const EMPTY = new Coverage(new Map(), []);

/**
 * The ledger of one event run: the earlier runs (oldest first, alert runs only) and their plans. `coverage(shards)`
 * reads the earlier runs' locks of the units holding those shards.
 */
export class Ledger {
  private readonly eventId: string;
  private readonly prior: PriorRun[];
  private readonly locks: LockStore;
  private readonly policy: Partial<AlertPolicy>;
  /** Scan runs with every unit done: they reached everyone in their footprint. */
  private scanComplete?: Promise<IntensityModel[]>;

  private constructor(eventId: string, prior: PriorRun[], locks: LockStore, policy: Partial<AlertPolicy>) {
    this.eventId = eventId;
    this.prior = prior;
    this.locks = locks;
    this.policy = policy;
  }

  /**
   * Builds the ledger for the run at `revision` from the event's `runs` (earlier alert runs only). `planOf` reads a
   * plan item by key (cached by the caller). Throws what the reads throw.
   */
  static async load(opts: {
    eventId: string;
    revision: number;
    runs: readonly RunRecord[] | undefined;
    locks: LockStore;
    planOf(planKey: string): Promise<EventPlan | undefined>;
    /** The alert policy the runs decided with (fanout.alertProbability, thresholds). */
    policy?: Partial<AlertPolicy>;
  }): Promise<Ledger> {
    const earlier = (opts.runs ?? []).filter((r) => r.revision < opts.revision && r.mode === 'alert');
    const prior: PriorRun[] = [];
    for (const run of earlier) {
      const plan = await opts.planOf(run.planKey);
      if (!plan) continue;
      const unitOf = new Map<string, number>();
      plan.units.forEach((start, u) => {
        const end = u + 1 < plan.units.length ? plan.units[u + 1] : plan.plan.length;
        for (let i = start; i < end; i++) unitOf.set(plan.plan[i], u);
      });
      const scan = plan.plan.length > 0 && parseScanSegmentKey(plan.plan[0]) !== undefined;
      prior.push({ run, plan, model: intensityModelFor(run.quake), unitOf, scan });
    }
    return new Ledger(opts.eventId, prior, opts.locks, opts.policy ?? {});
  }

  /** True for an event's first run: nothing was sent before, and `coverage` reads nothing. */
  get first(): boolean {
    return this.prior.length === 0;
  }

  /** Earlier runs' coverage of the shards `segments` (segment keys of the current run's unit). */
  async coverage(segments: readonly string[]): Promise<Coverage> {
    if (this.prior.length === 0) return EMPTY;
    const byShard = new Map<string, ShardCoverage[]>();
    for (const p of this.prior) {
      if (p.scan) continue;
      const units = [...new Set(segments.map((s) => p.unitOf.get(s)).filter((u): u is number => u !== undefined))];
      if (units.length === 0) continue;
      // A front unit's progress is its piece's lock (shared/fanout `FanoutFront`), with an order-key cursor.
      const keys = units.map((u) => {
        const piece = frontPieceOf(p.plan, u);
        return piece === undefined ? unitKey(p.plan.plan, p.plan.units, u) : frontPieceKey(piece, p.plan.front!.pieces);
      });
      const locks = await getMany(this.locks, runId(this.eventId, p.run.revision), [...new Set(keys)]);
      units.forEach((u, k) => {
        const lock = locks.get(keys[k]);
        if (!lock) return;
        const shards = unitSegments(p.plan.plan, p.plan.units, u);
        const piece = frontPieceOf(p.plan, u);
        // An urgent unit delivered in S order per subscriber has an order-key cursor over its own shards.
        const cov =
          piece === undefined
            ? orderCursor(lock)
              ? pieceCovered(lock, shards, shards, p.run.quake)
              : covered(lock, shards)
            : pieceCovered(
                lock,
                shards,
                frontPieceSegments(p.plan, p.plan.plan.length, piece).map((i) => p.plan.plan[i]),
                p.run.quake,
              );
        for (const [shard, cov1] of cov) {
          if (!segments.includes(shard)) continue;
          const list = byShard.get(shard) ?? [];
          list.push({ model: p.model, ...cov1 });
          byShard.set(shard, list);
        }
      });
    }
    this.scanComplete ??= this.completedScanRuns();
    return new Coverage(byShard, await this.scanComplete, this.policy);
  }

  private async completedScanRuns(): Promise<IntensityModel[]> {
    const out: IntensityModel[] = [];
    for (const p of this.prior) {
      if (!p.scan) continue;
      const keys = workKeys(p.plan.plan, p.plan);
      const locks = await getMany(this.locks, runId(this.eventId, p.run.revision), keys);
      if (keys.every((k) => locks.get(k)?.state === 'done')) out.push(p.model);
    }
    return out;
  }
}

/**
 * A front unit's shards as its piece's lock says (shared/fanout `FrontCursor`): whole when the piece is done, else
 * each subscriber as `frontCursorCovers` decides from the cursor (its shard's window, its order key under the run's
 * version).
 */
function pieceCovered(
  lock: LockItem,
  shards: readonly string[],
  pieceShards: readonly string[],
  version: Quake,
): [string, Omit<ShardCoverage, 'model'>][] {
  if (lock.state === 'done') return shards.map((s) => [s, {}]);
  let cursor: FrontCursor | undefined;
  try {
    cursor = lock.cursor ? (JSON.parse(lock.cursor) as { front?: FrontCursor }).front : undefined;
  } catch {
    cursor = undefined;
  }
  if (!cursor) return [];
  const out: [string, Omit<ShardCoverage, 'model'>][] = [];
  for (const s of shards) {
    const j = pieceShards.indexOf(s);
    if (j < 0) continue;
    const at = cursor;
    out.push([s, { includes: (sub) => frontCursorCovers(at, version, j, sub) }]);
  }
  return out;
}

/** Whether a lock's cursor is an order-key cursor (`{front: FrontCursor}`), not a position in key order. */
function orderCursor(lock: LockItem): boolean {
  if (!lock.cursor) return false;
  try {
    return (JSON.parse(lock.cursor) as { front?: unknown }).front !== undefined;
  } catch {
    return false;
  }
}

/** The shards of one unit (in unit order) that a lock says were handled, whole or up to a subscriber id. */
function covered(lock: LockItem, shards: readonly string[]): [string, { throughId?: string }][] {
  if (lock.state === 'done') return shards.map((s) => [s, {}]);
  if (!lock.cursor) return [];
  let pos: { shard: number; key?: string };
  try {
    pos = JSON.parse(lock.cursor) as { shard: number; key?: string };
  } catch {
    return [];
  }
  const out: [string, { throughId?: string }][] = [];
  for (let i = 0; i < shards.length && i < pos.shard; i++) out.push([shards[i], {}]);
  if (pos.key !== undefined && pos.shard < shards.length) {
    const last = pageCursorSubscriberId(pos.key);
    if (last !== undefined) out.push([shards[pos.shard], { throughId: last }]);
  }
  return out;
}
