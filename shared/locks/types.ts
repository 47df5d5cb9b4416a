/** The locks table's item (shared/infra/tables.ts `locks`), one per (event run, segment). */
export type LockState = 'running' | 'done' | 'failed';

/** A DynamoDB `LastEvaluatedKey` of the subscribers table: where to resume reading a segment. */
export type Cursor = Record<string, unknown>;

export interface LockItem {
  /** `<eventId>#<segment>`; the segment itself is `<h3cell>#<shard>`. */
  pk: string;
  eventId: string;
  segment: string;
  owner?: string;
  /** Epoch ms after which another worker may take the segment over. */
  leaseUntil: number;
  /** +1 on every acquisition: a holder's writes carry the version they acquired. */
  version: number;
  /** JSON of the last `LastEvaluatedKey` whose batch was delivered; absent at the start of a segment. */
  cursor?: string;
  state: LockState;
  attempts: number;
  delivered: number;
  updatedAt: number;
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
  delivered: number;
  /** True when this acquisition took over from an earlier holder (attempts > 1). */
  takeover: boolean;
}

export function lockKey(eventId: string, segment: string): string {
  return `${eventId}#${segment}`;
}
