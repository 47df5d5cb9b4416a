import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DeleteTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import {
  GetAliasCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  GetProvisionedConcurrencyConfigCommand,
} from '@aws-sdk/client-lambda';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRateHistory, recordRate } from '../../shared/fanout/rate.ts';
import { resourceNames } from '../../shared/infra/names.ts';
import { tableDefinition } from '../../shared/infra/tables.ts';
import type { Decision } from '../../shared/scaling/engine.ts';
import { localClients, uniqueName } from '../helpers/stack.ts';
import { createTestFunction, deleteTestFunctions, profileArgs, runCli, runJson } from './ops-cli.ts';

const clients = localClients();
const prefix = uniqueName('ops');
const names = resourceNames(prefix);
const fns = [names.function('consumer'), names.function('segment-worker'), names.function('producer')];
const topic = uniqueName('ops-scale');
const group = uniqueName('ops-scale-group');
const P = profileArgs(prefix);
let admin: Admin;

const reserved = async (fn: string) =>
  (await clients.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: fn }))).ReservedConcurrentExecutions;

/** Every test function's environment as callers invoke it (`<fn>:live`): QUAKECTL_FANOUT parsed, and KEEP. */
const liveEnvs = async () =>
  Promise.all(
    fns.map(async (fn) => {
      const c = await clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn, Qualifier: 'live' }));
      const vars = c.Environment?.Variables ?? {};
      return { fanout: JSON.parse(vars.QUAKECTL_FANOUT ?? '{}') as Record<string, unknown>, keep: vars.KEEP };
    }),
  );

