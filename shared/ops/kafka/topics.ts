/** Topic listing and description through the kafkajs admin client (one per command, from the client factory). */
import type { Admin } from 'kafkajs';

export interface TopicSummary {
  topic: string;
  partitions: number;
  messages: number;
}

export interface PartitionDescription {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  low: string;
  high: string;
  messages: number;
}

export interface TopicDescription {
  topic: string;
  partitions: PartitionDescription[];
}

export async function listTopics(admin: Admin, includeInternal = false): Promise<TopicSummary[]> {
  const names = (await admin.listTopics()).filter((t) => includeInternal || !t.startsWith('__')).sort();
  return Promise.all(
    names.map(async (topic) => {
      const d = await describeTopic(admin, topic);
      return { topic, partitions: d.partitions.length, messages: d.partitions.reduce((s, p) => s + p.messages, 0) };
    }),
  );
}

export async function describeTopic(admin: Admin, topic: string): Promise<TopicDescription> {
  const [meta, offsets] = await Promise.all([
    admin.fetchTopicMetadata({ topics: [topic] }),
    admin.fetchTopicOffsets(topic),
  ]);
  const byPartition = new Map(offsets.map((o) => [o.partition, o]));
  const partitions = (meta.topics[0]?.partitions ?? [])
    .map((p) => {
      const o = byPartition.get(p.partitionId);
      const low = o?.low ?? '0';
      const high = o?.high ?? '0';
      return {
        partition: p.partitionId,
        leader: p.leader,
        replicas: p.replicas,
        isr: p.isr,
        low,
        high,
        messages: Number(BigInt(high) - BigInt(low)),
      };
    })
    .sort((a, b) => a.partition - b.partition);
  return { topic, partitions };
}

/** Partition count of a topic (0 when it does not exist). */
export async function partitionCount(admin: Admin, topic: string): Promise<number> {
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]?.partitions.length ?? 0;
  } catch {
    return 0;
  }
}
