/**
 * The local stack answers like the real services, through kafkajs and the AWS SDK v3 clients (issue 2's "Done when").
 * Every resource has a unique name: the stack is shared with other test files and people.
 */
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteTableCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EachMessagePayload } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clients } from '../../shared/infra/clients.ts';
import { localClients, localStack, uniqueName } from '../helpers/stack.ts';

let clients: Clients;

beforeAll(() => {
  clients = localClients();
});
afterAll(() => clients?.destroy());

describe('local stack endpoints', () => {
  it('are provided by the global setup and healthy', () => {
    const stack = localStack();
    expect(stack.kafka.healthy).toBe(true);
    expect(stack.sqs.healthy).toBe(true);
    expect(stack.dynamodb.healthy).toBe(true);
    expect(clients.config.kafka.brokers).toEqual(stack.kafka.brokers);
    expect(clients.config.endpoints.sqs).toBe(stack.sqs.endpoint);
  });
});

describe('Kafka', () => {
  const topic = uniqueName('stack-test');
  const groupId = uniqueName('stack-test-group');
  const keys = Array.from({ length: 12 }, (_, i) => `quake-${i}`);
  const perKey = 5;

  afterAll(async () => {
    const admin = clients.kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect();
  });

  it('keeps keyed messages in order per partition through a consumer group, and reports committed offsets and lag', async () => {
    // Prepare: a 6-partition topic, then versions 0..4 of each key, produced in order.
    const admin = clients.kafka.admin();
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true })).toBe(true);
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(meta.topics[0].partitions).toHaveLength(6);

      const producer = clients.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      for (let v = 0; v < perKey; v++) {
        await producer.send({
          topic,
          acks: -1,
          messages: keys.map((key) => ({ key, value: JSON.stringify({ key, v }), headers: { source: 'test' } })),
        });
      }

      // Act: read everything back with a consumer group.
      const total = keys.length * perKey;
      const seen: Array<{ partition: number; offset: bigint; key: string; v: number }> = [];
      const consumer = clients.kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000 });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const done = new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ partition, message }: EachMessagePayload) => {
            const body = JSON.parse(String(message.value)) as { key: string; v: number };
            seen.push({ partition, offset: BigInt(message.offset), key: body.key, v: body.v });
            if (seen.length === total) resolve();
          },
        });
      });
      await withTimeout(done, 60_000, `consumed ${seen.length}/${total}`);
      await consumer.disconnect(); // commits what was processed

      // Assess: each key on one partition, its versions in order; offsets rise within a partition.
      expect(seen).toHaveLength(total);
      for (const key of keys) {
        const mine = seen.filter((m) => m.key === key);
        expect(new Set(mine.map((m) => m.partition)).size).toBe(1);
        expect(mine.map((m) => m.v)).toEqual([0, 1, 2, 3, 4]);
      }
      for (let p = 0; p < 6; p++) {
        const offsets = seen.filter((m) => m.partition === p).map((m) => m.offset);
        expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      }
      expect(new Set(seen.map((m) => m.partition)).size).toBeGreaterThan(1);

      // Committed offsets equal the high watermarks: lag 0. Three more messages on one key: lag 3 on its partition.
      expect(await lagByPartition(admin, topic, groupId)).toEqual(new Map([0, 1, 2, 3, 4, 5].map((p) => [p, 0n])));
      await producer.send({ topic, acks: -1, messages: [1, 2, 3].map((i) => ({ key: keys[0], value: `late-${i}` })) });
      await producer.disconnect();
      const lag = await lagByPartition(admin, topic, groupId);
      const keyPartition = seen.find((m) => m.key === keys[0])!.partition;
      expect(lag.get(keyPartition)).toBe(3n);
      expect([...lag.values()].reduce((a, b) => a + b, 0n)).toBe(3n);
    } finally {
      await admin.disconnect();
    }
  });
});

