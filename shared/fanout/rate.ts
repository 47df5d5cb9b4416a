/**
 * The fan-out rate this deployment reaches, measured on its own completed fan-outs and fed back to the planner
 * (`PlanInput.expectedRate`, shared/fanout/plan.ts `deferUnreachable`).
 *
 * A rate set by hand drifts from what the chains really do (load, receivers, parallelism), and the planner's deferral
 * gains only within about 1–2x of the true rate: too low, it defers segments that could have been warned (costly);
 * too high, it defers nothing (the nearest-first order, no worse than the deferral off). Measured values therefore
 * combine by their maximum, and only fan-outs large enough that their rate is throughput, not first-alert latency,
 * count (docs/fanout-benchmark.md, "A front that outruns the rate"; docs/scaling.md).
 *
 * Kept in the events table as one item, `eventId = "_quakectl#fanout-rate"`, `kind = "fanout-rate"`, without `state`
 * (as `_quakectl#scaling`, shared/scaling/history.ts): scans for events in progress, drills and unpublished
 * versions never see it. The segment worker that completes an event records it (one read and one conditional write,
 * after the fan-out, never on a delivery's path); the consumer reads it beside the event record before planning.
 */
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { EventStore } from '../events/store.ts';
import type { EventRecord } from '../events/types.ts';
import { isConditionFailed } from '../locks/errors.ts';

export const RATE_KEY = '_quakectl#fanout-rate';

/**
 * Planned subscribers a fan-out must hold for its rate to count. Below it the rate measures first-alert latency and
 * the chains' start more than throughput: a 2,000-subscriber drill here gave 2,178–2,423/s where 50,000 gave
 * 11,107–15,647/s (docs/scaling.md), several times too low, the costly direction.
 */
export const MIN_RATE_SUBSCRIBERS = 10_000;
/** Seconds between first and last delivery a fan-out must span for its rate to count (shorter: timer noise). */
export const MIN_RATE_SECONDS = 1;
/** Observations kept per parallelism (newest first). */
export const RATE_HISTORY = 5;

/** Which completed fan-outs count (`measureRate`). */
export interface RateRule {
  /** Planned subscribers at least. */
  minSubscribers: number;
  /** Seconds from first to last delivery at least (and always more than 0). */
  minSeconds: number;
}

export const DEFAULT_RATE_RULE: RateRule = { minSubscribers: MIN_RATE_SUBSCRIBERS, minSeconds: MIN_RATE_SECONDS };

/** One completed fan-out's rate. */
export interface RateObservation {
  /** Planned subscribers per second, first to last delivery: the planner's unit (`PlanInput.expectedRate`). */
  rate: number;
  /** Subscribers the plan held (the sum of its segments' counts). */
  subscribers: number;
  /** Seconds from the first to the last delivery. */
  seconds: number;
  eventId: string;
  drill: boolean;
  /** When it completed (ms since the epoch). */
  at: number;
}

/** The stored observations, newest first, by the number of chains that ran (`P4`: four chains). */
export type RateHistory = Record<string, RateObservation[]>;

/** The rate the planner is to use, and where it comes from. */
export interface ExpectedRate {
  /** Subscribers/s across all chains; 0: the deferral is off. */
  rate: number;
  source: 'measured' | 'setting' | 'off';
  /** The observations behind a measured rate (same parallelism), newest first. */
  observations: RateObservation[];
}

const chainsKey = (chains: number) => `P${chains}`;

/**
 * A completed event's rate (pure), or why it does not count. Counts only a first revision's alert run that completed,
 * with both delivery times recorded, at least `rule.minSubscribers` planned subscribers and `rule.minSeconds`
 * between its first and last delivery (default `MIN_RATE_SUBSCRIBERS`, `MIN_RATE_SECONDS`): a re-plan's run delivers only to those whose level rose, a cancellation to
 * those already alerted, and neither is the chains' throughput.
 *
 * @param event the event record after completion (shared/events/store.ts `tryComplete`)
 * @param plannedSubscribers the sum of the plan's segment counts (`EventPlan.planCounts`; 0 when unknown, as for scan)
 */
