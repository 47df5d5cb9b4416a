/**
 * The DLQs and how to look at them without consuming them. A peek receives with a short visibility timeout and
 * releases every message at once (ChangeMessageVisibility 0), so producers of redrives and other operators see the
 * queue unchanged; only the receive count moves.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { QuakectlError, UsageError } from '../../infra/errors.ts';
import { DLQ_KINDS, type DlqKind, type FunctionRole, type ResourceNames } from '../../infra/names.ts';

export interface DlqRef {
  /** Queue name. */
  queue: string;
  kind: DlqKind | 'other';
  url: string;
}

export class QueueNotFoundError extends QuakectlError {
  readonly queue: string;
  constructor(queue: string, options?: ErrorOptions) {
    super(
      `queue ${queue} does not exist: name a DLQ by kind (${DLQ_KINDS.join(', ')}), or an existing queue's name or URL ` +
        '(a kind that does not exist yet: run quakectl deploy)',
      options,
    );
    this.name = 'QueueNotFoundError';
    this.queue = queue;
  }
}

/** The function whose failures a DLQ kind holds (delivery holds notification batches, not invocations). */
export const DLQ_FUNCTION: Record<DlqKind, FunctionRole | undefined> = {
  producer: 'producer',
  consumer: 'consumer',
  worker: 'segment-worker',
  delivery: undefined,
};

/** `QUEUE` as an operator types it: a kind (`delivery`), a queue name or a queue URL. */
export async function resolveDlq(sqs: SQSClient, names: ResourceNames, queue: string): Promise<DlqRef> {
  let name = queue;
  let kind: DlqRef['kind'] = 'other';
  if ((DLQ_KINDS as readonly string[]).includes(queue)) {
    kind = queue as DlqKind;
    name = names.dlq(kind);
  } else {
    if (/^https?:\/\//.test(queue)) name = queue.slice(queue.lastIndexOf('/') + 1);
    kind = DLQ_KINDS.find((k) => names.dlq(k) === name) ?? 'other';
  }
  try {
    const out = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    return { queue: name, kind, url: out.QueueUrl ?? '' };
  } catch (err) {
    if (
      (err as { name?: string }).name?.includes('NonExistentQueue') ||
      (err as { name?: string }).name === 'QueueDoesNotExist'
    ) {
      throw new QueueNotFoundError(name, { cause: err });
    }
    throw err;
  }
}

export interface DlqDepth {
  queue: string;
  kind: DlqKind;
  depth: number;
  /** Received by someone and not yet deleted or released. */
  inFlight: number;
  exists: boolean;
}

export async function queueDepth(
  sqs: SQSClient,
  url: string,
): Promise<{ depth: number; inFlight: number; arn: string }> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'QueueArn'],
    }),
  );
  return {
    depth: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
    arn: out.Attributes?.QueueArn ?? '',
  };
}

/** The four DLQs with their depths; a queue that is not deployed is listed with `exists: false` and depth 0. */
export async function listDlqs(sqs: SQSClient, names: ResourceNames): Promise<DlqDepth[]> {
  return Promise.all(
    DLQ_KINDS.map(async (kind) => {
      const queue = names.dlq(kind);
      try {
        const ref = await resolveDlq(sqs, names, kind);
        const d = await queueDepth(sqs, ref.url);
        return { queue, kind, depth: d.depth, inFlight: d.inFlight, exists: true };
      } catch (err) {
        if (err instanceof QueueNotFoundError) return { queue, kind, depth: 0, inFlight: 0, exists: false };
        throw err;
      }
    }),
  );
}

export interface ReceiveOptions {
  /** Visibility while we hold a message (seconds). */
  visibility?: number;
  max?: number;
}

/** Receives up to `max` distinct messages (10 per call), each invisible for `visibility` seconds. */
export async function receiveAll(sqs: SQSClient, url: string, opts: ReceiveOptions = {}): Promise<Message[]> {
  const max = opts.max ?? Number.POSITIVE_INFINITY;
  const seen = new Map<string, Message>();
  for (let empty = 0; seen.size < max && empty < 2; ) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: Math.min(10, max - seen.size),
        VisibilityTimeout: opts.visibility ?? 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const fresh = (out.Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
    // A message seen before came back (its visibility ran out): keep the newest receipt handle, it is the valid one.
    for (const m of out.Messages ?? []) if (m.MessageId) seen.set(m.MessageId, m);
    // Empty answers can be sampling artefacts on SQS: stop after two in a row.
    empty = fresh.length === 0 ? empty + 1 : 0;
  }
  return [...seen.values()];
}

/** Makes the messages visible again at once. */
export async function release(sqs: SQSClient, url: string, messages: Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10).filter((m) => m.ReceiptHandle);
    if (chunk.length === 0) continue;
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
      }),
    );
  }
}

/** Reads the queue without consuming it. */
export async function peek(sqs: SQSClient, url: string, max?: number): Promise<Message[]> {
  const messages = await receiveAll(sqs, url, { visibility: 10, max });
  await release(sqs, url, messages);
  return messages;
}

export async function purge(sqs: SQSClient, url: string): Promise<void> {
  await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
}

export function requireNonNegativeInt(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 0))
    throw new UsageError(`${name} must be a non-negative integer`);
}
