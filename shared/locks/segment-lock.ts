/**
 * Segment locks: lease + optimistic version + cursor (system.md section 6).
 *
 * One item per (event run, work unit) in the locks table: `segment` names the unit (its first segment key, `+n` for
 * the n segments after it; a one-segment unit is that segment) and `cursor` is the unit's resume point, the JSON
 * `{"shard": i, "key": <LastEvaluatedKey JSON>}` (shard i of the unit, key absent = from its start). Every transition is ONE conditional UpdateItem; nothing reads
 * before it writes, so there is no window between a check and a write. The lease is the liveness rule (a crashed
 * holder's segment becomes takeable when `leaseUntil` passes); the version is the safety rule (a holder's writes
 * carry the version it acquired, and any later acquisition bumps it, so a stale holder's write is refused even if
 * clocks disagree). Leases are seconds long, clock skew milliseconds.
 *
 * Timeline (A and B are workers, L the lease length):
 *
 *   t0      A acquire      UpdateItem pk = E#S
 *                          condition  attribute_not_exists(pk) OR (#state <> :done AND leaseUntil < :now)
 *                          update     SET owner = A, leaseUntil = t0 + L, #state = running, eventId, segment,
 *                                         version = if_not_exists(version, 0) + 1, attempts = if_not_exists(…) + 1
 *                          → ALL_NEW: version v, cursor c (absent: start of segment)
 *   t0+     B acquire      same condition fails (A's lease has not expired) → LockHeldError; B moves on
 *   t1      A checkpoint   after each batch the channel acknowledged:
 *                          condition  owner = :me AND version = :v
 *                          update     SET cursor = LastEvaluatedKey, leaseUntil = t1 + L,
 *                                     ADD delivered d, failed f, eligible e
 *           A heartbeat    same condition, SET leaseUntil = now + L (long batches without a checkpoint)
 *   t2      A finish       the last batch's checkpoint and complete in one write:
 *                          condition  owner = :me AND version = :v
 *                          update     SET #state = done, ADD delivered d, failed f, eligible e
 *                          (`complete`: same condition, SET #state = done only)
 *           …from here on, every acquire fails on `#state <> :done` → SegmentDoneError.
 *
 *   Crash:  A dies after its checkpoint at t1 (a batch may be in flight, delivered but not checkpointed).
 *   t1+L+   B acquire      condition holds (leaseUntil < now) → version v+1, resumes from A's cursor: only the batch
 *                          in flight is delivered twice, with the same idempotency keys.
 *   later   A wakes up     A checkpoint: version = v fails (item is at v+1) → LeaseLostError; A stops at once.
 *
 *   Hand-off (domino, A's time budget runs low mid-segment): condition owner/version, SET leaseUntil = now − 1: A's
 *           successor acquires at once (expired, version + 1) and resumes from the cursor.
 *   Fail:   holder gives up (e.g. a read keeps failing): condition owner/version, SET #state = failed,
 *           leaseUntil = now: immediately takeable again by the sweep, attempts tells how often it was tried.
 *   Release (operator, `quakectl locks release`): condition version = :v AND #state <> :done,
 *           SET leaseUntil = 0, version + 1, REMOVE owner: the holder loses its lease at its next write.
 *
 *   Supersede (consumer, when a newer plan revision of the event takes over: an update or a retraction). For every
 *           unit of the older run, done ones excepted:
 *                          condition  attribute_not_exists(pk) OR #state <> :done
 *                          update     SET #state = superseded, leaseUntil = 0, version + 1 REMOVE owner
 *           A holder loses its lease at its next write (the batch in flight is the only one delivered under the old
 *           version without a checkpoint); nobody can acquire the unit again (acquire also requires
 *           #state <> :superseded), and a unit never started gets a superseded item, so a straggler of the old run
 *           cannot start it. The older run's coverage is thereby frozen: done units, and each superseded unit up to
 *           its cursor — exactly what the notification ledger (shared/fanout/ledger.ts) counts as already sent.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  type GetCommandOutput,
  paginateScan,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mapLimit } from '../segments/concurrency.ts';
import {
  isConditionFailed,
  LeaseLostError,
  LockHeldError,
  RunSupersededError,
  SegmentDoneError,
  StaleVersionError,
} from './errors.ts';
import { type Cursor, type Lease, type LockCounts, type LockItem, lockKey } from './types.ts';

export interface LockStore {
  ddb: DynamoDBDocumentClient;
  table: string;
  /** Injectable clock (epoch ms). */
  now?: () => number;
}

