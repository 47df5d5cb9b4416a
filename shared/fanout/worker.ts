/**
 * The segment worker's loop (system.md 7.2):
 *
 *   repeat: claim i = nextIndex++ (atomic ADD on the event)
 *           i < total:  acquire lock(plan[i]) → read pages from its cursor → per subscriber: MMI, level, S arrival →
 *                       deliver those at/above their own minMmi → checkpoint cursor after each acknowledged batch →
 *                       count the segment into the event (once) → mark the lock done
 *           i ≥ total:  sweep: every plan segment not yet counted is either done (count it), takeable (no lock, or an
 *                       expired lease: resume from its cursor) or held (wait for its lease) → stop when all counted
 *   whenever remaining time < reserve: hand the current segment over (lease ends now, cursor kept) and async-invoke a
 *   successor with hop + 1 (the domino); it resumes exactly there.
 *
 * The last segment counted completes the event (conditional on doneCount = total). A lost lease (LeaseLostError) stops
 * work on that segment at once: its new holder resumes from the last acknowledged cursor, so only the batch in flight
 * can be delivered twice, under the same idempotency keys.
 */
import {
  claimNext,
  type EventRecord,
  getEvent,
  markRunning,
  runId,
  StaleRevisionError,
  segmentDone,
  tryComplete,
} from '../events/index.ts';
import {
  acquire,
  checkpoint,
  complete,
  getMany,
  handOff,
  type Lease,
  LeaseLostError,
  LockHeldError,
  SegmentDoneError,
} from '../locks/index.ts';
import { buildNotification } from '../notify/build.ts';
import type { DeliveryItem, NotifyLevel } from '../notify/types.ts';
import type { Quake } from '../quake/types.ts';
import type { SegmentPage, Subscriber } from '../segments/types.ts';
import { type AlertLevel, alertLevel, levelRises } from '../seismo/alert.ts';
import { type IntensityModel, intensityModelFor } from '../seismo/intensity.ts';
import { epicentralKm, secondsUntilShaking } from '../seismo/travel.ts';
import { parseScanSegmentKey } from './plan.ts';
import type { WorkerDeps, WorkerPayload, WorkerResult } from './types.ts';

type SegmentOutcome = 'done' | 'skipped' | 'lost' | 'handed-off';

class Run {
  readonly result: WorkerResult = {
    outcome: 'exhausted',
    segments: 0,
    takeovers: 0,
    eligible: 0,
    delivered: 0,
    failed: 0,
    completedEvent: false,
  };
  private running = false;
  private readonly model: IntensityModel;
  private readonly previous?: IntensityModel;
  readonly run: string;
  readonly now: () => number;

  readonly deps: WorkerDeps;
  readonly payload: WorkerPayload;
  readonly event: EventRecord;
  readonly revision: number;
  readonly quake: Quake;

  constructor(deps: WorkerDeps, payload: WorkerPayload, event: EventRecord, revision: number, quake: Quake) {
    this.deps = deps;
    this.payload = payload;
    this.event = event;
    this.revision = revision;
    this.quake = quake;
    this.model = intensityModelFor(quake);
    this.previous = event.previousQuake ? intensityModelFor(event.previousQuake) : undefined;
    this.run = runId(event.eventId, revision);
    this.now = deps.now ?? Date.now;
  }

  lowOnTime(): boolean {
    return this.deps.remainingMs() < this.deps.reserveMs;
  }

  async successor(resume?: string): Promise<void> {
    await this.deps.invokeSuccessor({
      eventId: this.event.eventId,
      chain: this.payload.chain,
      hop: this.payload.hop + 1,
      revision: this.revision,
      ...(resume ? { resume } : {}),
    });
    this.result.outcome = 'handed-off';
  }

  /** Level a subscriber gets, or undefined when below their own threshold (or not rising, for an update). */
  levelFor(s: Subscriber, mmi: number): NotifyLevel | undefined {
    if (!(mmi >= s.minMmi)) return undefined;
    const level = atLeastAware(alertLevel(mmi, this.deps.thresholds));
    if (this.previous) {
      const before = this.previous.predict(s.lat, s.lon);
      const prevLevel: AlertLevel =
        before >= s.minMmi ? atLeastAware(alertLevel(before, this.deps.thresholds)) : 'none';
      if (!levelRises(prevLevel, level)) return undefined;
    }
    return level;
  }

  readPage(segment: string, cursor: string | undefined): Promise<SegmentPage> {
    const scan = parseScanSegmentKey(segment);
    if (scan) return this.deps.subscribers.scanPages({ ...scan, cursor, limit: this.deps.pageSize });
    return this.deps.subscribers.readSegmentPage(segment, { cursor, limit: this.deps.pageSize });
  }

