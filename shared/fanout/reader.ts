/**
 * The worker's subscriber reader over shared/segments' SubscriberStore. Segment pages are read with the hash key name
 * aliased (`segment` is a DynamoDB reserved word, which the store's own Query at b974288 does not alias); scan pages
 * come from the store as they are. Cursors are the same opaque JSON of LastEvaluatedKey in both.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { InvalidCursorError, type SubscriberStore, subscriberFromItem } from '../segments/index.ts';
import type { ReadPageOptions, SegmentPage } from '../segments/types.ts';
import type { SubscriberReader } from './types.ts';

export function subscriberReader(store: SubscriberStore): SubscriberReader {
  const table = store.names.table('subscribers');
  return {
    scanPages: (opts) => store.scanPages(opts),
    async readSegmentPage(key: string, opts: ReadPageOptions = {}): Promise<SegmentPage> {
      const res = await store.ddb.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: '#segment = :s',
          ExpressionAttributeNames: { '#segment': 'segment' },
          ExpressionAttributeValues: { ':s': key },
          Limit: opts.limit ?? 500,
          ExclusiveStartKey: decodeCursor(opts.cursor),
        }),
      );
      return {
        items: (res.Items ?? []).map(subscriberFromItem),
        cursor: res.LastEvaluatedKey ? JSON.stringify(res.LastEvaluatedKey) : undefined,
      };
    },
  };
}

function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const v = JSON.parse(cursor) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch (err) {
    throw new InvalidCursorError(`invalid cursor: ${cursor.slice(0, 80)}`, { cause: err });
  }
  throw new InvalidCursorError(`invalid cursor: ${cursor.slice(0, 80)}`);
}