const clock = (s: LockStore) => (s.now ?? Date.now)();

export interface AcquireInput {
  eventId: string;
  segment: string;
  owner: string;
  leaseMs: number;
}

export async function acquire(store: LockStore, input: AcquireInput): Promise<Lease> {
  const pk = lockKey(input.eventId, input.segment);
  const now = clock(store);
  try {
    const out = await store.ddb.send(
      new UpdateCommand({
        TableName: store.table,
        Key: { pk },
        ConditionExpression:
          'attribute_not_exists(pk) OR (#state <> :done AND #state <> :superseded AND leaseUntil < :now)',
        UpdateExpression:
          'SET eventId = :e, #segment = :s, #owner = :me, leaseUntil = :until, #state = :running, updatedAt = :now, ' +
          'version = if_not_exists(version, :zero) + :one, attempts = if_not_exists(attempts, :zero) + :one, ' +
          'delivered = if_not_exists(delivered, :zero) REMOVE #error',
        ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner', '#error': 'error', '#segment': 'segment' },
        ExpressionAttributeValues: {
          ':e': input.eventId,
          ':s': input.segment,
          ':me': input.owner,
          ':until': now + input.leaseMs,
          ':running': 'running',
          ':done': 'done',
          ':superseded': 'superseded',
          ':now': now,
          ':zero': 0,
          ':one': 1,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const item = out.Attributes as LockItem;
    return {
      pk,
      eventId: input.eventId,
      segment: input.segment,
      owner: input.owner,
      version: item.version,
      leaseUntil: item.leaseUntil,
      cursor: item.cursor,
      attempts: item.attempts,
      delivered: item.delivered ?? 0,
      failed: item.failed ?? 0,
      eligible: item.eligible ?? 0,
      takeover: item.attempts > 1,
    };
  } catch (err) {
    if (!isConditionFailed(err)) throw err;
    // Only to say why: the decision was already made by the condition.
    const current = await get(store, input.eventId, input.segment);
    if (current?.state === 'done') throw new SegmentDoneError(pk, { cause: err });
    if (current?.state === 'superseded') throw new RunSupersededError(pk, { cause: err });
    throw new LockHeldError(pk, current?.owner, current?.leaseUntil, { cause: err });
  }
}

/** A write under the lease: condition `owner = :me AND version = :v`, or LeaseLostError. */
async function underLease(
  store: LockStore,
  lease: Lease,
  update: string,
  values: Record<string, unknown>,
  names: Record<string, string> = {},
): Promise<void> {
  try {
    await store.ddb.send(
      new UpdateCommand({
        TableName: store.table,
        Key: { pk: lease.pk },
        ConditionExpression: '#owner = :me AND version = :v',
        UpdateExpression: update,
        ExpressionAttributeNames: { '#owner': 'owner', ...names },
        ExpressionAttributeValues: { ':me': lease.owner, ':v': lease.version, ...values },
      }),
    );
  } catch (err) {
    if (isConditionFailed(err)) throw new LeaseLostError(lease.pk, lease.owner, lease.version, { cause: err });
    throw err;
  }
}

/** Extends the lease. */
export async function heartbeat(store: LockStore, lease: Lease, leaseMs: number): Promise<void> {
  const now = clock(store);
  await underLease(store, lease, 'SET leaseUntil = :until, updatedAt = :now', { ':until': now + leaseMs, ':now': now });
  lease.leaseUntil = now + leaseMs;
}

/**
 * Records that everything up to `cursor` was handled (call after the channel acknowledged the batch, or after it went
 * to the delivery DLQ), adds the batch's counts and extends the lease. `cursor` undefined = the segment's last page.
 */
export async function checkpoint(
  store: LockStore,
  lease: Lease,
  cursor: Cursor | undefined,
  counts: LockCounts,
  leaseMs: number,
): Promise<void> {
  const now = clock(store);
  const values: Record<string, unknown> = {
    ':until': now + leaseMs,
    ':now': now,
    ':d': counts.delivered,
    ':f': counts.failed ?? 0,
    ':e': counts.eligible ?? 0,
  };
  const add = 'ADD delivered :d, failed :f, eligible :e';
  if (cursor) {
    values[':c'] = cursor;
    await underLease(store, lease, `SET #cursor = :c, leaseUntil = :until, updatedAt = :now ${add}`, values, {
      '#cursor': 'cursor',
    });
  } else {
    await underLease(store, lease, `SET leaseUntil = :until, updatedAt = :now ${add}`, values);
  }
  lease.cursor = cursor;
  lease.leaseUntil = now + leaseMs;
  lease.delivered += counts.delivered;
  lease.failed += counts.failed ?? 0;
  lease.eligible += counts.eligible ?? 0;
}

/** Marks the segment done for this event. */
export async function complete(store: LockStore, lease: Lease): Promise<void> {
  const now = clock(store);
  await underLease(
    store,
    lease,
    'SET #state = :done, updatedAt = :now',
    { ':done': 'done', ':now': now },
    { '#state': 'state' },
  );
}

/**
 * The last batch's checkpoint and `complete` in one write: adds the batch's counts and marks the unit done (same
 * condition, owner and version), so a finished unit costs one lock write instead of two.
 */
export async function finish(store: LockStore, lease: Lease, counts: LockCounts): Promise<void> {
  const now = clock(store);
  const sent = counts.sentAt !== undefined;
  await underLease(
    store,
    lease,
    `SET #state = :done, updatedAt = :now${sent ? ', sentAt = :sent' : ''} ADD delivered :d, failed :f, eligible :e`,
    {
      ':done': 'done',
      ':now': now,
      ':d': counts.delivered,
      ':f': counts.failed ?? 0,
      ':e': counts.eligible ?? 0,
      ...(sent ? { ':sent': counts.sentAt } : {}),
    },
    { '#state': 'state' },
  );
  lease.delivered += counts.delivered;
  lease.failed += counts.failed ?? 0;
  lease.eligible += counts.eligible ?? 0;
}

/**
 * Ends the holder's lease now, keeping state and cursor: the domino's hand-over of a half-read segment to a successor,
 * which acquires it at once (its lease has expired) and resumes from the cursor.
 */
export async function handOff(store: LockStore, lease: Lease): Promise<void> {
  const now = clock(store);
  await underLease(store, lease, 'SET leaseUntil = :now, updatedAt = :now', { ':now': now - 1 });
}

/** Gives the segment up as failed; its lease ends now so the sweep can retry it (attempts counts the tries). */
export async function fail(store: LockStore, lease: Lease, reason: string): Promise<void> {
  const now = clock(store);
  await underLease(
    store,
    lease,
    'SET #state = :failed, leaseUntil = :now, updatedAt = :now, #error = :reason',
    { ':failed': 'failed', ':now': now, ':reason': reason.slice(0, 1000) },
    { '#state': 'state', '#error': 'error' },
  );
}

/**
 * Operator's forced release (`quakectl locks release`): only at the version the operator saw, never a done segment.
 * Bumps the version so the holder's next write fails, and ends the lease so the next sweep takes the segment over.
 */
export async function release(store: LockStore, pk: string, version: number): Promise<void> {
  const now = clock(store);
  try {
    await store.ddb.send(
      new UpdateCommand({
        TableName: store.table,
        Key: { pk },
        ConditionExpression: 'version = :v AND #state <> :done',
        UpdateExpression: 'SET leaseUntil = :zero, version = version + :one, updatedAt = :now REMOVE #owner',
        ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner' },
        ExpressionAttributeValues: { ':v': version, ':done': 'done', ':zero': 0, ':one': 1, ':now': now },
      }),
    );
  } catch (err) {
    if (isConditionFailed(err)) throw new StaleVersionError(pk, version, { cause: err });
    throw err;
  }
}

/**
 * Freezes an older run of an event when a newer plan revision takes over (see "Supersede" above): every unit in
 * `segments` (unit keys of that run) that is not done becomes `superseded`, and its holder, if any, loses its lease.
 * Idempotent. Returns how many units it superseded (done ones are left as they are).
 */
export async function supersede(store: LockStore, eventId: string, segments: readonly string[]): Promise<number> {
  const now = clock(store);
  const outcomes = await mapLimit([...segments], 16, async (segment) => {
    try {
      await store.ddb.send(
        new UpdateCommand({
          TableName: store.table,
          Key: { pk: lockKey(eventId, segment) },
          ConditionExpression: 'attribute_not_exists(pk) OR #state <> :done',
          UpdateExpression:
            'SET #state = :superseded, leaseUntil = :zero, updatedAt = :now, eventId = :e, #segment = :s, ' +
            'version = if_not_exists(version, :zero) + :one, attempts = if_not_exists(attempts, :zero), ' +
            'delivered = if_not_exists(delivered, :zero) REMOVE #owner',
          ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner', '#segment': 'segment' },
          ExpressionAttributeValues: {
            ':done': 'done',
            ':superseded': 'superseded',
            ':zero': 0,
            ':one': 1,
            ':now': now,
            ':e': eventId,
            ':s': segment,
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  });
  return outcomes.filter(Boolean).length;
}

export async function get(store: LockStore, eventId: string, segment: string): Promise<LockItem | undefined> {
  const out: GetCommandOutput = await store.ddb.send(
    new GetCommand({ TableName: store.table, Key: { pk: lockKey(eventId, segment) }, ConsistentRead: true }),
  );
  return out.Item as LockItem | undefined;
}

export interface ListFilter {
  eventId?: string;
  state?: LockItem['state'];
  /** Only unexpired running leases (held now) or only expired non-done ones (takeable now). */
  lease?: 'held' | 'expired';
}

/** Every lock matching the filter (a Scan: for operators, `quakectl locks`; workers use `getMany` on their plan). */
export async function list(store: LockStore, filter: ListFilter = {}): Promise<LockItem[]> {
  const now = clock(store);
  const conds: string[] = [];
  const values: Record<string, unknown> = {};
  const names: Record<string, string> = {};
  if (filter.eventId) {
    conds.push('eventId = :e');
    values[':e'] = filter.eventId;
  }
  if (filter.state) {
    conds.push('#state = :st');
    values[':st'] = filter.state;
    names['#state'] = 'state';
  }
  if (filter.lease === 'held') {
    conds.push('#state = :running AND leaseUntil >= :now');
    Object.assign(values, { ':running': 'running', ':now': now });
    names['#state'] = 'state';
  } else if (filter.lease === 'expired') {
    conds.push('#state <> :done AND leaseUntil < :now');
    Object.assign(values, { ':done': 'done', ':now': now });
    names['#state'] = 'state';
  }
  const items: LockItem[] = [];
  const pages = paginateScan(
    { client: store.ddb },
    {
      TableName: store.table,
      ...(conds.length
        ? {
            FilterExpression: conds.join(' AND '),
            ExpressionAttributeValues: values,
            ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
          }
        : {}),
    },
  );
  for await (const page of pages) items.push(...((page.Items ?? []) as LockItem[]));
  return items.sort((a, b) => a.pk.localeCompare(b.pk));
}