beforeAll(async () => {
  const source = 'export const handler = async (e) => ({ ok: true, e });';
  const fanout = JSON.stringify({
    parallelism: 4,
    maxSegmentSize: 2000,
    strategy: 'geo',
    batchSize: 100,
    minMagnitude: 3,
  });
  for (const fn of fns) await createTestFunction(clients.lambda, fn, source, { QUAKECTL_FANOUT: fanout, KEEP: 'me' });
  await clients.dynamodb.send(new CreateTableCommand(tableDefinition(names, 'events')));
  await waitUntilTableExists(
    { client: clients.dynamodb, maxWaitTime: 30, minDelay: 0.2, maxDelay: 1 },
    { TableName: names.table('events') },
  );
  // One event in progress: 37 segments planned, 5 done → 32 pending.
  await clients.ddb.send(
    new PutCommand({
      TableName: names.table('events'),
      Item: { eventId: 'ev-scale', state: 'running', total: 37, doneCount: 5, quake: { magnitude: 6, drill: true } },
    }),
  );
  admin = clients.kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
  const producer = clients.kafka.producer();
  await producer.connect();
  // A real lag: 50 records, nobody consuming them.
  await producer.send({ topic, messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
  await producer.disconnect();
});

afterAll(async () => {
  await deleteTestFunctions(clients.lambda, fns);
  await clients.dynamodb.send(new DeleteTableCommand({ TableName: names.table('events') })).catch(() => {});
  await admin?.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin?.disconnect();
  clients.destroy();
});

describe('quakectl scale set', () => {
  it('reserved and provisioned changes are visible through the Lambda API', async () => {
    const dry = await runCli([...P, 'scale', 'set', '--function', 'consumer', '--reserved', '7', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain(`would reserved concurrency of ${names.function('consumer')}: none → 7`);
    expect(await reserved(names.function('consumer'))).toBeUndefined();

    const r = await runCli([...P, 'scale', 'set', '--function', 'consumer', '--reserved', '7', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(await reserved(names.function('consumer'))).toBe(7);

    const p = await runCli([...P, 'scale', 'set', '--function', 'producer', '--reserved', '6', '--provisioned', '4']);
    expect(p.code, p.stderr).toBe(0);
    const pc = await clients.lambda.send(
      new GetProvisionedConcurrencyConfigCommand({ FunctionName: names.function('producer'), Qualifier: 'live' }),
    );
    expect(pc.RequestedProvisionedConcurrentExecutions).toBe(4);
    expect(await reserved(names.function('producer'))).toBe(6);

    const show = await runJson<{
      functions: Array<{ role: string; reserved: number | null; provisioned: number | null }>;
    }>([...P, 'scale', 'show']);
    expect(show.functions.find((f) => f.role === 'producer')).toMatchObject({ reserved: 6, provisioned: 4 });
  });

  it('refuses clearly: over the account limit, negative, unknown function, provisioned above reserved', async () => {
    const over = await runCli([...P, 'scale', 'set', '--function', 'segment-worker', '--reserved', '990']);
    expect(over.code).toBe(1);
    expect(over.stderr).toMatch(/cannot reserve 990 .* 100 must stay unreserved, so at most \d+/);
    const neg = await runCli([...P, 'scale', 'set', '--function', 'segment-worker', '--reserved', '-3']);
    expect(neg.code).toBe(2);
    expect(neg.stderr).toMatch(/non-negative/);
    const unknown = await runCli([...P, 'scale', 'set', '--function', 'nope', '--reserved', '1']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown function "nope"/);
    const pc = await runCli([...P, 'scale', 'set', '--function', 'producer', '--provisioned', '9']);
    expect(pc.code).toBe(1);
    expect(pc.stderr).toMatch(/above its reserved concurrency 6/);
    expect(await reserved(names.function('segment-worker'))).toBeUndefined();
  });

  it('parallelism goes into QUAKECTL_FANOUT of every function, keeping the rest of the environment, and runs on live', async () => {
    const before = await clients.lambda.send(new GetAliasCommand({ FunctionName: fns[0], Name: 'live' }));
    const r = await runCli([...P, 'scale', 'set', '--parallelism', '9']);
    expect(r.code, r.stderr).toBe(0);
    // What callers invoke (`<fn>:live`): a new version with the new environment, not only $LATEST.
    for (const env of await liveEnvs()) {
      expect(env.fanout).toMatchObject({ parallelism: 9, maxSegmentSize: 2000 });
      expect(env.keep).toBe('me');
    }
    const after = await clients.lambda.send(new GetAliasCommand({ FunctionName: fns[0], Name: 'live' }));
    expect(Number(after.FunctionVersion)).toBeGreaterThan(Number(before.FunctionVersion));
    // The same value again changes nothing (no new version).
    const same = await runCli([...P, 'scale', 'set', '--parallelism', '9']);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toMatch(/nothing to change/);
    expect(
      (await clients.lambda.send(new GetAliasCommand({ FunctionName: fns[0], Name: 'live' }))).FunctionVersion,
    ).toBe(after.FunctionVersion);
    const show = await runJson<{ fanout: { parallelism: number } }>([...P, 'scale', 'show']);
    expect(show.fanout.parallelism).toBe(9);
    // The expected rate is the chains' total: a new P leaves it measured for the old one, and the change says so.
    expect(r.stderr).toMatch(
      /the planner uses fanout\.expectedRate 20000\/s until a fan-out of 10000 or more eligible subscribers at P = 9 is measured \(quakectl simulate --wait/,
    );
    expect(r.stderr).toMatch(/until the next deploy, which writes the profile's value back/);
  });

  it('the expected rate goes into QUAKECTL_FANOUT the same way; a bad one is refused', async () => {
    const r = await runCli([...P, 'scale', 'set', '--expected-rate', '35000']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/fan-out expected rate: 20000 → 35000\/s/);
    for (const env of await liveEnvs()) {
      expect(env.fanout).toMatchObject({ parallelism: 9, expectedRate: 35_000 });
      expect(env.keep).toBe('me');
    }
    const show = await runJson<{ fanout: { expectedRate: number } }>([...P, 'scale', 'show']);
    expect(show.fanout.expectedRate).toBe(35_000);
    const negative = await runCli([...P, 'scale', 'set', '--expected-rate=-5']);
    expect(negative.code).toBe(2);
    expect(negative.stderr).toMatch(/--expected-rate must be an integer from 0 \(off\) to 100000000 \(got -5\)/);
    const text = await runCli([...P, 'scale', 'set', '--expected-rate', 'fast']);
    expect(text.code).toBe(2);
    expect(text.stderr).toMatch(/not an integer: fast/);
    // Nothing deployed under another prefix: refused, not reported done.
    const none = await runCli([...profileArgs(uniqueName('ops-none')), 'scale', 'set', '--expected-rate', '1000']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no deployed function carries the fan-out settings: run quakectl deploy first/);
  });

  it('measured rates: show says which rate plans, --measure-rate turns them off and on, --forget-rate removes them', async () => {
    const events = { ddb: clients.ddb, table: names.table('events') };
    const at = Date.parse('2026-12-01T08:00:00Z');
    await recordRate(events, 9, {
      rate: 14_210,
      subscribers: 50_000,
      seconds: 3.519,
      eventId: 'drill-a',
      drill: true,
      at,
    });
    await recordRate(events, 4, {
      rate: 9_000,
      subscribers: 50_000,
      seconds: 5.556,
      eventId: 'drill-b',
      drill: true,
      at,
    });
    const show = await runJson<{ rate: { rate: number; source: string }; measured: Record<string, unknown[]> }>([
      ...P,
      'scale',
      'show',
    ]);
    // P is 9 (set above): the rate measured at P = 9 plans, not the one at P = 4 nor the setting (35,000).
    expect(show.rate).toEqual({ rate: 14_210, source: 'measured' });
    expect(Object.keys(show.measured ?? {}).sort()).toEqual(['P4', 'P9']);
    const text = await runCli([...P, 'scale', 'show']);
    expect(text.stdout).toMatch(/planned with: 14210\/s \(measured\)/);
    expect(text.stdout).toMatch(/ {2}P9: 14210\/s \(50000 in 3\.519 s, drill drill-a, 2026-12-01T08:00:00\.000Z\)/);

    // A new setting while a measured rate plans: done, and it says the setting is not what plans.
    const setting = await runCli([...P, 'scale', 'set', '--expected-rate', '36000']);
    expect(setting.code, setting.stderr).toBe(0);
    expect(setting.stderr).toMatch(/the planner keeps using the rate measured at P = 9, 14210\/s/);

    const off = await runCli([...P, 'scale', 'set', '--measure-rate', 'off']);
    expect(off.code, off.stderr).toBe(0);
    expect(off.stderr).toMatch(/fan-out measured rate: on → off .*the planner will use 36000\/s \(setting\)/);
    for (const env of await liveEnvs()) expect(env.fanout).toMatchObject({ measureRate: false, expectedRate: 36_000 });
    expect((await runJson<{ rate: unknown }>([...P, 'scale', 'show'])).rate).toEqual({
      rate: 36_000,
      source: 'setting',
    });
    const on = await runCli([...P, 'scale', 'set', '--measure-rate', 'on']);
    expect(on.code, on.stderr).toBe(0);
    for (const env of await liveEnvs()) expect(env.fanout).toMatchObject({ measureRate: true });

    const bad = await runCli([...P, 'scale', 'set', '--measure-rate', 'maybe']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/on or off, not maybe/);

    // Combined with a new setting, the notes describe the state after both: nothing measured, the setting plans.
    const both = await runCli([...P, 'scale', 'set', '--expected-rate', '37000', '--forget-rate', '--dry-run']);
    expect(both.code, both.stderr).toBe(0);
    expect(both.stderr).not.toMatch(/keeps using/);
    expect(both.stderr).toMatch(/would forget 2 measured fan-out rate\(s\).*uses fanout\.expectedRate 37000\/s/);
    const forget = await runCli([...P, 'scale', 'set', '--forget-rate', '--yes']);
    expect(forget.code, forget.stderr).toBe(0);
    expect(forget.stderr).toMatch(/forget 2 measured fan-out rate\(s\) \(P4: up to 9000\/s, P9: up to 14210\/s\)/);
    expect(await readRateHistory(events)).toEqual({});
    const after = await runJson<{ rate: unknown }>([...P, 'scale', 'show']);
    expect(after.rate).toEqual({ rate: 36_000, source: 'setting' });
    // Nothing left to forget: nothing to change.
    const again = await runCli([...P, 'scale', 'set', '--forget-rate', '--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/nothing to change/);
  });

  it('re-segmenting is refused while an event is in progress', async () => {
    const r = await runCli([...P, 'scale', 'set', '--max-segment-size', '500', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot re-segment while 1 event\(s\) are in progress \(ev-scale\)/);
  });
});

describe('quakectl scale plan / apply', () => {
  const rulesFile = join(tmpdir(), `${prefix}-rules.yaml`);
  beforeAll(() => {
    writeFileSync(
      rulesFile,
      [
        'version: 1',
        'consumer:',
        `  topic: ${topic}`,
        `  group: ${group}`,
        '  lagPerInstance: 20',
        '  min: 1',
        '  max: 10',
        '  cooldown: { up: 0, down: 0 }',
        'worker:',
        '  pendingSegmentsPerInstance: 8',
        '  min: 2',
        '  max: 40',
        '',
      ].join('\n'),
    );
  });

  it('plan proposes the numbers the lag and pending segments call for', async () => {
    const plan = await runJson<{ decisions: Decision[] }>([...P, 'scale', 'plan', '--rules', rulesFile]);
    const [consumer, worker] = plan.decisions;
    // lag 50 / 20 → 3, within [1, 10] and the 3 partitions; current reservation 7 → scale down to 3.
    expect(consumer).toMatchObject({ function: 'consumer', current: 7, desired: 3, action: 'scale-down' });
    expect(consumer.metrics).toMatchObject({ totalLag: 50, partitions: 3 });
    // 32 pending segments / 8 → 4 (no reservation yet: set).
    expect(worker).toMatchObject({ function: 'segment-worker', current: null, desired: 4, action: 'set' });
    expect(worker.metrics).toMatchObject({ pendingSegments: 32, eventsInProgress: 1 });
    expect(await reserved(names.function('consumer'))).toBe(7);
  });

  it('apply sets them, and then holds', async () => {
    const r = await runCli([...P, 'scale', 'apply', '--rules', rulesFile, '-o', 'json', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { applied: Array<Decision & { applied: boolean }> };
    expect(out.applied.map((a) => [a.function, a.applied, a.desired])).toEqual([
      ['consumer', true, 3],
      ['segment-worker', true, 4],
    ]);
    expect(await reserved(names.function('consumer'))).toBe(3);
    expect(await reserved(names.function('segment-worker'))).toBe(4);
    const again = await runJson<{ decisions: Decision[] }>([...P, 'scale', 'plan', '--rules', rulesFile]);
    expect(again.decisions.map((d) => d.action)).toEqual(['hold', 'hold']);
  });
});

describe('an AWS profile (pointed at the local endpoints through the SDK variables)', () => {
  it('asks before changing; without a TTY it refuses with a hint and changes nothing', async () => {
    const stack = JSON.parse(
      (await import('node:fs')).readFileSync(join(process.env.QUAKECTL_STATE_DIR ?? '.quakectl', 'stack.json'), 'utf8'),
    );
    const args = profileArgs(prefix, {});
    const file = args[1];
    writeFileSync(
      file,
      `profiles:\n  a:\n    type: aws\n    region: us-east-1\n    prefix: ${prefix}\n    kafka: { brokers: [${stack.kafka.brokers[0]}] }\n`,
    );
    const env = {
      AWS_ENDPOINT_URL_LAMBDA: stack.lambda.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: stack.dynamodb.endpoint,
      AWS_ENDPOINT_URL_SQS: stack.sqs.endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };
    const before = await reserved(names.function('consumer'));
    const r = await runCli(
      ['--config', file, '--profile', 'a', 'scale', 'set', '--function', 'consumer', '--reserved', '2'],
      {
        env,
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/stdin is not a TTY \(pass --yes\)/);
    expect(await reserved(names.function('consumer'))).toBe(before);
    const ok = await runCli(
      ['--config', file, '--profile', 'a', 'scale', 'set', '--function', 'consumer', '--reserved', '2', '--yes'],
      { env },
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(await reserved(names.function('consumer'))).toBe(2);
  });
});

describe('functions/autoscaler', () => {
  it('runs the same engine in the emulator and applies its decisions', async () => {
    const { bundleFunction } = await import('../../shared/bundle/index.ts');
    const { InvokeCommand } = await import('@aws-sdk/client-lambda');
    const stack = JSON.parse(
      (await import('node:fs')).readFileSync(join(process.env.QUAKECTL_STATE_DIR ?? '.quakectl', 'stack.json'), 'utf8'),
    );
    const bundle = await bundleFunction('autoscaler');
    const fn = names.function('autoscaler');
    fns.push(fn);
    const { CreateFunctionCommand } = await import('@aws-sdk/client-lambda');
    const rules = [
      'version: 1',
      `consumer: { topic: ${topic}, group: ${group}, lagPerInstance: 5, max: 10, cooldown: { up: 0, down: 0 } }`,
      'worker: { pendingSegmentsPerInstance: 4, min: 2, max: 40, cooldown: { up: 0, down: 0 } }',
    ].join('\n');
    await clients.lambda.send(
      new CreateFunctionCommand({
        FunctionName: fn,
        Runtime: 'nodejs24.x',
        Role: 'arn:aws:iam::000000000000:role/quakectl-ops-test',
        Handler: 'index.handler',
        Code: { ZipFile: bundle.zip },
        Timeout: 60,
        MemorySize: 256,
        Environment: {
          Variables: {
            QUAKECTL_PREFIX: prefix,
            QUAKECTL_KAFKA_BROKERS: stack.kafka.brokers.join(','),
            QUAKECTL_LOCAL: 'true',
            QUAKECTL_SCALING_RULES_YAML: rules,
          },
        },
      }),
    );
    const out = await clients.lambda.send(new InvokeCommand({ FunctionName: fn }));
    const payload = JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8'));
    expect(out.FunctionError, JSON.stringify(payload)).toBeUndefined();
    // lag 50 / 5 = 10, capped at the 3 partitions; 32 pending / 4 = 8.
    expect(payload.decisions.map((d: Decision & { applied: boolean }) => [d.function, d.desired, d.applied])).toEqual([
      ['consumer', 3, true],
      ['segment-worker', 8, true],
    ]);
    expect(await reserved(names.function('consumer'))).toBe(3);
    expect(await reserved(names.function('segment-worker'))).toBe(8);
  });
});

describe('scale set --max-segment-size', () => {
  it('re-segments when no event is in progress: over-full shards split, near-empty ones merge', async () => {
    const { SubscriberStore } = await import('../../shared/segments/index.ts');
    const p2 = uniqueName('opsseg');
    const n2 = resourceNames(p2);
    const args = profileArgs(p2);
    for (const t of ['subscribers', 'segments', 'events'] as const) {
      await clients.dynamodb.send(new CreateTableCommand(tableDefinition(n2, t)));
      await waitUntilTableExists(
        { client: clients.dynamodb, maxWaitTime: 30, minDelay: 0.2, maxDelay: 1 },
        { TableName: n2.table(t) },
      );
    }
    try {
      // 45 subscribers in one H3 cell, written with shards of at most 10 → 5 shards.
      const small = new SubscriberStore(clients.ddb, n2, { maxSegmentSize: 10 });
      const subs = Array.from({ length: 45 }, (_, i) => ({
        id: `s${i}`,
        lat: 44.4268 + i * 1e-5,
        lon: 26.1025,
        channel: { type: 'log' as const, target: 'ops-test' },
      }));
      expect((await small.upsert(subs)).rejected).toEqual([]);
      expect((await small.stats()).segments).toBe(5);
      // A complete event does not block re-segmenting.
      await clients.ddb.send(
        new PutCommand({ TableName: n2.table('events'), Item: { eventId: 'old', state: 'complete' } }),
      );

      const dry = await runCli([...args, 'scale', 'set', '--max-segment-size', '20', '--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stderr).toMatch(
        /would maxSegmentSize: 2000 → 20: re-segment 45 subscribers in 1 cells \(5 shards, 0 over/,
      );
      expect((await small.stats()).segments).toBe(5);

      const r = await runCli([...args, 'scale', 'set', '--max-segment-size', '20', '--yes']);
      expect(r.code, r.stderr).toBe(0);
      const after = await new SubscriberStore(clients.ddb, n2, { maxSegmentSize: 20 }).stats();
      expect(after).toMatchObject({ subscribers: 45, segments: 3, overfull: 0 });
      const shards = (await new SubscriberStore(clients.ddb, n2).allSegments())
        .map((s) => s.count)
        .sort((a, b) => b - a);
      expect(shards).toHaveLength(3);
      expect(shards.reduce((a, b) => a + b, 0)).toBe(45);
      expect(Math.max(...shards)).toBeLessThanOrEqual(20);
    } finally {
      for (const t of ['subscribers', 'segments', 'events'] as const) {
        await clients.dynamodb.send(new DeleteTableCommand({ TableName: n2.table(t) })).catch(() => {});
      }
    }
  });
});
