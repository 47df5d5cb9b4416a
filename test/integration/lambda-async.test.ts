/**
 * Asynchronous invocation against the local stack's SQS: DLQ messages with RequestID/ErrorCode/ErrorMessage, the
 * OnFailure invocation record after retries, and durability of accepted events across an emulator restart. The
 * emulator runs in-process with --time-scale 0.01 (AWS's 1 and 2 minute retry delays become 0.6 s and 1.2 s).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  GetFunctionCommand,
  InvokeCommand,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, ROLE, startHarness, uniqueName, zipHandler } from '../fixtures/lambda/harness.ts';
import { localClients, localStack } from '../helpers/stack.ts';

const clients = localClients();
const queues: string[] = [];
let h: Harness;
const scratch = mkdtempSync(join(tmpdir(), 'quakectl-lambda-async-'));

beforeAll(async () => {
  h = await startHarness({ sqsEndpoint: localStack().sqs.endpoint, timeScale: 0.01 });
});

afterAll(async () => {
  await h?.close();
  for (const q of queues) await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: q })).catch(() => {});
  clients.destroy();
  rmSync(scratch, { recursive: true, force: true });
});

async function queue(prefix: string): Promise<{ url: string; arn: string }> {
  const url = (await clients.sqs.send(new CreateQueueCommand({ QueueName: uniqueName(prefix) }))).QueueUrl!;
  queues.push(url);
  const attrs = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return { url, arn: attrs.Attributes!.QueueArn! };
}

async function receiveOne(url: string, timeoutMs = 30_000): Promise<Message> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const out = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
        MaxNumberOfMessages: 1,
      }),
    );
    if (out.Messages?.length) return out.Messages[0];
  }
  throw new Error(`no message on ${url} within ${timeoutMs} ms`);
}

async function createFn(
  harness: Harness,
  fixture: string,
  extra: Partial<ConstructorParameters<typeof CreateFunctionCommand>[0]> = {},
) {
  const name = uniqueName('async');
  await harness.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs24.x',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: zipHandler(fixture, 'index.mjs') },
      ...extra,
    }),
  );
  return name;
}

async function invokeEvent(harness: Harness, name: string, event: unknown) {
  return harness.lambda.send(
    new InvokeCommand({ FunctionName: name, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)) }),
  );
}

function lines(file: string): unknown[] {
  try {
    return readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('async invoke', () => {
  it('accepts with 202 and runs the function', async () => {
    const out = join(scratch, `${uniqueName('ok')}.jsonl`);
    const name = await createFn(h, 'record.mjs', { Environment: { Variables: { OUT_FILE: out } } });
    const r = await invokeEvent(h, name, { n: 1 });
    expect(r.StatusCode).toBe(202);
    await until(() => lines(out).length === 1);
    expect(lines(out)[0]).toEqual({ n: 1 });
  });

  it('sends a failing event with MaximumRetryAttempts 0 to the DLQ with RequestID, ErrorCode and ErrorMessage', async () => {
    const dlq = await queue('lambda-dlq');
    const name = await createFn(h, 'fail.mjs', { DeadLetterConfig: { TargetArn: dlq.arn } });
    await h.lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: name, MaximumRetryAttempts: 0 }));
    const r = await invokeEvent(h, name, { quake: 'dlq' });
    expect(r.StatusCode).toBe(202);
    const msg = await receiveOne(dlq.url);
    expect(JSON.parse(msg.Body!)).toEqual({ quake: 'dlq' });
    expect(msg.MessageAttributes?.RequestID).toMatchObject({ DataType: 'String', StringValue: r.$metadata.requestId });
    expect(msg.MessageAttributes?.ErrorCode).toMatchObject({ DataType: 'Number', StringValue: '200' });
    expect(msg.MessageAttributes?.ErrorMessage).toMatchObject({
      DataType: 'String',
      StringValue: 'boom from fail handler',
    });
  });

  it('retries with scaled AWS delays, then sends the invocation record to the OnFailure destination', async () => {
    const dest = await queue('lambda-onfailure');
    const name = await createFn(h, 'fail.mjs');
    await h.lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: name,
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: dest.arn } },
      }),
    );
    const started = Date.now();
    const r = await invokeEvent(h, name, { quake: 'onfailure' });
    const record = JSON.parse((await receiveOne(dest.url)).Body!);
    // 60 s + 120 s at time scale 0.01.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1800);
    expect(record).toMatchObject({
      version: '1.0',
      requestContext: {
        requestId: r.$metadata.requestId,
        functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}:$LATEST`,
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      },
      requestPayload: { quake: 'onfailure' },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'TypeError', errorMessage: 'boom from fail handler' },
    });
    expect(Date.parse(record.timestamp)).toBeGreaterThan(started);
  });

  it('drops events older than MaximumEventAgeInSeconds to the destination with EventAgeExceeded', async () => {
    const dest = await queue('lambda-age');
    const name = await createFn(h, 'fail.mjs');
    // 60 s max age = 600 ms at this time scale; the first retry comes 600 ms after the failure: too old by then.
    await h.lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: name,
        MaximumEventAgeInSeconds: 60,
        DestinationConfig: { OnFailure: { Destination: dest.arn } },
      }),
    );
    await invokeEvent(h, name, { quake: 'old' });
    const record = JSON.parse((await receiveOne(dest.url)).Body!);
    expect(record.requestContext.condition).toBe('EventAgeExceeded');
    expect(record.requestContext.approximateInvokeCount).toBe(1);
  });

  it('keeps accepted events and function definitions across an emulator restart', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'quakectl-lambda-restart-'));
    const out = join(scratch, `${uniqueName('restart')}.jsonl`);
    const first = await startHarness({ stateDir, sqsEndpoint: localStack().sqs.endpoint, timeScale: 0.01 });
    const name = await createFn(first, 'record.mjs', { Environment: { Variables: { OUT_FILE: out } } });
    // Reserved 0: every attempt is throttled, so the accepted events wait in the queue.
    await first.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: 0 }));
    for (let i = 0; i < 3; i++) expect((await invokeEvent(first, name, { i })).StatusCode).toBe(202);
    await first.close({ keepState: true });
    expect(lines(out)).toHaveLength(0);

    const second = await startHarness({ stateDir, sqsEndpoint: localStack().sqs.endpoint, timeScale: 0.01 });
    try {
      expect(
        (await second.lambda.send(new GetFunctionCommand({ FunctionName: name }))).Concurrency
          ?.ReservedConcurrentExecutions,
      ).toBe(0);
      await second.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: name }));
      await until(() => lines(out).length === 3, 30_000);
      expect((lines(out) as { i: number }[]).map((e) => e.i).sort()).toEqual([0, 1, 2]);
    } finally {
      await second.close();
    }
  });
});
