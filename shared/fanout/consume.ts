/**
 * The consumer's domain (system.md 7.1): for each event of a Kafka batch, decide whether to alert, plan the fan-out
 * and start the segment-worker chains. Partitions run in parallel, records of one partition in offset order.
 *
 *   poison record (undecodable, invalid)   → consumer DLQ with topic/partition/offset/reason; the rest proceed
 *   not alertable (kind, magnitude), origin older than fanout.maxEventAgeS or in the future, event retracted
 *                                           → recorded as handled (skipped, with the reason)
 *   already handled (ESM redelivery)        → nothing (plans once); chains restarted while none has claimed yet
 *                                             (chains still on their own first items count as not started: a
 *                                             restarted one finds its item's lock held and goes on to claim)
 *   update of a completed run under which no level can rise → recorded as handled, not re-planned
 *   otherwise (first version, or an update: during the fan-out always, after it when a level may rise)
 *                                           → plan (nearest first) → savePlan (conditional on the revision read)
 *                                             → supersede the previous run's unfinished units → start P chains;
 *                                             the workers' ledger (ledger.ts) sends each subscriber only what is
 *                                             above what earlier runs sent, so nobody is skipped or alerted twice
 *   retraction                              → cancellation run over every earlier plan's shards (savePlan mode
 *                                             cancel) → supersede → start chains: everyone an earlier run alerted
 *                                             gets one cancellation; nothing further is sent for the event
 *   after a plan (alert or cancel) is saved and its chains started, or on a redelivery of the record it planned
 *                                           → publish the event's CAP messages (deps.publishCap) in the background:
 *                                             alerts to people first; the batch waits for it only at its end, a
 *                                             failure is logged, counted and parked in the consumer DLQ
 *                                             (`{kind:'cap', eventId, reason}`), never thrown
 *
 * Any other error (a service down) throws: the event source mapping retries the batch, which is safe because every
 * step above is idempotent.
 */
import {
  type EventPlan,
  type EventRecord,
  type EventStore,
  getEvent,
  getPlan,
  recordHandled,
  runId,
  savePlan,
} from '../events/index.ts';
import { type LockStore, supersede } from '../locks/index.ts';
import { isAlertable, isPossiblyEarthquake } from '../quake/rules.ts';
import { MAX_ORIGIN_LEAD_MS } from '../quake/schema.ts';
import type { Quake } from '../quake/types.ts';
import { coveringCells } from '../segments/cells.ts';
import type { SegmentRef } from '../segments/types.ts';
import {
  type DecodedRecord,
  type DecodedRetraction,
  decodeRecord,
  type KafkaRecord,
  recordsByPartition,
  type SelfManagedKafkaEvent,
} from './kafka-event.ts';
import {
  DEFAULT_EXPECTED_RATE,
  type FanoutStrategy,
  groupUnits,
  levelMayRise,
  planFanout,
  unitSize,
  workKeys,
} from './plan.ts';
import { type ExpectedRate, expectedRateFor, readRateHistory } from './rate.ts';
import type { WorkerPayload } from './types.ts';

export interface ConsumerDlqMessage {
  kind: 'consumer';
  reason: string;
  topic: string;
  partition: number;
  offset: number;
  timestamp?: number;
  /** Base64 as received, cut at 64 KiB. */
  key?: string | null;
  value?: string | null;
}

/** A CAP publication that failed (the store's own retries spent): `quakectl cap publish <eventId>` redoes it. */
export interface CapDlqMessage {
  kind: 'cap';
  reason: string;
  eventId: string;
  revision?: number;
  failedAt: number;
}