export function measureRate(
  event: Pick<
    EventRecord,
    'eventId' | 'state' | 'revision' | 'mode' | 'firstDeliveryAt' | 'lastDeliveryAt' | 'completedAt'
  > & { quake?: { drill?: boolean } },
  plannedSubscribers: number,
  rule: RateRule = DEFAULT_RATE_RULE,
): RateObservation | { skipped: string } {
  if (event.state !== 'complete') return { skipped: `state ${event.state ?? 'none'}` };
  if (event.revision !== 1) return { skipped: `revision ${event.revision ?? 'none'} (a re-plan)` };
  if (event.mode === 'cancel') return { skipped: 'a cancellation' };
  if (event.firstDeliveryAt === undefined || event.lastDeliveryAt === undefined)
    return { skipped: 'no delivery times' };
  if (plannedSubscribers < rule.minSubscribers)
    return { skipped: `${plannedSubscribers} planned subscribers (< ${rule.minSubscribers})` };
  const seconds = (event.lastDeliveryAt - event.firstDeliveryAt) / 1000;
  if (!(seconds > 0 && seconds >= rule.minSeconds))
    return { skipped: `${seconds} s from first to last delivery (< ${rule.minSeconds} s)` };
  return {
    rate: Math.round(plannedSubscribers / seconds),
    subscribers: plannedSubscribers,
    seconds: Math.round(seconds * 1000) / 1000,
    eventId: event.eventId,
    drill: event.quake?.drill === true,
    at: event.completedAt ?? event.lastDeliveryAt,
  };
}

/**
 * The rate to plan with (pure): `setting` 0 turns the deferral off whatever was measured; with `measure` on, the
 * largest of the observations made with the same number of chains (too high defers nothing, too low defers the
 * warnable: the max errs on the harmless side); else, or when none was made at this parallelism, the setting.
 */
export function expectedRateFor(
  history: RateHistory | undefined,
  chains: number,
  setting: number,
  measure: boolean,
): ExpectedRate {
  if (setting === 0) return { rate: 0, source: 'off', observations: [] };
  const observations = (measure && history?.[chainsKey(chains)]) || [];
  const best = observations.reduce((m, o) => Math.max(m, o.rate), 0);
  if (best > 0) return { rate: best, source: 'measured', observations };
  return { rate: setting, source: 'setting', observations: [] };
}

/** The stored observations (empty when none was recorded). Errors: the DynamoDB client's. */
export async function readRateHistory(store: EventStore): Promise<RateHistory> {
  const out = await store.ddb.send(
    new GetCommand({ TableName: store.table, Key: { eventId: RATE_KEY }, ConsistentRead: true }),
  );
  return (out.Item?.rates as RateHistory | undefined) ?? {};
}

/**
 * Adds an observation for `chains` chains, keeping the newest `RATE_HISTORY` (an event already recorded is not
 * added twice). A read and a PutItem conditional on the item's version (optimistic, as the segment locks): two
 * completers racing retry; gives up after five conflicts and returns false. Errors: the DynamoDB client's.
 */
export async function recordRate(store: EventStore, chains: number, obs: RateObservation): Promise<boolean> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const out = await store.ddb.send(
      new GetCommand({ TableName: store.table, Key: { eventId: RATE_KEY }, ConsistentRead: true }),
    );
    const version = (out.Item?.version as number | undefined) ?? 0;
    const rates = { ...((out.Item?.rates as RateHistory | undefined) ?? {}) };
    const key = chainsKey(chains);
    const kept = rates[key] ?? [];
    if (kept.some((o) => o.eventId === obs.eventId)) return true;
    rates[key] = [obs, ...kept].slice(0, RATE_HISTORY);
    try {
      await store.ddb.send(
        new PutCommand({
          TableName: store.table,
          Item: { eventId: RATE_KEY, kind: 'fanout-rate', rates, version: version + 1 },
          ConditionExpression: version === 0 ? 'attribute_not_exists(eventId)' : 'version = :v',
          ...(version === 0 ? {} : { ExpressionAttributeValues: { ':v': version } }),
        }),
      );
      return true;
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }
  return false;
}

/**
 * Removes every observation (`quakectl scale set --forget-rate`): a recorder racing it finds the item gone and writes
 * a new one with its observation alone. Errors: the DynamoDB client's.
 */
export async function forgetRates(store: EventStore): Promise<void> {
  await store.ddb.send(new DeleteCommand({ TableName: store.table, Key: { eventId: RATE_KEY } }));
}
