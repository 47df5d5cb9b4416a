/**
 * When each scaling target last changed (for cooldowns), shared by `scale apply` and the autoscaler function. Kept
 * in the events table as one item, `eventId = "_quakectl#scaling"`, `kind = "scaling-history"`, without `state`, so
 * scans for events in progress never see it. Writes merge one target at a time (SET history.#t = :v).
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ScalingHistory } from './engine.ts';

export const HISTORY_KEY = '_quakectl#scaling';

export async function readHistory(ddb: DynamoDBDocumentClient, table: string): Promise<ScalingHistory> {
  const out = await ddb.send(new GetCommand({ TableName: table, Key: { eventId: HISTORY_KEY }, ConsistentRead: true }));
  return (out.Item?.history as ScalingHistory | undefined) ?? {};
}

export async function recordChange(
  ddb: DynamoDBDocumentClient,
  table: string,
  target: string,
  value: number,
  at: number,
): Promise<void> {
  // Two steps because DynamoDB cannot SET a nested path under a map that does not exist yet.
  await ddb.send(
    new UpdateCommand({
      TableName: table,
      Key: { eventId: HISTORY_KEY },
      UpdateExpression: 'SET history = if_not_exists(history, :empty), kind = :kind',
      ExpressionAttributeValues: { ':empty': {}, ':kind': 'scaling-history' },
    }),
  );
  await ddb.send(
    new UpdateCommand({
      TableName: table,
      Key: { eventId: HISTORY_KEY },
      UpdateExpression: 'SET history.#t = :v',
      ExpressionAttributeNames: { '#t': target },
      ExpressionAttributeValues: { ':v': { at, value } },
    }),
  );
}
