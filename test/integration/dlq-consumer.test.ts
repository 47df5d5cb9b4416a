/**
 * Done-when of issue 7: a failing consumer batch (Kafka event source mapping → OnFailure destination = consumer DLQ,
 * in the Lambda emulator) is redriven from its Kafka offsets: the records are re-read and the consumer re-invoked
 * with a SelfManagedKafka event; the failure record is deleted only after the invoke succeeded.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateEventSourceMappingCommand, DeleteEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceNames } from '../../shared/infra/names.ts';
import type { DecodedMessage } from '../../shared/ops/dlq/decode.ts';
import type { SelfManagedKafkaEvent } from '../../shared/ops/kafka/event.ts';
import type { GroupLag } from '../../shared/ops/kafka/lag.ts';
import { localClients, localServiceConfig, uniqueName } from '../helpers/stack.ts';
import { createTestFunction, deleteTestFunctions, profileArgs, runCli, runJson } from './ops-cli.ts';

const clients = localClients();
const prefix = uniqueName('opscons');
const names = resourceNames(prefix);
const P = profileArgs(prefix);
const topic = uniqueName('ops-cons');
const dir = mkdtempSync(join(tmpdir(), 'quakectl-ops-consumer-'));
const OUT = join(dir, 'out.ndjson');
const FAIL = join(dir, 'fail');
const consumer = names.function('consumer');
let dlqUrl: string;
let esm: string | undefined;
let admin: Admin;

const HANDLER = `
import { appendFileSync, existsSync } from 'node:fs';
export const handler = async (event) => {
  appendFileSync(process.env.OUT_FILE, JSON.stringify(event) + '\\n');
  if (existsSync(process.env.FAIL_FLAG)) throw new Error('consumer told to fail');
  return { ok: true };
};`;

const depth = async () =>
  Number(
    (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['All'] }))).Attributes
      ?.ApproximateNumberOfMessages,
  );
const invocations = (): SelfManagedKafkaEvent[] =>
  existsSync(OUT)
    ? readFileSync(OUT, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
const records = (events: SelfManagedKafkaEvent[]) =>
  events
    .flatMap((e) => Object.values(e.records).flat())
    .map((r) => ({
      partition: r.partition,
      offset: r.offset,
      key: Buffer.from(r.key ?? '', 'base64').toString(),
      value: Buffer.from(r.value ?? '', 'base64').toString(),
    }));

async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  writeFileSync(FAIL, 'yes');
  admin = clients.kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
  dlqUrl = (await clients.sqs.send(new CreateQueueCommand({ QueueName: names.dlq('consumer') }))).QueueUrl ?? '';
  const arn = (
    await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn;
  await createTestFunction(clients.lambda, consumer, HANDLER, { OUT_FILE: OUT, FAIL_FLAG: FAIL });
  const m = await clients.lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: consumer,
      Topics: [topic],
      SelfManagedEventSource: { Endpoints: { KAFKA_BOOTSTRAP_SERVERS: localServiceConfig().kafka.brokers } },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 1,
      MaximumRetryAttempts: 0,
      // AWS takes a Kafka mapping's retry limit in provisioned mode only (the emulator refuses it otherwise).
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 1 },
      DestinationConfig: { OnFailure: { Destination: arn } },
    }),
  );
  esm = m.UUID;
  const producer = clients.kafka.producer();
  await producer.connect();
  await producer.send({
    topic,
    messages: [
      { partition: 0, key: 'us7000aaaa', value: '{"schema":1,"quake":{"id":"us7000aaaa"}}' },
      { partition: 0, key: 'us7000bbbb', value: '{"schema":1,"quake":{"id":"us7000bbbb"}}' },
      { partition: 1, key: 'us7000cccc', value: '{"schema":1,"quake":{"id":"us7000cccc"}}' },
    ],
  });
  await producer.disconnect();
});

afterAll(async () => {
  if (esm) await clients.lambda.send(new DeleteEventSourceMappingCommand({ UUID: esm })).catch(() => {});
  await deleteTestFunctions(clients.lambda, [consumer]);
  await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: dlqUrl })).catch(() => {});
  await admin?.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin?.disconnect();
  clients.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('consumer DLQ: redrive from Kafka offsets', () => {
  it('failed batches land in the DLQ as failure records naming their offsets', async () => {
    const messages = await until('3 records in failure records', async () => {
      const ms = await runJson<DecodedMessage[]>([...P, 'dlq', 'list', 'consumer']);
      const n = ms
        .flatMap((m) => m.kafka?.ranges ?? [])
        .reduce((s, r) => s + Number(r.lastOffset) - Number(r.firstOffset) + 1, 0);
      return n >= 3 ? ms : undefined;
    });
    for (const m of messages) {
      expect(m.kind).toBe('kafka-batch');
      expect(m.function).toContain(consumer);
      expect(m.errorCode).toBe('RetryAttemptsExhausted');
    }
    const ranges = messages
      .flatMap((m) => m.kafka?.ranges ?? [])
      .map((r) => [r.topic, r.partition, r.firstOffset, r.lastOffset]);
    expect(ranges.sort()).toEqual([
      [topic, 0, '0', '1'],
      [topic, 1, '0', '0'],
    ]);
    // The mapping moved past the failed batches; `kafka lag` finds the mapping's group (its UUID) by itself.
    const lag = await until('the mapping to commit past the batches', async () => {
      const l = await runJson<GroupLag>([...P, 'kafka', 'lag', '--topic', topic]);
      return l.total === 0 ? l : undefined;
    });
    expect(lag.group).toBe(esm);
  });

  it('redrive re-reads the records and re-invokes the consumer with them, then empties the DLQ', async () => {
    rmSync(FAIL);
    const before = invocations().length;
    const r = await runCli([...P, 'dlq', 'redrive', 'consumer', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/redriven \d, failed 0, skipped 0/);
    expect(await depth()).toBe(0);
    const redriven = invocations().slice(before);
    expect(redriven.every((e) => e.eventSource === 'SelfManagedKafka')).toBe(true);
    expect(records(redriven).sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { partition: 0, offset: 0, key: 'us7000aaaa', value: '{"schema":1,"quake":{"id":"us7000aaaa"}}' },
      { partition: 0, offset: 1, key: 'us7000bbbb', value: '{"schema":1,"quake":{"id":"us7000bbbb"}}' },
      { partition: 1, offset: 0, key: 'us7000cccc', value: '{"schema":1,"quake":{"id":"us7000cccc"}}' },
    ]);
  });
});
