/**
 * Kafka event source mappings against the local stack's broker: every record of a 3-partition topic delivered exactly
 * once and in per-partition order in the SelfManagedKafka event shape, the consumer group named by the mapping UUID
 * with offsets committed after success, a failing batch sent to the OnFailure queue with its offsets, disable/enable,
 * and delete leaving the group.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  DeleteEventSourceMappingCommand,
  GetEventSourceMappingCommand,
  ListEventSourceMappingsCommand,
  ResourceNotFoundException,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, ROLE, startHarness, uniqueName, zipHandler } from '../fixtures/lambda/harness.ts';
import { localClients, localStack } from '../helpers/stack.ts';

const clients = localClients();
const brokers = localStack().kafka.brokers;
const scratch = mkdtempSync(join(tmpdir(), 'quakectl-lambda-kafka-'));
const topics: string[] = [];
const queues: string[] = [];
let h: Harness;
let admin: Admin;
let producer: Producer;

interface KafkaEvent {
  eventSource: string;
  bootstrapServers: string;
  records: Record<
    string,
    {
      topic: string;
      partition: number;
      offset: number;
      timestamp: number;
      timestampType: string;
      key?: string;
      value: string;
      headers: Record<string, number[]>[];
    }[]
  >;
}

beforeAll(async () => {
  h = await startHarness({ sqsEndpoint: localStack().sqs.endpoint, kafkaBrokers: brokers, timeScale: 0.01 });
  admin = clients.kafka.admin();
  producer = clients.kafka.producer();
  await admin.connect();
  await producer.connect();
});

afterAll(async () => {
  await h?.close();
  await producer?.disconnect();
  if (topics.length) await admin?.deleteTopics({ topics }).catch(() => {});
  await admin?.disconnect();
  for (const q of queues) await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: q })).catch(() => {});
  clients.destroy();
  rmSync(scratch, { recursive: true, force: true });
});

async function topic(partitions: number): Promise<string> {
  const name = uniqueName('lambda-esm');
  await admin.createTopics({
    topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  topics.push(name);
  return name;
}

async function recordFunction(env: Record<string, string>): Promise<string> {
  const name = uniqueName('kafka-fn');
  await h.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Role: ROLE,
      Handler: 'index.handler',
      Timeout: 10,
      Code: { ZipFile: zipHandler('record.mjs', 'index.mjs') },
      Environment: { Variables: env },
    }),
  );
  return name;
}

function events(file: string): KafkaEvent[] {
  try {
    return readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as KafkaEvent);
  } catch {
    return [];
  }
}

function delivered(file: string) {
  return events(file).flatMap((e) => Object.values(e.records).flat());
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

function mapping(
  fn: string,
  t: string,
  extra: Partial<ConstructorParameters<typeof CreateEventSourceMappingCommand>[0]> = {},
) {
  return h.lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: fn,
      Topics: [t],
      SelfManagedEventSource: { Endpoints: { KAFKA_BOOTSTRAP_SERVERS: brokers } },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10,
      ...extra,
    }),
  );
}

describe('Kafka event source mapping', () => {
  it('delivers every record of a 3-partition topic exactly once, in per-partition order, and commits offsets', async () => {
    const t = await topic(3);
    const out = join(scratch, `${t}.jsonl`);
    const fn = await recordFunction({ OUT_FILE: out });
    const messages = Array.from({ length: 60 }, (_, i) => ({
      key: `k${i % 7}`,
      value: JSON.stringify({ seq: i }),
      headers: { source: 'test' },
    }));
    await producer.send({ topic: t, messages });
    const created = await mapping(fn, t);
    expect(created.$metadata.httpStatusCode).toBe(202);
    expect(created.State).toBe('Creating');
    expect(created.SelfManagedKafkaEventSourceConfig?.ConsumerGroupId).toBe(created.UUID);

    await until(() => delivered(out).length >= 60);
    await new Promise((r) => setTimeout(r, 1000));
    const records = delivered(out);
    expect(records).toHaveLength(60);
    const ids = new Set(records.map((r) => `${r.partition}:${r.offset}`));
    expect(ids.size).toBe(60);
    for (const p of [0, 1, 2]) {
      const offsets = records.filter((r) => r.partition === p).map((r) => r.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }
    const seqs = records.map((r) => JSON.parse(Buffer.from(r.value, 'base64').toString()).seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 60 }, (_, i) => i));

    const first = events(out)[0];
    expect(first.eventSource).toBe('SelfManagedKafka');
    expect(first.bootstrapServers).toBe(brokers.join(','));
    const [key, batch] = Object.entries(first.records)[0];
    expect(key).toBe(`${t}-${batch[0].partition}`);
    expect(batch[0]).toMatchObject({
      topic: t,
      timestampType: 'CREATE_TIME',
      headers: [{ source: [...Buffer.from('test')] }],
    });
    expect(Buffer.from(batch[0].key!, 'base64').toString()).toMatch(/^k\d$/);

    const got = await h.lambda.send(new GetEventSourceMappingCommand({ UUID: created.UUID }));
    expect(got.State).toBe('Enabled');
    const offsets = await admin.fetchOffsets({ groupId: created.UUID!, topics: [t] });
    const committed = offsets[0].partitions.reduce((sum, p) => sum + Number(p.offset), 0);
    expect(committed).toBe(60);
    const listed = await h.lambda.send(new ListEventSourceMappingsCommand({ FunctionName: fn }));
    expect(listed.EventSourceMappings?.map((m) => m.UUID)).toEqual([created.UUID]);

    const deleted = await h.lambda.send(new DeleteEventSourceMappingCommand({ UUID: created.UUID }));
    expect(deleted.State).toBe('Deleting');
    await until(async () => {
      const g = await admin.describeGroups([created.UUID!]);
      return g.groups[0].members.length === 0;
    }, 30_000);
    await until(async () => {
      const err = await h.lambda.send(new GetEventSourceMappingCommand({ UUID: created.UUID })).catch((e) => e);
      return err instanceof ResourceNotFoundException;
    });
  });

  it('sends a failing batch to the OnFailure queue with its offsets after the retries, and moves on', async () => {
    const t = await topic(1);
    const out = join(scratch, `${t}.jsonl`);
    const fn = await recordFunction({ OUT_FILE: out, FAIL: 'always' });
    const url = (await clients.sqs.send(new CreateQueueCommand({ QueueName: uniqueName('kafka-onfailure') })))
      .QueueUrl!;
    queues.push(url);
    const arn = (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })))
      .Attributes!.QueueArn!;
    await producer.send({ topic: t, messages: Array.from({ length: 5 }, (_, i) => ({ value: `v${i}` })) });
    const m = await mapping(fn, t, {
      MaximumRetryAttempts: 1,
      DestinationConfig: { OnFailure: { Destination: arn } },
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 1 },
    });

    let body: string | undefined;
    await until(async () => {
      const r = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }));
      body = r.Messages?.[0]?.Body;
      return Boolean(body);
    });
    const record = JSON.parse(body!);
    expect(record).toMatchObject({
      version: '1.0',
      requestContext: {
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 2,
        functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${fn}`,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      KafkaBatchInfo: {
        batchSize: 5,
        bootstrapServers: brokers.join(','),
        recordsInfo: { [`${t}-0`]: { firstRecordOffset: '0', lastRecordOffset: '4' } },
      },
    });
    expect(events(out)).toHaveLength(2);
    await until(async () => {
      const offsets = await admin.fetchOffsets({ groupId: m.UUID!, topics: [t] });
      return offsets[0].partitions[0].offset === '5';
    });
    await h.lambda.send(new DeleteEventSourceMappingCommand({ UUID: m.UUID }));
  });

  it('stops polling when disabled and resumes when enabled', async () => {
    const t = await topic(1);
    const out = join(scratch, `${t}.jsonl`);
    const fn = await recordFunction({ OUT_FILE: out });
    const m = await mapping(fn, t, { StartingPosition: 'LATEST' });
    await until(
      async () => (await h.lambda.send(new GetEventSourceMappingCommand({ UUID: m.UUID }))).State === 'Enabled',
    );
    // LATEST: wait for the group to hold its partition before producing.
    await until(async () => (await admin.describeGroups([m.UUID!])).groups[0].state === 'Stable', 30_000);
    await producer.send({ topic: t, messages: [{ value: 'before' }] });
    await until(() => delivered(out).length === 1);

    const disabling = await h.lambda.send(new UpdateEventSourceMappingCommand({ UUID: m.UUID, Enabled: false }));
    expect(disabling.State).toBe('Disabling');
    await until(
      async () => (await h.lambda.send(new GetEventSourceMappingCommand({ UUID: m.UUID }))).State === 'Disabled',
    );
    await producer.send({ topic: t, messages: [{ value: 'while-disabled' }] });
    await new Promise((r) => setTimeout(r, 2000));
    expect(delivered(out)).toHaveLength(1);

    await h.lambda.send(new UpdateEventSourceMappingCommand({ UUID: m.UUID, Enabled: true }));
    await until(() => delivered(out).length === 2);
    expect(Buffer.from(delivered(out)[1].value, 'base64').toString()).toBe('while-disabled');
    await h.lambda.send(new DeleteEventSourceMappingCommand({ UUID: m.UUID }));
  });
  it('keeps a mapping across an emulator restart and resumes from the committed offsets', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'quakectl-lambda-kafka-restart-'));
    const opts = { stateDir, sqsEndpoint: localStack().sqs.endpoint, kafkaBrokers: brokers, timeScale: 0.01 };
    const first = await startHarness(opts);
    const t = await topic(1);
    const out = join(scratch, `${t}.jsonl`);
    const fn = uniqueName('kafka-restart');
    await first.lambda.send(
      new CreateFunctionCommand({
        FunctionName: fn,
        Runtime: 'nodejs22.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: zipHandler('record.mjs', 'index.mjs') },
        Environment: { Variables: { OUT_FILE: out } },
      }),
    );
    const m = await first.lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: fn,
        Topics: [t],
        SelfManagedEventSource: { Endpoints: { KAFKA_BOOTSTRAP_SERVERS: brokers } },
        StartingPosition: 'TRIM_HORIZON',
      }),
    );
    await producer.send({ topic: t, messages: [{ value: 'one' }, { value: 'two' }] });
    await until(() => delivered(out).length === 2);
    await first.close({ keepState: true });

    await producer.send({ topic: t, messages: [{ value: 'three' }] });
    const second = await startHarness(opts);
    try {
      expect((await second.lambda.send(new GetEventSourceMappingCommand({ UUID: m.UUID }))).Topics).toEqual([t]);
      await until(() => delivered(out).length >= 3);
      await new Promise((r) => setTimeout(r, 500));
      expect(delivered(out).map((r) => Buffer.from(r.value, 'base64').toString())).toEqual(['one', 'two', 'three']);
      await second.lambda.send(new DeleteEventSourceMappingCommand({ UUID: m.UUID }));
    } finally {
      await second.close();
    }
  });
  it('BisectBatchOnFunctionError: splits a failing batch until the poison record fails alone; the rest succeed', async () => {
    const t = await topic(1);
    const out = join(scratch, `${t}.jsonl`);
    const name = uniqueName('kafka-bisect');
    await h.lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs22.x',
        Role: ROLE,
        Handler: 'index.handler',
        Timeout: 10,
        Code: { ZipFile: zipHandler('poison.mjs', 'index.mjs') },
        Environment: { Variables: { OUT_FILE: out } },
      }),
    );
    const url = (await clients.sqs.send(new CreateQueueCommand({ QueueName: uniqueName('kafka-bisect') }))).QueueUrl!;
    queues.push(url);
    const arn = (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })))
      .Attributes!.QueueArn!;
    const values = ['a', 'b', 'c', 'poison', 'e', 'f', 'g', 'h'];
    await producer.send({ topic: t, messages: values.map((value) => ({ value })) });
    await mapping(name, t, {
      MaximumRetryAttempts: 0,
      BisectBatchOnFunctionError: true,
      DestinationConfig: { OnFailure: { Destination: arn } },
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 1 },
    });

    let body: string | undefined;
    await until(async () => {
      const r = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }));
      body = r.Messages?.[0]?.Body;
      return Boolean(body);
    });
    const record = JSON.parse(body!);
    // Only the poison record (offset 3) is in the failure record: 8 → 4 → 2 → 1.
    expect(record.KafkaBatchInfo).toMatchObject({
      batchSize: 1,
      recordsInfo: { [`${t}-0`]: { firstRecordOffset: '3', lastRecordOffset: '3' } },
    });
    await until(() => {
      const ok = events(out).filter((e) => {
        const vs = Object.values(e.records)
          .flat()
          .map((r) => Buffer.from(r.value ?? '', 'base64').toString());
        return !vs.includes('poison');
      });
      return ok.flatMap((e) => Object.values(e.records).flat()).length >= 7;
    });
    const succeeded = events(out)
      .map((e) =>
        Object.values(e.records)
          .flat()
          .map((r) => Buffer.from(r.value ?? '', 'base64').toString()),
      )
      .filter((vs) => !vs.includes('poison'))
      .flat()
      .sort();
    expect(succeeded).toEqual(['a', 'b', 'c', 'e', 'f', 'g', 'h']);
  });
});
