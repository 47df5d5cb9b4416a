/**
 * The AWS rules the emulator learned from issue 15, each as AWS documents it (docs/lambda-emulator.md lists the
 * references): async settings per qualifier, the Kafka mapping's provisioned-mode error-handling controls, weighted
 * aliases, and destinations either delivered or refused when configured. In-process emulator, local stack SQS,
 * --time-scale 0.01.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateAliasCommand,
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  InvalidParameterValueException,
  InvokeCommand,
  PublishVersionCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateAliasCommand,
  UpdateEventSourceMappingCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, ROLE, startHarness, uniqueName, zipHandler } from '../fixtures/lambda/harness.ts';
import { localClients, localStack } from '../helpers/stack.ts';

const clients = localClients();
const queues: string[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'quakectl-lambda-rules-'));
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sqsEndpoint: localStack().sqs.endpoint, timeScale: 0.01 });
});

afterAll(async () => {
  await h?.close();
  for (const q of queues) await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: q })).catch(() => {});
  clients.destroy();
  rmSync(scratch, { recursive: true, force: true });
});

async function queue(): Promise<{ url: string; arn: string }> {
  const url = (await clients.sqs.send(new CreateQueueCommand({ QueueName: uniqueName('rules') }))).QueueUrl!;
  queues.push(url);
  const attrs = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return { url, arn: attrs.Attributes!.QueueArn! };
}

/** A function that appends each event to a file (and fails when FAIL=always), published as version 1, alias live. */
async function recorder(env: Record<string, string>, dlq?: string) {
  const name = uniqueName('rules-fn');
  const out = join(scratch, `${name}.jsonl`);
  await h.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Role: ROLE,
      Handler: 'index.handler',
      Timeout: 10,
      Code: { ZipFile: zipHandler('record.mjs', 'index.mjs') },
      Environment: { Variables: { OUT_FILE: out, ...env } },
      ...(dlq ? { DeadLetterConfig: { TargetArn: dlq } } : {}),
    }),
  );
  const v = await h.lambda.send(new PublishVersionCommand({ FunctionName: name }));
  await h.lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: v.Version }));
  return { name, out, arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}` };
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

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function receive(url: string) {
  let body: string | undefined;
  await until(async () => {
    const r = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }));
    body = r.Messages?.[0]?.Body;
    return Boolean(body);
  });
  return body!;
}

describe('async settings are per qualifier', () => {
  it("an invocation of fn:live uses live's settings, never $LATEST's", async () => {
    const dlq = await queue();
    const fn = await recorder({ FAIL: 'always' }, dlq.arn);
    // $LATEST: 2 retries; live: none. What deploy did before issue 15 (settings on $LATEST only) left live at 2.
    await h.lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: fn.name, MaximumRetryAttempts: 2 }));
    await h.lambda.send(
      new PutFunctionEventInvokeConfigCommand({ FunctionName: fn.name, Qualifier: 'live', MaximumRetryAttempts: 0 }),
    );
    await h.lambda.send(
      new InvokeCommand({ FunctionName: fn.name, Qualifier: 'live', InvocationType: 'Event', Payload: '{"n":1}' }),
    );
    expect(JSON.parse(await receive(dlq.url))).toEqual({ n: 1 });
    expect(lines(fn.out)).toHaveLength(1);
  });
});

describe('self-managed Kafka mapping: error-handling controls need provisioned mode', () => {
  const brokers = () => localStack().kafka.brokers;
  const base = (fn: string) => ({
    FunctionName: `${fn}:live`,
    Topics: [uniqueName('rules-topic')],
    SelfManagedEventSource: { Endpoints: { KAFKA_BOOTSTRAP_SERVERS: brokers() } },
    StartingPosition: 'TRIM_HORIZON' as const,
    Enabled: false,
  });

  it('refuses MaximumRetryAttempts, MaximumRecordAgeInSeconds and BisectBatchOnFunctionError without ProvisionedPollerConfig', async () => {
    const fn = await recorder({});
    for (const extra of [
      { MaximumRetryAttempts: 3 },
      { MaximumRecordAgeInSeconds: 3600 },
      { BisectBatchOnFunctionError: true },
    ]) {
      const err = await h.lambda
        .send(new CreateEventSourceMappingCommand({ ...base(fn.name), ...extra }))
        .catch((e) => e);
      expect(err).toBeInstanceOf(InvalidParameterValueException);
      expect(err.message).toMatch(/provisioned mode/);
    }
  });

  it('accepts them in provisioned mode, returns ProvisionedPollerConfig, and keeps an update valid', async () => {
    const fn = await recorder({});
    const dlq = await queue();
    const m = await h.lambda.send(
      new CreateEventSourceMappingCommand({
        ...base(fn.name),
        MaximumRetryAttempts: 3,
        DestinationConfig: { OnFailure: { Destination: dlq.arn } },
        ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 2 },
      }),
    );
    expect(m).toMatchObject({
      MaximumRetryAttempts: 3,
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 2 },
    });
    const bad = await h.lambda
      .send(new UpdateEventSourceMappingCommand({ UUID: m.UUID, MaximumRecordAgeInSeconds: 30 }))
      .catch((e) => e);
    expect(bad).toBeInstanceOf(InvalidParameterValueException);
    const pollers = await h.lambda
      .send(
        new UpdateEventSourceMappingCommand({
          UUID: m.UUID,
          ProvisionedPollerConfig: { MinimumPollers: 3, MaximumPollers: 2 },
        }),
      )
      .catch((e) => e);
    expect(pollers).toBeInstanceOf(InvalidParameterValueException);
  });

  it('refuses an on-failure destination it cannot deliver to when the mapping is configured', async () => {
    const fn = await recorder({});
    const err = await h.lambda
      .send(
        new CreateEventSourceMappingCommand({
          ...base(fn.name),
          DestinationConfig: { OnFailure: { Destination: 'arn:aws:sns:us-east-1:000000000000:alerts-failed' } },
        }),
      )
      .catch((e) => e);
    expect(err).toBeInstanceOf(InvalidParameterValueException);
  });
});

describe('weighted aliases (RoutingConfig)', () => {
  it('routes each invocation by weight and reports the executed version', async () => {
    const fn = await recorder({ VERSION: '1' });
    await h.lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: fn.name,
        Environment: { Variables: { OUT_FILE: fn.out, VERSION: '2' } },
      }),
    );
    const v2 = await h.lambda.send(new PublishVersionCommand({ FunctionName: fn.name }));
    expect(v2.Version).toBe('2');
    const executed = async () =>
      (await h.lambda.send(new InvokeCommand({ FunctionName: fn.name, Qualifier: 'live', Payload: '{}' })))
        .ExecutedVersion;
    await h.lambda.send(
      new UpdateAliasCommand({
        FunctionName: fn.name,
        Name: 'live',
        RoutingConfig: { AdditionalVersionWeights: { '2': 1 } },
      }),
    );
    expect([await executed(), await executed(), await executed()]).toEqual(['2', '2', '2']);
    await h.lambda.send(
      new UpdateAliasCommand({
        FunctionName: fn.name,
        Name: 'live',
        RoutingConfig: { AdditionalVersionWeights: { '2': 0 } },
      }),
    );
    expect([await executed(), await executed(), await executed()]).toEqual(['1', '1', '1']);
  });

  it('refuses $LATEST, the primary version itself, and more than one additional version', async () => {
    const fn = await recorder({});
    await h.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: fn.name, Timeout: 11 }));
    await h.lambda.send(new PublishVersionCommand({ FunctionName: fn.name }));
    await h.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: fn.name, Timeout: 12 }));
    await h.lambda.send(new PublishVersionCommand({ FunctionName: fn.name }));
    for (const weights of [{ $LATEST: 0.5 }, { '1': 0.5 }, { '2': 0.1, '3': 0.1 }, { '2': 1.5 }] as Record<
      string,
      number
    >[]) {
      const err = await h.lambda
        .send(
          new UpdateAliasCommand({
            FunctionName: fn.name,
            Name: 'live',
            RoutingConfig: { AdditionalVersionWeights: weights },
          }),
        )
        .catch((e) => e);
      expect(err, JSON.stringify(weights)).toBeInstanceOf(Error);
      expect(err.name, JSON.stringify(weights)).toMatch(/InvalidParameterValueException|ValidationException/);
    }
  });
});

describe('async destinations: delivered, or refused when configured', () => {
  it('refuses SNS and EventBridge destinations with InvalidParameterValueException', async () => {
    const fn = await recorder({});
    for (const d of [
      'arn:aws:sns:us-east-1:000000000000:alerts-failed',
      'arn:aws:events:us-east-1:000000000000:event-bus/default',
    ]) {
      const err = await h.lambda
        .send(
          new PutFunctionEventInvokeConfigCommand({
            FunctionName: fn.name,
            DestinationConfig: { OnFailure: { Destination: d } },
          }),
        )
        .catch((e) => e);
      expect(err).toBeInstanceOf(InvalidParameterValueException);
    }
  });

  it('delivers the invocation record to a Lambda destination as an async event', async () => {
    const failing = await recorder({ FAIL: 'always' });
    const target = await recorder({});
    await h.lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: failing.name,
        Qualifier: 'live',
        MaximumRetryAttempts: 0,
        DestinationConfig: { OnFailure: { Destination: target.arn } },
      }),
    );
    await h.lambda.send(
      new InvokeCommand({ FunctionName: failing.name, Qualifier: 'live', InvocationType: 'Event', Payload: '{"n":2}' }),
    );
    await until(() => lines(target.out).length === 1);
    expect(lines(target.out)[0]).toMatchObject({
      version: '1.0',
      requestContext: { condition: 'RetriesExhausted', functionArn: `${failing.arn}:live` },
      requestPayload: { n: 2 },
      responseContext: { functionError: 'Unhandled' },
    });
  });
});
