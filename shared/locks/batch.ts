/** Reads the locks of many segments of one event at once (the sweep's view of a plan). */
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import type { LockStore } from './segment-lock.ts';
import { type LockItem, lockKey } from './types.ts';

/** Map segment → lock item (missing: never acquired). Consistent reads; unprocessed keys are retried. */
export async function getMany(store: LockStore, eventId: string, segments: string[]): Promise<Map<string, LockItem>> {
  const found = new Map<string, LockItem>();
  for (let i = 0; i < segments.length; i += 100) {
    let keys: Record<string, unknown>[] = segments.slice(i, i + 100).map((s) => ({ pk: lockKey(eventId, s) }));
    for (let attempt = 0; keys.length > 0; attempt++) {
      const out = await store.ddb.send(
        new BatchGetCommand({ RequestItems: { [store.table]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of (out.Responses?.[store.table] ?? []) as LockItem[]) found.set(item.segment, item);
      keys = (out.UnprocessedKeys?.[store.table]?.Keys ?? []) as Record<string, unknown>[];
      if (keys.length > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
    }
  }
  return found;
}