export interface ConsumeDeps {
  events: EventStore;
  /** The unit locks: a re-plan supersedes the previous run's unfinished units. */
  locks: LockStore;
  segmentsForCells(cells: readonly string[]): Promise<SegmentRef[]>;
  /** Every segments-table row: large footprints are planned from it (shared/fanout `PlanInput.allSegments`). */
  allSegments?(): Promise<SegmentRef[]>;
  startChain(payload: WorkerPayload): Promise<void>;
  sendToDlq(message: ConsumerDlqMessage | CapDlqMessage): Promise<void>;
  /**
   * Publishes the event's CAP messages and the feed's index (shared/notify/cap-publish.ts `publishEventCap`); absent:
   * no feed. Idempotent: the same record publishes the same bytes.
   */
  publishCap?(record: EventRecord): Promise<void>;
  minMagnitude: number;
  minSubscriberMmi: number;
  parallelism: number;
  strategy: FanoutStrategy;
  scanSegments?: number;
  /** Work unit size (subscribers), the profile's fanout.maxSegmentSize. */
  maxUnitSize?: number;
  /** Events whose origin is older than this (s) are not alerted (fanout.maxEventAgeS). */
  maxEventAgeS?: number;
  /** fanout.alertProbability: sets the footprint the plan covers. */
  alertProbability?: number;
  /** The near-field front (shared/fanout `PlanInput.frontS`; default off). */
  frontS?: number;
  /** fanout.expectedRate (shared/fanout `PlanInput.expectedRate`; 0: off): the rate until one is measured. */
  expectedRate?: number;
  /**
   * fanout.measureRate: plan with the largest rate measured on this deployment's completed fan-outs at the same
   * parallelism (shared/fanout/rate.ts), read beside the event record; the setting until there is one.
   */
  measureRate?: boolean;
  now?: () => number;
  log?: { info(msg: string, f?: Record<string, unknown>): void; warn(msg: string, f?: Record<string, unknown>): void };
}

export type RecordOutcome = 'planned' | 'duplicate' | 'skipped' | 'not-rising' | 'poison' | 'retracted';

export interface ConsumeResult {
  records: number;
  outcomes: Record<RecordOutcome, number>;
  planned: { eventId: string; segments: number; chains: number; revision: number }[];
  /** CAP publications of the batch (see publishCapLater). */
  cap: { published: number; failed: number };
}

/** The batch's CAP publications in flight: awaited at the end of the batch, after every record's chains started. */
type CapQueue = Promise<void>[];

export async function consumeBatch(event: SelfManagedKafkaEvent, deps: ConsumeDeps): Promise<ConsumeResult> {
  const result: ConsumeResult = {
    records: 0,
    outcomes: { planned: 0, duplicate: 0, skipped: 0, 'not-rising': 0, poison: 0, retracted: 0 },
    planned: [],
    cap: { published: 0, failed: 0 },
  };
  const cap: CapQueue = [];
  await Promise.all(
    recordsByPartition(event).map(async (records) => {
      for (const r of records) {
        result.records++;
        const outcome = await handleRecord(decodeRecord(r), deps, result, cap);
        result.outcomes[outcome]++;
      }
    }),
  );
  // Lambda freezes the environment once the handler returns: what runs in the background must end before.
  await Promise.all(cap);
  return result;
}

/**
 * Starts publishing the event's CAP feed without holding up the next record. A failure is logged, counted and parked
 * in the consumer DLQ; if even that fails, it is logged only: the feed must never fail the fan-out (the next publish
 * of the event, a redelivery, or `quakectl cap publish` repairs it).
 */
function publishCapLater(record: EventRecord, deps: ConsumeDeps, result: ConsumeResult, cap: CapQueue): void {
  if (!deps.publishCap) return;
  const publish = deps.publishCap;
  cap.push(
    (async () => {
      try {
        await publish(record);
        result.cap.published++;
      } catch (err) {
        result.cap.failed++;
        const reason = `CAP publish failed: ${(err as Error).name}: ${(err as Error).message}`.slice(0, 1000);
        deps.log?.warn('CAP publish failed', { eventId: record.eventId, revision: record.revision, reason });
        const message: CapDlqMessage = {
          kind: 'cap',
          reason,
          eventId: record.eventId,
          revision: record.revision,
          failedAt: (deps.now ?? Date.now)(),
        };
        await deps.sendToDlq(message).catch((dlqErr: Error) => {
          deps.log?.warn('CAP failure not parked', { eventId: record.eventId, reason, error: dlqErr.message });
        });
      }
    })(),
  );
}

