/**
 * The fan-out rate this deployment reaches, measured on its own completed fan-outs and fed back to the planner
 * (`PlanInput.expectedRate`, shared/fanout/plan.ts `deferUnreachable`).
 *
 * A rate set by hand drifts from what the chains really do (load, receivers, parallelism), and the planner's deferral
 * gains only within about 1–2x of the true rate: too low, it defers segments that could have been warned, worse than
 * no deferral; too high, it defers less, and far too high nothing (the nearest-first order). Measured values therefore
 * combine by their maximum, and count only from fan-outs large enough that their rate is throughput, not first-alert
 * latency, measured over the bulk of the run, not its stragglers nor paced channels' tails (docs/scaling.md;
 * docs/fanout-benchmark.md, "A front that outruns the rate").
 *
 * Kept in the events table as one item, `eventId = "_quakectl#fanout-rate"`, `kind = "fanout-rate"`, without `state`
 * (as `_quakectl#scaling`, shared/scaling/history.ts): scans for events in progress, drills and unpublished
 * versions never see it. The segment worker that completes an event records it (the event, its plan and its unit locks
 * read, one conditional write; after the fan-out, never on a delivery's path); the consumer reads it beside the event
 * record before planning.
 */
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { EventStore } from '../events/store.ts';
import type { EventRecord } from '../events/types.ts';
import { isConditionFailed } from '../locks/errors.ts';

export const RATE_KEY = '_quakectl#fanout-rate';

/**
 * Eligible subscribers a fan-out must hold for its rate to count. Below it the rate measures first-alert latency and
 * the chains' start more than throughput: a 2,000-subscriber drill here gave 2,178–2,423/s where 50,000 gave
 * 11,107–15,647/s (docs/scaling.md), several times too low, the costly direction.
 */
export const MIN_RATE_SUBSCRIBERS = 10_000;
/** Seconds from the first delivery to `RATE_SHARE` sent a fan-out must span for its rate to count (shorter: noise). */
export const MIN_RATE_SECONDS = 1;
/** Observations kept per parallelism (newest first). */
export const RATE_HISTORY = 5;

/** Which completed fan-outs count (`measureRate`). */
export interface RateRule {
  /** Eligible subscribers (those the run was to notify) at least. */
  minSubscribers: number;
  /** Seconds from the first delivery to the measured share at least (and always more than 0). */
  minSeconds: number;
}

export const DEFAULT_RATE_RULE: RateRule = { minSubscribers: MIN_RATE_SUBSCRIBERS, minSeconds: MIN_RATE_SECONDS };

/**
 * The share of a run's eligible subscribers the rate is measured over: the chains' pace through the bulk of the plan,
 * not the last units, where a crashed worker's unit waits for its lease to run out and the sweep's stragglers are.
 */
export const RATE_SHARE = 0.9;

/** One completed fan-out's rate. */
export interface RateObservation {
  /** Eligible subscribers handed to their channels per second across all chains: `subscribers / seconds`. */
  rate: number;
  /** Eligible subscribers in the units finished when `RATE_SHARE` of the run's were (at least that share). */
  subscribers: number;
  /** Seconds from the first delivery to the last of those units' last batch. */
  seconds: number;
  eventId: string;
  drill: boolean;
  /** When it completed (ms since the epoch). */
  at: number;
}

/** One work unit's lock as the run left it (shared/locks `LockItem`). */
export interface UnitProgress {
  eligible?: number;
  /** When its last batch was handed to its channels (`finish`'s LockCounts.sentAt). */
  sentAt?: number;
  /** When the lock was last written (`finish`: after its paced sends settled): used when `sentAt` is absent. */
  updatedAt?: number;
}

/** The stored observations, newest first, by the number of chains that ran (`P4`: four chains). */
export type RateHistory = Record<string, RateObservation[]>;

/** The rate the planner is to use, and where it comes from. */
export interface ExpectedRate {
  /** Subscribers/s across all chains; 0: the deferral is off. */
  rate: number;
  source: 'measured' | 'setting' | 'off';
  /** The observations behind a measured rate (same parallelism; real events' when there are any), newest first. */
  observations: RateObservation[];
}

const chainsKey = (chains: number) => `P${chains}`;

/**
 * A completed event's rate (pure), or why it does not count: the chains' pace, eligible subscribers handed to their
 * channels per second, from the first delivery until the units holding `RATE_SHARE` of the eligible were sent (each
 * unit counted at its `sentAt`: webhooks acknowledged and paced channels dispatched, so an SMS or e-mail provider's
 * paced tail, which the planner's order does not wait for, is not the chains' rate).
 *
 * Counts only a first revision's geo alert run that completed with nothing failed: a re-plan's run delivers only to
 * those whose level rose, a cancellation to those already alerted, a scan reads the whole table in another order, and
 * a failing receiver holds a chain for its target budget (fanout.targetBudgetMs), which measures the receiver. And at
 * least `rule.minSubscribers` eligible over `rule.minSeconds` (default `MIN_RATE_SUBSCRIBERS`, `MIN_RATE_SECONDS`).
 *
 * @param event the event record after completion (shared/events/store.ts `tryComplete`)
 * @param units every work unit's lock (any order; units without a lock or without eligible subscribers add nothing)
 */
