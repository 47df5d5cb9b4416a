/**
 * The segment worker's loop (system.md 7.2), over work units (shared/fanout `groupUnits`: consecutive nearest-first
 * shards of up to ~2,000 subscribers within a 10 km band):
 *
 *   repeat: claim i = nextIndex++ (atomic ADD on the event)
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
  frontCursorCovers,
  frontOrderKey,
  frontPieceSegments,
  frontWindowOf,
  parseScanSegmentKey,
  unitKey,
  unitSegments,
  workCount,
  workKey,
  workUnit,
} from './plan.ts';
import type { WorkerDeps, WorkerPayload, WorkerResult } from './types.ts';

type SegmentOutcome = 'done' | 'skipped' | 'lost' | 'handed-off';

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
  next: UnitPos | undefined;
  eligible: number;
  delivered: number;
  failed: number;
  /** Paced notifications in it. */
  size: number;
  paced: Promise<DeliveryResult> | undefined;
  settled: boolean;
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
  /** The first batch of an event's first invocations is small: the nearest subscribers' alert leaves sooner. */
  private quickStart: boolean;
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

  /** Pieces of the front: work items 0..pieces-1, taken by chain c first; the claim counter starts after them. */
  get pieces(): number {
    return this.front?.pieces ?? 0;
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
    // The next invocation starts where the closed units left off: none may still be finishing here.
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
   * Front piece `c` (work item c; shared/fanout `FanoutFront`): its shards (every P-th front unit, nearest first), in
   * two passes (the cursor: shared/fanout `FrontCursor`).
   *
   *   pass 1: window by window. A window is every shard read while the previous window was out (the first: the nearest
   *           shard alone, so the first alert waits for one read; reading runs up to `FRONT_READ_AHEAD` batches
   *           ahead), delivered in S-arrival order, except whoever this chain cannot reach before their S arrives
   *           at its measured rate (earliest deadline first, late jobs dropped: Moore 1968): they are deferred
   *   pass 2: every deferred subscriber of the piece, in S order (already shaking: the time went to those it could warn)
   *
   * A new holder re-reads what the cursor's current window (or, in pass 2, the piece) holds and skips whoever
   * `frontCursorCovers`. Counted, finished and handed over like a unit.
   */
  async processPiece(c: number): Promise<SegmentOutcome> {
    const { deps } = this;
    const front = this.front!;
    const key = this.workKey(c);
    const idx = frontPieceSegments(this, this.plan.length, c);
    const segments = idx.map((i) => this.plan[i]);
    const counts = idx.map((i) => this.counts[i] ?? 0);
    let lease: Lease;
    try {
      lease = await acquire(deps.locks, { eventId: this.run, segment: key, owner: deps.owner, leaseMs: deps.leaseMs });
    } catch (err) {
      if (err instanceof LockHeldError || err instanceof SegmentDoneError) return 'skipped';
      throw err;
    }
    if (lease.takeover) {
      this.result.takeovers++;
      deps.onMetric?.('LockTakeovers', 1);
      deps.log?.info('front piece taken over', {
        piece: key,
        attempts: lease.attempts,
        resumeFrom: lease.cursor ?? null,
      });
    }
    const coverage = await this.ledger.coverage(segments);
    const resumed = decodeFrontCursor(lease.cursor);
    const readShards = async (from: number, to: number): Promise<FrontEntry[]> => {
      const shards = await Promise.all(
        segments.slice(from, to).map(async (segment, k) => {
          const out: FrontEntry[] = [];
          let cursor: string | undefined;
          // A whole shard in one Query where the plan's count allows (≤ 2,000 items of ~350 B: within the 1 MB page).
          const limit = Math.max(deps.pageSize, Math.min(counts[from + k] + 16, MAX_FRONT_PAGE));
          do {
            const page = await this.readPage(segment, cursor, limit);
            for (const s of page.items) {
              out.push({ key: frontOrderKey(this.quake, front, s), s, segment, shard: from + k });
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
      reader.running = readShards(from, to).then(
        (entries) => {
          for (const e of entries) reader.buffer.push(e);
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
    // This piece's delivery cost so far: batches out and the ms they took (building, delivering, checkpointing).
    let sentBatches = 0;
    let busyMs = 0;
    /**
     * A new window's `late`: in S order, batch after batch of `pageSize` at this piece's measured time per batch
     * (a batch's cost is mostly its round trips, not its size), whoever would be served after their S arrives.
     */
    const lateOf = (entries: readonly FrontEntry[]): number => {
      let late = front.lateBefore;
      if (sentBatches === 0 || busyMs <= 0) return late;
      const msPerBatch = busyMs / sentBatches;
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
    const windows: [number, number, number][] = resumed ? resumed.windows.map((w) => [w[0], w[1], w[2]]) : [];
    // Whether `deferred` holds every deferred subscriber of the windows so far (not after a takeover mid-piece).
    const deferredComplete = !resumed || (resumed.pass === 1 && resumed.windows.length === 1);
    const isCovered = (e: FrontEntry) => resumed !== undefined && frontCursorCovers(resumed, this.quake, e.shard, e.s);
    /** Every deferred subscriber of the piece not yet delivered (pass 2 after a takeover): the piece read again. */
    const deferredOfPiece = async (): Promise<FrontEntry[]> => {
      const out: FrontEntry[] = [];
      const cursor = { windows };
      for (const e of await readShards(0, segments.length)) {
        const w = windows[frontWindowOf(cursor, e.shard)];
        const k = keyed(e, w ? w[2] : Number.NEGATIVE_INFINITY);
        if (k.key.late && !isCovered(k)) out.push(k);
      }
      return out.sort(byKey);
    };
    let window: FrontEntry[] = [];
    if (pass === 2) window = await deferredOfPiece();
    else {
      if (resumed) {
        const [from, to, late] = windows[windows.length - 1];
        window = split(await readShards(from, to), late, isCovered);
      } else {
        windows.push([0, Math.min(1, segments.length), front.lateBefore]);
        window = split(await readShards(0, windows[0][1]), front.lateBefore);
      }
      reader.bufferTo = windows[windows.length - 1][1];
      pump();
    }
    let head = 0;
    let last: number | undefined;
    let batches = 0;
    let size = this.quickStart ? Math.min(deps.pageSize, QUICK_START_BATCH) : deps.pageSize;
    this.quickStart = false;
    try {
      for (;;) {
        if (this.lowOnTime()) {
          reader.stopped = true;
          await handOff(deps.locks, lease);
          await this.successor(c);
          return 'handed-off';
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
            // Pass 2: the deferred, in S order (read again when this holder did not see every window).
            pass = 2;
            window = deferredComplete ? deferred.sort(byKey) : await deferredOfPiece();
            head = 0;
            continue;
          }
          break;
        }
        const taken = window.slice(head, head + size);
        head += taken.length;
        size = deps.pageSize;
        const t = this.now();
        const items: DeliveryItem[] = [];
        for (const e of taken) this.build([e.s], items, coverage, e.segment);
        const r = items.length > 0 ? await this.deliverBatch(lease, items) : { delivered: 0, failed: 0 };
        if (items.length > 0) last = this.now();
        batches++;
        await deps.afterDeliver?.({ segment: key, batches });
        const batchCounts = { delivered: r.delivered, failed: r.failed, eligible: items.length };
        this.result.eligible += items.length;
        this.result.delivered += r.delivered;
        this.result.failed += r.failed;
        const cursor: FrontCursor = { pass, windows, key: taken[taken.length - 1].key };
        await checkpoint(deps.locks, lease, JSON.stringify({ front: cursor }), batchCounts, deps.leaseMs);
        sentBatches++;
        busyMs += this.now() - t;
      }
      reader.stopped = true;
      await finish(deps.locks, lease, { delivered: 0, failed: 0, eligible: 0 });
    } catch (err) {
      reader.stopped = true;
      if (err instanceof LeaseLostError) {
        deps.log?.warn('lease lost: stopping work on front piece', { piece: key, version: lease.version });
        deps.onMetric?.('LeasesLost', 1);
        return 'lost';
      }
      throw err;
    }
    const completed = await unitDone(
      deps.events,
      this.event.eventId,
      this.revision,
      c,
      { eligible: lease.eligible, delivered: lease.delivered, failed: lease.failed, lastDeliveryAt: last },
      this.total,
      this.finalState,
    );
    if (completed) this.result.completedEvent = true;
    this.result.segments++;
    deps.onMetric?.('SegmentsDone', 1);
    return 'done';
  }

  /** The first delivery of this invocation marks the event running and records its time (off the alert's path). */
  private async recordFirst(): Promise<void> {
    if (this.firstRecorded) return;
    this.firstRecorded = true;
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

  /** Delivers one batch under the lease; the first delivery of this invocation marks the event running (off the alert's path). */
  private async deliverBatch(lease: Lease, items: DeliveryItem[]): Promise<{ delivered: number; failed: number }> {
    const r = await this.deliverUnderLease(lease, items);
    const delivered = r.delivered.length;
    if (delivered > 0) await this.recordFirst();
    return { delivered, failed: r.failed.length };
  }

  /** Unit `unit` of the plan, work item `work` (the index counted into the event and handed over). */
  async processUnit(unit: number, work: number): Promise<SegmentOutcome> {
    const { deps } = this;
    const key = unitKey(this.plan, this.units, unit);
    const segments = unitSegments(this.plan, this.units, unit);
    const shardCounts = unitSegments(this.counts, this.units, unit);
    let lease: Lease;
    try {
      lease = await acquire(deps.locks, { eventId: this.run, segment: key, owner: deps.owner, leaseMs: deps.leaseMs });
    } catch (err) {
      if (err instanceof LockHeldError || err instanceof SegmentDoneError) return 'skipped';
      throw err;
    }
    if (lease.takeover) {
      this.result.takeovers++;
      deps.onMetric?.('LockTakeovers', 1);
      deps.log?.info('unit taken over', { unit: key, attempts: lease.attempts, resumeFrom: lease.cursor ?? null });
    }
    // What earlier runs sent in this unit's shards: read once per unit (nothing for a first run).
    const coverage = await this.ledger.coverage(segments);
    let last: number | undefined;
    let batches = 0;
    // Read-ahead: the next batch is read while the current one is delivered; never checkpointed before delivery.
    const quick = this.quickStart;
    // An urgent unit's batches are delivered in S-arrival order (batch by batch: the cursor and the crash bound stay
    // one batch, and the ledger reads cursors as positions).
    const urgent = this.urgent(unit);
    const firstSize = quick ? Math.min(deps.pageSize, QUICK_START_BATCH) : deps.pageSize;
    this.quickStart = false;
    let pending: Promise<Batch> | undefined = this.readBatch(
      segments,
      shardCounts,
      decodeUnitCursor(lease.cursor),
      coverage,
      firstSize,
      quick,
    );
    /** Batches delivered but not yet checkpointed (their paced part still going), oldest first. */
    const outstanding: Outstanding[] = [];
    /** The unit's last batch's counts, added by `finish` (the others by their checkpoints). */
    let finalCounts: { delivered: number; failed: number; eligible: number } | undefined;
    const drop = () => {
      pending?.catch(() => {});
      pending = undefined;
      for (const o of outstanding) o.paced?.catch(() => {});
    };
    /** A batch wholly handled (its paced part awaited): counted, and the cursor moved past it under our lease. */
    const settle = async (head: Outstanding) => {
      if (head.paced) {
        const r = await head.paced;
        this.pacedInFlight -= head.size;
        head.delivered += r.delivered.length;
        head.failed += r.failed.length;
        last = this.now();
        if (r.delivered.length > 0) await this.recordFirst();
      }
      batches++;
      await deps.afterDeliver?.({ segment: key, batches });
      const counts = { delivered: head.delivered, failed: head.failed, eligible: head.eligible };
      this.result.eligible += head.eligible;
      this.result.delivered += head.delivered;
      this.result.failed += head.failed;
      // Acknowledged (or parked in the DLQ): move the cursor past this batch under our lease. The unit's last
      // batch is counted by `finish` instead.
      if (head.next) await checkpoint(deps.locks, lease, encodeUnitCursor(head.next), counts, deps.leaseMs);
      else finalCounts = counts;
    };
    try {
      for (;;) {
        if (this.lowOnTime()) {
          // Hand over from the last checkpoint: wait for the paced sends in flight so it covers them (the successor
          // would otherwise read them again; the send journal would keep them from reaching anyone twice).
          for (const o of outstanding.splice(0)) await settle(o);
          drop();
          await handOff(deps.locks, lease);
          await this.successor(work);
          return 'handed-off';
        }
        const batch: Batch = await pending!;
        pending = batch.next ? this.readBatch(segments, shardCounts, batch.next, coverage) : undefined;
        const { items } = batch;
        // Per-person channels (telegram, push, sms, email) are paced to their providers' rates: their part of the batch
        // goes on in the background while the next batches' webhooks are delivered, so one slow channel does not hold
        // every other channel to its pace. The cursor still moves only past batches wholly handled, in order.
        const fast = items.filter((i) => !PACED_CHANNELS.has(i.channel.type));
        const paced = items.filter((i) => PACED_CHANNELS.has(i.channel.type));
        let fastDelivered = 0;
        let fastFailed = 0;
        if (fast.length > 0) {
          const r = urgent ? await this.deliverInSOrder(lease, fast) : await this.deliverUnderLease(lease, fast);
          fastDelivered = r.delivered.length;
          fastFailed = r.failed.length;
          last = this.now();
          if (fastDelivered > 0) await this.recordFirst();
        }
        const entry: Outstanding = {
          next: batch.next,
          eligible: items.length,
          delivered: fastDelivered,
          failed: fastFailed,
          size: paced.length,
          paced: paced.length ? this.deliverUnderLease(lease, paced) : undefined,
          settled: paced.length === 0,
        };
        if (entry.paced) {
          this.pacedInFlight += paced.length;
          entry.paced.then(
            () => {
              entry.settled = true;
            },
            () => {
              entry.settled = true;
            },
          );
        }
        outstanding.push(entry);
        // Checkpoint every leading batch that is wholly handled; wait for the oldest while the paced backlog is full.
        while (outstanding.length > 0 && (outstanding[0].settled || this.pacedInFlight > MAX_PACED_IN_FLIGHT)) {
          await settle(outstanding.shift()!);
        }
        if (batch.next) continue;
        // Every batch read and its webhooks delivered. Close the lock first (only the current holder can), then count
        // the unit into the event: a holder that lost the unit never counts it; a crash in between leaves a done lock,
        // which the sweep counts (once: doneUnits). All of it (and the paced sends still going) in the background.
        const close = async () => {
          while (outstanding.length > 0) await settle(outstanding.shift()!);
          await finish(deps.locks, lease, finalCounts ?? { delivered: 0, failed: 0, eligible: 0 });
          const completed = await unitDone(
            deps.events,
            this.event.eventId,
            this.revision,
            work,
            {
              eligible: lease.eligible,
              delivered: lease.delivered,
              failed: lease.failed,
              lastDeliveryAt: last,
            },
            this.total,
            this.finalState,
          );
          if (completed) this.result.completedEvent = true;
          this.result.segments++;
          deps.onMetric?.('SegmentsDone', 1);
        };
        // Closing (two writes) goes on in the background while the chain claims and reads its next unit: the lock
        // stays held until `finish`, and the invocation drains its tails before a successor, the sweep or its end.
        this.tails.push(
          close().catch((err) => {
            drop();
            if (err instanceof LeaseLostError) {
              deps.log?.warn('lease lost: stopping work on unit', { unit: key, version: lease.version });
              deps.onMetric?.('LeasesLost', 1);
            } else {
              this.tailError ??= err;
            }
          }),
        );
        return 'done';
      }
    } catch (err) {
      drop();
      if (err instanceof LeaseLostError) {
        deps.log?.warn('lease lost: stopping work on unit', { unit: key, version: lease.version });
        deps.onMetric?.('LeasesLost', 1);
        return 'lost';
      }
      throw err;
    }
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

export async function runSegmentWorker(deps: WorkerDeps, payload: WorkerPayload): Promise<WorkerResult> {
  const maxHops = deps.maxHops ?? DEFAULT_MAX_HOPS;
  if (payload.hop >= maxHops) {
    const reason = `chain ${payload.chain} reached the hop limit (${payload.hop} ≥ ${maxHops}): parked instead of invoking again`;
    deps.log?.warn('hop limit reached: parking the chain', { eventId: payload.eventId, hop: payload.hop, maxHops });
    if (!deps.parkChain) throw new Error(reason);
    await deps.parkChain(payload, reason);
    return { ...emptyResult(), outcome: 'hop-limit' };
  }
  // The plan named by the payload is read beside the event (one round trip on the first alert's path, not two).
  const [event, hinted] = await Promise.all([
    getEvent(deps.events, payload.eventId),
    payload.planKey ? planByKey(deps, payload.planKey).catch(() => undefined) : undefined,
  ]);
  const revision = payload.revision ?? event?.revision;
  if (!event || revision === undefined || !event.plannedQuake) {
    return { ...emptyResult(), outcome: event ? 'no-plan' : 'stale' };
  }
  if (event.revision !== revision) return { ...emptyResult(), outcome: 'stale' };
  const plan = hinted && event.planKey === payload.planKey ? hinted : await planOf(deps, event);
  if (!plan) return { ...emptyResult(), outcome: 'no-plan' };
  const ledger = await Ledger.load({
    eventId: event.eventId,
    revision,
    runs: event.runs,
    locks: deps.locks,
    planOf: (key) => planByKey(deps, key),
    policy: { thresholds: deps.thresholds, probability: deps.alertProbability },
  });
  const run = new Run(deps, payload, event, plan, revision, event.plannedQuake, ledger);
  try {
    if (payload.resume !== undefined) {
      const outcome = await run.processWork(payload.resume);
      if (outcome === 'handed-off') return run.result;
    } else if (payload.hop === 0 && payload.chain < run.pieces) {
      // The chain's own piece of the near-field front first (a restarted chain finds it held or done: skipped).
      const outcome = await run.processWork(payload.chain);
      if (outcome === 'handed-off') return run.result;
    }
    const total = run.total;
    for (;;) {
      if (run.lowOnTime()) {
        await run.successor();
        return run.result;
      }
      // The claim counter numbers the units after the front: work item pieces + i.
      const i = run.pieces + (await claimNext(deps.events, event.eventId, revision));
      if (i >= total) break;
      const outcome = await run.processWork(i);
      if (outcome === 'handed-off') return run.result;
    }
    await run.drainTails();
    await run.sweep();
    await run.drainTails();
    return run.result;
  } catch (err) {
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
