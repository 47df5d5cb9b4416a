/**
 * BatchWriteItem with its protocol handled: at most 25 requests per call, and `UnprocessedItems` (throttling, or
 * dynalite/DynamoDB partial success) retried with exponential backoff and full jitter until done or out of attempts.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { chunk, mapLimit, sleep } from './concurrency.ts';
import { SegmentStoreError } from './errors.ts';

export type WriteRequest =
  | { PutRequest: { Item: Record<string, unknown> } }
  | { DeleteRequest: { Key: Record<string, unknown> } };

const MAX_BATCH = 25;

export async function batchWriteAll(
  ddb: DynamoDBDocumentClient,
  table: string,
  requests: WriteRequest[],
  opts: { concurrency?: number; maxAttempts?: number } = {},
): Promise<void> {
  const maxAttempts = opts.maxAttempts ?? 10;
  await mapLimit(chunk(requests, MAX_BATCH), opts.concurrency ?? 16, async (batch) => {
    let pending = batch;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > maxAttempts) {
        throw new SegmentStoreError(
          `BatchWrite to ${table}: ${pending.length} items still unprocessed after ${maxAttempts} attempts`,
        );
      }
      if (attempt > 1) await sleep(Math.random() * Math.min(2000, 25 * 2 ** attempt));
      const res = await ddb.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (res.UnprocessedItems?.[table] as WriteRequest[] | undefined) ?? [];
    }
  });
}
