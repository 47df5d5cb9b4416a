/**
 * BatchWriteItem with its protocol handled: at most 25 requests per call, and `UnprocessedItems` (throttling, or
 * dynalite/DynamoDB partial success) resubmitted under the `unprocessed` retry policy (shared/infra/retry.ts) until
 * done or out of attempts.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { drainUnprocessed, RETRY_POLICIES, UnprocessedError } from '../infra/retry.ts';
import { chunk, mapLimit } from './concurrency.ts';
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
  const policy = { ...RETRY_POLICIES.unprocessed, ...(opts.maxAttempts ? { attempts: opts.maxAttempts } : {}) };
  await mapLimit(chunk(requests, MAX_BATCH), opts.concurrency ?? 16, async (batch) => {
    try {
      await drainUnprocessed(
        policy,
        batch,
        async (pending) => {
          const res = await ddb.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
          return (res.UnprocessedItems?.[table] as WriteRequest[] | undefined) ?? [];
        },
        `BatchWrite to ${table}`,
      );
    } catch (err) {
      if (err instanceof UnprocessedError) throw new SegmentStoreError(err.message, { cause: err });
      throw err;
    }
  });
}
