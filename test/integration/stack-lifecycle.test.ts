/**
 * `quakectl local up / status / down` as a user runs them, on a throwaway stack with its own state dir and ports
 * (never the shared one in ./.quakectl, which other test runs use at the same time). That stack runs Kafka 4.x, so
 * the same run also shows kafkajs working against 4.x (the shared stack runs the 3.9 default).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { stackClients } from '../../local/stack/health.ts';
import { freePorts, isPortFree } from '../../local/stack/ports.ts';
import { isAlive } from '../../local/stack/processes.ts';
import type { LocalStackState } from '../../local/stack/stack.ts';

const KAFKA_4 = '4.1.1';
const BIN = fileURLToPath(new URL('../../bin/quakectl', import.meta.url));
const stateDir = mkdtempSync(join(tmpdir(), 'quakectl-lifecycle-'));

function quakectl(args: string[], dir = stateDir) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, QUAKECTL_STATE_DIR: dir, NO_COLOR: '1' },
    timeout: 200_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A consumer group reads back keyed messages and commits: what kafkajs needs from Kafka 4.x (KIP-896 kept its APIs). */
async function kafkaRoundTrip(state: LocalStackState): Promise<void> {
  expect(state.kafka.version).toBe(KAFKA_4);
  const clients = stackClients(state);
  const admin = clients.kafka.admin();
  const producer = clients.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = clients.kafka.consumer({ groupId: 'lifecycle' });
  try {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'lifecycle', numPartitions: 3 }], waitForLeaders: true });
    await producer.connect();
    await producer.send({
      topic: 'lifecycle',
      acks: -1,
      messages: Array.from({ length: 9 }, (_, i) => ({ key: `k${i % 3}`, value: String(i) })),
    });
    let seen = 0;
    await consumer.connect();
    await consumer.subscribe({ topic: 'lifecycle', fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consumed ${seen}/9 from Kafka ${KAFKA_4}`)), 60_000);
      void consumer.run({
        eachMessage: async () => {
          if (++seen === 9) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    const [committed] = await admin.fetchOffsets({ groupId: 'lifecycle', topics: ['lifecycle'] });
    // '-1' = nothing committed (a partition no key hashed to)
    const total = committed.partitions.reduce((sum, p) => sum + (p.offset === '-1' ? 0n : BigInt(p.offset)), 0n);
    expect(total).toBe(9n);
  } finally {
    await producer.disconnect().catch(() => {});
    await consumer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
    clients.destroy();
  }
}

afterAll(() => {
  // Whatever happened, leave nothing running from this stack.
  quakectl(['local', 'down']);
  rmSync(stateDir, { recursive: true, force: true });
});

describe('quakectl local on a separate stack', () => {
  it('starts, reports itself running, and stops leaving no process and no port behind', async () => {
    const [kafka, kafkaController, sqs, dynamodb, lambda, moto, cap] = await freePorts(7);
    const ports = { kafka, kafkaController, sqs, dynamodb, lambda, moto, cap };
    const portFlags = [
      ['--kafka-port', ports.kafka],
      ['--kafka-controller-port', ports.kafkaController],
      ['--sqs-port', ports.sqs],
      ['--dynamodb-port', ports.dynamodb],
      ['--lambda-port', ports.lambda],
      ['--moto-port', ports.moto],
      ['--cap-port', ports.cap],
    ].flatMap(([flag, port]) => [String(flag), String(port)]);

    const first = quakectl(['local', 'up', '--kafka-version', KAFKA_4, ...portFlags, '-o', 'json']);
    expect(first.code, first.stderr).toBe(0);
    const view = JSON.parse(first.stdout);
    expect(view.kafka).toEqual({ brokers: [`127.0.0.1:${ports.kafka}`], healthy: true });
    expect(view.sqs).toEqual({ endpoint: `http://127.0.0.1:${ports.sqs}`, healthy: true });
    expect(view.dynamodb).toEqual({ endpoint: `http://127.0.0.1:${ports.dynamodb}`, healthy: true });
    if (view.lambda) expect(view.lambda.endpoint).toBe(`http://127.0.0.1:${ports.lambda}`);
    expect(view.moto).toEqual({ endpoint: `http://127.0.0.1:${ports.moto}`, healthy: true });
    expect(view.cap).toEqual({
      endpoint: `http://127.0.0.1:${ports.cap}`,
      feed: `http://127.0.0.1:${ports.cap}/cap/index.atom`,
      dir: join(stateDir, 'cap'),
      healthy: true,
    });

    const state = JSON.parse(readFileSync(join(stateDir, 'stack.json'), 'utf8')) as LocalStackState;
    const pids = [
      state.kafka.pid,
      state.sqs.pid,
      state.dynamodb.pid,
      state.lambda?.pid,
      state.moto?.pid,
      state.cap?.pid,
    ].filter((p): p is number => typeof p === 'number');
    expect(pids.length).toBeGreaterThanOrEqual(4);
    for (const pid of pids) expect(isAlive(pid)).toBe(true);

    await kafkaRoundTrip(state);

    // Idempotent: a second up finds the stack and says so.
    const second = quakectl(['local', 'up']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/already running/);

    const status = quakectl(['local', 'status', '-o', 'json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).kafka.healthy).toBe(true);

    const down = quakectl(['local', 'down']);
    expect(down.code, down.stderr).toBe(0);
    for (const pid of pids) expect(isAlive(pid), `pid ${pid} still alive`).toBe(false);
    for (const port of Object.values(ports)) expect(await isPortFree(port), `port ${port} still taken`).toBe(true);

    const after = quakectl(['local', 'status']);
    expect(after.code).toBe(1);
    expect(after.stdout).toMatch(/not running/);
    const afterJson = JSON.parse(quakectl(['local', 'status', '-o', 'json']).stdout);
    expect([afterJson.kafka.healthy, afterJson.sqs.healthy, afterJson.dynamodb.healthy]).toEqual([false, false, false]);
  });

  it('refuses a busy port with a clear message and exit 1, starting nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-busy-'));
    const blocker: Server = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
    );
    try {
      const others = [
        '--kafka-port',
        '--kafka-controller-port',
        '--dynamodb-port',
        '--lambda-port',
        '--moto-port',
        '--cap-port',
      ];
      const flags = ['--sqs-port', String(port)];
      const free = (await freePorts(others.length + 1)).filter((p) => p !== port);
      for (const [i, flag] of others.entries()) flags.push(flag, String(free[i]));
      const r = quakectl(['local', 'up', ...flags], dir);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`port ${port} \\(sqs\\) already in use`));
      expect(r.stderr).toMatch(/--sqs-port/);
    } finally {
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
