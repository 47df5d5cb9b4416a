/**
 * Lambda async DLQ (body = original event, attributes RequestID/ErrorCode/ErrorMessage) redriven by re-invoking the
 * function, with filters; SQS-sourced DLQs redriven by SQS's own message move task; purge.
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  InvokeCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceNames } from '../../shared/infra/names.ts';
import type { DecodedMessage } from '../../shared/ops/dlq/decode.ts';
import type { RedriveResult } from '../../shared/ops/dlq/redrive.ts';
import { localClients, uniqueName } from '../helpers/stack.ts';
import { createTestFunction, deleteTestFunctions, profileArgs, runCli, runJson } from './ops-cli.ts';

const clients = localClients();
const prefix = uniqueName('opslam');
const names = resourceNames(prefix);
const P = profileArgs(prefix);
const dir = mkdtempSync(join(tmpdir(), 'quakectl-ops-lambda-'));
const OUT = join(dir, 'out.ndjson');
const FAIL = join(dir, 'fail');
const worker = names.function('segment-worker');
const queues: string[] = [];

const HANDLER = `
import { appendFileSync, existsSync } from 'node:fs';
export const handler = async (event) => {
  if (event.sleepMs) {
    appendFileSync(process.env.OUT_FILE + '.started', JSON.stringify(event) + '\\n');
    await new Promise((r) => setTimeout(r, event.sleepMs));
  }
  if (existsSync(process.env.FAIL_FLAG)) throw new Error('worker told to fail');
  appendFileSync(process.env.OUT_FILE, JSON.stringify(event) + '\\n');
  return { ok: true };
};`;

async function queue(name: string, attrs: Record<string, string> = {}) {
  const url = (await clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attrs }))).QueueUrl ?? '';
  queues.push(url);
  const arn =
    (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes
      ?.QueueArn ?? '';
  return { url, arn };
}
const depth = async (url: string) =>
  Number(
    (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes
      ?.ApproximateNumberOfMessages,
  );
const handled = () =>
  existsSync(OUT)
    ? readFileSync(OUT, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];

let workerDlq: { url: string; arn: string };

beforeAll(async () => {
  writeFileSync(FAIL, 'yes');
  workerDlq = await queue(names.dlq('worker'));
  await createTestFunction(clients.lambda, worker, HANDLER, { OUT_FILE: OUT, FAIL_FLAG: FAIL });
  await clients.lambda.send(
    new UpdateFunctionConfigurationCommand({ FunctionName: worker, DeadLetterConfig: { TargetArn: workerDlq.arn } }),
  );
  await clients.lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: worker, MaximumRetryAttempts: 0 }));
  for (const [eventId, chain] of [
    ['us7000w1', 0],
    ['us7000w1', 1],
    ['us7000w2', 0],
  ] as const) {
    await clients.lambda.send(
      new InvokeCommand({
        FunctionName: worker,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify({ eventId, chain, hop: 0 })),
      }),
    );
  }
  const deadline = Date.now() + 60_000;
  while ((await depth(workerDlq.url)) < 3) {
    if (Date.now() > deadline) throw new Error('the worker DLQ did not fill');
    await new Promise((r) => setTimeout(r, 250));
  }
});

afterAll(async () => {
  await deleteTestFunctions(clients.lambda, [worker]);
  for (const q of queues) await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: q })).catch(() => {});
  clients.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('Lambda async DLQ', () => {
  it('decodes the original payload and the error attributes', async () => {
    const ms = await runJson<DecodedMessage[]>([...P, 'dlq', 'list', 'worker']);
    expect(ms).toHaveLength(3);
    for (const m of ms) {
      expect(m).toMatchObject({ kind: 'lambda-async', function: worker });
      expect(m.requestId).toMatch(/[0-9a-f-]{36}/);
      expect(m.errorMessage).toMatch(/worker told to fail/);
    }
    expect(ms.map((m) => (m.payload as { eventId: string }).eventId).sort()).toEqual([
      'us7000w1',
      'us7000w1',
      'us7000w2',
    ]);
  });

  it('redrive --event-id re-invokes only that event’s messages and leaves the others', async () => {
    rmSync(FAIL);
    const r = await runJson<RedriveResult>([...P, 'dlq', 'redrive', 'worker', '--event-id', 'us7000w1', '--yes']);
    expect(r).toMatchObject({ redriven: 2, failed: 0, skipped: 1 });
    expect(
      handled()
        .map((e) => [e.eventId, e.chain])
        .sort(),
    ).toEqual([
      ['us7000w1', 0],
      ['us7000w1', 1],
    ]);
    expect(await depth(workerDlq.url)).toBe(1);
    const rest = await runJson<RedriveResult>([...P, 'dlq', 'redrive', 'worker', '--max', '5']);
    expect(rest).toMatchObject({ redriven: 1, failed: 0 });
    expect(await depth(workerDlq.url)).toBe(0);
  });
});

describe('crash mid-redrive', () => {
  it('a redrive killed while re-invoking deletes nothing: the message is only held (until its hold expires)', async () => {
    await clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: workerDlq.url,
        MessageBody: JSON.stringify({ eventId: 'us7000crash', chain: 0, hop: 0, sleepMs: 20_000 }),
        MessageAttributes: {
          RequestID: { DataType: 'String', StringValue: '00000000-0000-4000-8000-000000000000' },
          ErrorCode: { DataType: 'Number', StringValue: '200' },
          ErrorMessage: { DataType: 'String', StringValue: 'earlier failure' },
        },
      }),
    );
    const bin = fileURLToPath(new URL('../../bin/quakectl', import.meta.url));
    const child = spawn(process.execPath, [bin, ...P, 'dlq', 'redrive', 'worker', '--yes'], { stdio: 'ignore' });
    const started = `${OUT}.started`;
    const deadline = Date.now() + 30_000;
    while (!(existsSync(started) && readFileSync(started, 'utf8').includes('us7000crash'))) {
      if (Date.now() > deadline) throw new Error('the redrive never re-invoked the worker');
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    const attrs = (
      await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: workerDlq.url, AttributeNames: ['All'] }))
    ).Attributes;
    // Not deleted: held invisible by the dead redrive, visible again when its hold expires.
    expect(Number(attrs?.ApproximateNumberOfMessages) + Number(attrs?.ApproximateNumberOfMessagesNotVisible)).toBe(1);
    expect(Number(attrs?.ApproximateNumberOfMessagesNotVisible)).toBe(1);
  });
});

describe('SQS-sourced DLQ and purge', () => {
  it('with no filter, redrive uses SQS’s message move task and reports its progress', async () => {
    const dlq = await queue(uniqueName('opsmv-dlq'));
    const source = await queue(uniqueName('opsmv-src'), {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 1 }),
    });
    await clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: dlq.url,
        Entries: [0, 1, 2].map((i) => ({ Id: String(i), MessageBody: `m${i}` })),
      }),
    );
    const name = dlq.url.slice(dlq.url.lastIndexOf('/') + 1);
    const r = await runCli([...P, 'dlq', 'redrive', name, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/move task COMPLETED: 3\/\d+ moved/);
    expect(r.stdout).toMatch(/redriven 3, failed 0, skipped 0 \(SQS message move task\)/);
    expect(await depth(dlq.url)).toBe(0);
    expect(await depth(source.url)).toBe(3);

    // purge: asked even locally; without a TTY it needs --yes.
    const refused = await runCli([...P, 'dlq', 'purge', source.url.slice(source.url.lastIndexOf('/') + 1)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/purge 3 message\(s\).*stdin is not a TTY \(pass --yes\)/s);
    expect(await depth(source.url)).toBe(3);
    const ok = await runCli([...P, 'dlq', 'purge', source.url, '--yes']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await depth(source.url)).toBe(0);
  });
});
