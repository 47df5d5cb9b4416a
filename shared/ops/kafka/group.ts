/**
 * Which consumer group is "the consumer's": the Kafka event source mapping of the consumer function on the events
 * topic. AWS uses the mapping's UUID as the group id unless one is configured (SelfManagedKafkaEventSourceConfig /
 * AmazonManagedKafkaEventSourceConfig .ConsumerGroupId); the local emulator does the same.
 */
import {
  type EventSourceMappingConfiguration,
  type LambdaClient,
  ListEventSourceMappingsCommand,
} from '@aws-sdk/client-lambda';
import type { Kafka } from 'kafkajs';
import { ConfigError } from '../../infra/errors.ts';

export function consumerGroupOf(m: EventSourceMappingConfiguration): string | undefined {
  return (
    m.SelfManagedKafkaEventSourceConfig?.ConsumerGroupId ||
    m.AmazonManagedKafkaEventSourceConfig?.ConsumerGroupId ||
    m.UUID
  );
}

export async function listKafkaMappings(
  lambda: LambdaClient,
  functionName: string,
): Promise<EventSourceMappingConfiguration[]> {
  const out: EventSourceMappingConfiguration[] = [];
  let Marker: string | undefined;
  do {
    const page = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: functionName, Marker }));
    out.push(...(page.EventSourceMappings ?? []));
    Marker = page.NextMarker;
  } while (Marker);
  return out;
}

/** The mapping of `functionName` that reads `topic`, or undefined. */
export async function findTopicMapping(
  lambda: LambdaClient,
  functionName: string,
  topic: string,
): Promise<EventSourceMappingConfiguration | undefined> {
  const mappings = await listKafkaMappings(lambda, functionName);
  return mappings.find((m) => (m.Topics ?? []).includes(topic));
}

export async function defaultConsumerGroup(lambda: LambdaClient, functionName: string, topic: string): Promise<string> {
  let mapping: EventSourceMappingConfiguration | undefined;
  try {
    mapping = await findTopicMapping(lambda, functionName, topic);
  } catch (err) {
    throw new ConfigError(
      `cannot list the event source mappings of ${functionName} to find its consumer group (pass --group)`,
      { cause: err },
    );
  }
  const group = mapping && consumerGroupOf(mapping);
  if (!group) {
    throw new ConfigError(
      `no Kafka event source mapping of ${functionName} reads ${topic}: deploy first, or pass --group`,
    );
  }
  return group;
}

/**
 * Waits until consumer group `group` is `Stable` with at least one member (Kafka DescribeGroups), polling every
 * `everyMs`: an event source mapping created moments ago has a Kafka consumer that is still joining its group, and a
 * record produced meanwhile waits for the join (the mapping starts from TRIM_HORIZON, so it is delayed, not lost).
 * Resolves true when stable, false when `timeoutMs` passed first; a describe that fails counts as not yet stable.
 */
export async function waitForGroupMembers(
  kafka: Kafka,
  group: string,
  opts: { timeoutMs: number; everyMs?: number },
): Promise<boolean> {
  const admin = kafka.admin();
  const end = Date.now() + opts.timeoutMs;
  try {
    await admin.connect();
    for (;;) {
      const described = await admin.describeGroups([group]).catch(() => undefined);
      const g = described?.groups.find((x) => x.groupId === group);
      if (g?.state === 'Stable' && g.members.length > 0) return true;
      if (Date.now() >= end) return false;
      await new Promise((r) => setTimeout(r, opts.everyMs ?? 100));
    }
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