async function handleRecord(
  d: DecodedRecord,
  deps: ConsumeDeps,
  result: ConsumeResult,
  cap: CapQueue,
): Promise<RecordOutcome> {
  if (!d.ok) {
    deps.log?.warn('poison record', {
      topic: d.record.topic,
      partition: d.record.partition,
      offset: d.record.offset,
      reason: d.reason,
    });
    await deps.sendToDlq(dlqMessage(d.record, d.reason));
    return 'poison';
  }
  if (d.kind === 'retraction') return handleRetraction(d, deps, result, cap);
  const t0 = performance.now();
  /** ms from the record's handling start to each step of planning, logged with `event planned`. */
  const steps: Record<string, number> = {};
  const step = (name: string) => {
    steps[name] = Math.round(performance.now() - t0);
  };
  const { quake, acceptedAt } = d;
  const now = (deps.now ?? Date.now)();
  const notAlerted = !isAlertable(quake, deps.minMagnitude)
    ? !isPossiblyEarthquake(quake.kind)
      ? `kind ${quake.kind}`
      : `magnitude ${quake.magnitude} < ${deps.minMagnitude}`
    : originOutOfRange(quake.originTime, now, deps.maxEventAgeS ?? DEFAULT_MAX_EVENT_AGE_S);
  if (notAlerted) {
    await recordHandled(deps.events, quake, { skip: notAlerted, acceptedAt });
    deps.log?.info('event not alerted', { eventId: quake.id, reason: notAlerted });
    return 'skipped';
  }
  const [current, rateFor] = await Promise.all([getEvent(deps.events, quake.id), rateToPlanWith(deps)]);
  step('event');
  if (current?.handledUpdatedAt !== undefined && current.handledUpdatedAt >= quake.updatedAt) {
    await restartIfNeverStarted(current, quake, deps);
    // The consumer may have died before its CAP publication ended: publish again (same bytes if it had).
    if (current.runs?.some((r) => r.mode === 'alert' && r.quake.updatedAt === quake.updatedAt)) {
      publishCapLater(current, deps, result, cap);
    }
    return 'duplicate';
  }
  if (current?.retractedAt !== undefined || current?.mode === 'cancel') {
    await recordHandled(deps.events, quake, { skip: 'retracted by the network', acceptedAt });
    deps.log?.info('version of a retracted event: not alerted', { eventId: quake.id });
    return 'skipped';
  }
  const previous = current?.plannedQuake;
  // Mid-fan-out, an update always re-plans: the new run continues where the old one got to (the ledger), with the
  // new version's alert for those not yet reached. After completion, only when some level may rise.
  if (previous && current?.state === 'complete' && !levelMayRise(previous, quake)) {
    await recordHandled(deps.events, quake, { acceptedAt });
    deps.log?.info('update raises no level: not re-planned', { eventId: quake.id, updatedAt: quake.updatedAt });
    return 'not-rising';
  }
  let expected: ExpectedRate | undefined;
  const plan = await planFanout(quake, {
    minSubscriberMmi: deps.minSubscriberMmi,
    strategy: deps.strategy,
    scanSegments: deps.scanSegments,
    maxUnitSize: deps.maxUnitSize,
    chains: deps.parallelism,
    alertProbability: deps.alertProbability,
    frontS: deps.frontS,
    // Asked with the footprint's size (shared/fanout/plan.ts): a measured rate of a fan-out of that size when there is one.
    expectedRate: (subscribers) => {
      expected = rateFor(subscribers);
      return expected.rate;
    },
    coveringCells,
    segmentsForCells: deps.segmentsForCells,
    allSegments: deps.allSegments,
  });
  step('plan');
  const chains = Math.min(deps.parallelism, plan.units.length);
  const saved = await savePlan(
    deps.events,
    quake,
    { ...plan, chains },
    { acceptedAt, expectedRevision: current?.revision },
  );
  if (!saved) return 'duplicate';
  const revision = saved.revision ?? 1;
  step('saved');
  const superseded = await supersedePrevious(saved, deps);
  step('superseded');
  deps.log?.info('event planned', {
    eventId: quake.id,
    revision,
    drill: quake.drill,
    magnitude: quake.magnitude,
    radiusKm: plan.radiusKm,
    cells: plan.cells,
    segments: plan.segments.length,
    units: plan.units.length,
    subscribers: plan.subscribers,
    // Shards the expected rate cannot reach before their S, put after the warnable (fanout.expectedRate).
    ...(expected ? { expectedRate: { rate: expected.rate, source: expected.source } } : {}),
    ...(plan.deferred ? { deferredByRate: plan.deferred } : {}),
    chains: saved.chains ?? chains,
    supersededUnits: superseded,
    msFromStart: { ...steps },
  });
  await startChains(quake.id, revision, saved.chains ?? chains, deps, saved.planKey);
  // When the chains' invokes were accepted (logged apart: `event planned` goes out before them, not to delay them).
  step('invoked');
  deps.log?.info('chains started', { eventId: quake.id, revision, msFromStart: steps });
  publishCapLater(saved, deps, result, cap);
  result.planned.push({ eventId: quake.id, segments: plan.segments.length, chains: saved.chains ?? chains, revision });
  return 'planned';
}

