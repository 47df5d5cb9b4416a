/** The locks table's item (shared/infra/tables.ts `locks`), one per (event run, work unit of the plan). */
/** `superseded`: frozen because a newer plan revision of the event took over (see `supersede`). */
export type LockState = 'running' | 'done' | 'failed' | 'superseded';

/**
 * Where to resume reading a unit: an opaque string the fan-out worker writes (today the JSON of
 * `{"shard": index within the unit, "key": the subscriber store's page cursor}`, see shared/fanout/worker.ts).
 */
export type Cursor = string;

/** Per-lock counters, accumulated across holders by checkpoints. */
export interface LockCounts {
  /** Notifications acknowledged by their channel. */
  delivered: number;
  /** Notifications that went to the delivery DLQ after retries. */
  failed?: number;
  /** Subscribers at or above their threshold (delivered + failed, plus any skipped). */
  eligible?: number;
  /**
   * `finish` only: epoch ms the unit's last batch was handed to its channels (webhooks acknowledged, paced channels
   * dispatched), the chain's own progress, before paced tails settle (shared/fanout/rate.ts measures with it).
   */
  sentAt?: number;
}

export interface LockItem {
  /** `<run id>#<unit key>`: the run is the event id (plus `~r<revision>` for a re-plan), the unit key names its shards. */
  pk: string;
  eventId: string;
  segment: string;
  owner?: string;
  /** Epoch ms after which another worker may take the segment over. */
  leaseUntil: number;
  /** +1 on every acquisition: a holder's writes carry the version they acquired. */
  version: number;
  /** Position after the last acknowledged batch (see `Cursor`); absent at the start of a unit. */
  cursor?: string;
  state: LockState;
  attempts: number;
  delivered: number;
  failed?: number;
  eligible?: number;
  updatedAt: number;
  /** Set by `finish` (LockCounts.sentAt): when the unit's last batch was handed to its channels. */
  sentAt?: number;
  error?: string;
}

/** What `acquire` hands the worker: the version it holds and where to resume. */
export interface Lease {
  pk: string;
  eventId: string;
  segment: string;
  owner: string;
  version: number;
  leaseUntil: number;
  /** Resume point (undefined: from the start of the segment). */
  cursor?: Cursor;
  attempts: number;
  /** Counts so far (from earlier holders too). */
  delivered: number;
  failed: number;
  eligible: number;
  /** True when this acquisition took over from an earlier holder (attempts > 1). */
  takeover: boolean;
}

export function lockKey(eventId: string, segment: string): string {
  return `${eventId}#${segment}`;
}
