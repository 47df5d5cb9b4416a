/**
 * Real-time ingestion into the real producer on the local stack: the producer bundled by the project's bundler and
 * deployed to the Lambda emulator (events table and topic unique to this run), a loopback feed server serving the real
 * USGS sample and FDSN text, and a loopback websocket server replaying the real EMSC messages with a dropped connection.
 * 1. `quakectl ingest` (spawned as an operator runs it) forwards every event once to the producer Lambda, each appears
 *    once on the events topic, a 304 forwards nothing, SIGTERM stops it with exit 0.
 * 2. The producer's scheduled mode (EventBridge event) polls the FDSN query until its budget runs low; a second
 *    invocation gets 304s and produces nothing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateFunctionCommand, DeleteFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Admin, Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunction, HANDLER } from '../../shared/bundle/index.ts';
import { ForwardError } from '../../shared/ingest/errors.ts';
import { lambdaForwarder } from '../../shared/ingest/forward.ts';
import type { ForwardedEvent } from '../../shared/ingest/run.ts';
import type { ProducerResult } from '../../shared/ingest/types.ts';
import { parseFeed } from '../../shared/quake/detect.ts';
import {
  type FeedServer,
  quakeFixture,
  type ReplayServer,
  startFeedServer,
  startReplayServer,
} from '../fixtures/ingest/servers.ts';
import { uniqueName } from '../helpers/stack.ts';
import { type TestStack, testStack } from './pipeline-support.ts';

const ROLE = 'arn:aws:iam::000000000000:role/quakectl-local';
const BIN = fileURLToPath(new URL('../../bin/quakectl', import.meta.url));
const FDSN_PATH = '/fdsnws/event/1/query';

// Five real features of the USGS cut: a feed small enough to check one by one.
const usgsDoc = (() => {
  const doc = JSON.parse(quakeFixture('usgs-all_week-2023-04-07-cut.geojson')) as { features: unknown[] };
  return JSON.stringify({ ...doc, features: doc.features.slice(0, 5) });
})();
const emscLines = quakeFixture('emsc-websocket-versions.jsonl')
  .split('\n')
  .filter((l) => l.trim() !== '');
const fdsnText = quakeFixture('fdsn-emsc-14col.txt');

let stack: TestStack;
let feeds: FeedServer;
let ws: ReplayServer;
let admin: Admin;
let consumer: Consumer;
let topic: string;
let fn: string;
const onTopic: Array<{ key: string; id: string; updatedAt: number; headers: Record<string, string>; at: number }> = [];
let bundleZip: Uint8Array;

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The producer bundle as a function of the emulator, on this run's events table and topic; `extra` adds environment
 * variables. The samples are from 2023 and 2025: no age limit here (unit tests cover it).
 */
async function createProducer(name: string, extra: Record<string, string> = {}): Promise<void> {
  await stack.clients.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs24.x',
      Role: ROLE,
      Handler: HANDLER,
      Timeout: 8,
      MemorySize: 256,
      Code: { ZipFile: bundleZip },
      Environment: {
        Variables: {
          QUAKECTL_PREFIX: stack.names.prefix,
          QUAKECTL_KAFKA_BROKERS: stack.clients.config.kafka.brokers.join(','),
          QUAKECTL_LOCAL: 'true',
          QUAKECTL_EVENTS_TOPIC: topic,
          QUAKECTL_INGEST_MAX_AGE_S: '0',
          ...extra,
        },
      },
    }),
  );
}

