/**
 * The events table: versions, plans and progress of each event. Every write is one conditional UpdateItem, so two
 * producers, a redelivered Kafka record or racing segment workers can never double-count or re-plan.
 *
 *   producer   acceptVersion   attribute_not_exists(retractedAt) AND (attribute_not_exists(eventId) OR updatedAt < :u
 *                                OR (updatedAt = :u AND published = :f))          ADD sources {source}
 *                              (refused: ADD sources {source} alone, so a retraction knows every reporting source)
 *              markPublished   updatedAt = :u
 *              retract         ADD retractedSources {s}; then, when retractedSources ⊇ sources:
 *                                attribute_not_exists(retractedAt) OR retractionPublished = :false
 *                                SET retractedAt, retraction, retractionPublished = false → produce → SET true
 *   consumer   savePlan        1. plan item `<eventId>#plan#<updatedAt>` (`#plan#cancel` for a cancellation): PutItem,
 *                                 attribute_not_exists(eventId) (immutable: a redelivery keeps the first plan of that
 *                                 version, the one workers may be running); when it already exists, it is read back
 *                                 and ITS units are counted, so `total` always matches the plan workers read
 *                              2. event: (attribute_not_exists(handledUpdatedAt) OR handledUpdatedAt < :u)
 *                                 AND attribute_not_exists(retractedAt) AND revision = :prev (absent for the first),
 *                                 SET planKey, revision = :prev + 1, runs = list_append(runs, [this run])
 *                                 (cancellation: attribute_not_exists(#mode) OR #mode <> :cancel instead of the
 *                                 handledUpdatedAt and retractedAt terms); directItems = min(chains, total):
 *                                 chain c begins work item c without a claim
 *   worker     claimNext       revision = :r                    ADD nextIndex 1 → the claimed index (work item
 *                                                               directItems + index)
 *              recordFirst     attribute_not_exists(firstDeliveryAt) OR firstDeliveryAt > :v   (once per invocation)
 *              unitDone        revision = :r AND NOT contains(doneUnits, :u)
 *                                [AND (attribute_not_exists(lastDeliveryAt) OR lastDeliveryAt < :l)]
 *                              ADD doneCount 1, doneUnits {u}, counts [SET lastDeliveryAt = :l]
 *                              (when only the time part fails, written again without it: still one count)
 *              tryComplete     revision = :r AND doneCount = total AND #state <> :complete
 *
 * The plan (segment keys, distances, counts, unit starts: tens of KB for a large footprint) lives in its own item,
 * written once by savePlan and read once per worker invocation (`getPlan`); the event item every chain writes stays
 * small (on AWS each write costs one WCU per KB of the item, and one item takes at most ~1,000 WCU/s). The hot writes
 * are the claim and one write per finished unit, each returning only what changed.
 * `doneUnits` is a number set bounded by the unit count (tens), not a growing set of segment keys.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailed } from '../locks/errors.ts';
import { publisherKey } from '../quake/publisher.ts';
import type { Quake } from '../quake/types.ts';
import { StaleRevisionError } from './errors.ts';
import type { EventPlan, EventRecord, RunMode, RunRecord } from './types.ts';

/** Key of the plan item of one version of an event (in the events table, beside the event; it has no `state`). */
export function planKey(eventId: string, updatedAt: number): string {
  return `${eventId}#plan#${updatedAt}`;
}

/** The plan an event record refers to (its own attributes for records saved before plan items). */
export async function getPlan(store: EventStore, event: EventRecord): Promise<EventPlan | undefined> {
  if (!event.planKey) {
    if (!event.plan) return undefined;
    return {
      plan: event.plan,
      planDistancesKm: event.planDistancesKm ?? [],
      planCounts: event.planCounts ?? [],
      units: event.units ?? event.plan.map((_, i) => i),
    };
  }
  const out = await store.ddb.send(
    new GetCommand({ TableName: store.table, Key: { eventId: event.planKey }, ConsistentRead: true }),
  );
  return out.Item as EventPlan | undefined;
}

export interface EventStore {
  ddb: DynamoDBDocumentClient;
  table: string;
  now?: () => number;
}

const clock = (s: EventStore) => (s.now ?? Date.now)();

export async function getEvent(store: EventStore, eventId: string): Promise<EventRecord | undefined> {
  const out = await store.ddb.send(new GetCommand({ TableName: store.table, Key: { eventId }, ConsistentRead: true }));
  return out.Item as EventRecord | undefined;
}

