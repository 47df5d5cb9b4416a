import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForGroupMembers } from '../../shared/ops/kafka/group.ts';
import type { GroupLag } from '../../shared/ops/kafka/lag.ts';
import type { TopicDescription } from '../../shared/ops/kafka/topics.ts';
import { localClients, uniqueName } from '../helpers/stack.ts';
import { runCli, runJson } from './ops-cli.ts';

const clients = localClients();
const topic = uniqueName('ops-kafka');
const group = uniqueName('ops-group');
let admin: Admin;
let producer: Producer;

beforeAll(async () => {
  admin = clients.kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
  producer = clients.kafka.producer();
  await producer.connect();
  const quake = (i: number) => ({
    schema: 1,
    acceptedAt: 1_764_150_000_000 + i,
    quake: { id: `ev${i}`, magnitude: 4 + i / 10, place: `place ${i}`, drill: true, depthKm: 10 },
  });
  await producer.send({
    topic,
    messages: Array.from({ length: 11 }, (_, i) => ({
      partition: i % 3,
      key: `ev${i}`,
      value: i === 10 ? 'not a quake' : JSON.stringify(quake(i)),
      headers: { drill: 'true', schema: '1' },
    })),
  });
  // The group has read 2 records of partition 0 and 1 of partition 1; nothing of partition 2.
  await admin.setOffsets({
    groupId: group,
    topic,
    partitions: [
      { partition: 0, offset: '2' },
      { partition: 1, offset: '1' },
    ],
  });
});

afterAll(async () => {
  await producer?.disconnect();
  await admin?.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin?.disconnect();
  clients.destroy();
});

describe('quakectl kafka', () => {
  it('lag matches the admin client offsets, exactly', async () => {
    const lag = await runJson<GroupLag>(['kafka', 'lag', '--group', group, '--topic', topic]);
    const offsets = await admin.fetchTopicOffsets(topic);
    const committed = (await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0].partitions;
    const expected = offsets
      .sort((a, b) => a.partition - b.partition)
      .map((o) => {
        const c = committed.find((p) => p.partition === o.partition)?.offset ?? '-1';
        const from = c === '-1' ? BigInt(o.low) : BigInt(c);
        return {
          partition: o.partition,
          committed: c === '-1' ? null : c,
          high: o.high,
          lag: Number(BigInt(o.high) - from),
        };
      });
    expect(lag).toEqual({ group, topic, total: expected.reduce((s, p) => s + p.lag, 0), partitions: expected });
    // 11 records over 3 partitions (4, 4, 3), minus 2 and 1 consumed.
    expect(lag.total).toBe(8);
  });

  it('describe shows partitions, leader and low/high offsets', async () => {
    const d = await runJson<TopicDescription>(['kafka', 'describe', topic]);
    expect(d.partitions.map((p) => [p.partition, p.low, p.high, p.messages])).toEqual([
      [0, '0', '4', 4],
      [1, '0', '4', 4],
      [2, '0', '3', 3],
    ]);
    expect(d.partitions.every((p) => p.leader >= 0)).toBe(true);
    const topics = await runJson<Array<{ topic: string; partitions: number }>>(['kafka', 'topics']);
    expect(topics.find((t) => t.topic === topic)).toMatchObject({ partitions: 3, messages: 11 });
  });

  it('tail decodes quake events from the beginning and stops at --max', async () => {
    const r = await runCli([
      'kafka',
      'tail',
      topic,
      '--from-beginning',
      '--max',
      '11',
      '--timeout',
      '60',
      '-o',
      'json',
    ]);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(11);
    const ev3 = lines.find((l) => l.key === 'ev3');
    expect(ev3).toMatchObject({
      partition: 0,
      headers: { drill: 'true' },
      quake: { id: 'ev3', magnitude: 4.3, drill: true },
    });
    expect(lines.find((l) => l.key === 'ev10')).toMatchObject({ value: 'not a quake' });
    const human = await runCli(['kafka', 'tail', topic, '--from-beginning', '--max', '1', '--timeout', '60']);
    expect(human.stdout).toMatch(/^\d@\d+ ev\d+ M4\.\d place \d+ .*DRILL/);
    // The throw-away tail groups are deleted: they leave no lag behind.
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId);
    expect(groups.filter((g) => g.startsWith('quakectl-tail-'))).toEqual([]);
  });

  it('refuses clearly: unknown topic, no mapping for the default group', async () => {
    const r = await runCli(['kafka', 'describe', uniqueName('nope')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown topic/);
    const lag = await runCli(['kafka', 'lag', '--topic', topic]);
    expect(lag.code).toBe(1);
    expect(lag.stderr).toMatch(/--group/);
    const tail = await runCli(['kafka', 'tail', uniqueName('nope'), '--timeout', '2']);
    expect(tail.code).toBe(2);
    expect(tail.stderr).toMatch(/unknown topic/);
  });

  it('lag of a group that never committed (a misspelt --group) says so', async () => {
    const r = await runCli(['kafka', 'lag', '--group', uniqueName('nogroup'), '--topic', topic]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/note: group .* has no committed offset on .* \(unknown group, or not started\)/);
  });
});

describe('waitForGroupMembers', () => {
  it('is true once a consumer has joined the group, false for a group nobody joins', async () => {
    const joining = uniqueName('ops-join');
    const consumer = clients.kafka.consumer({ groupId: joining });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: false });
      // Not awaited by the consumer's join: run() returns before the group is Stable.
      await consumer.run({ eachMessage: async () => {} });
      expect(await waitForGroupMembers(clients.kafka, joining, { timeoutMs: 30_000 })).toBe(true);
    } finally {
      await consumer.disconnect();
    }
    // The offsets-only group of this file has no member: never Stable.
    const started = Date.now();
    expect(await waitForGroupMembers(clients.kafka, group, { timeoutMs: 600, everyMs: 100 })).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  });
});