beforeAll(async () => {
  stack = await testStack('ing', ['events']);
  feeds = await startFeedServer();
  feeds.set('/summary/all_hour.geojson', {
    body: usgsDoc,
    etag: '"usgs-1"',
    lastModified: 'Fri, 07 Apr 2023 18:00:00 GMT',
  });
  feeds.set(FDSN_PATH, { body: fdsnText, contentType: 'text/plain', etag: '"fdsn-1"' });
  ws = await startReplayServer({ messages: () => emscLines, dropAfter: (conn) => (conn === 1 ? 2 : undefined) });

  topic = uniqueName('quakes.events.ingest');
  admin = stack.clients.kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
  consumer = stack.clients.kafka.consumer({ groupId: uniqueName('ingest-test') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const value = JSON.parse(message.value?.toString() ?? '{}') as { quake: { id: string; updatedAt: number } };
      const headers = Object.fromEntries(
        Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
      ) as Record<string, string>;
      onTopic.push({
        key: message.key?.toString() ?? '',
        id: value.quake.id,
        updatedAt: value.quake.updatedAt,
        headers,
        at: Number(message.timestamp),
      });
    },
  });

  bundleZip = (await bundleFunction('producer')).zip;
  fn = stack.names.function('producer');
  await createProducer(fn, {
    QUAKECTL_FDSN_QUERY_URL: `${feeds.url(FDSN_PATH)}?format=text&minmagnitude=2`,
    QUAKECTL_POLL_INTERVAL_MS: '400',
  });
});

afterAll(async () => {
  await consumer?.disconnect().catch(() => {});
  if (topic) await admin?.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin?.disconnect().catch(() => {});
  if (fn) await stack?.clients.lambda.send(new DeleteFunctionCommand({ FunctionName: fn })).catch(() => {});
  await feeds?.close();
  await ws?.close();
  await stack?.cleanup();
});