/**
 * Producer: records a version unless a newer (or the same, already published) one is known. Returns false for a
 * superseded or duplicate version. The same version may pass again while unpublished: a producer retry after a failed
 * produce must not lose the event.
 */
export async function acceptVersion(
  store: EventStore,
  quake: Quake,
  acceptedAt: number,
  /** The publisher of this version (the quake's `source` names the canonical id's publisher). */
  reportSource: string = quake.source,
): Promise<boolean> {
  const sources = new Set([publisherKey(reportSource)]);
  // A version dated when received (FDSN text has no update time) is new only if its content differs from what this
  // publisher sent last: the same row sent again is a duplicate, not a newer version.
  const dated = quake.updatedAtKnown === false;
  // (Or the stored version is still unpublished: a retry after a failed produce must go through.)
  const contentCondition = dated ? ' AND (attribute_not_exists(#rc) OR #rc <> :k OR published = :false)' : '';
  try {
    await store.ddb.send(
      new UpdateCommand({
        TableName: store.table,
        Key: { eventId: quake.id },
        ConditionExpression:
          'attribute_not_exists(retractedAt) AND (attribute_not_exists(eventId) OR updatedAt < :u OR ' +
          `(updatedAt = :u AND published = :false))${contentCondition}`,
        UpdateExpression:
          `SET quake = :q, updatedAt = :u, acceptedAt = :a, published = :false${dated ? ', #rc = :k' : ''} ` +
          'ADD sources :src',
        ...(dated ? { ExpressionAttributeNames: { '#rc': `content_${publisherKey(reportSource)}` } } : {}),
        ExpressionAttributeValues: {
          ':q': quake,
          ':u': quake.updatedAt,
          ':a': acceptedAt,
          ':false': false,
          ':src': sources,
          ...(dated ? { ':k': solutionKey(quake) } : {}),
        },
      }),
    );
    return true;
  } catch (err) {
    if (!isConditionFailed(err)) throw err;
  }
  // Superseded, but this source still reports the event: a retraction must hear from it too.
  await store.ddb.send(
    new UpdateCommand({
      TableName: store.table,
      Key: { eventId: quake.id },
      UpdateExpression: 'ADD sources :src',
      ExpressionAttributeValues: { ':src': sources },
    }),
  );
  return false;
}

/** What makes two solutions of one publisher the same: location, depth, magnitude, time, kind. */
function solutionKey(q: Quake): string {
  return [q.originTime, q.lat, q.lon, q.depthKm, q.magnitude, q.magType, q.kind].join('|');
}

export type RetractOutcome =
  /** Every reporting source withdrew it: publish the retraction (again, if an earlier produce failed). */
  | 'retracted'
  /** Already retracted and published. */
  | 'already'
  /** Other sources still report the event: nothing is cancelled. */
  | 'partial'
  /** No such event. */
  | 'unknown';

/**
 * Producer: records that `source` withdrew its report of `eventId` (canonical). The event counts as retracted only
 * when every source that reported it withdrew it (USGS deleting its duplicate of an EMSC event retracts nothing).
 * Returns what to do; 'retracted' means: produce the retraction message, then `markRetractionPublished`.
 */
