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
