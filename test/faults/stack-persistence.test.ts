/**
 * The local stack persists all of its parts or none (issue 11, item 7), on a throwaway stack with its own state dir
 * and ports. Each round creates one of everything `deploy` would: a table, a queue holding a message, a topic holding
 * a record, and a function in the Lambda emulator.
 * - `down` then `up` without --persist: every part starts empty, the emulator's functions included (before, the
 *   emulator brought back functions whose tables, queues and topics were gone).
 * - `down` then `up --persist`: every part comes back, SQS queues and messages included.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateFunctionCommand, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { stackClients } from '../../local/stack/health.ts';
import { freePorts } from '../../local/stack/ports.ts';
import { PROJECT_ROOT } from '../../shared/bundle/index.ts';
import { readStackState } from '../../shared/infra/stack-state.ts';
import { ROLE, zipHandler } from '../fixtures/lambda/harness.ts';

const stateDir = mkdtempSync(join(tmpdir(), 'quakectl-persist-'));
const ports: Record<string, string> = {};

async function quakectl(...args: string[]) {
  if (Object.keys(ports).length === 0) {
    const names = ['KAFKA', 'KAFKA_CONTROLLER', 'SQS', 'DYNAMODB', 'LAMBDA', 'CAP', 'MOTO'];
    // Distinct ports: seven separate freePort calls once handed the same port to two services.
    const free = await freePorts(names.length);
    names.forEach((k, i) => {
      ports[`QUAKECTL_${k}_PORT`] = String(free[i]);
    });
  }
  const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'quakectl'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...ports, QUAKECTL_STATE_DIR: stateDir, NO_COLOR: '1' },
    timeout: 240_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function clients() {
  const state = readStackState(stateDir);
  if (!state) throw new Error('no stack state');
  return stackClients(state);
}

/** One of everything deploy creates, holding data. */
async function createEverything() {
  const c = clients();
  try {
    await c.dynamodb.send(
      new CreateTableCommand({
        TableName: 'persist-table',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const q = await c.sqs.send(new CreateQueueCommand({ QueueName: 'persist-queue' }));
    await c.sqs.send(new SendMessageCommand({ QueueUrl: q.QueueUrl, MessageBody: 'kept?' }));
    const admin = c.kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'persist-topic' }], waitForLeaders: true });
    await admin.disconnect();
    const producer = c.kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'persist-topic', acks: -1, messages: [{ key: 'k', value: 'v' }] });
    await producer.disconnect();
    await c.lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'persist-fn',
        Runtime: 'nodejs24.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: zipHandler('echo.mjs', 'index.mjs') },
      }),
    );
  } finally {
    c.destroy();
  }
}

/** What of it is there now. */
async function inventory() {
  const c = clients();
  try {
    const tables = (await c.dynamodb.send(new ListTablesCommand({}))).TableNames ?? [];
    const queues = (await c.sqs.send(new ListQueuesCommand({}))).QueueUrls ?? [];
    const messages = await Promise.all(
      queues.map(async (QueueUrl) => {
        const a = await c.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
        );
        return Number(a.Attributes?.ApproximateNumberOfMessages ?? 0);
      }),
    );
    const admin = c.kafka.admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => !t.startsWith('__'));
    const records = topics.includes('persist-topic')
      ? (await admin.fetchTopicOffsets('persist-topic')).reduce((n, o) => n + Number(o.high), 0)
      : 0;
    await admin.disconnect();
    const functions = ((await c.lambda.send(new ListFunctionsCommand({}))).Functions ?? []).map((f) => f.FunctionName);
    return { tables, queues: queues.map((u) => u.split('/').pop()), messages, topics, records, functions };
  } finally {
    c.destroy();
  }
}

const EVERYTHING = {
  tables: ['persist-table'],
  queues: ['persist-queue'],
  messages: [1],
  topics: ['persist-topic'],
  records: 1,
  functions: ['persist-fn'],
};
const NOTHING = { tables: [], queues: [], messages: [], topics: [], records: 0, functions: [] };

afterAll(async () => {
  await quakectl('local', 'down');
  rmSync(stateDir, { recursive: true, force: true });
});

describe('local stack: persist all or none', () => {
  it('without --persist, down then up starts every part empty, the Lambda emulator included', async () => {
    const first = await quakectl('local', 'up');
    expect(first.code, first.stderr).toBe(0);
    await createEverything();
    expect(await inventory()).toEqual(EVERYTHING);
    expect((await quakectl('local', 'down')).code).toBe(0);
    const again = await quakectl('local', 'up', '--persist');
    expect(again.code, again.stderr).toBe(0);
    expect(await inventory()).toEqual(NOTHING);
  });

  it('with --persist, down then up brings every part back, SQS messages included', async () => {
    await createEverything();
    expect((await quakectl('local', 'down')).code).toBe(0);
    const again = await quakectl('local', 'up', '--persist');
    expect(again.code, again.stderr).toBe(0);
    expect(await inventory()).toEqual(EVERYTHING);
  });
});
