/**
 * SQS event source mapping, following AWS's documented behaviour: long-poll the queue, gather up to BatchSize messages
 * (10 per ReceiveMessage) within MaximumBatchingWindowInSeconds, invoke synchronously with the `aws:sqs` event
 * (`Records[]` with messageId, receiptHandle, body, attributes, messageAttributes, md5OfBody, eventSource,
 * eventSourceARN, awsRegion). On success the messages are deleted; on a function error they are left to reappear after
 * the visibility timeout, so the queue's own redrive policy (maxReceiveCount → its DLQ) applies. With
 * FunctionResponseTypes ReportBatchItemFailures, only the reported `batchItemFailures` stay. Throttles wait and retry.
 */
import {
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { LOCAL_REGION } from '../../shared/infra/clients.ts';
import { deliver } from './esm-delivery.ts';
import type { MappingConfig, Poller, PollerDeps } from './event-source-mappings.ts';

function sqsRecord(m: Message, arn: string) {
  const attrs: Record<
    string,
    {
      stringValue?: string;
      binaryValue?: string;
      stringListValues: string[];
      binaryListValues: string[];
      dataType?: string;
    }
  > = {};
  for (const [k, v] of Object.entries(m.MessageAttributes ?? {}) as [string, MessageAttributeValue][]) {
    attrs[k] = {
      ...(v.StringValue !== undefined ? { stringValue: v.StringValue } : {}),
      ...(v.BinaryValue !== undefined ? { binaryValue: Buffer.from(v.BinaryValue).toString('base64') } : {}),
      stringListValues: [],
      binaryListValues: [],
      dataType: v.DataType,
    };
  }
  return {
    messageId: m.MessageId,
    receiptHandle: m.ReceiptHandle,
    body: m.Body ?? '',
    attributes: m.Attributes ?? {},
    messageAttributes: attrs,
    md5OfBody: m.MD5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    awsRegion: LOCAL_REGION,
  };
}

export class SqsPoller implements Poller {
  readonly #m: MappingConfig;
  readonly #deps: PollerDeps;
  #running = false;
  #loop?: Promise<void>;

  constructor(m: MappingConfig, deps: PollerDeps) {
    this.#m = m;
    this.#deps = deps;
  }

  async start(): Promise<void> {
    const arn = this.#m.EventSourceArn!;
    const queueUrl = await this.#deps.destinations.queueUrl(arn);
    this.#running = true;
    this.#loop = this.#poll(queueUrl, arn);
  }

  async #poll(queueUrl: string, arn: string): Promise<void> {
    const sqs = this.#deps.clients.sqs;
    const batchSize = this.#m.BatchSize ?? 10;
    const windowMs = (this.#m.MaximumBatchingWindowInSeconds ?? 0) * 1000;
    while (this.#running) {
      const messages: Message[] = [];
      const started = Date.now();
      try {
        do {
          const out = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: queueUrl,
              MaxNumberOfMessages: Math.min(10, batchSize - messages.length),
              WaitTimeSeconds: messages.length ? 0 : 2,
              MessageSystemAttributeNames: ['All'],
              MessageAttributeNames: ['All'],
            }),
          );
          messages.push(...(out.Messages ?? []));
          if (!out.Messages?.length && messages.length) break;
        } while (
          this.#running &&
          messages.length < batchSize &&
          messages.length > 0 &&
          Date.now() - started < windowMs
        );
      } catch (err) {
        console.error(`lambda emulator: mapping ${this.#m.UUID}: receive failed: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (!messages.length) continue;
      const payload = JSON.stringify({ Records: messages.map((m) => sqsRecord(m, arn)) });
      const outcome = await deliver(this.#deps, payload, {
        functionName: this.#m.FunctionArn,
        maximumRetryAttempts: 0,
        oldestRecordMs: started,
        timeScale: this.#deps.timeScale,
        isRunning: () => this.#running,
      });
      let done = outcome.ok ? messages : [];
      if (outcome.ok && this.#m.FunctionResponseTypes?.includes('ReportBatchItemFailures')) {
        const failed = new Set(batchItemFailures(outcome.last?.payload));
        done = messages.filter((m) => !failed.has(m.MessageId ?? ''));
      }
      for (let i = 0; i < done.length; i += 10) {
        const entries = done.slice(i, i + 10).map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! }));
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries })).catch((err) => {
          console.error(`lambda emulator: mapping ${this.#m.UUID}: delete failed: ${(err as Error).message}`);
        });
      }
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }
}

function batchItemFailures(payload: string | undefined): string[] {
  try {
    const parsed = JSON.parse(payload ?? 'null') as { batchItemFailures?: { itemIdentifier?: string }[] } | null;
    return (parsed?.batchItemFailures ?? []).map((f) => f.itemIdentifier ?? '');
  } catch {
    return [];
  }
}
