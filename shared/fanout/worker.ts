/**
 * The segment worker's loop (system.md 7.2), over work units (shared/fanout `groupUnits`: consecutive nearest-first
 * shards of up to ~2,000 subscribers within a 10 km band):
 *
 *   first:  chain c begins work item c without a claim (the event's directItems = min(chains, total)), its first
 *           page read while its lock is acquired
 *   repeat: claim i = directItems + nextIndex++ (atomic ADD on the event)
 *           i < total:  acquire lock(unit i) → read its shards in order, page by page, from its cursor (shard index,
 *                       LastEvaluatedKey), pages filling one batch of `pageSize` subscribers (several small shards share
 *                       a batch) → per subscriber: MMI, level, S arrival → deliver those at/above their own minMmi →
 *                       checkpoint the cursor after each acknowledged batch (while the next batch is already being
 *                       read) → after the last batch: count the unit into the event (once), then mark the lock done
 *                       with the last batch's counts (one write each)
 *           i ≥ total:  sweep: every unit not yet counted is either done (count it), takeable (no lock, or an expired
 *                       lease: resume from its cursor) or held (wait for its lease) → stop when all counted
 *   whenever remaining time < reserve: hand the current unit over (lease ends now, cursor kept) and async-invoke a
 *   successor with hop + 1 (the domino); it resumes exactly there.
 *
 * An urgent unit of a geo alert run (S at its nearest point within 10 s) is read whole and delivered in S-arrival order
 * per subscriber instead (`processSorted`, cursor: an order key, shared/fanout `FrontCursor`); those already shaking
 * are left for its pass 2, which waits (the unit is parked, its lease kept) until the chain's urgent units are done.
 *
 * The plan is read once per invocation (the event as this invocation found it) and never written by workers. The
 * last unit counted completes the event (conditional on doneCount = total). While a batch is out, the lease is
 * renewed (heartbeat every lease/3); a lost lease (LeaseLostError, at a heartbeat or a checkpoint) aborts the batch's
 * in-flight posts and stops work on that unit at once: its new holder resumes from the last acknowledged cursor, so
 * only the batch in flight can be delivered twice, under the same idempotency keys. A unit is counted into the event
 * only after its holder closed its lock (`finish` succeeds only for the current holder): a holder that lost the unit
 * never counts it, and a crash between the two leaves a done lock that the sweep counts. Reading ahead never moves the
 * cursor: it only moves after the batch it covers was acknowledged. A chain stops at `maxHops` (default 50) and parks
 * its payload in the worker DLQ.
 */
import {
  claimNext,
  type EventPlan,
  type EventRecord,
  getEvent,
  getPlan,
  markRunning,
  recordFirstDelivery,
  runId,
  StaleRevisionError,
  tryComplete,
  unitDone,
} from '../events/index.ts';
import {
  acquire,
  checkpoint,
  finish,
  getMany,
  handOff,
  heartbeat,
  type Lease,
  LeaseLostError,
  LockHeldError,
  SegmentDoneError,
} from '../locks/index.ts';
import { buildCancellation, buildNotification } from '../notify/build.ts';
import type { DeliveryItem, DeliveryResult } from '../notify/types.ts';
import type { Quake } from '../quake/types.ts';
import { pageCursorSubscriberId } from '../segments/store.ts';
import type { SegmentPage, Subscriber } from '../segments/types.ts';
import { levelRises } from '../seismo/alert.ts';
import { type IntensityModel, intensityModelFor } from '../seismo/intensity.ts';
import { epicentralKm, secondsUntilShaking, travelTimeCurve } from '../seismo/travel.ts';
import { type Coverage, Ledger, subscriberLevel } from './ledger.ts';
import {
  compareFrontKeys,
  DEFAULT_URGENT_S,
  type FanoutFront,
  type FrontCursor,
  type FrontOrderKey,
  type FrontWindow,
  frontCursorCovers,
  frontOrderKey,
  frontPieceSegments,
  frontWindowOf,
  idAtOrBefore,
  parseScanSegmentKey,
  unitKey,
  unitSegments,
  workCount,
  workKey,
  workKeys,
  workUnit,
} from './plan.ts';
import { measureRate, recordRate, unmeasurable } from './rate.ts';
import type { WorkerDeps, WorkerPayload, WorkerResult } from './types.ts';

/** `parked`: an urgent unit whose warnable part was delivered, its blind part left for later (`Run.parked`). */
type SegmentOutcome = 'done' | 'skipped' | 'lost' | 'handed-off' | 'parked';

/** Subscribers in the first batch of a chain's first invocation (see `Run.quickStart`). */
const QUICK_START_BATCH = 100;
/** Channels paced to a provider's rate (shared/notify/rate.ts), delivered alongside the next batches (processUnit). */
const PACED_CHANNELS: ReadonlySet<string> = new Set(['telegram', 'push', 'sms', 'email']);
/**
 * Per-person notifications a unit's holder may have in flight beyond its last checkpoint: a bound on what a successor
 * reads again after a crash (the send journal keeps those from reaching anyone twice) and on memory.
 */
const MAX_PACED_IN_FLIGHT = 2000;

/** A batch delivered in part (its webhooks) whose paced part may still be going; checkpointed when both are done. */
interface Outstanding {
  /** The lock cursor after this batch; undefined for a unit's last batch in key order (counted by `finish`). */
  cursor: string | undefined;
  eligible: number;
  delivered: number;
  failed: number;
  /** Paced notifications in it. */
  size: number;
  paced: Promise<DeliveryResult> | undefined;
  settled: boolean;
  /**
   * A parked unit's pass 1 settling (`resumeParked`): no batch of its own; the batches behind it are checkpointed only
   * after it, so the cursor passes the end of pass 1 first while pass 2 is already being sent.
   */
  barrier?: Promise<void>;
}
/** A work item (a unit or a front piece) held under a lease, and its batches sent but not yet checkpointed. */
interface Held {
  lease: Lease;
  /** Lock name: `unitKey` or `frontPieceKey`. */
  key: string;
  /** Work item index: counted into the event, handed over to a successor. */
  work: number;
  label: 'unit' | 'front piece';
  /** Oldest first. */
  outstanding: Outstanding[];
  /** Batches wholly handled (`WorkerDeps.afterDeliver`). */
  batches: number;
  /** Epoch ms of the latest acknowledged delivery. */
  last?: number;
  /** Epoch ms the latest batch was handed to its channels (fast part acknowledged, paced part dispatched). */
  lastSent?: number;
  /** The counts of a unit's last batch in key order, which `finish` adds (the others are added by checkpoints). */
  finalCounts?: { delivered: number; failed: number; eligible: number };
}
/** At most this many shards read at once for one batch. */
const MAX_WAVE = 16;
/**
 * The quick start's first batch is one wave of at most this many shards, delivered as soon as it is read even when it
 * holds fewer than QUICK_START_BATCH subscribers: where shards are small (a sparse region: a few subscribers per cell),
 * filling 100 took several waves of 16 parallel Queries per chain before anyone was alerted (docs/fanout-benchmark.md,
 * "The first alert's path").
 */
const QUICK_START_WAVE = 4;

/**
 * Notifications sent at once when an urgent unit's batch is delivered in S-arrival order (two webhook POSTs of 100):
 * the next chunk leaves when this one is acknowledged, so the earliest S arrivals are acknowledged first instead of
 * with everyone in the batch. A shard holds its subscribers in id order, which is no order in space; a batch of 500
 * sent at once is acknowledged as a whole ~30 ms later, sent in chunks its nearest are acknowledged first. Measured in
 * docs/fanout-benchmark.md ("Compact shards and S order in a batch").
 */
const URGENT_CHUNK = 200;

/** Where a unit's reading resumes: shard `shard` of the unit, after `key` (a segment page cursor; absent = its start). */
interface UnitPos {
  shard: number;
  key?: string;
}

interface Batch {
  items: DeliveryItem[];
  /** Position after this batch; undefined when the batch ends the unit. */
  next?: UnitPos;
}

function encodeUnitCursor(pos: UnitPos): string {
  return JSON.stringify(pos.key === undefined ? { shard: pos.shard } : { shard: pos.shard, key: pos.key });
}

