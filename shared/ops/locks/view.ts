/**
 * Operator views over helper "pipeline"'s segment locks (shared/locks): listing with lease remaining, and the
 * release decision. The lock protocol itself (conditions, versions) stays in shared/locks; this only decides whether
 * an operator's release is allowed: an expired lease always, a live one only when forced, a done segment never.
 */
import type { LockItem } from '../../locks/index.ts';

export interface LockRow {
  eventId: string;
  /** The event id without the plan revision suffix (`~r2`). */
  event: string;
  revision: number;
  segment: string;
  owner: string | null;
  state: string;
  /** ms until the lease expires; negative = expired that long ago. */
  leaseRemainingMs: number;
  stale: boolean;
  version: number;
  cursor: string | null;
  attempts: number;
  delivered: number;
  updatedAt: number;
}

export function splitRunId(runId: string): { event: string; revision: number } {
  const m = /^(.*)~r(\d+)$/.exec(runId);
  return m ? { event: m[1], revision: Number(m[2]) } : { event: runId, revision: 1 };
}

export function lockRow(item: LockItem, now: number): LockRow {
  const { event, revision } = splitRunId(item.eventId);
  const leaseRemainingMs = Number(item.leaseUntil ?? 0) - now;
  return {
    eventId: item.eventId,
    event,
    revision,
    segment: item.segment,
    owner: item.owner ?? null,
    state: item.state,
    leaseRemainingMs,
    stale: item.state !== 'done' && leaseRemainingMs < 0,
    version: Number(item.version ?? 0),
    // The contract says a JSON string; shared/locks stores the key as a map. Show both as JSON text.
    cursor: item.cursor == null ? null : typeof item.cursor === 'string' ? item.cursor : JSON.stringify(item.cursor),
    attempts: Number(item.attempts ?? 0),
    delivered: Number(item.delivered ?? 0),
    updatedAt: Number(item.updatedAt ?? 0),
  };
}

/** Pure: why a release must not happen, or undefined when it may. */
export function releaseRefusal(row: LockRow, force: boolean): string | undefined {
  if (row.state === 'done') return `segment ${row.segment} of ${row.eventId} is done: nothing to release`;
  if (!row.stale && !force) {
    return (
      `the lease of ${row.owner ?? '?'} on ${row.segment} is live for another ${Math.ceil(row.leaseRemainingMs / 1000)} s ` +
      '(a worker may be running): wait for it to expire, or pass --force to take it away (the worker stops at its next write)'
    );
  }
  return undefined;
}