  async processSegment(segment: string): Promise<SegmentOutcome> {
    const { deps } = this;
    let lease: Lease;
    try {
      lease = await acquire(deps.locks, { eventId: this.run, segment, owner: deps.owner, leaseMs: deps.leaseMs });
    } catch (err) {
      if (err instanceof LockHeldError || err instanceof SegmentDoneError) return 'skipped';
      throw err;
    }
    if (lease.takeover) {
      this.result.takeovers++;
      deps.onMetric?.('LockTakeovers', 1);
      deps.log?.info('segment taken over', { segment, attempts: lease.attempts, resumeFrom: lease.cursor ?? null });
    }
    if (!this.running) {
      this.running = true;
      await markRunning(deps.events, this.event.eventId, this.revision);
    }
    let cursor = lease.cursor;
    let first: number | undefined;
    let last: number | undefined;
    let batches = 0;
    try {
      for (;;) {
        if (this.lowOnTime()) {
          await handOff(deps.locks, lease);
          await this.successor(segment);
          return 'handed-off';
        }
        const page = await this.readPage(segment, cursor);
        const items: DeliveryItem[] = [];
        const at = this.now();
        for (const s of page.items) {
          const mmi = this.model.predict(s.lat, s.lon);
          const level = this.levelFor(s, mmi);
          if (!level) continue;
          const facts = {
            mmi,
            level,
            distanceKm: epicentralKm(this.quake, s),
            secondsUntilShaking: secondsUntilShaking(this.quake, s, at),
          };
          items.push({ notification: buildNotification(this.quake, s, facts), channel: s.channel });
        }
        let delivered = 0;
        let failed = 0;
        if (items.length > 0) {
          const r = await deps.deliver(items);
          delivered = r.delivered.length;
          failed = r.failed.length;
          const t = this.now();
          first ??= t;
          last = t;
        }
        batches++;
        await deps.afterDeliver?.({ segment, batches });
        // Acknowledged (or parked in the DLQ): move the cursor past this batch under our lease.
        await checkpoint(deps.locks, lease, page.cursor, { delivered, failed, eligible: items.length }, deps.leaseMs);
        this.result.eligible += items.length;
        this.result.delivered += delivered;
        this.result.failed += failed;
        if (!page.cursor) break;
        cursor = page.cursor;
      }
      // Count into the event first, then close the lock: a crash in between makes the next holder count again,
      // which `segmentDone` ignores (doneSegments), instead of leaving a done lock never counted.
      const completed = await segmentDone(deps.events, this.event.eventId, this.revision, segment, {
        eligible: lease.eligible,
        delivered: lease.delivered,
        failed: lease.failed,
        firstDeliveryAt: first,
        lastDeliveryAt: last,
      });
      await complete(deps.locks, lease);
      if (completed) this.result.completedEvent = true;
      this.result.segments++;
      deps.onMetric?.('SegmentsDone', 1);
      return 'done';
    } catch (err) {
      if (err instanceof LeaseLostError) {
        deps.log?.warn('lease lost: stopping work on segment', { segment, version: lease.version });
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
      const ev = await getEvent(deps.events, this.event.eventId);
      if (!ev || ev.revision !== this.revision) {
        this.result.outcome = 'stale';
        return;
      }
      if (ev.state === 'complete') {
        this.result.outcome = 'complete';
        return;
      }
      const counted = ev.doneSegments ?? new Set<string>();
      const pending = (ev.plan ?? []).filter((s) => !counted.has(s));
      if (pending.length === 0) {
        if (await tryComplete(deps.events, ev.eventId, this.revision)) this.result.completedEvent = true;
        this.result.outcome = 'complete';
        return;
      }
      const locks = await getMany(deps.locks, this.run, pending);
      let waitUntil = Number.POSITIVE_INFINITY;
      let progressed = false;
      for (const segment of pending) {
        if (this.lowOnTime()) {
          await this.successor();
          return;
        }
        const lock = locks.get(segment);
        if (lock?.state === 'done') {
          const completed = await segmentDone(deps.events, ev.eventId, this.revision, segment, {
            eligible: lock.eligible ?? 0,
            delivered: lock.delivered ?? 0,
            failed: lock.failed ?? 0,
          });
          if (completed) this.result.completedEvent = true;
          progressed = true;
        } else if (!lock || lock.leaseUntil < this.now()) {
          const outcome = await this.processSegment(segment);
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

function atLeastAware(level: AlertLevel): NotifyLevel {
  return level === 'none' ? 'be-aware' : level;
}

export async function runSegmentWorker(deps: WorkerDeps, payload: WorkerPayload): Promise<WorkerResult> {
  const event = await getEvent(deps.events, payload.eventId);
  const revision = payload.revision ?? event?.revision;
  if (!event || revision === undefined || !event.plan || !event.plannedQuake) {
    return { ...emptyResult(), outcome: event ? 'no-plan' : 'stale' };
  }
  if (event.revision !== revision) return { ...emptyResult(), outcome: 'stale' };
  const run = new Run(deps, payload, event, revision, event.plannedQuake);
  try {
    if (payload.resume) {
      const outcome = await run.processSegment(payload.resume);
      if (outcome === 'handed-off') return run.result;
    }
    const total = event.plan.length;
    for (;;) {
      if (run.lowOnTime()) {
        await run.successor();
        return run.result;
      }
      const i = await claimNext(deps.events, event.eventId, revision);
      if (i >= total) break;
      const outcome = await run.processSegment(event.plan[i]);
      if (outcome === 'handed-off') return run.result;
    }
    await run.sweep();
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
