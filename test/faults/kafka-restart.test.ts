/**
 * A dead broker comes back with `quakectl local up`: the broker process of the shared stack is SIGKILLed, `status`
 * reports it (exit 1, kafka DOWN), and `local up` starts Kafka alone (the case that used to end in exit 13, "unsettled
 * top-level await") on the same data dir, so topics and every record written before the kill are still there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClients, uniqueName } from '../helpers/stack.ts';
import { kill, quakectl, stackState } from './levers.ts';

const clients = localClients();
const topic = uniqueName('fault-kafka');

async function highWatermarks(): Promise<number[]> {
  const admin = clients.kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.sort((a, b) => a.partition - b.partition).map((o) => Number(o.high));
  } finally {
    await admin.disconnect();
  }
}

async function produce(keys: string[]) {
  const producer = clients.kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: keys.map((key) => ({ key, value: `value of ${key}` })) });
  } finally {
    await producer.disconnect();
  }
}

beforeAll(async () => {
  const admin = clients.kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  await admin.disconnect();
  await produce(['a', 'b', 'c', 'd']);
});

afterAll(async () => {
  const admin = clients.kafka.admin();
  await admin.connect().catch(() => {});
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect().catch(() => {});
  clients.destroy();
});

describe('Kafka killed and brought back by local up', () => {
  it('status says kafka is down; local up restarts Kafka alone with its topics and records', async () => {
    const before = await highWatermarks();
    expect(before.reduce((a, b) => a + b, 0)).toBe(4);
    const oldPid = await kill('kafka');

    const down = quakectl('status');
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/status: not answering: kafka/);

    const up = quakectl('local', 'up');
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/started kafka;/);
    expect(stackState().kafka.pid).not.toBe(oldPid);

    expect(await highWatermarks()).toEqual(before);
    await produce(['e']);
    expect((await highWatermarks()).reduce((a, b) => a + b, 0)).toBe(5);
  });

  it('a second local up with everything healthy starts nothing', () => {
    const again = quakectl('local', 'up', '-o', 'json');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).kafka.healthy).toBe(true);
  });
});
