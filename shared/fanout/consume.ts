/**
 * The consumer's domain (system.md 7.1): for each event of a Kafka batch, decide whether to alert, plan the fan-out
 * and start the segment-worker chains. Partitions run in parallel, records of one partition in offset order.
 *
 *   poison record (undecodable, invalid)   → consumer DLQ with topic/partition/offset/reason; the rest proceed
 *   not alertable (kind, magnitude)         → recorded as handled (skipped)
 *   already handled (ESM redelivery)        → nothing (plans once); chains restarted only if none ever claimed
 *   update under which no level can rise    → recorded as handled, not re-planned
 *   otherwise                               → plan (nearest first) → savePlan (conditional) → start P chains
 *
 * Any other error (a service down) throws: the event source mapping retries the batch, which is safe because every
 * step above is idempotent.
 */
import { type EventStore, getEvent, recordHandled, savePlan } from '../events/index.ts';
import { isAlertable } from '../quake/rules.ts';
import type { Quake } from '../quake/types.ts';
import { coveringCells } from '../segments/cells.ts';
import type { SegmentRef } from '../segments/types.ts';
import {
  type DecodedRecord,
  decodeRecord,
  type KafkaRecord,
  recordsByPartition,
  type SelfManagedKafkaEvent,
} from './kafka-event.ts';
import { type FanoutStrategy, levelMayRise, planFanout } from './plan.ts';
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

export interface ConsumeDeps {
  events: EventStore;
  segmentsForCells(cells: readonly string[]): Promise<SegmentRef[]>;
  /** Every segments-table row: large footprints are planned from it (shared/fanout `PlanInput.allSegments`). */
  allSegments?(): Promise<SegmentRef[]>;
  startChain(payload: WorkerPayload): Promise<void>;
  sendToDlq(message: ConsumerDlqMessage): Promise<void>;
  minMagnitude: number;
  minSubscriberMmi: number;
  parallelism: number;
  strategy: FanoutStrategy;
  scanSegments?: number;
  /** Work unit size (subscribers), the profile's fanout.maxSegmentSize. */
  maxUnitSize?: number;
  log?: { info(msg: string, f?: Record<string, unknown>): void; warn(msg: string, f?: Record<string, unknown>): void };
}

export type RecordOutcome = 'planned' | 'duplicate' | 'skipped' | 'not-rising' | 'poison';

export interface ConsumeResult {
  records: number;
  outcomes: Record<RecordOutcome, number>;
  planned: { eventId: string; segments: number; chains: number; revision: number }[];
}

export async function consumeBatch(event: SelfManagedKafkaEvent, deps: ConsumeDeps): Promise<ConsumeResult> {
  const result: ConsumeResult = {
    records: 0,
    outcomes: { planned: 0, duplicate: 0, skipped: 0, 'not-rising': 0, poison: 0 },
    planned: [],
  };
  await Promise.all(
    recordsByPartition(event).map(async (records) => {
      for (const r of records) {
        result.records++;
        const outcome = await handleRecord(decodeRecord(r), deps, result);
        result.outcomes[outcome]++;
      }
    }),
  );
  return result;
}

async function handleRecord(d: DecodedRecord, deps: ConsumeDeps, result: ConsumeResult): Promise<RecordOutcome> {
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
  const { quake, acceptedAt } = d;
  if (!isAlertable(quake, deps.minMagnitude)) {
    const reason =
      quake.kind.toLowerCase() !== 'earthquake'
        ? `kind ${quake.kind}`
        : `magnitude ${quake.magnitude} < ${deps.minMagnitude}`;
    await recordHandled(deps.events, quake, { skip: reason, acceptedAt });
    deps.log?.info('event not alertable', { eventId: quake.id, reason });
    return 'skipped';
  }
  const current = await getEvent(deps.events, quake.id);
  if (current?.handledUpdatedAt !== undefined && current.handledUpdatedAt >= quake.updatedAt) {
    await restartIfNeverStarted(current, quake, deps);
    return 'duplicate';
  }
  const previous = current?.plannedQuake;
  if (previous && !levelMayRise(previous, quake)) {
    await recordHandled(deps.events, quake, { acceptedAt });
    deps.log?.info('update raises no level: not re-planned', { eventId: quake.id, updatedAt: quake.updatedAt });
    return 'not-rising';
  }
  const plan = await planFanout(quake, {
    minSubscriberMmi: deps.minSubscriberMmi,
    strategy: deps.strategy,
    scanSegments: deps.scanSegments,
    maxUnitSize: deps.maxUnitSize,
    chains: deps.parallelism,
    coveringCells,
    segmentsForCells: deps.segmentsForCells,
    allSegments: deps.allSegments,
  });
  const chains = Math.min(deps.parallelism, plan.units.length);
  const saved = await savePlan(deps.events, quake, { ...plan, chains }, { acceptedAt, previousQuake: previous });
  if (!saved) return 'duplicate';
  const revision = saved.revision ?? 1;
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
    chains,
  });
  await startChains(quake.id, revision, chains, deps);
  result.planned.push({ eventId: quake.id, segments: plan.segments.length, chains, revision });
  return 'planned';
}

async function startChains(eventId: string, revision: number, chains: number, deps: ConsumeDeps) {
  await Promise.all(
    Array.from({ length: chains }, (_, chain) => deps.startChain({ eventId, chain, hop: 0, revision })),
  );
}

/**
 * A redelivered record whose plan was saved but whose chains may never have started (the consumer died between the
 * two): start them again. Harmless when they did start: chains claim segments atomically.
 */
async function restartIfNeverStarted(
  current: NonNullable<Awaited<ReturnType<typeof getEvent>>>,
  quake: Quake,
  deps: ConsumeDeps,
) {
  if (current.handledUpdatedAt !== quake.updatedAt || current.state !== 'planned' || (current.nextIndex ?? 0) > 0)
    return;
  const chains = current.chains ?? 0;
  if (chains > 0 && current.revision) {
    deps.log?.info('restarting chains of a planned event', { eventId: quake.id, chains });
    await startChains(quake.id, current.revision, chains, deps);
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