function decodeUnitCursor(cursor: string | undefined): UnitPos {
  if (!cursor) return { shard: 0 };
  const v = JSON.parse(cursor) as UnitPos;
  return { shard: v.shard, ...(v.key === undefined ? {} : { key: v.key }) };
}

/** One subscriber of a front piece, read and not yet delivered. */
interface FrontEntry {
  key: FrontOrderKey;
  s: Subscriber;
  segment: string;
  /** Index of the shard in the piece. */
  shard: number;
}

/** The front cursor of a piece's lock (undefined: nothing acknowledged yet). */
export function decodeFrontCursor(cursor: string | undefined): FrontCursor | undefined {
  if (!cursor) return undefined;
  return (JSON.parse(cursor) as { front?: FrontCursor }).front;
}

/** Batches of subscribers a front piece reads ahead of its delivery at most (the next window's largest size). */
const FRONT_READ_AHEAD = 20;
/** Largest Query page a front piece asks for (items). */
const MAX_FRONT_PAGE = 2500;

class Run {
  readonly result: WorkerResult = emptyResult();
  private running: boolean;
  private firstRecorded = false;
  /**
   * Units whose batches were all read and their webhooks delivered, finishing in the background while their paced
   * sends go on (processUnit): their locks stay held (each send heartbeats the lease) until they close.
   */
  private tails: Promise<void>[] = [];
  private tailError: unknown;
  /** Paced notifications in flight past their unit's last checkpoint, in all units of this invocation. */
  pacedInFlight = 0;
  /** Units parked by this invocation (`park`), oldest first, with their leases renewed by one timer. */
  private readonly parked: {
    h: Held;
    resume: () => Promise<SegmentOutcome>;
    lost: boolean;
    /**
     * Pass 1's batches still settling (their paced part), in order: pass 2's checkpoints and a hand-over wait for it
     * (`resumeParked`'s barrier), pass 2's sends do not.
     */
    settling: Promise<void>;
    /** How `settling` ended, once it has: pass 2 does not begin on a unit whose pass 1 failed. */
    ended?: { error?: unknown };
  }[] = [];
  /** Ms this invocation's batches waited on a parked unit's pass 1 (a barrier): not counted as time per batch. */
  private barrierWaitMs = 0;
  private parkedBeat: ReturnType<typeof setInterval> | undefined;
  private parkedBeating: Promise<void> = Promise.resolve();
  /** False once the invocation stopped parking (`resumeParked`, `releaseParked`). */
  private parking = true;
  /** Batches this invocation sent in S order (`processSorted`), and the ms they took: its measured time per batch. */
  private sortedBatches = 0;
  private sortedBusyMs = 0;
  /** The first batch of an event's first invocations is small: the nearest subscribers' alert leaves sooner. */
  private quickStart: boolean;
  /** The chain's first page, read while its first lock was acquired (`acquireWork`); taken once by `readPage`. */
  private prefetched?: { segment: string; limit: number; page: Promise<SegmentPage> };
  readonly plan: string[];
  readonly units: number[];
  readonly counts: number[];
  readonly distancesKm: number[];
  readonly front: FanoutFront | undefined;
  private readonly model: IntensityModel;
  /** S travel time (s) by epicentral distance for this event's depth (ak135, shared/seismo/travel.ts). */
  private readonly sCurve: { timeAtKm(km: number): number };
  /** What earlier runs of this event already sent (empty for a first run). */
  private readonly ledger: Ledger;
  /** `cancel`: this run withdraws the alerts earlier runs sent (the event was retracted). */
  private readonly mode: 'alert' | 'cancel';
  readonly run: string;
  readonly now: () => number;

  readonly deps: WorkerDeps;
  readonly payload: WorkerPayload;
  readonly event: EventRecord;
  readonly revision: number;
  readonly quake: Quake;

  constructor(
    deps: WorkerDeps,
    payload: WorkerPayload,
    event: EventRecord,
    plan: EventPlan,
    revision: number,
    quake: Quake,
    ledger: Ledger,
  ) {
    this.deps = deps;
    this.payload = payload;
    this.event = event;
    this.revision = revision;
    this.quake = quake;
    this.model = intensityModelFor(quake);
    this.sCurve = travelTimeCurve('S', Math.max(0, quake.depthKm));
    this.ledger = ledger;
    this.mode = event.mode ?? 'alert';
    this.run = runId(event.eventId, revision);
    this.now = deps.now ?? Date.now;
    this.running = event.state !== 'planned';
    this.quickStart = payload.hop === 0;
    this.plan = plan.plan;
    this.units = plan.units;
    this.counts = plan.planCounts;
    this.distancesKm = plan.planDistancesKm;
    this.front = plan.front;
  }

  /** The event's state once every unit is done: `retracted` after a cancellation run. */
  get finalState(): 'complete' | 'retracted' {
    return this.mode === 'cancel' ? 'retracted' : 'complete';
  }

  /** The alert policy of this deployment (thresholds, fanout.alertProbability). */
  get policy() {
    return { thresholds: this.deps.thresholds, probability: this.deps.alertProbability };
  }

  /** Work items: the front's pieces, then the units after the front (shared/fanout `workCount`). */
  get total(): number {
    return workCount(this);
  }

  /** Pieces of the front: work items 0..pieces-1 (`FanoutFront`). */
  get pieces(): number {
    return this.front?.pieces ?? 0;
  }

  /**
   * Work items begun without a claim: chain c takes item c at hop 0, so a chain's first alert waits for no claim write;
   * the claim counter numbers the items after them. The event's `directItems` (min(chains, total), savePlan); in
   * events planned before it, the front's pieces.
   */
  get direct(): number {
    return this.event.directItems ?? this.pieces;
  }

  /** The lock name of work item `k`. */
  workKey(k: number): string {
    return workKey(this.plan, this, k);
  }

  /** Work item `k`: a front piece, or a unit. */
  processWork(k: number): Promise<SegmentOutcome> {
    const u = workUnit(this, k);
    return u === undefined ? this.processPiece(k) : this.processUnit(u, k);
  }

  lowOnTime(): boolean {
    return this.deps.remainingMs() < this.deps.reserveMs;
  }

  /** Waits for the units finishing in the background; rethrows the first of their errors other than a lost lease. */
  async drainTails(): Promise<void> {
    while (this.tails.length) await Promise.all(this.tails.splice(0));
    if (this.tailError !== undefined) {
      const err = this.tailError;
      this.tailError = undefined;
      throw err;
    }
  }

  async successor(resume?: number): Promise<void> {
    // The next invocation starts where the closed units left off: none may still be finishing here, and the units
    // parked here are handed over to the sweep (the successor does not know them).
    await this.releaseParked();
    await this.drainTails();
    await this.deps.invokeSuccessor({
      eventId: this.event.eventId,
      chain: this.payload.chain,
      hop: this.payload.hop + 1,
      revision: this.revision,
      ...(this.event.planKey ? { planKey: this.event.planKey } : {}),
      // Unit 0 is the nearest: resume it too (a bare truthiness test would drop it).
      ...(resume !== undefined ? { resume } : {}),
    });
    this.result.outcome = 'handed-off';
  }

  readPage(segment: string, cursor: string | undefined, limit: number): Promise<SegmentPage> {
    const ahead = this.prefetched;
    if (ahead) {
      // The chain's first read, begun while its lock was acquired: taken by the first read of the item if it is the
      // same Query, else dropped (a page read before the lock was held is only ever the item's first page).
      this.prefetched = undefined;
      if (cursor === undefined && ahead.segment === segment && ahead.limit === limit) return ahead.page;
    }
    const scan = parseScanSegmentKey(segment);
    if (scan) return this.deps.subscribers.scanPages({ ...scan, cursor, limit });
    return this.deps.subscribers.readSegmentPage(segment, { cursor, limit });
  }

