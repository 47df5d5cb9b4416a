/**
 * Consumer-group lag, computed exactly. kafkajs gives offsets as strings (int64 does not fit a JS number in general);
 * `'-1'` means the group has committed nothing for that partition. Lag = high watermark − committed offset (the
 * committed offset is the next one to read). With nothing committed the group will start from the log start offset
 * (the event source mapping's TRIM_HORIZON), so lag = high − low, as KEDA's Kafka scaler does with
 * offsetResetPolicy=earliest.
 */
import type { Admin } from 'kafkajs';

export interface PartitionLag {
  partition: number;
  /** Next offset the group will read, or null when it has committed nothing. */
  committed: string | null;
  high: string;
  lag: number;
}

export interface GroupLag {
  group: string;
  topic: string;
  total: number;
  partitions: PartitionLag[];
}

export interface PartitionOffsets {
  partition: number;
  low: string;
  high: string;
}

/** Pure: lag of one partition as a BigInt, never negative (a committed offset past a truncated log counts as 0). */
export function partitionLag(committed: string | null, low: string, high: string): bigint {
  const h = BigInt(high);
  const from = committed === null || BigInt(committed) < 0n ? BigInt(low) : BigInt(committed);
  const lag = h - from;
  return lag > 0n ? lag : 0n;
}

/** BigInt → number, refusing silently wrong values (2^53 messages of lag is not a real situation, but be exact). */
export function toSafeNumber(v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`lag ${v} exceeds Number.MAX_SAFE_INTEGER`);
  return Number(v);
}

/** Pure: combines topic offsets and the group's committed offsets into the `kafka lag` JSON shape. */
export function computeGroupLag(
  group: string,
  topic: string,
  offsets: PartitionOffsets[],
  committed: Map<number, string>,
): GroupLag {
  let total = 0n;
  const partitions = [...offsets]
    .sort((a, b) => a.partition - b.partition)
    .map((o) => {
      const c = committed.get(o.partition);
      const committedOffset = c === undefined || BigInt(c) < 0n ? null : c;
      const lag = partitionLag(committedOffset, o.low, o.high);
      total += lag;
      return { partition: o.partition, committed: committedOffset, high: o.high, lag: toSafeNumber(lag) };
    });
  return { group, topic, total: toSafeNumber(total), partitions };
}

export async function fetchGroupLag(admin: Admin, group: string, topic: string): Promise<GroupLag> {
  const [offsets, groupOffsets] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId: group, topics: [topic] }),
  ]);
  const committed = new Map<number, string>();
  for (const t of groupOffsets) {
    if (t.topic !== topic) continue;
    for (const p of t.partitions) committed.set(p.partition, p.offset);
  }
  return computeGroupLag(
    group,
    topic,
    offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high })),
    committed,
  );
}