/** Lag per partition = high watermark − committed offset, as BigInt (kafkajs offsets are strings; '-1' = none). */
async function lagByPartition(
  admin: ReturnType<Clients['kafka']['admin']>,
  topic: string,
  groupId: string,
): Promise<Map<number, bigint>> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const ends = await admin.fetchTopicOffsets(topic);
  const lag = new Map<number, bigint>();
  for (const end of ends) {
    const c = committed.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
    const low = BigInt(end.low);
    const from = c === '-1' ? low : BigInt(c);
    lag.set(end.partition, BigInt(end.high) - from);
  }
  return lag;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

describe('SQS (ElasticMQ)', () => {
  const queues: string[] = [];
  afterAll(async () => {
    for (const QueueUrl of queues) await clients.sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => {});
  });

  it('moves a message to the DLQ after maxReceiveCount (2) receives', async () => {
    // Prepare
    const dlq = await clients.sqs.send(new CreateQueueCommand({ QueueName: uniqueName('stack-dlq') }));
    queues.push(dlq.QueueUrl!);
    const dlqArn = (
      await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn;
    expect(dlqArn).toMatch(/^arn:aws:sqs:/);
    const main = await clients.sqs.send(
      new CreateQueueCommand({
        QueueName: uniqueName('stack-main'),
        Attributes: {
          VisibilityTimeout: '1',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
        },
      }),
    );
    queues.push(main.QueueUrl!);
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: main.QueueUrl, MessageBody: 'poison' }));

    // Act: receive twice without deleting (the visibility timeout returns it each time).
    const receive = (QueueUrl: string, wait = 0) =>
      clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          WaitTimeSeconds: wait,
          MaxNumberOfMessages: 1,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
    for (let n = 1; n <= 2; n++) {
      const r = await receive(main.QueueUrl!, 5);
      expect(r.Messages?.[0]?.Body).toBe('poison');
      expect(r.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe(String(n));
      await sleep(1200);
    }

    // Assess: the third receive finds nothing; the message is in the DLQ.
    const third = await receive(main.QueueUrl!, 1);
    expect(third.Messages ?? []).toHaveLength(0);
    const dead = await receive(dlq.QueueUrl!, 5);
    expect(dead.Messages?.[0]?.Body).toBe('poison');
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe('DynamoDB (dynalite)', () => {
  const TableName = uniqueName('stack-test');
  afterAll(async () => {
    await clients.dynamodb.send(new DeleteTableCommand({ TableName })).catch(() => {});
  });

  it('creates a table, refuses a second conditional put, and updates on a matching version only', async () => {
    await clients.dynamodb.send(
      new CreateTableCommand({
        TableName,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await waitUntilTableExists(
      { client: clients.dynamodb, maxWaitTime: 30, minDelay: 0.1, maxDelay: 0.5 },
      { TableName },
    );

    const put = () =>
      clients.ddb.send(
        new PutCommand({
          TableName,
          Item: { pk: 'lock#1', owner: 'a', version: 1 },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    await put();
    await expect(put()).rejects.toBeInstanceOf(ConditionalCheckFailedException);

    const update = (expected: number, owner: string) =>
      clients.ddb.send(
        new UpdateCommand({
          TableName,
          Key: { pk: 'lock#1' },
          UpdateExpression: 'SET #owner = :owner, #version = #version + :one',
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#owner': 'owner', '#version': 'version' },
          ExpressionAttributeValues: { ':owner': owner, ':one': 1, ':expected': expected },
          ReturnValues: 'ALL_NEW',
        }),
      );
    const updated = await update(1, 'b');
    expect(updated.Attributes).toMatchObject({ owner: 'b', version: 2 });
    await expect(update(1, 'c')).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    const item = await clients.ddb.send(new GetCommand({ TableName, Key: { pk: 'lock#1' }, ConsistentRead: true }));
    expect(item.Item).toMatchObject({ owner: 'b', version: 2 });
  });
});