  /**
   * Reads from `pos` until `size` subscribers were read or the unit ends, and builds their notifications. Small whole
   * shards expected to fit (plan counts) are read in one parallel wave; pages are taken in order, and a page that
   * leaves its shard unfinished ends the batch there (later pages of that wave are dropped and read again next time),
   * so the cursor always means "everything before this point".
   */
  async readBatch(
    segments: readonly string[],
    counts: readonly number[],
    pos: UnitPos,
    coverage: Coverage,
    size = this.deps.pageSize,
    quick = false,
  ): Promise<Batch> {
    const items: DeliveryItem[] = [];
    let read = 0;
    let at: UnitPos | undefined = pos;
    const maxWave = quick ? QUICK_START_WAVE : MAX_WAVE;
    for (let waves = 0; at && read < size && !(quick && waves === 1); waves++) {
      const wave: UnitPos[] = [at];
      let expected = at.key === undefined && counts[at.shard] > 0 ? counts[at.shard] : size;
      for (let j = at.shard + 1; j < segments.length && wave.length < maxWave; j++) {
        if (!(counts[j] > 0) || read + expected + counts[j] > size) break;
        wave.push({ shard: j });
        expected += counts[j];
      }
      const limit = size - read;
      const pages = await Promise.all(wave.map((w) => this.readPage(segments[w.shard], w.key, limit)));
      for (let k = 0; k < pages.length && at; k++) {
        const page = pages[k];
        read += page.items.length;
        const segment = segments[wave[k].shard];
        this.build(page.items, items, coverage, parseScanSegmentKey(segment) ? undefined : segment);
        if (page.cursor) {
          at = { shard: wave[k].shard, key: page.cursor };
          break;
        }
        at = wave[k].shard + 1 < segments.length ? { shard: wave[k].shard + 1 } : undefined;
      }
    }
    return { items, next: at };
  }

  /**
   * Delivers one batch while renewing the lease every lease/3. A heartbeat that finds the lease lost aborts the
   * batch's in-flight posts and rejects with LeaseLostError (nothing of it is checkpointed: the new holder resumes).
   */
  deliverUnderLease(lease: Lease, items: DeliveryItem[]): Promise<DeliveryResult> {
    return this.underLease(lease, (signal) => this.deps.deliver(items, { signal }));
  }

  /**
   * Runs `work` while renewing the lease every lease/3: one heartbeat timer for all of it, however many deliveries
   * `work` makes (a batch sent in chunks is renewed across its chunks, not only within each). A heartbeat that finds
   * the lease lost aborts `signal` and the call rejects with LeaseLostError.
   */
  private async underLease<T>(lease: Lease, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { deps } = this;
    const abort = new AbortController();
    let beating: Promise<void> = Promise.resolve();
    const timer = setInterval(
      () => {
        beating = beating.then(() =>
          heartbeat(deps.locks, lease, deps.leaseMs).catch((err) => {
            // Lost: stop at once. Anything else (a throttled or failed write): the next beat tries again.
            if (err instanceof LeaseLostError && !abort.signal.aborted) abort.abort(err);
            else if (!(err instanceof LeaseLostError)) deps.log?.warn('heartbeat failed', { error: String(err) });
          }),
        );
      },
      Math.max(100, Math.floor(deps.leaseMs / 3)),
    );
    try {
      return await work(abort.signal);
    } catch (err) {
      if (abort.signal.aborted && abort.signal.reason instanceof LeaseLostError) throw abort.signal.reason;
      throw err;
    } finally {
      clearInterval(timer);
      await beating;
    }
  }

  /**
   * Notifications for one page of subscribers of shard `segment` (undefined for scan pages). An alert run sends each
   * subscriber their level when it is above what earlier runs sent (the ledger); a cancellation run sends the
   * withdrawal to everyone an earlier run alerted. Texts are built for now: after the S wave, what happened.
   */
  private build(
    subscribers: readonly Subscriber[],
    into: DeliveryItem[],
    coverage: Coverage,
    segment: string | undefined,
  ): void {
    const now = this.now();
    const policy = this.policy;
    for (const s of subscribers) {
      if (this.mode === 'cancel') {
        const sent = coverage.sent(segment, s);
        if (sent === 'none') continue;
        const facts = {
          mmi: this.model.predict(s.lat, s.lon),
          level: sent,
          distanceKm: epicentralKm(this.quake, s),
          secondsUntilShaking: secondsUntilShaking(this.quake, s, now),
          builtAt: now,
        };
        into.push({ notification: buildCancellation(this.quake, s, facts), channel: s.channel });
        continue;
      }
      const { mmi, level } = subscriberLevel(this.model, s, policy);
      if (level === 'none') continue;
      if (!coverage.empty && !levelRises(coverage.sent(segment, s), level)) continue;
      const facts = {
        mmi,
        level,
        distanceKm: epicentralKm(this.quake, s),
        secondsUntilShaking: secondsUntilShaking(this.quake, s, now),
        builtAt: now,
      };
      into.push({ notification: buildNotification(this.quake, s, facts), channel: s.channel });
    }
  }

  /**
   * Acquires the lock of work item `key` (undefined: another holder has it, or it is done). `first`: the item's first
   * read when it is a chain's very first (quick start: the first page of its nearest shard, `limit` subscribers), begun
   * beside the lock's write so the first alert waits for the slower of the two, not for both. Reading before the lock
   * is held is safe (a consistent Query, nothing written, nothing sent before the lease); the page is used only when
   * the item starts from its beginning (no cursor) and is dropped otherwise.
   */
  private async acquireWork(
    key: string,
    label: Held['label'],
    first?: { segment: string | undefined; limit: number },
  ): Promise<Lease | undefined> {
    const { deps } = this;
    if (first?.segment !== undefined && this.quickStart) {
      const page = this.readPage(first.segment, undefined, first.limit);
      // Not awaited here: a failed read fails where the item reads it (or nowhere, when the page is dropped).
      page.catch(() => {});
      this.prefetched = { segment: first.segment, limit: first.limit, page };
    }
    let lease: Lease;
    try {
      lease = await acquire(deps.locks, { eventId: this.run, segment: key, owner: deps.owner, leaseMs: deps.leaseMs });
    } catch (err) {
      this.prefetched = undefined;
      if (err instanceof LockHeldError || err instanceof SegmentDoneError) return undefined;
      throw err;
    }
    if (lease.cursor !== undefined) this.prefetched = undefined;
    this.mark('lock');
    if (lease.takeover) {
      this.result.takeovers++;
      deps.onMetric?.('LockTakeovers', 1);
      deps.log?.info(`${label} taken over`, {
        [label === 'unit' ? 'unit' : 'piece']: key,
        attempts: lease.attempts,
        resumeFrom: lease.cursor ?? null,
      });
    }
    return lease;
  }

  /** A batch wholly handled (its paced part awaited): counted, and the cursor moved past it under the lease. */
  private async settle(h: Held, head: Outstanding): Promise<void> {
    const { deps } = this;
    if (head.barrier) {
      const t = this.now();
      try {
        await head.barrier;
      } finally {
        this.barrierWaitMs += this.now() - t;
      }
      return;
    }
    if (head.paced) {
      const r = await head.paced;
      this.pacedInFlight -= head.size;
      head.delivered += r.delivered.length;
      head.failed += r.failed.length;
      h.last = this.now();
      if (r.delivered.length > 0) await this.recordFirst();
    }
    h.batches++;
    await deps.afterDeliver?.({ segment: h.key, batches: h.batches });
    const counts = { delivered: head.delivered, failed: head.failed, eligible: head.eligible };
    this.result.eligible += head.eligible;
    this.result.delivered += head.delivered;
    this.result.failed += head.failed;
    // Acknowledged (or parked in the DLQ): move the cursor past this batch under our lease. A unit's last batch in
    // key order is counted by `finish` instead.
    if (head.cursor !== undefined) await checkpoint(deps.locks, h.lease, head.cursor, counts, deps.leaseMs);
    else h.finalCounts = counts;
  }