export async function retract(
  store: EventStore,
  eventId: string,
  r: { source: string; reason: string; updatedAt: number },
  acceptedAt: number,
): Promise<RetractOutcome> {
  let item: EventRecord | undefined;
  try {
    const out = await store.ddb.send(
      new UpdateCommand({
        TableName: store.table,
        Key: { eventId },
        ConditionExpression: 'attribute_exists(eventId)',
        UpdateExpression: 'ADD retractedSources :s',
        ExpressionAttributeValues: { ':s': new Set([publisherKey(r.source)]) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    item = out.Attributes as EventRecord;
  } catch (err) {
    if (isConditionFailed(err)) return 'unknown';
    throw err;
  }
  const reporting = new Set([...(item.sources ?? [item.quake.source])].map(publisherKey));
  const withdrawn = new Set([...(item.retractedSources ?? [])].map(publisherKey));
  if (![...reporting].every((s) => withdrawn.has(s))) return 'partial';
  if (item.retractedAt !== undefined && item.retractionPublished !== false) return 'already';
  try {
    await store.ddb.send(
      new UpdateCommand({
        TableName: store.table,
        Key: { eventId },
        ConditionExpression: 'attribute_not_exists(retractedAt) OR retractionPublished = :false',
        UpdateExpression:
          'SET retractedAt = if_not_exists(retractedAt, :a), retraction = :r, retractionPublished = :false',
        ExpressionAttributeValues: { ':a': acceptedAt, ':r': { ...r, acceptedAt }, ':false': false },
      }),
    );
    return 'retracted';
  } catch (err) {
    if (isConditionFailed(err)) return 'already';
    throw err;
  }
}

export async function markRetractionPublished(store: EventStore, eventId: string): Promise<void> {
  await store.ddb.send(
    new UpdateCommand({
      TableName: store.table,
      Key: { eventId },
      UpdateExpression: 'SET retractionPublished = :true',
      ExpressionAttributeValues: { ':true': true },
    }),
  );
}

export async function markPublished(store: EventStore, eventId: string, updatedAt: number): Promise<void> {
  try {
    await store.ddb.send(
      new UpdateCommand({
        TableName: store.table,
        Key: { eventId },
        ConditionExpression: 'updatedAt = :u',
        UpdateExpression: 'SET published = :true',
        ExpressionAttributeValues: { ':u': updatedAt, ':true': true },
      }),
    );
  } catch (err) {
    // A newer version was accepted meanwhile: it carries its own flag.
    if (!isConditionFailed(err)) throw err;
  }
}

export interface PlanRecord {
  strategy: 'geo' | 'scan';
  segments: string[];
  /** Start index of each work unit in `segments` (absent: one unit per segment). */
  units?: number[];
  /** Subscribers per segment when planned (absent or 0: unknown). */
  counts?: number[];
  /** The near-field front: its pieces are work items too (`#total` counts pieces, then the units after the front). */
  front?: EventPlan['front'];
  distancesKm: number[];
  radiusKm: number;
  minMmi: number;
  chains: number;
}

export interface SavePlanOptions {
  acceptedAt?: number;
  /** The revision the caller read (undefined: none yet); the write is refused when another plan came in between. */
  expectedRevision?: number;
  /** `cancel`: the cancellation run after a retraction (one per event). Default `alert`. */
  mode?: RunMode;
}

/**
 * Consumer: stores a new plan for this version (or the event's cancellation), or returns undefined when this version
 * (or a newer one) was already handled, the event was retracted, or another plan was saved since `expectedRevision`:
 * the same Kafka record delivered twice plans once. The plan item is immutable; when it already exists (a consumer
 * that died between the two writes, then planned again from a changed segments table) the stored plan is read back and
 * its unit count is what the event records, so the count and the plan the workers run always agree.
 */
export async function savePlan(
  store: EventStore,
  quake: Quake,
  plan: PlanRecord,
  opts: SavePlanOptions = {},
): Promise<EventRecord | undefined> {
  const now = clock(store);
  const mode = opts.mode ?? 'alert';
  const key = mode === 'cancel' ? `${quake.id}#plan#cancel` : planKey(quake.id, quake.updatedAt);
  let units = plan.units ?? plan.segments.map((_, i) => i);
  let front = plan.front;
  try {
    await store.ddb.send(
      new PutCommand({
        TableName: store.table,
        Item: {
          eventId: key,
          kind: 'plan',
          strategy: plan.strategy,
          plan: plan.segments,
          planDistancesKm: plan.distancesKm,
          planCounts: plan.counts ?? [],
          units,
          ...(front ? { front } : {}),
          createdAt: now,
        },
        ConditionExpression: 'attribute_not_exists(eventId)',
      }),
    );
  } catch (err) {
    // This version was planned before (a redelivered record, or a consumer that died before step 2): keep that plan.
    if (!isConditionFailed(err)) throw err;
    const stored = await store.ddb.send(
      new GetCommand({ TableName: store.table, Key: { eventId: key }, ConsistentRead: true }),
    );
    const item = stored.Item as EventPlan | undefined;
    if (item) {
      units = item.units ?? item.plan.map((_, i) => i);
      front = item.front;
    }
  }
  const empty = units.length === 0;
  const chains = Math.min(plan.chains, units.length);
  // Work items (shared/fanout `workCount`): the front's pieces, then the units after it.
  const total = front ? front.pieces + units.length - front.units : units.length;
  const revision = (opts.expectedRevision ?? 0) + 1;
  const run: RunRecord = { revision, planKey: key, quake, mode, strategy: plan.strategy };
  const fresh =
    mode === 'cancel'
      ? '(attribute_not_exists(#mode) OR #mode <> :cancel)'
      : '(attribute_not_exists(handledUpdatedAt) OR handledUpdatedAt < :u) AND attribute_not_exists(retractedAt)';
  const sameRevision =
    opts.expectedRevision === undefined ? 'attribute_not_exists(revision)' : 'revision = :prevRevision';
  try {
    const out = await store.ddb.send(
      new UpdateCommand({
        TableName: store.table,
        Key: { eventId: quake.id },
        ConditionExpression: `${fresh} AND ${sameRevision}`,
        UpdateExpression:
          'SET quake = if_not_exists(quake, :q), plannedQuake = :q, ' +
          (mode === 'cancel' ? '' : 'handledUpdatedAt = :u, ') +
          'updatedAt = if_not_exists(updatedAt, :u), acceptedAt = if_not_exists(acceptedAt, :a), ' +
          'revision = :revision, #mode = :mode, runs = list_append(if_not_exists(runs, :none), :run), ' +
          '#state = :state, strategy = :strategy, ' +
          'planKey = :planKey, radiusKm = :radius, minMmi = :minMmi, chains = :chains, ' +
          '#total = :total, directItems = :direct, nextIndex = :zero, doneCount = :zero, eligible = :zero, delivered = :zero, ' +
          'failed = :zero, plannedAt = :now' +
          (empty ? ', completedAt = :now' : '') +
          ' REMOVE #plan, planDistancesKm, planCounts, units, doneSegments, doneUnits, firstDeliveryAt, ' +
          'lastDeliveryAt, previousQuake' +
          (empty ? '' : ', completedAt'),
        ExpressionAttributeNames: { '#state': 'state', '#plan': 'plan', '#total': 'total', '#mode': 'mode' },
        ExpressionAttributeValues: {
          ':q': quake,
          ':u': quake.updatedAt,
          ':a': opts.acceptedAt ?? now,
          ':zero': 0,
          ':revision': revision,
          ':mode': mode,
          ':none': [],
          ':run': [run],
          ':state': empty ? (mode === 'cancel' ? 'retracted' : 'complete') : 'planned',
          ':strategy': plan.strategy,
          ':planKey': key,
          ':radius': plan.radiusKm,
          ':minMmi': plan.minMmi,
          ':chains': chains,
          ':total': total,
          ':direct': Math.min(chains, total),
          ':now': now,
          ...(mode === 'cancel' ? { ':cancel': 'cancel' } : {}),
          ...(opts.expectedRevision === undefined ? {} : { ':prevRevision': opts.expectedRevision }),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return out.Attributes as EventRecord;
  } catch (err) {
    if (isConditionFailed(err)) return undefined;
    throw err;
  }
}

/**
 * Consumer: records a version it does not plan (not alertable, or an update under which no level rises). Returns false
 * when this version was already handled. `skip` marks a never-planned event as skipped, with the reason.
 */
export async function recordHandled(
  store: EventStore,
  quake: Quake,
  opts: { skip?: string; acceptedAt?: number } = {},
): Promise<boolean> {
  const now = clock(store);
  try {
    await store.ddb.send(
      new UpdateCommand({
        TableName: store.table,
        Key: { eventId: quake.id },
        ConditionExpression: 'attribute_not_exists(handledUpdatedAt) OR handledUpdatedAt < :u',
        UpdateExpression:
          'SET handledUpdatedAt = :u, quake = :q, updatedAt = if_not_exists(updatedAt, :u), ' +
          'acceptedAt = if_not_exists(acceptedAt, :a), handledAt = :now' +
          (opts.skip ? ', #state = if_not_exists(#state, :skipped), reason = :reason' : ''),
        ...(opts.skip ? { ExpressionAttributeNames: { '#state': 'state' } } : {}),
        ExpressionAttributeValues: {
          ':u': quake.updatedAt,
          ':q': quake,
          ':a': opts.acceptedAt ?? now,
          ':now': now,
          ...(opts.skip ? { ':skipped': 'skipped', ':reason': opts.skip } : {}),
        },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailed(err)) return false;
    throw err;
  }
}

/** Worker: claims the next plan index (atomic ADD). The index may be ≥ total: the plan is exhausted. */
export async function claimNext(store: EventStore, eventId: string, revision: number): Promise<number> {
  try {
    const out = await store.ddb.send(
      new UpdateCommand({
        TableName: store.table,
        Key: { eventId },
        ConditionExpression: 'revision = :r',
        UpdateExpression: 'ADD nextIndex :one',
        ExpressionAttributeValues: { ':r': revision, ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return (out.Attributes?.nextIndex as number) - 1;
  } catch (err) {
    if (isConditionFailed(err)) throw new StaleRevisionError(eventId, revision, { cause: err });
    throw err;
  }
}

/** Worker: the event is being delivered (first segment acquired). */
export async function markRunning(store: EventStore, eventId: string, revision: number): Promise<void> {
  try {
    await store.ddb.send(
      new UpdateCommand({
        TableName: store.table,
        Key: { eventId },
        ConditionExpression: 'revision = :r AND #state = :planned',
        UpdateExpression: 'SET #state = :running, startedAt = :now',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':r': revision,
          ':planned': 'planned',
          ':running': 'running',
          ':now': clock(store),
        },
      }),
    );
  } catch (err) {
    if (!isConditionFailed(err)) throw err;
  }
}

export interface SegmentTotals {
  eligible: number;
  delivered: number;
  failed: number;
  firstDeliveryAt?: number;
  lastDeliveryAt?: number;
}

/**
 * Worker: counts a finished unit into the event, once (a second call for the same unit is a no-op), and keeps the
 * latest delivery time in the same write; completes the event when it was the last unit (`total` units in the plan).
 * Returns true when this call completed the event. One write in the usual case: delivery times grow as units finish.
 */
export async function unitDone(
  store: EventStore,
  eventId: string,
  revision: number,
  unit: number,
  totals: SegmentTotals,
  total: number,
  finalState: 'complete' | 'retracted' = 'complete',
): Promise<boolean> {
  const base = {
    TableName: store.table,
    Key: { eventId },
    ReturnValues: 'UPDATED_NEW' as const,
  };
  const values = {
    ':r': revision,
    ':u': unit,
    ':us': new Set([unit]),
    ':one': 1,
    ':e': totals.eligible,
    ':d': totals.delivered,
    ':f': totals.failed,
  };
  const cond = 'revision = :r AND NOT contains(doneUnits, :u)';
  const add = 'ADD doneCount :one, doneUnits :us, eligible :e, delivered :d, failed :f';
  let doneCount: number | undefined;
  if (totals.lastDeliveryAt !== undefined) {
    try {
      const out = await store.ddb.send(
        new UpdateCommand({
          ...base,
          ConditionExpression: `${cond} AND (attribute_not_exists(lastDeliveryAt) OR lastDeliveryAt < :l)`,
          UpdateExpression: `SET lastDeliveryAt = :l ${add}`,
          ExpressionAttributeValues: { ...values, ':l': totals.lastDeliveryAt },
        }),
      );
      doneCount = out.Attributes?.doneCount as number;
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }
  if (doneCount === undefined) {
    try {
      const out = await store.ddb.send(
        new UpdateCommand({
          ...base,
          ConditionExpression: cond,
          UpdateExpression: add,
          ExpressionAttributeValues: values,
        }),
      );
      doneCount = out.Attributes?.doneCount as number;
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }
  if (totals.firstDeliveryAt !== undefined) await recordFirstDelivery(store, eventId, totals.firstDeliveryAt);
  if (doneCount !== undefined && doneCount >= total) return tryComplete(store, eventId, revision, finalState);
  return false;
}

/** Keeps the earliest first delivery time (a worker calls it once per invocation, after its first acknowledged batch). */
export async function recordFirstDelivery(store: EventStore, eventId: string, at: number): Promise<void> {
  await conditionalSet(store, eventId, 'firstDeliveryAt', at, '>');
}

/** Keeps the min (`>`: replace when the stored one is later) or max (`<`) of a time attribute. */
async function conditionalSet(store: EventStore, eventId: string, attr: string, value: number, op: '<' | '>') {
  try {
    await store.ddb.send(
      new UpdateCommand({
        TableName: store.table,
        Key: { eventId },
        ConditionExpression: `attribute_not_exists(#a) OR #a ${op} :v`,
        UpdateExpression: 'SET #a = :v',
        ExpressionAttributeNames: { '#a': attr },
        ExpressionAttributeValues: { ':v': value },
      }),
    );
  } catch (err) {
    if (!isConditionFailed(err)) throw err;
  }
}

/**
 * Marks the event complete (`retracted` after a cancellation run) when every work unit is done. True when this call
 * did it.
 */
export async function tryComplete(
  store: EventStore,
  eventId: string,
  revision: number,
  finalState: 'complete' | 'retracted' = 'complete',
): Promise<boolean> {
  try {
    await store.ddb.send(
      new UpdateCommand({
        TableName: store.table,
        Key: { eventId },
        ConditionExpression: 'revision = :r AND doneCount = #total AND #state <> :final',
        UpdateExpression: 'SET #state = :final, completedAt = :now',
        ExpressionAttributeNames: { '#state': 'state', '#total': 'total' },
        ExpressionAttributeValues: { ':r': revision, ':final': finalState, ':now': clock(store) },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailed(err)) return false;
    throw err;
  }
}
