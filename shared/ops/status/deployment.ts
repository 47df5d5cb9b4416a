/**
 * What `quakectl status` says about the deployment itself: which resources `quakectl deploy` creates are missing
 * (tables, topics, DLQs, functions) and which events were accepted but never published to Kafka.
 *
 * A missing resource makes other sections fail with the service's raw words (DynamoDB "Requested resource not found",
 * Kafka UNKNOWN_TOPIC_OR_PARTITION "This server does not host this topic-partition", SQS QueueDoesNotExist): those
 * notes are replaced by one line naming what is missing and the command that fixes it.
 */
import { paginateListTables } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import type { Clients } from '../../infra/clients.ts';
import { TABLES } from '../../infra/names.ts';
import { withAdmin } from '../kafka/admin.ts';

export interface MissingResource {
  kind: 'table' | 'topic' | 'queue' | 'function';
  name: string;
}

/** The command that creates every missing resource (it converges the deployment to the profile). */
export const DEPLOY_FIX = 'quakectl deploy';

/** Tables and topics `deploy` creates that do not exist (queues and functions come from their own sections). */
export async function missingStorage(clients: Clients): Promise<MissingResource[]> {
  const names = clients.config.names;
  const [tables, topics] = await Promise.all([
    (async () => {
      const all = new Set<string>();
      for await (const page of paginateListTables({ client: clients.dynamodb }, {})) {
        for (const t of page.TableNames ?? []) all.add(t);
      }
      return all;
    })(),
    withAdmin(clients.kafka, async (a) => new Set(await a.listTopics())),
  ]);
  return [
    ...TABLES.map((role) => names.table(role))
      .filter((t) => !tables.has(t))
      .map((name) => ({ kind: 'table' as const, name })),
    ...[names.eventsTopic, names.notificationsTopic]
      .filter((t) => !topics.has(t))
      .map((name) => ({ kind: 'topic' as const, name })),
  ];
}

/**
 * True for a service's "this resource does not exist" answer, classified by its error name or protocol type, never
 * by its text: DynamoDB/Lambda ResourceNotFoundException, SQS QueueDoesNotExist, Kafka UNKNOWN_TOPIC_OR_PARTITION.
 */
export function isMissingResourceError(err: unknown): boolean {
  for (
    let e = err as { name?: string; type?: string; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    depth++
  ) {
    if (e.name === 'ResourceNotFoundException' || e.name === 'QueueDoesNotExist') return true;
    if (e.name === 'AWS.SimpleQueueService.NonExistentQueue') return true;
    if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION') return true;
    e = e.cause as typeof e;
  }
  return false;
}

export interface UnpublishedEvent {
  eventId: string;
  magnitude?: number;
  place?: string;
  drill: boolean;
  /** When the producer accepted the version it could not publish (epoch ms). */
  acceptedAt?: number;
  updatedAt?: number;
}

/**
 * Events whose accepted version was never acknowledged by Kafka (`published = false`, shared/events/store.ts): the
 * producer wrote the version, then its produce failed. Oldest first. A full scan with a filter, as for events in
 * progress (shared/ops/events.ts): the events table holds thousands of items at most.
 */
export async function unpublishedEvents(ddb: DynamoDBDocumentClient, table: string): Promise<UnpublishedEvent[]> {
  const out: UnpublishedEvent[] = [];
  for await (const page of paginateScan(
    { client: ddb },
    {
      TableName: table,
      FilterExpression: '#p = :f',
      ExpressionAttributeNames: {
        '#p': 'published',
        '#e': 'eventId',
        '#q': 'quake',
        '#a': 'acceptedAt',
        '#u': 'updatedAt',
      },
      ExpressionAttributeValues: { ':f': false },
      ProjectionExpression: '#e, #a, #u, #q.magnitude, #q.place, #q.drill',
    },
  )) {
    for (const it of page.Items ?? []) {
      const q = (it.quake ?? {}) as { magnitude?: number; place?: string; drill?: boolean };
      out.push({
        eventId: it.eventId as string,
        magnitude: q.magnitude,
        place: q.place,
        drill: Boolean(q.drill),
        acceptedAt: it.acceptedAt as number | undefined,
        updatedAt: it.updatedAt as number | undefined,
      });
    }
  }
  return out.sort((a, b) => (a.acceptedAt ?? 0) - (b.acceptedAt ?? 0));
}