  /**
   * Sends one batch of a held work item: its webhooks now (in S-arrival order, chunk by chunk, when `inSOrder`), its
   * per-person channels (telegram, push, sms, email: paced to their providers' rates) in the background while the
   * next batches' webhooks go out, so one slow channel does not hold every other channel to its pace. Then moves the
   * cursor past every leading batch wholly handled, in order (`cursor`: where a successor resumes after this batch;
   * undefined for a unit's last batch in key order, counted by `finish`), waiting for the oldest while the paced
   * backlog is full. Throws LeaseLostError when the lease is lost.
   */
  private async sendBatch(
    h: Held,
    items: DeliveryItem[],
    cursor: string | undefined,
    inSOrder: boolean,
  ): Promise<void> {
    // The first batch's notifications are built: what remains of the first alert's path is the channels' sending.
    this.mark('built');
    const fast = items.filter((i) => !PACED_CHANNELS.has(i.channel.type));
    const paced = items.filter((i) => PACED_CHANNELS.has(i.channel.type));
    let fastDelivered = 0;
    let fastFailed = 0;
    if (fast.length > 0) {
      const r = inSOrder ? await this.deliverInSOrder(h.lease, fast) : await this.deliverUnderLease(h.lease, fast);
      fastDelivered = r.delivered.length;
      fastFailed = r.failed.length;
      h.last = this.now();
      if (fastDelivered > 0) await this.recordFirst();
    }
    h.lastSent = this.now();
    const entry: Outstanding = {
      cursor,
      eligible: items.length,
      delivered: fastDelivered,
      failed: fastFailed,
      size: paced.length,
      paced: paced.length ? this.deliverUnderLease(h.lease, paced) : undefined,
      settled: paced.length === 0,
    };
    if (entry.paced) {
      this.pacedInFlight += paced.length;
      const settled = () => {
        entry.settled = true;
      };
      entry.paced.then(settled, settled);
    }
    h.outstanding.push(entry);
    while (h.outstanding.length > 0 && (h.outstanding[0].settled || this.pacedInFlight > MAX_PACED_IN_FLIGHT)) {
      await this.settle(h, h.outstanding.shift()!);
    }
  }

  /** Leaves a held item's paced sends to finish or fail unobserved (its lease is lost, or an error is on its way up). */
  private dropPaced(h: Held): void {
    for (const o of h.outstanding) {
      o.barrier?.catch(() => {});
      o.paced?.catch(() => {});
    }
  }

  /**
   * Hands the held item over from its last checkpoint: waits for the paced sends in flight so that it covers them (the
   * successor would otherwise read them again; the send journal would keep them from reaching anyone twice).
   */
  private async handOver(h: Held): Promise<'handed-off'> {
    for (const o of h.outstanding.splice(0)) await this.settle(h, o);
    await handOff(this.deps.locks, h.lease);
    await this.successor(h.work);
    return 'handed-off';
  }

  /** A lost lease: stop work on the item at once (its new holder resumes from the last checkpoint). */
  private lost(h: Held): 'lost' {
    this.dropPaced(h);
    this.deps.log?.warn(`lease lost: stopping work on ${h.label}`, {
      [h.label === 'unit' ? 'unit' : 'piece']: h.key,
      version: h.lease.version,
    });
    this.deps.onMetric?.('LeasesLost', 1);
    return 'lost';
  }

  /**
   * Every batch of the held item was sent: close its lock first (only the current holder can), then count it into the
   * event. A holder that lost the item never counts it; a crash in between leaves a done lock, which the sweep counts
   * (once: doneUnits). All of it, and the paced sends still going, in the background while the chain claims and reads
   * its next unit (two writes off the chain's path): the lock stays held until `finish`, and the invocation drains its
   * tails before a successor, the sweep or its end.
   */
  private closeInBackground(h: Held): void {
    const { deps } = this;
    const close = async () => {
      while (h.outstanding.length > 0) await this.settle(h, h.outstanding.shift()!);
      const counts = h.finalCounts ?? { delivered: 0, failed: 0, eligible: 0 };
      await finish(deps.locks, h.lease, { ...counts, ...(h.lastSent !== undefined ? { sentAt: h.lastSent } : {}) });
      const completed = await unitDone(
        deps.events,
        this.event.eventId,
        this.revision,
        h.work,
        { eligible: h.lease.eligible, delivered: h.lease.delivered, failed: h.lease.failed, lastDeliveryAt: h.last },
        this.total,
        this.finalState,
      );
      if (completed) this.result.completedEvent = true;
      this.result.segments++;
      deps.onMetric?.('SegmentsDone', 1);
    };
    this.tails.push(
      close().catch((err) => {
        if (err instanceof LeaseLostError) this.lost(h);
        else {
          this.dropPaced(h);
          this.tailError ??= err;
        }
      }),
    );
  }

  /**
   * Parks a unit after its pass 1 (every subscriber it could still warn was delivered; those already shaking are left):
   * its batches are settled so the cursor stands at the end of pass 1, and the chain goes on claiming. The lease is
   * kept: renewed every lease/3 while parked (`beatParked`), so nobody else takes the unit and it costs no second
   * acquire or read. The chain takes it back (`resumeParked`: `resume` continues the same delivery loop into pass 2)
   * once it claims a unit that is not urgent or runs out of claims. Before a hand-over to a successor, or when the
   * invocation ends in an error, parked units are handed over (`releaseParked`: lease ends now, cursor kept) for the
   * sweep; a crashed holder's parked units are taken over when their lease runs out, from the end of pass 1. This is
   * the planner's order (units wholly in the blind zone after the urgent warnable units) applied per subscriber to
   * the units straddling the blind zone's edge, where most of the near field's blind zone lives.
   */
  private async park(h: Held, resume: () => Promise<SegmentOutcome>): Promise<'parked'> {
    // Pass 1's paced part (telegram, push…) settles in the background, in order, as a closing unit's does: the chain
    // claims its next urgent unit at once instead of waiting at the providers' pace. Pass 2's checkpoints and a
    // hand-over wait for it (the cursor then stands at the end of pass 1); pass 2's sends do not (`resumeParked`).
    const batches = h.outstanding.splice(0);
    const settling = (async () => {
      for (const o of batches) await this.settle(h, o);
    })();
    const entry: (typeof this.parked)[number] = { h, resume, lost: false, settling };
    settling.then(
      () => {
        entry.ended = {};
      },
      (error) => {
        entry.ended = { error };
      },
    );
    this.parked.push(entry);
    this.parkedBeat ??= setInterval(
      () => {
        this.parkedBeating = this.parkedBeating.then(() => this.beatParked());
      },
      Math.max(100, Math.floor(this.deps.leaseMs / 3)),
    );
    this.deps.log?.info('unit parked: its blind part waits for the urgent units', { unit: h.key });
    return 'parked';
  }

  /** Renews the leases of the parked units; a lost one is marked (its new holder delivers pass 2). */
  private async beatParked(): Promise<void> {
    for (const p of this.parked) {
      if (p.lost) continue;
      try {
        await heartbeat(this.deps.locks, p.h.lease, this.deps.leaseMs);
      } catch (err) {
        if (err instanceof LeaseLostError) p.lost = true;
        else this.deps.log?.warn('heartbeat of a parked unit failed', { unit: p.h.key, error: String(err) });
      }
    }
  }

  private async stopParkedBeat(): Promise<void> {
    if (this.parkedBeat) clearInterval(this.parkedBeat);
    this.parkedBeat = undefined;
    await this.parkedBeating;
  }