/**
 * The expected rate for a plan of a given size (shared/fanout/rate.ts `expectedRateFor`): a failed read of the
 * measured rates plans with the setting and says so; it never holds up the alert. `off` for the scan strategy, which
 * does not use it.
 */
async function rateToPlanWith(deps: ConsumeDeps): Promise<(subscribers: number) => ExpectedRate> {
  // A scan plan has no S order to defer within (shared/fanout/plan.ts): no rate to read.
  if (deps.strategy === 'scan') return () => expectedRateFor(undefined, deps.parallelism, 0, false);
  const setting = deps.expectedRate ?? DEFAULT_EXPECTED_RATE;
  if (!deps.measureRate || setting === 0) return () => expectedRateFor(undefined, deps.parallelism, setting, false);
  try {
    const history = await readRateHistory(deps.events);
    return (subscribers) => expectedRateFor(history, deps.parallelism, setting, true, subscribers);
  } catch (err) {
    deps.log?.warn('measured fan-out rate not read: planning with the setting', { error: String(err) });
    return () => expectedRateFor(undefined, deps.parallelism, setting, false);
  }
}

/** Default of fanout.maxEventAgeS: an hour after the origin the alert is news, not a warning. */
export const DEFAULT_MAX_EVENT_AGE_S = 3600;
/** Origins up to this far ahead of the consumer's clock pass (network clocks and solution jitter): the parsers' limit. */
export const MAX_FUTURE_ORIGIN_S = MAX_ORIGIN_LEAD_MS / 1000;

/** Why an origin time is not alerted, or undefined when it is within [now − maxAge, now + 5 min]. */
export function originOutOfRange(originTime: number, now: number, maxAgeS: number): string | undefined {
  const ageS = (now - originTime) / 1000;
  if (ageS < -MAX_FUTURE_ORIGIN_S)
    return `origin ${Math.round(-ageS)} s in the future (more than ${MAX_FUTURE_ORIGIN_S} s ahead)`;
  if (ageS > maxAgeS) return `origin ${formatAge(ageS)} old (older than fanout.maxEventAgeS ${maxAgeS} s)`;
  return undefined;
}

function formatAge(s: number): string {
  if (s < 3600) return `${Math.round(s)} s`;
  if (s < 86400 * 2) return `${(s / 3600).toFixed(1)} h`;
  if (s < 86400 * 365 * 2) return `${Math.round(s / 86400)} d`;
  return `${Math.round(s / (86400 * 365.25))} y`;
}

/**
 * The network withdrew the event: plan a cancellation run over the shards of every earlier alert run (nearest first),
 * supersede the running one, start chains. Workers send a cancellation to exactly the subscribers the ledger says were
 * alerted. An event never alerted is only marked retracted.
 */