export function measureRate(
  event: MeasuredEvent,
  units: readonly UnitProgress[],
  rule: RateRule = DEFAULT_RATE_RULE,
): RateObservation | { skipped: string } {
  const skipped = unmeasurable(event);
  if (skipped !== undefined || event.firstDeliveryAt === undefined)
    return { skipped: skipped ?? 'no first delivery time' };
  const sent: { eligible: number; at: number }[] = [];
  for (const u of units) {
    const eligible = u.eligible ?? 0;
    if (eligible <= 0) continue;
    const at = u.sentAt ?? u.updatedAt;
    if (at === undefined) return { skipped: 'a unit without a time' };
    sent.push({ eligible, at });
  }
  const total = sent.reduce((n, u) => n + u.eligible, 0);
  if (total < rule.minSubscribers) return { skipped: `${total} eligible subscribers (< ${rule.minSubscribers})` };
  sent.sort((a, b) => a.at - b.at);
  let subscribers = 0;
  let until = event.firstDeliveryAt;
  for (const u of sent) {
    subscribers += u.eligible;
    until = u.at;
    if (subscribers >= RATE_SHARE * total) break;
  }
  const seconds = (until - event.firstDeliveryAt) / 1000;
  if (!(seconds > 0 && seconds >= rule.minSeconds))
    return { skipped: `${seconds} s from the first delivery to ${RATE_SHARE * 100}% sent (< ${rule.minSeconds} s)` };
  return {
    rate: Math.round(subscribers / seconds),
    subscribers,
    seconds: Math.round(seconds * 1000) / 1000,
    eventId: event.eventId,
    drill: event.quake?.drill === true,
    at: event.completedAt ?? until,
  };
}

/** What `measureRate` reads of the event record. */
export type MeasuredEvent = Pick<
  EventRecord,
  'eventId' | 'state' | 'revision' | 'mode' | 'strategy' | 'failed' | 'firstDeliveryAt' | 'completedAt'
> & { quake?: { drill?: boolean } };

/**
 * Why a completed event's run cannot give a rate, from the event record alone (pure; undefined: its units decide),
 * so the worker reads no locks for it. The rules of `measureRate`.
 */
export function unmeasurable(event: MeasuredEvent): string | undefined {
  if (event.state !== 'complete') return `state ${event.state ?? 'none'}`;
  if (event.revision !== 1) return `revision ${event.revision ?? 'none'} (a re-plan)`;
  if (event.mode === 'cancel') return 'a cancellation';
  if (event.strategy === 'scan') return 'the scan strategy';
  if ((event.failed ?? 0) > 0) return `${event.failed} failed notifications (a failing receiver's pace)`;
  if (event.firstDeliveryAt === undefined) return 'no first delivery time';
  return undefined;
}

/**
 * A measured rate stands for a fan-out up to this many times its own size: a larger one, when one of its size was
 * measured, plans with that one's (Vrancea drills of 46,000–87,000 eligible measured 20,462–22,777/s here, the
 * city's 1,000,000 runs ~15,000/s, and planning the million with a rate several times its own gives most of the
 * deferral's gain back: docs/scaling.md).
 */
export const RATE_SIZE_RATIO = 4;

/**
 * The rate to plan with (pure): `setting` 0 turns the deferral off whatever was measured; with `measure` on, the
 * largest of the observations made with the same number of chains, real events' when there are any (a drill's
 * receivers are not the real ones), and of those, when the plan's `subscribers` is given, the ones measured on a
 * fan-out at least 1/`RATE_SIZE_RATIO` of its size if there are any; else, or when none was made at this
 * parallelism, the setting. The largest: too low defers shards that could have been warned, worse than no deferral;
 * too high defers less, down to nothing.
 */
export function expectedRateFor(
  history: RateHistory | undefined,
  chains: number,
  setting: number,
  measure: boolean,
  subscribers?: number,
): ExpectedRate {
  if (setting === 0) return { rate: 0, source: 'off', observations: [] };
  const all = (measure && history?.[chainsKey(chains)]) || [];
  const real = all.filter((o) => !o.drill);
  const pool = real.length > 0 ? real : all;
  const comparable =
    subscribers === undefined ? [] : pool.filter((o) => o.subscribers * RATE_SIZE_RATIO >= subscribers);
  const observations = comparable.length > 0 ? comparable : pool;
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