  /** Hands every parked unit over (lease ends now, cursor kept): the sweep of any chain delivers their pass 2. */
  async releaseParked(): Promise<void> {
    this.parking = false;
    await this.stopParkedBeat();
    let failure: unknown;
    for (const p of this.parked.splice(0)) {
      try {
        await p.settling;
        if (!p.lost) await handOff(this.deps.locks, p.h.lease);
      } catch (err) {
        if (!(err instanceof LeaseLostError)) failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  }

  /** Whether work item `k` is an urgent unit (`urgent`): while the chain claims those, units stay parked. */
  urgentWork(k: number): boolean {
    const u = workUnit(this, k);
    return u !== undefined && this.urgent(u);
  }

  /**
   * Takes back the units this invocation parked, in the order parked, and delivers their pass 2; parks nothing more.
   * Pass 2 does not wait for pass 1's paced part (an SMS provider's 20/s held every chain's remaining units behind
   * it): that part stays first in the unit's outstanding batches as a barrier, so the cursor still passes the end of
   * pass 1 before any pass-2 checkpoint, and a lease lost while it settles stops the unit where a batch would. A unit
   * whose lease was lost meanwhile is left to its new holder.
   */
  async resumeParked(): Promise<SegmentOutcome | undefined> {
    this.parking = false;
    while (this.parked.length > 0) {
      const p = this.parked.shift()!;
      if (this.parked.length === 0) await this.stopParkedBeat();
      // Pass 1 already failed: as a batch's failure would, a lost lease leaves the unit to its new holder and any
      // other error goes up; pass 2 is not begun.
      if (!p.lost && p.ended?.error !== undefined) {
        if (!(p.ended.error instanceof LeaseLostError)) throw p.ended.error;
        p.lost = true;
      }
      if (!p.lost && p.ended === undefined) {
        const barrier: Outstanding = {
          cursor: undefined,
          eligible: 0,
          delivered: 0,
          failed: 0,
          size: 0,
          paced: undefined,
          settled: false,
          barrier: p.settling,
        };
        const settled = () => {
          barrier.settled = true;
        };
        p.settling.then(settled, settled);
        p.h.outstanding.unshift(barrier);
      }
      if (p.lost) {
        this.lost(p.h);
        continue;
      }
      const outcome = await p.resume();
      if (outcome === 'handed-off') return outcome;
    }
    await this.stopParkedBeat();
    return undefined;
  }

  /** Front piece `c` (work item c; shared/fanout `FanoutFront`): its shards, every P-th front unit, in S order. */
  async processPiece(c: number): Promise<SegmentOutcome> {
    const key = this.workKey(c);
    const idx = frontPieceSegments(this, this.plan.length, c);
    const lease = await this.acquireWork(key, 'front piece', {
      segment: idx.length > 0 ? this.plan[idx[0]] : undefined,
      limit: QUICK_START_BATCH,
    });
    if (!lease) return 'skipped';
    const h: Held = { lease, key, work: c, label: 'front piece', outstanding: [], batches: 0 };
    return this.processSorted(
      h,
      idx.map((i) => this.plan[i]),
      idx.map((i) => this.counts[i] ?? 0),
      this.front!.lateBefore,
      1,
    );
  }

  /**
   * Whether unit `unit` is delivered in S-arrival order per subscriber (`processSorted`) rather than in key order: an
   * urgent unit (`urgent`) of a geo plan, unless `WorkerDeps.sortUrgentUnits` is false. A unit already begun keeps the
   * order its cursor was written in: a successor decides by the cursor, not by the clock.
   */
  private sortsUnit(unit: number, segments: readonly string[], cursor: string | undefined): boolean {
    if (cursor) return decodeFrontCursor(cursor) !== undefined;
    if (segments.length === 0 || parseScanSegmentKey(segments[0])) return false;
    return this.deps.sortUrgentUnits !== false && this.urgent(unit);
  }

  /**
   * A work item delivered in S-arrival order per subscriber (its lock's cursor: shared/fanout `FrontCursor`): a front
   * piece, or an urgent unit. Shards are read whole, nearest first, and delivered in two passes:
   *
   *   pass 1: window by window. A window is every shard read while the previous window was out (the first: the
   *           `firstWindow` nearest shards, read at once: a piece's nearest shard alone, so its first alert waits for
   *           one read; a unit's shards, so the whole unit is in one order; reading runs up to `FRONT_READ_AHEAD`
   *           batches ahead), delivered in S-arrival order, except whoever this chain cannot reach before their S arrives
   *           at its measured time per batch (earliest deadline first, late jobs dropped: Moore 1968; at least those
   *           whose S arrives before `lateFloor`, epoch ms): they are deferred
   *   pass 2: every deferred subscriber of the item, in S order (already shaking: the time went to those it could warn)
   *
   * Each batch's webhooks go out in chunks in that order, its paced channels in the background (`sendBatch`). A new
   * holder re-reads what the cursor's current window (or, in pass 2, the item) holds and skips whoever
   * `frontCursorCovers`; the ledger reads the cursor with the same function. Counted, finished and handed over like a
   * unit. Shards of a scan plan are never read this way (a scan segment is a slice of the whole table).
   */
  private async processSorted(
    h: Held,
    segments: readonly string[],
    counts: readonly number[],
    lateFloor: number,
    firstWindow: number,
  ): Promise<SegmentOutcome> {
    const { deps } = this;
    const { lease } = h;
    const coverage = await this.ledger.coverage(segments);
    const resumed = decodeFrontCursor(lease.cursor);
    const floor = { lateBefore: lateFloor };
    /** Where the quick start's prefix window left shard 0 (the reader goes on from there). */
    let prefixRest: { shard: number; cursor: string } | undefined;
    const readShards = async (from: number, to: number, after?: typeof prefixRest): Promise<FrontEntry[]> => {
      const shards = await Promise.all(
        segments.slice(from, to).map(async (segment, k) => {
          const out: FrontEntry[] = [];
          let cursor: string | undefined = after?.shard === from + k ? after.cursor : undefined;
          // A whole shard in one Query where the plan's count allows (≤ 2,000 items of ~350 B: within the 1 MB page).
          const limit = Math.max(deps.pageSize, Math.min(counts[from + k] + 16, MAX_FRONT_PAGE));
          do {
            const page = await this.readPage(segment, cursor, limit);
            for (const s of page.items) {
              out.push({ key: frontOrderKey(this.quake, floor, s), s, segment, shard: from + k });
            }
            cursor = page.cursor;
          } while (cursor);
          return out;
        }),
      );
      return shards.flat();
    };
    // Reading runs ahead of delivery, wave after wave, into `buffer` (shards [last window's end, bufferTo)).
    const reader = {
      buffer: [] as FrontEntry[],
      bufferTo: 0,
      running: undefined as Promise<void> | undefined,
      error: undefined as unknown,
      stopped: false,
    };
    // Waves double (one batch, two, four… up to the read-ahead): the next window is never long in coming.
    let waveBatches = 1;
    const pump = () => {
      if (reader.stopped || reader.running || reader.error !== undefined) return;
      if (reader.bufferTo >= segments.length || reader.buffer.length >= FRONT_READ_AHEAD * deps.pageSize) return;
      const from = reader.bufferTo;
      let to = from + 1;
      let expected = counts[from] || deps.pageSize;
      const cap = waveBatches * deps.pageSize;
      waveBatches = Math.min(FRONT_READ_AHEAD, waveBatches * 2);
      while (to < segments.length && to - from < MAX_WAVE && expected + counts[to] <= cap) {
        expected += counts[to];
        to++;
      }
      const after = prefixRest;
      prefixRest = undefined;
      reader.running = readShards(from, to, after).then(
        (entries) => {
          for (const e of entries) if (!inPrefix(e)) reader.buffer.push(e);
          reader.bufferTo = to;
          reader.running = undefined;
          pump();
        },
        (err) => {
          reader.error = err;
          reader.running = undefined;
        },
      );
    };
    /**
     * A new window's `late`: in S order, batch after batch of `pageSize` at this chain's measured time per batch in S
     * order (a batch's cost is mostly its round trips, not its size), whoever would be served after their S arrives;
     * at least `lateFloor`.
     */
    const lateOf = (entries: readonly FrontEntry[]): number => {
      let late = lateFloor;
      if (this.sortedBatches === 0 || this.sortedBusyMs <= 0) return late;
      const msPerBatch = this.sortedBusyMs / this.sortedBatches;
      const arrivals = entries.map((e) => e.key.sMs).sort((a, b) => a - b);
      const t0 = this.now() + msPerBatch;
      let kept = 0;
      for (const t of arrivals) {
        if (t < t0 + Math.floor(kept / deps.pageSize) * msPerBatch) late = Math.max(late, t + 0.001);
        else kept++;
      }
      return late;
    };
    const keyed = (e: FrontEntry, late: number): FrontEntry => ({
      ...e,
      key: { late: e.key.sMs < late ? 1 : 0, sMs: e.key.sMs, id: e.key.id },
    });
    const byKey = (a: FrontEntry, b: FrontEntry) => compareFrontKeys(a.key, b.key);
    /** Splits a window into its pass-1 order and its deferred subscribers, without those `covered`. */
    const deferred: FrontEntry[] = [];
    const split = (entries: readonly FrontEntry[], late: number, covered?: (e: FrontEntry) => boolean) => {
      const now: FrontEntry[] = [];
      for (const raw of entries) {
        const e = keyed(raw, late);
        if (covered?.(e)) continue;
        (e.key.late ? deferred : now).push(e);
      }
      return now.sort(byKey);
    };
    let pass: 1 | 2 = resumed?.pass ?? 1;
    const windows: FrontWindow[] = resumed ? resumed.windows.map((w) => [...w] as FrontWindow) : [];
    /** Whether a subscriber read from a whole shard belongs to a prefix window (not to the range window reading it). */
    const inPrefix = (e: FrontEntry) =>
      windows.some((w) => w[3] !== undefined && w[0] === e.shard && idAtOrBefore(e.s.id, w[3]));
    // Whether `deferred` holds every deferred subscriber of the windows so far (not after a takeover mid-item).
    const deferredComplete = !resumed || (resumed.pass === 1 && resumed.windows.length === 1);
    const isCovered = (e: FrontEntry) => resumed !== undefined && frontCursorCovers(resumed, this.quake, e.shard, e.s);
    /** Every deferred subscriber of the item not yet delivered (pass 2 after a takeover): the item read again. */
    const deferredOfItem = async (): Promise<FrontEntry[]> => {
      const out: FrontEntry[] = [];
      const cursor = { windows };
      for (const e of await readShards(0, segments.length)) {
        const w = windows[frontWindowOf(cursor, e.shard, e.s.id)];
        const k = keyed(e, w ? w[2] : Number.NEGATIVE_INFINITY);
        if (k.key.late && !isCovered(k)) out.push(k);
      }
      return out.sort(byKey);
    };
    let head = 0;
    let pass1Batches = 0;
    const quick = this.quickStart;
    let size = quick ? Math.min(deps.pageSize, QUICK_START_BATCH) : deps.pageSize;
    this.quickStart = false;
    let window: FrontEntry[] | undefined;
    // The delivery loop; a parked unit's pass 2 is this loop called again (`park`), its state kept here.
    const deliver = async (): Promise<SegmentOutcome> => {
      try {
        if (window === undefined) {
          if (pass === 2) window = await deferredOfItem();
          else {
            if (resumed) {
              // The current window again, without whoever the cursor covers (a prefix window: its shard's prefix).
              const last = windows.length - 1;
              const [from, to, late, throughId] = windows[last];
              const read = await readShards(from, Math.max(to, from + 1));
              const mine = read.filter((e) => frontWindowOf({ windows }, e.shard, e.s.id) === last);
              window = split(mine, late, isCovered);
              reader.bufferTo = throughId === undefined ? to : from;
            } else if (quick && segments.length > 0) {
              // A chain's very first item: its first window is the first page of the nearest shard (a prefix window),
              // so the first alert waits for one read of QUICK_START_BATCH, not for whole shards; the reader goes on
              // from that page's end.
              const page = await this.readPage(segments[0], undefined, QUICK_START_BATCH);
              this.mark('read');
              const first = page.items.map((s) => ({
                key: frontOrderKey(this.quake, floor, s),
                s,
                segment: segments[0],
                shard: 0,
              }));
              const throughId = page.cursor ? pageCursorSubscriberId(page.cursor) : undefined;
              // A cursor without a subscriber id cannot bound a prefix: the rest of the shard joins this window.
              if (page.cursor && throughId === undefined) {
                first.push(...(await readShards(0, 1, { shard: 0, cursor: page.cursor })));
              }
              const late = lateOf(first);
              if (page.cursor && throughId !== undefined) {
                windows.push([0, 0, late, throughId]);
                prefixRest = { shard: 0, cursor: page.cursor };
                reader.bufferTo = 0;
              } else {
                windows.push([0, 1, late]);
                reader.bufferTo = 1;
              }
              window = split(
                first.filter((e) => throughId === undefined || idAtOrBefore(e.s.id, throughId)),
                late,
              );
            } else {
              const first = await readShards(0, Math.min(firstWindow, segments.length));
              this.mark('read');
              const late = lateOf(first);
              windows.push([0, Math.min(firstWindow, segments.length), late]);
              window = split(first, late);
              reader.bufferTo = windows[windows.length - 1][1];
            }
            pump();
          }
        }
        for (;;) {
          if (this.lowOnTime()) {
            reader.stopped = true;
            return await this.handOver(h);
          }
          if (head >= window.length) {
            if (pass === 1) {
              // The window is delivered: the next is everything read since (waiting for a wave if none is in yet).
              while (reader.buffer.length === 0 && reader.running) await reader.running;
              if (reader.error !== undefined) throw reader.error;
              if (reader.buffer.length > 0 || reader.bufferTo < segments.length) {
                const late = lateOf(reader.buffer);
                windows.push([windows[windows.length - 1][1], reader.bufferTo, late]);
                window = split(reader.buffer, late);
                reader.buffer = [];
                head = 0;
                pump();
                continue;
              }
              // Every warnable subscriber of a unit was reached and those already shaking remain: while the chain still
              // has urgent units to claim, they wait, as the plan's units wholly in the blind zone do (`park`).
              if (h.label === 'unit' && pass1Batches > 0 && deferredComplete && deferred.length > 0 && this.parking) {
                reader.stopped = true;
                return await this.park(h, deliver);
              }
              // Pass 2: the deferred, in S order (read again when this holder did not see every window).
              pass = 2;
              window = deferredComplete ? deferred.sort(byKey) : await deferredOfItem();
              head = 0;
              continue;
            }
            break;
          }
          const taken = window.slice(head, head + size);
          head += taken.length;
          size = deps.pageSize;
          const t = this.now();
          const waitedBefore = this.barrierWaitMs;
          const items: DeliveryItem[] = [];
          for (const e of taken) this.build([e.s], items, coverage, e.segment);
          const cursor: FrontCursor = {
            pass,
            windows: windows.map((w) => [...w] as FrontWindow),
            key: taken[taken.length - 1].key,
          };
          await this.sendBatch(h, items, JSON.stringify({ front: cursor }), true);
          if (pass === 1) pass1Batches++;
          this.sortedBatches++;
          this.sortedBusyMs += this.now() - t - (this.barrierWaitMs - waitedBefore);
        }
        reader.stopped = true;
        this.closeInBackground(h);
        return 'done';
      } catch (err) {
        reader.stopped = true;
        reader.running?.catch(() => {});
        if (err instanceof LeaseLostError) return this.lost(h);
        this.dropPaced(h);
        throw err;
      }
    };
    return deliver();
  }

  /**
   * Milliseconds from the invocation's start (`runSegmentWorker`) to each step of its first delivery: event and plan
   * read, ledger loaded, first claim, first lock, first subscribers read, first batch built, first delivery
   * acknowledged. Logged once, at the first delivery (`first delivery` in the function log): where a slow first alert
   * spent its time.
   */
  readonly trace: Record<string, number> = {};
  /** `performance.now()` at the invocation's start (`begin`). */
  private startedAt = performance.now();

  /** The invocation started at `t0` (`performance.now()`); steps before the run existed, in ms from it. */
  begin(t0: number, steps: Record<string, number>): void {
    this.startedAt = t0;
    for (const [k, v] of Object.entries(steps)) this.trace[k] = Math.round(v);
  }

  /** Records step `name` of the first delivery's path, the first time only. */
  mark(name: string): void {
    if (!this.firstRecorded && this.trace[name] === undefined) {
      this.trace[name] = Math.round(performance.now() - this.startedAt);
    }
  }

  /**
   * The first delivery of this invocation marks the event running and records its time: after the first batch was
   * acknowledged, so off the first alert's path, but its two writes (in parallel) come before the invocation's next
   * batch is sent.
   */
  private async recordFirst(): Promise<void> {
    if (this.firstRecorded) return;
    this.mark('delivered');
    this.firstRecorded = true;
    this.deps.log?.info('first delivery', { msFromStart: { ...this.trace } });
    const t = this.now();
    await Promise.all([
      this.running ? undefined : markRunning(this.deps.events, this.event.eventId, this.revision),
      recordFirstDelivery(this.deps.events, this.event.eventId, t),
    ]);
    this.running = true;
  }

  /**
   * Whether unit `unit` is urgent: an alert run whose S wave reaches the unit's nearest point (the plan's
   * `distancesKm`, a lower bound of its subscribers' epicentral distance) within `DEFAULT_URGENT_S` of now, or has
   * already (the planner's urgent tiers). Each batch of such a unit is delivered in S-arrival order (`deliverInSOrder`).
   */
  urgent(unit: number): boolean {
    if (this.mode !== 'alert') return false;
    const km = this.distancesKm[this.units[unit]];
    if (km === undefined || !Number.isFinite(km)) return false;
    const sNearAt = this.quake.originTime + this.sCurve.timeAtKm(km) * 1000;
    return sNearAt - this.now() < DEFAULT_URGENT_S * 1000;
  }

  /**
   * Delivers `items` earliest S arrival first (`secondsUntilShaking`, those already shaking after everyone it can still
   * warn), `URGENT_CHUNK` at a time under the lease, each chunk once the previous one is acknowledged. The results are
   * merged; a lost lease stops at the chunk in flight (LeaseLostError, nothing checkpointed, as for one batch).
   */
  async deliverInSOrder(lease: Lease, items: readonly DeliveryItem[]): Promise<DeliveryResult> {
    const urgency = (i: DeliveryItem) =>
      i.notification.secondsUntilShaking > 0 ? i.notification.secondsUntilShaking : Number.POSITIVE_INFINITY;
    const sorted = [...items].sort((a, b) => urgency(a) - urgency(b));
    return this.underLease(lease, async (signal) => {
      const out: DeliveryResult = { delivered: [], failed: [], dlq: 0 };
      for (let i = 0; i < sorted.length; i += URGENT_CHUNK) {
        // Lost between chunks: send nothing more (underLease rethrows the LeaseLostError).
        if (signal.aborted) throw signal.reason;
        const r = await this.deps.deliver(sorted.slice(i, i + URGENT_CHUNK), { signal });
        out.delivered.push(...r.delivered);
        out.failed.push(...r.failed);
        out.dlq += r.dlq;
        if (r.failures) out.failures = [...(out.failures ?? []), ...r.failures];
        if (r.gone) out.gone = [...(out.gone ?? []), ...r.gone];
        if (r.dropped) out.dropped = [...(out.dropped ?? []), ...r.dropped];
        if (r.throttled) out.throttled = (out.throttled ?? 0) + r.throttled;
      }
      return out;
    });
  }

  /** Unit `unit` of the plan, work item `work` (the index counted into the event and handed over). */
  async processUnit(unit: number, work: number): Promise<SegmentOutcome> {
    const key = unitKey(this.plan, this.units, unit);
    const segments = unitSegments(this.plan, this.units, unit);
    const shardCounts = unitSegments(this.counts, this.units, unit);
    // The quick start's first read: a sorted unit's prefix window, or the first page of a key-order batch.
    const lease = await this.acquireWork(key, 'unit', {
      segment: segments[0],
      limit: this.sortsUnit(unit, segments, undefined)
        ? QUICK_START_BATCH
        : Math.min(this.deps.pageSize, QUICK_START_BATCH),
    });
    if (!lease) return 'skipped';
    const h: Held = { lease, key, work, label: 'unit', outstanding: [], batches: 0 };
    if (this.sortsUnit(unit, segments, lease.cursor)) {
      // The whole unit is one window (its shards read at once): one S order over all of it. A chain's very first unit
      // starts with a prefix window instead (the first page of its nearest shard), as the key-order quick start does.
      return this.processSorted(h, segments, shardCounts, this.now(), MAX_WAVE);
    }
    // What earlier runs sent in this unit's shards: read once per unit (nothing for a first run).
    const coverage = await this.ledger.coverage(segments);
    // Read-ahead: the next batch is read while the current one is delivered; never checkpointed before delivery.
    const quick = this.quickStart;
    // An urgent unit read in key order (sorting turned off, or a cursor written so) has each batch delivered in
    // S-arrival order on its own.
    const urgent = this.urgent(unit);
    const firstSize = quick ? Math.min(this.deps.pageSize, QUICK_START_BATCH) : this.deps.pageSize;
    this.quickStart = false;
    let pending: Promise<Batch> | undefined = this.readBatch(
      segments,
      shardCounts,
      decodeUnitCursor(lease.cursor),
      coverage,
      firstSize,
      quick,
    );
    try {
      for (;;) {
        if (this.lowOnTime()) {
          pending?.catch(() => {});
          return await this.handOver(h);
        }
        const batch: Batch = await pending!;
        this.mark('read');
        pending = batch.next ? this.readBatch(segments, shardCounts, batch.next, coverage) : undefined;
        await this.sendBatch(h, batch.items, batch.next ? encodeUnitCursor(batch.next) : undefined, urgent);
        if (batch.next) continue;
        this.closeInBackground(h);
        return 'done';
      }
    } catch (err) {
      pending?.catch(() => {});
      if (err instanceof LeaseLostError) return this.lost(h);
      this.dropPaced(h);
      throw err;
    }
  }

  /**
   * The direct items (`direct`) of other chains that nobody has begun (no lock), taken before claiming: a chain whose
   * hop-0 invocation never ran, or starts late (a cold start), would otherwise leave one of the plan's nearest items to
   * the sweep at the plan's end. One consistent BatchGetItem of their locks, at hop 0 after the chain's own item; the
   * lock decides between this chain and a late owner (who then finds it held and claims).
   */
  async adoptUnbegun(own: number): Promise<SegmentOutcome | undefined> {
    const others = Array.from({ length: this.direct }, (_, k) => k).filter((k) => k !== own);
    if (others.length === 0) return undefined;
    const locks = await getMany(
      this.deps.locks,
      this.run,
      others.map((k) => this.workKey(k)),
    );
    for (const k of others) {
      if (locks.has(this.workKey(k)) || this.lowOnTime()) continue;
      this.deps.log?.info('direct item not begun by its chain: taken', { item: k, chain: this.payload.chain });
      if ((await this.processWork(k)) === 'handed-off') return 'handed-off';
    }
    return undefined;
  }

  /** Past the end of the plan: finish what others left (expired leases, uncounted done segments), then stop. */
  async sweep(): Promise<void> {
    const { deps } = this;
    const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
    for (;;) {
      // Units this invocation processed in the sweep close in the background: let them close first, so the pass never
      // waits on (or counts again) a unit of its own that is already finished.
      await this.drainTails();
      const ev = await getEvent(deps.events, this.event.eventId);
      if (!ev || ev.revision !== this.revision) {
        this.result.outcome = 'stale';
        return;
      }
      if (ev.state === 'complete' || ev.state === 'retracted') {
        this.result.outcome = 'complete';
        return;
      }
      const counted = ev.doneUnits ?? new Set<number>();
      const pending = Array.from({ length: this.total }, (_, i) => i).filter((i) => !counted.has(i));
      if (pending.length === 0) {
        if (await tryComplete(deps.events, ev.eventId, this.revision, this.finalState))
          this.result.completedEvent = true;
        this.result.outcome = 'complete';
        return;
      }
      const locks = await getMany(
        deps.locks,
        this.run,
        pending.map((i) => this.workKey(i)),
      );
      let waitUntil = Number.POSITIVE_INFINITY;
      let progressed = false;
      for (const unit of pending) {
        if (this.lowOnTime()) {
          await this.successor();
          return;
        }
        const lock = locks.get(this.workKey(unit));
        if (lock?.state === 'done') {
          const totals = { eligible: lock.eligible ?? 0, delivered: lock.delivered ?? 0, failed: lock.failed ?? 0 };
          const completed = await unitDone(
            deps.events,
            ev.eventId,
            this.revision,
            unit,
            totals,
            this.total,
            this.finalState,
          );
          if (completed) this.result.completedEvent = true;
          progressed = true;
        } else if (!lock || lock.leaseUntil < this.now()) {
          const outcome = await this.processWork(unit);
          if (outcome === 'handed-off') return;
          progressed ||= outcome === 'done';
        } else {
          waitUntil = Math.min(waitUntil, lock.leaseUntil);
        }
      }
      if (!progressed && waitUntil !== Number.POSITIVE_INFINITY) {
        if (this.lowOnTime()) {
          await this.successor();
          return;
        }
        // Someone holds a segment: wait for it to finish or for its lease to run out, whichever comes first.
        await sleep(Math.max(100, Math.min(2000, waitUntil - this.now() + 50)));
      }
    }
  }
}

/**
 * Plans by plan key, kept across invocations of a warm environment: a plan item never changes once written, so a
 * chain's successors (often the same environment) skip reading it again.
 */
const planCache = new Map<string, EventPlan>();
const PLAN_CACHE_SIZE = 8;

async function planOf(deps: WorkerDeps, event: EventRecord): Promise<EventPlan | undefined> {
  if (event.planKey) return planByKey(deps, event.planKey);
  return getPlan(deps.events, event);
}

async function planByKey(deps: WorkerDeps, key: string): Promise<EventPlan | undefined> {
  const cached = planCache.get(key);
  if (cached) return cached;
  const plan = await getPlan(deps.events, { planKey: key } as EventRecord);
  if (plan) {
    if (planCache.size >= PLAN_CACHE_SIZE) planCache.delete(planCache.keys().next().value!);
    planCache.set(key, plan);
  }
  return plan;
}

/** Default of `WorkerDeps.maxHops`: 50 invocations of ~5 minutes each is hours of one chain, far past any alert. */
export const DEFAULT_MAX_HOPS = 50;

/**
 * One invocation of a chain (the domino's step): claims and delivers work units until the plan runs out or its time
 * does, then hands over to a successor. The invocation that completes the event also records the fan-out's rate
 * (shared/fanout/rate.ts), after every delivery: a failure there is logged, never the invocation's.
 */
export async function runSegmentWorker(deps: WorkerDeps, payload: WorkerPayload): Promise<WorkerResult> {
  const result = await runChainStep(deps, payload);
  if (result.completedEvent) {
    try {
      await observeRate(deps, payload.eventId);
    } catch (err) {
      deps.log?.warn('fan-out rate not recorded', { eventId: payload.eventId, error: String(err) });
    }
  }
  return result;
}

/** Time an invocation needs left to measure and record the rate (reads and a write), else it leaves it. */
const RATE_RESERVE_MS = 5000;

/**
 * Measures a completed event's rate from its units' locks and records it by its number of chains
 * (shared/fanout/rate.ts).
 */
async function observeRate(deps: WorkerDeps, eventId: string): Promise<void> {
  if (deps.remainingMs() < RATE_RESERVE_MS) {
    deps.log?.info('fan-out rate not measured', { eventId, reason: 'too little time left in the invocation' });
    return;
  }
  const event = await getEvent(deps.events, eventId);
  if (!event || event.revision === undefined) return;
  const early = unmeasurable(event);
  if (early !== undefined) {
    deps.log?.info('fan-out rate not measured', { eventId, reason: early });
    return;
  }
  const plan = await planOf(deps, event);
  if (!plan) return;
  const locks = await getMany(deps.locks, runId(eventId, event.revision), workKeys(plan.plan, plan));
  const obs = measureRate(event, [...locks.values()], deps.rateRule);
  if ('skipped' in obs) {
    deps.log?.info('fan-out rate not measured', { eventId, reason: obs.skipped });
    return;
  }
  const chains = event.chains ?? 1;
  const recorded = await recordRate(deps.events, chains, obs);
  deps.log?.info('fan-out rate measured', { ...obs, chains, recorded });
}

async function runChainStep(deps: WorkerDeps, payload: WorkerPayload): Promise<WorkerResult> {
  const t0 = performance.now();
  const maxHops = deps.maxHops ?? DEFAULT_MAX_HOPS;
  if (payload.hop >= maxHops) {
    const reason = `chain ${payload.chain} reached the hop limit (${payload.hop} ≥ ${maxHops}): parked instead of invoking again`;
    deps.log?.warn('hop limit reached: parking the chain', { eventId: payload.eventId, hop: payload.hop, maxHops });
    if (!deps.parkChain) throw new Error(reason);
    await deps.parkChain(payload, reason);
    return { ...emptyResult(), outcome: 'hop-limit' };
  }
  // The plan named by the payload is read beside the event (one round trip on the first alert's path, not two).
  let eventRead = 0;
  let hintRead = 0;
  const [event, hinted] = await Promise.all([
    getEvent(deps.events, payload.eventId).finally(() => {
      eventRead = performance.now() - t0;
    }),
    payload.planKey
      ? planByKey(deps, payload.planKey)
          .catch(() => undefined)
          .finally(() => {
            hintRead = performance.now() - t0;
          })
      : undefined,
  ]);
  const revision = payload.revision ?? event?.revision;
  if (!event || revision === undefined || !event.plannedQuake) {
    return { ...emptyResult(), outcome: event ? 'no-plan' : 'stale' };
  }
  if (event.revision !== revision) return { ...emptyResult(), outcome: 'stale' };
  const plan = hinted && event.planKey === payload.planKey ? hinted : await planOf(deps, event);
  if (!plan) return { ...emptyResult(), outcome: 'no-plan' };
  const planRead = performance.now() - t0;
  const ledger = await Ledger.load({
    eventId: event.eventId,
    revision,
    runs: event.runs,
    locks: deps.locks,
    planOf: (key) => planByKey(deps, key),
    policy: { thresholds: deps.thresholds, probability: deps.alertProbability },
  });
  const run = new Run(deps, payload, event, plan, revision, event.plannedQuake, ledger);
  run.begin(t0, {
    event: eventRead,
    ...(hintRead ? { planHint: hintRead } : {}),
    plan: planRead,
    ledger: performance.now() - t0,
  });
  try {
    if (payload.resume !== undefined) {
      const outcome = await run.processWork(payload.resume);
      if (outcome === 'handed-off') return run.result;
    } else if (payload.hop === 0 && payload.chain < run.direct) {
      // The chain's own item first, unclaimed: its piece of the near-field front, or the unit a claim would most likely
      // have given it (a restarted chain finds it held or done: skipped; one whose chain never ran, the sweep takes).
      const outcome = await run.processWork(payload.chain);
      if (outcome === 'handed-off') return run.result;
      if ((await run.adoptUnbegun(payload.chain)) === 'handed-off') return run.result;
    }
    const total = run.total;
    for (;;) {
      if (run.lowOnTime()) {
        await run.successor();
        return run.result;
      }
      // The claim counter numbers the work items after the direct ones: work item direct + i.
      const i = run.direct + (await claimNext(deps.events, event.eventId, revision));
      run.mark('claim');
      if (i >= total) break;
      // The urgent units are claimed: the blind parts this chain parked go before the rest of the plan.
      if (!run.urgentWork(i) && (await run.resumeParked()) === 'handed-off') {
        // Claimed but not begun: its lock is free, and the sweep takes it (no successor resumes it).
        return run.result;
      }
      const outcome = await run.processWork(i);
      if (outcome === 'handed-off') return run.result;
    }
    if ((await run.resumeParked()) === 'handed-off') return run.result;
    await run.drainTails();
    await run.sweep();
    await run.drainTails();
    return run.result;
  } catch (err) {
    // Parked units are handed over at once (the sweep takes them), not left to their leases.
    await run.releaseParked().catch(() => {});
    if (err instanceof StaleRevisionError) {
      run.result.outcome = 'stale';
      return run.result;
    }
    throw err;
  }
}

function emptyResult(): WorkerResult {
  return {
    outcome: 'exhausted',
    segments: 0,
    takeovers: 0,
    eligible: 0,
    delivered: 0,
    failed: 0,
    completedEvent: false,
  };
}