async function handleRetraction(
  d: DecodedRetraction,
  deps: ConsumeDeps,
  result: ConsumeResult,
  cap: CapQueue,
): Promise<RecordOutcome> {
  const current = await getEvent(deps.events, d.eventId);
  if (!current?.plannedQuake) {
    deps.log?.info('retraction of an event never alerted', { eventId: d.eventId, reason: d.reason });
    return 'skipped';
  }
  if (current.mode === 'cancel') {
    await restartIfNeverStarted(current, current.plannedQuake, deps);
    publishCapLater(current, deps, result, cap);
    return 'duplicate';
  }
  const runs = (current.runs ?? []).filter((r) => r.mode === 'alert');
  const plans = (
    await Promise.all(runs.map((r) => getPlan(deps.events, { planKey: r.planKey } as EventRecord)))
  ).filter((p): p is EventPlan => p !== undefined);
  const nearest = new Map<string, { km: number; count: number }>();
  for (const p of plans) {
    p.plan.forEach((key, i) => {
      const km = p.planDistancesKm[i] ?? 0;
      const seen = nearest.get(key);
      if (!seen || km < seen.km) nearest.set(key, { km, count: Math.max(seen?.count ?? 0, p.planCounts[i] ?? 0) });
    });
  }
  const ordered = [...nearest.entries()]
    .map(([key, v]) => ({ key, nearestKm: v.km, count: v.count }))
    .sort((a, b) => a.nearestKm - b.nearestKm || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const strategy = runs.at(-1)?.strategy ?? deps.strategy;
  const units =
    strategy === 'scan'
      ? ordered.map((_, i) => i)
      : groupUnits(ordered, unitSize(ordered, { maxUnitSize: deps.maxUnitSize, chains: deps.parallelism }));
  const saved = await savePlan(
    deps.events,
    current.plannedQuake,
    {
      strategy,
      segments: ordered.map((o) => o.key),
      distancesKm: ordered.map((o) => o.nearestKm),
      counts: ordered.map((o) => o.count),
      units,
      radiusKm: current.radiusKm ?? 0,
      minMmi: current.minMmi ?? deps.minSubscriberMmi,
      chains: Math.min(deps.parallelism, units.length),
    },
    { acceptedAt: d.acceptedAt, expectedRevision: current.revision, mode: 'cancel' },
  );
  if (!saved) return 'duplicate';
  const superseded = await supersedePrevious(saved, deps);
  deps.log?.info('event retracted: cancelling sent alerts', {
    eventId: d.eventId,
    source: d.source,
    reason: d.reason,
    revision: saved.revision,
    units: units.length,
    supersededUnits: superseded,
  });
  await startChains(d.eventId, saved.revision ?? 1, saved.chains ?? 0, deps, saved.planKey);
  publishCapLater(saved, deps, result, cap);
  result.planned.push({
    eventId: d.eventId,
    segments: ordered.length,
    chains: saved.chains ?? 0,
    revision: saved.revision ?? 1,
  });
  return 'retracted';
}

/**
 * Freezes the run before `event.revision` (see shared/locks `supersede`): its holders stop at their next write and
 * its coverage, which the new run's ledger reads, no longer moves. Idempotent; returns the units superseded.
 */
async function supersedePrevious(event: EventRecord, deps: ConsumeDeps): Promise<number> {
  const runs = event.runs ?? [];
  const previous = runs.filter((r) => r.revision < (event.revision ?? 0)).at(-1);
  if (!previous) return 0;
  const plan = await getPlan(deps.events, { planKey: previous.planKey } as EventRecord);
  if (!plan) return 0;
  const keys = workKeys(plan.plan, plan);
  return supersede(deps.locks, runId(event.eventId, previous.revision), keys);
}

async function startChains(
  eventId: string,
  revision: number,
  chains: number,
  deps: ConsumeDeps,
  planKey: string | undefined,
) {
  await Promise.all(
    Array.from({ length: chains }, (_, chain) =>
      deps.startChain({ eventId, chain, hop: 0, revision, ...(planKey ? { planKey } : {}) }),
    ),
  );
}

/**
 * A redelivered record whose plan was saved but whose chains may never have started (the consumer died between the
 * two): start them again. Harmless when they did start: chains claim segments atomically.
 */
async function restartIfNeverStarted(current: EventRecord, quake: Quake, deps: ConsumeDeps) {
  const cancel = current.mode === 'cancel';
  if ((!cancel && current.handledUpdatedAt !== quake.updatedAt) || current.state !== 'planned') return;
  if ((current.nextIndex ?? 0) > 0) return;
  const chains = current.chains ?? 0;
  if (chains > 0 && current.revision) {
    deps.log?.info('restarting chains of a planned event', { eventId: quake.id, chains });
    // The consumer may have died before superseding the previous run, too.
    await supersedePrevious(current, deps);
    await startChains(quake.id, current.revision, chains, deps, current.planKey);
  }
}

const MAX_FIELD = 64 * 1024;

export function dlqMessage(r: KafkaRecord, reason: string): ConsumerDlqMessage {
  return {
    kind: 'consumer',
    reason,
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key?.slice(0, MAX_FIELD) ?? null,
    value: r.value?.slice(0, MAX_FIELD) ?? null,
  };
}
