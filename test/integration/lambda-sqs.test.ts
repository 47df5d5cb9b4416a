/**
 * SQS event source mappings against the local stack's SQS: batches delivered in the aws:sqs event shape and deleted
 * after success; on failure the messages return after the visibility timeout and the queue's redrive policy moves
 * them to its DLQ; ReportBatchItemFailures keeps only the reported messages.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  DeleteEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, ROLE, startHarness, uniqueName, zipHandler } from '../fixtures/lambda/harness.ts';
import { localClients, localStack } from '../helpers/stack.ts';

const clients = localClients();
const scratch = mkdtempSync(join(tmpdir(), 'quakectl-lambda-sqs-'));
const queues: string[] = [];
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sqsEndpoint: localStack().sqs.endpoint });
});

afterAll(async () => {
  await h?.close();
  for (const q of queues) await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: q })).catch(() => {});
  clients.destroy();
  rmSync(scratch, { recursive: true, force: true });
});

async function queue(prefix: string, attributes: Record<string, string> = {}) {
  const url = (
    await clients.sqs.send(new CreateQueueCommand({ QueueName: uniqueName(prefix), Attributes: attributes }))
  ).QueueUrl!;
  queues.push(url);
  const arn = (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })))
    .Attributes!.QueueArn!;
  return { url, arn };
}

async function fn(env: Record<string, string>) {
  const name = uniqueName('sqs-fn');
  await h.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: zipHandler('record.mjs', 'index.mjs') },
      Environment: { Variables: env },
    }),
  );
  return name;
}

function records(file: string): { body: string; eventSource: string; eventSourceARN: string; messageId: string }[] {
  try {
    return readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => JSON.parse(l).Records);
  } catch {
    return [];
  }
}

async function count(url: string, attr: 'ApproximateNumberOfMessages' | 'ApproximateNumberOfMessagesNotVisible') {
  const a = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [attr] }));
  return Number(a.Attributes?.[attr] ?? 0);
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('SQS event source mapping', () => {
  it('delivers batches in the aws:sqs shape and deletes them after success', async () => {
    const q = await queue('lambda-src');
    const out = join(scratch, `${uniqueName('ok')}.jsonl`);
    const name = await fn({ OUT_FILE: out });
    await clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: q.url,
        Entries: Array.from({ length: 7 }, (_, i) => ({ Id: String(i), MessageBody: `m${i}` })),
      }),
    );
    const m = await h.lambda.send(
      new CreateEventSourceMappingCommand({ FunctionName: name, EventSourceArn: q.arn, BatchSize: 5 }),
    );
    expect(m.$metadata.httpStatusCode).toBe(202);
    expect(m.BatchSize).toBe(5);
    await until(() => records(out).length >= 7);
    const got = records(out);
    expect(got.map((r) => r.body).sort()).toEqual(Array.from({ length: 7 }, (_, i) => `m${i}`));
    expect(got[0]).toMatchObject({ eventSource: 'aws:sqs', eventSourceARN: q.arn });
    await until(
      async () =>
        (await count(q.url, 'ApproximateNumberOfMessages')) +
          (await count(q.url, 'ApproximateNumberOfMessagesNotVisible')) ===
        0,
    );
    await h.lambda.send(new DeleteEventSourceMappingCommand({ UUID: m.UUID }));
  });

  it('leaves failed messages to the queue, whose redrive policy moves them to its DLQ', async () => {
    const dlq = await queue('lambda-src-dlq');
    const q = await queue('lambda-src-redrive', {
      VisibilityTimeout: '1',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }),
    });
    const out = join(scratch, `${uniqueName('fail')}.jsonl`);
    const name = await fn({ OUT_FILE: out, FAIL: 'always' });
    await clients.sqs.send(
      new SendMessageBatchCommand({ QueueUrl: q.url, Entries: [{ Id: 'a', MessageBody: 'poison' }] }),
    );
    const m = await h.lambda.send(
      new CreateEventSourceMappingCommand({ FunctionName: name, EventSourceArn: q.arn, BatchSize: 1 }),
    );
    let body: string | undefined;
    await until(async () => {
      const r = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.url, WaitTimeSeconds: 1 }));
      body = r.Messages?.[0]?.Body;
      return Boolean(body);
    });
    expect(body).toBe('poison');
    expect(records(out).length).toBeGreaterThanOrEqual(2);
    await h.lambda.send(new DeleteEventSourceMappingCommand({ UUID: m.UUID }));
  });
});
