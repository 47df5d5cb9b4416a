/**
 * Events in progress (state planned or running) from the events table, with how far each got: what `status` shows
 * and what the worker scaling rule counts as pending work units. A full scan with a filter: the events table holds an
 * item per quake, a plan item per planned version and one scaling-history item, thousands at most, so this stays cheap.
 */
import { type DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';

export interface ActiveEvent {
  eventId: string;
  state: string;
  magnitude?: number;
  place?: string;
  drill: boolean;
  total: number;
  done: number;
  pending: number;
  delivered: number;
  failed: number;
  acceptedAt?: number;
  firstDeliveryAt?: number;
  revision?: number;
}

export interface RecentEvent extends ActiveEvent {
  completedAt?: number;
  /** First delivery − accepted (ms): how fast the first alert went out. */
  firstLatencyMs?: number;
  /** Last delivery − accepted (ms). */
  lastLatencyMs?: number;
}

type Item = Record<string, unknown> & { quake?: { magnitude?: number; place?: string; drill?: boolean } };

function toEvent(it: Item): RecentEvent {
  const total = Number(it.total ?? 0);
  const done = Number(it.doneCount ?? 0);
  const acceptedAt = it.acceptedAt as number | undefined;
  const first = it.firstDeliveryAt as number | undefined;
  const last = it.lastDeliveryAt as number | undefined;
  return {
    eventId: it.eventId as string,
    state: (it.state as string | undefined) ?? 'unknown',
    magnitude: it.quake?.magnitude,
    place: it.quake?.place,
    drill: Boolean(it.quake?.drill),
    total,
    done,
    pending: Math.max(0, total - done),
    delivered: Number(it.delivered ?? 0),
    failed: Number(it.failed ?? 0),
    acceptedAt,
    firstDeliveryAt: first,
    revision: it.revision as number | undefined,
    completedAt: it.completedAt as number | undefined,
    firstLatencyMs: acceptedAt && first ? first - acceptedAt : undefined,
    lastLatencyMs: acceptedAt && last ? last - acceptedAt : undefined,
  };
}

const PROJECTED = [
  'eventId',
  'state',
  'total',
  'doneCount',
  'delivered',
  'failed',
  'acceptedAt',
  'firstDeliveryAt',
  'lastDeliveryAt',
  'completedAt',
  'revision',
];

async function scanEvents(ddb: DynamoDBDocumentClient, table: string, filter: string, values: Record<string, unknown>) {
  const out: RecentEvent[] = [];
  for await (const page of paginateScan(
    { client: ddb },
    {
      TableName: table,
      FilterExpression: filter,
      ExpressionAttributeNames: { ...Object.fromEntries(PROJECTED.map((a) => [`#${a}`, a])), '#q': 'quake' },
      ExpressionAttributeValues: values,
      // Every name aliased: several (state, total, failed…) are or may become DynamoDB reserved words.
      ProjectionExpression: [...PROJECTED.map((a) => `#${a}`), '#q.magnitude', '#q.place', '#q.drill'].join(', '),
    },
  )) {
    for (const it of page.Items ?? []) out.push(toEvent(it as Item));
  }
  return out;
}

export async function eventsInProgress(ddb: DynamoDBDocumentClient, table: string): Promise<ActiveEvent[]> {
  const events = await scanEvents(ddb, table, '#state IN (:planned, :running)', {
    ':planned': 'planned',
    ':running': 'running',
  });
  return events.sort((a, b) => (a.acceptedAt ?? 0) - (b.acceptedAt ?? 0));
}

/** Drills completed recently, newest first, with their latencies. */
export async function recentDrills(
  ddb: DynamoDBDocumentClient,
  table: string,
  sinceMs: number,
  limit = 5,
): Promise<RecentEvent[]> {
  const events = await scanEvents(ddb, table, '#state = :complete AND #q.drill = :t AND #completedAt >= :since', {
    ':complete': 'complete',
    ':t': true,
    ':since': sinceMs,
  });
  return events.sort((a, b) => (b.completedAt ?? 0) - (a.completedAt ?? 0)).slice(0, limit);
}
