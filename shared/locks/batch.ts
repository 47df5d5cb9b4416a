/** Reads the locks of many segments of one event at once (the sweep's view of a plan). */
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { drainUnprocessed, RETRY_POLICIES } from '../infra/retry.ts';
import type { LockStore } from './segment-lock.ts';
import { type LockItem, lockKey } from './types.ts';

/**
 * Map segment → lock item (missing: never acquired). Consistent reads; UnprocessedKeys are resubmitted under the
 * `unprocessed` retry policy (bounded: throws UnprocessedError when keys are still left).
 */
export async function getMany(store: LockStore, eventId: string, segments: string[]): Promise<Map<string, LockItem>> {
  const found = new Map<string, LockItem>();
  for (let i = 0; i < segments.length; i += 100) {
    const keys = segments.slice(i, i + 100).map((s) => ({ pk: lockKey(eventId, s) }) as Record<string, unknown>);
    await drainUnprocessed(
      RETRY_POLICIES.unprocessed,
      keys,
      async (pending) => {
        const out = await store.ddb.send(
          new BatchGetCommand({ RequestItems: { [store.table]: { Keys: pending, ConsistentRead: true } } }),
        );
        for (const item of (out.Responses?.[store.table] ?? []) as LockItem[]) found.set(item.segment, item);
        return (out.UnprocessedKeys?.[store.table]?.Keys ?? []) as Record<string, unknown>[];
      },
      `BatchGet from ${store.table}`,
    );
  }
  return found;
}