describe('quakectl ingest → producer Lambda → quakes.events', () => {
  let child: ChildProcess;
  const lines: ForwardedEvent[] = [];
  let stderr = '';

  it('forwards every feed and websocket event once; each appears once on the topic', async () => {
    child = spawn(
      process.execPath,
      [
        BIN,
        'ingest',
        '--usgs',
        feeds.url('/summary/all_hour.geojson'),
        '--emsc',
        ws.url,
        '--interval',
        '1',
        '--max-age',
        '0',
        '--function',
        fn,
        '--qualifier',
        '$LATEST',
        '-o',
        'json',
      ],
      { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let buffered = '';
    child.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as ForwardedEvent);
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });

    const usgsIds = parseFeed(usgsDoc).accepted.map((q) => q.id);
    // EMSC versions fixture: a create and a newer update are new; the replayed create and the older update are not.
    const emscVersions = new Set(parseFeed(emscLines.join('\n')).accepted.map((q) => `${q.id}@${q.updatedAt}`));
    await until(
      'ingest lines',
      () =>
        lines.filter((l) => l.via === 'usgs').length >= usgsIds.length &&
        lines.filter((l) => l.via === 'emsc').length >= 2,
    );
    // The websocket dropped after two messages and replayed everything on reconnect.
    await until('websocket reconnect and replay', () => ws.connections() >= 2 && stderr.includes('emsc open'));
    await new Promise((r) => setTimeout(r, 2_500)); // two more polling rounds, and the replay fully handled

    const usgsLines = lines.filter((l) => l.via === 'usgs');
    expect(usgsLines.map((l) => l.id).sort()).toEqual([...usgsIds].sort());
    expect(usgsLines.every((l) => l.outcome === 'accepted')).toBe(true);
    const emscLinesOut = lines.filter((l) => l.via === 'emsc');
    expect(emscLinesOut).toHaveLength(2);
    expect(emscLinesOut.map((l) => l.updatedAt)).toEqual([...emscLinesOut.map((l) => l.updatedAt)].sort());
    expect(emscVersions.size).toBeGreaterThanOrEqual(2);

    // Later polls were conditional and answered 304.
    const polls = feeds.requests.filter((r) => r.path === '/summary/all_hour.geojson');
    expect(polls.length).toBeGreaterThanOrEqual(3);
    expect(polls.slice(1).every((r) => r.status === 304 && r.headers['if-none-match'] === '"usgs-1"')).toBe(true);

    // On the topic: every accepted event exactly once per version, keyed by its id, headers per the contract.
    const accepted = lines.filter((l) => l.outcome === 'accepted');
    await until('events on the topic', () => onTopic.length >= accepted.length, 30_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(onTopic).toHaveLength(accepted.length);
    const keys = onTopic.map((m) => `${m.key}@${m.updatedAt}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const l of accepted) {
      const m = onTopic.find((x) => x.key === l.canonicalId && x.updatedAt === Date.parse(l.updatedAt));
      expect(m, `${l.id} on the topic`).toBeDefined();
      expect(m?.headers).toMatchObject({ schema: '1', drill: 'false' });
    }
  });

  it('an updated feed forwards only the changed event', async () => {
    const doc = JSON.parse(usgsDoc) as { features: Array<{ id: string; properties: Record<string, number> }> };
    const changed = doc.features[2];
    changed.properties.mag += 0.5;
    changed.properties.updated += 120_000;
    feeds.set('/summary/all_hour.geojson', { body: JSON.stringify(doc), etag: '"usgs-2"' });
    const before = lines.length;
    const topicBefore = onTopic.length;
    await until('the update forwarded', () => lines.length > before);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(lines.slice(before).map((l) => [l.id, l.outcome])).toEqual([[changed.id, 'accepted']]);
    await until('the update on the topic', () => onTopic.length > topicBefore, 30_000);
    expect(onTopic.slice(topicBefore).map((m) => [m.key, m.updatedAt])).toEqual([
      [changed.id, changed.properties.updated],
    ]);
  });

  it('SIGTERM stops it cleanly with exit 0', async () => {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(stderr).toContain('stopped');
  });
});

describe('quakectl ingest --direct → quakes.events', () => {
  it('produces through the producer domain code in-process, once per event, and stops on SIGINT', async () => {
    const doc = JSON.parse(quakeFixture('usgs-all_week-2023-04-07-cut.geojson')) as { features: unknown[] };
    const body = JSON.stringify({ ...doc, features: doc.features.slice(5, 9) });
    feeds.set('/summary/direct.geojson', { body, etag: '"direct-1"' });
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-ingest-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `profiles:\n  ingest-test:\n    type: local\n    prefix: ${stack.names.prefix}\n`);
    const topicBefore = onTopic.length;
    const child = spawn(
      process.execPath,
      [
        BIN,
        '--config',
        config,
        '--profile',
        'ingest-test',
        'ingest',
        '--direct',
        '--usgs',
        feeds.url('/summary/direct.geojson'),
        '--interval',
        '1',
        '--max-age',
        '0',
      ],
      { env: { ...process.env, NO_COLOR: '1', QUAKECTL_EVENTS_TOPIC: topic }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const ids = parseFeed(body).accepted.map((q) => q.id);
    try {
      await until('direct lines', () => out.split('\n').filter((l) => l.includes('accepted')).length >= ids.length);
      await until('events on the topic', () => onTopic.length >= topicBefore + ids.length, 30_000);
      await new Promise((r) => setTimeout(r, 2_000));
    } finally {
      const exited = once(child, 'exit');
      child.kill('SIGINT');
      const [code] = (await exited) as [number | null];
      rmSync(dir, { recursive: true, force: true });
      expect(code, err).toBe(0);
    }
    const printed = out.split('\n').filter((l) => l.trim() !== '');
    expect(printed).toHaveLength(ids.length);
    for (const id of ids) expect(printed.some((l) => l.includes(` ${id} `) && l.endsWith('accepted'))).toBe(true);
    expect(
      onTopic
        .slice(topicBefore)
        .map((m) => m.key)
        .sort(),
    ).toEqual([...ids].sort());
    expect(err).toContain(`kafka producer connected`);
  });
});

describe('producer scheduled mode', () => {
  async function invokeScheduled(): Promise<ProducerResult & { polls?: Record<string, number> }> {
    const out = await stack.clients.lambda.send(
      new InvokeCommand({
        FunctionName: fn,
        Payload: Buffer.from(JSON.stringify({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} })),
      }),
    );
    const body = JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8'));
    if (out.FunctionError) throw new Error(`producer failed: ${JSON.stringify(body)}`);
    return body;
  }

  it('polls the FDSN query until the budget runs low, produces its events once, then 304s produce nothing', async () => {
    const parsed = parseFeed(fdsnText).accepted;
    const topicBefore = onTopic.length;
    const requestsBefore = feeds.requests.filter((r) => r.path === FDSN_PATH).length;
    const started = Date.now();
    const first = await invokeScheduled();
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(first.polls?.rounds).toBeGreaterThanOrEqual(2);
    expect(first.polls?.changed).toBe(1);
    expect(first.polls?.unchanged).toBe((first.polls?.rounds ?? 0) - 1);
    expect(first.accepted.length + first.associated + first.superseded).toBeGreaterThanOrEqual(parsed.length);
    expect(first.accepted.length).toBeGreaterThan(0);
    const fdsnRequests = feeds.requests.filter((r) => r.path === FDSN_PATH).slice(requestsBefore);
    expect(fdsnRequests[0].status).toBe(200);
    expect(fdsnRequests.slice(1).every((r) => r.status === 304)).toBe(true);

    await until('scheduled events on the topic', () => onTopic.length >= topicBefore + first.accepted.length, 30_000);
    expect(
      onTopic
        .slice(topicBefore)
        .map((m) => m.key)
        .sort(),
    ).toEqual([...first.accepted].sort());

    const second = await invokeScheduled();
    expect(second.accepted).toEqual([]);
    expect(second.polls?.rounds).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(onTopic.length).toBe(topicBefore + first.accepted.length);
  });
});

describe('the sweep of stranded versions', () => {
  it('runs after a fresh environment’s own events are on the topic, not before them', async () => {
    // A version accepted a minute ago whose produce never reached Kafka (published = false): the sweep's to send.
    const [a, b] = parseFeed(usgsDoc).accepted.slice(3, 5);
    const strandedId = uniqueName('stranded');
    const strandedQuake = { ...a, id: strandedId, sourceIds: [strandedId] };
    await stack.clients.ddb.send(
      new PutCommand({
        TableName: stack.names.table('events'),
        Item: {
          eventId: strandedQuake.id,
          quake: strandedQuake,
          updatedAt: strandedQuake.updatedAt,
          published: false,
          acceptedAt: Date.now() - 60_000,
        },
      }),
    );
    // A new function: its environment has never swept (the first invocation of an environment always does).
    const fresh = `${fn}-fresh`;
    await createProducer(fresh);
    try {
      // Days away from every event of the other tests: its own event, not associated with one of theirs.
      const later = 5 * 86_400_000;
      const ownId = uniqueName('own');
      const own = {
        ...b,
        id: ownId,
        sourceIds: [ownId],
        originTime: b.originTime + later,
        updatedAt: b.updatedAt + later,
      };
      const out = await stack.clients.lambda.send(
        new InvokeCommand({ FunctionName: fresh, Payload: Buffer.from(JSON.stringify({ quakes: [own] })) }),
      );
      const body = JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8')) as ProducerResult & {
        republished?: string[];
      };
      expect(out.FunctionError, JSON.stringify(body)).toBeUndefined();
      expect(body.accepted, JSON.stringify(body)).toHaveLength(1);
      expect(body.republished).toEqual([strandedQuake.id]);
      await until('both on the topic', () =>
        [strandedQuake.id, body.accepted[0]].every((id) => onTopic.some((m) => m.key === id)),
      );
      const at = (id: string) => onTopic.find((m) => m.key === id)!.at;
      // The producer's own version went to Kafka first (record create times, set by the producer as it sends).
      expect(at(body.accepted[0])).toBeLessThan(at(strandedQuake.id));
    } finally {
      await stack.clients.lambda.send(new DeleteFunctionCommand({ FunctionName: fresh })).catch(() => {});
    }
  });
});

describe('lambdaForwarder errors', () => {
  it('a missing function is not retriable; the producer result comes back as is', async () => {
    const quake = parseFeed(usgsDoc).accepted[0];
    const missing = lambdaForwarder({ lambda: stack.clients.lambda, functionName: `${fn}-missing` });
    const err = await missing([quake]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForwardError);
    expect((err as ForwardError).retriable).toBe(false);
    const ok = await lambdaForwarder({ lambda: stack.clients.lambda, functionName: fn })([quake]);
    // Already produced by the first test: the producer drops it as superseded.
    expect(ok).toMatchObject({ accepted: [], rejected: [], superseded: 1 });
  });
});
