/**
 * deploy against the local stack: plan, converge, idempotence, a code change, destroy. Functions are small fixtures
 * bundled by the real bundler; names (topics included) are unique to this run so it shares the stack safely.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  GetAliasCommand,
  GetFunctionCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvokeCommand,
  ListEventSourceMappingsCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunction, PROJECT_ROOT } from '../../shared/bundle/index.ts';
import { readActual } from '../../shared/deploy/actual.ts';
import { computeDesired, type DeployOptions, deploy, destroy } from '../../shared/deploy/index.ts';
import { loadProfile, type Profile } from '../../shared/infra/config.ts';
import { NotConfirmedError } from '../../shared/infra/errors.ts';
import { resourceNames } from '../../shared/infra/names.ts';
import { localClients, uniqueName } from '../helpers/stack.ts';

const clients = localClients();
const prefix = uniqueName('dt');
const names = {
  ...resourceNames(prefix),
  eventsTopic: `${prefix}.events`,
  notificationsTopic: `${prefix}.notifications`,
};
const profile: Profile = { ...loadProfile({ profile: 'local' }), prefix, eventsPartitions: 2 };
const dir = join(PROJECT_ROOT, '.quakectl', `test-deploy-${prefix}`);
const notTty = Object.assign(process.stdin, {}) as NodeJS.ReadableStream & { isTTY?: boolean };

async function fixtureBundles(version: string) {
  const roles = ['producer', 'consumer', 'segment-worker', 'autoscaler'] as const;
  const out: Record<string, { codeSha256: string; zip: Uint8Array }> = {};
  for (const role of roles) {
    const entry = join(dir, role, 'index.ts');
    await mkdir(join(dir, role), { recursive: true });
    await writeFile(
      entry,
      `export const handler = async (event: unknown) => ({ role: '${role}', version: '${version}', prefix: process.env.QUAKECTL_PREFIX, event });\n`,
    );
    const b = await bundleFunction(role, { entry });
    out[role] = { codeSha256: b.codeSha256, zip: b.zip };
  }
  return out;
}

let v1: Awaited<ReturnType<typeof fixtureBundles>>;
const opts = (over: Partial<DeployOptions> = {}): DeployOptions => ({ names, bundles: v1, ...over });

beforeAll(async () => {
  v1 = await fixtureBundles('v1');
});

afterAll(async () => {
  await destroy({ profile, clients }, opts({ yes: true })).catch(() => {});
  clients.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('deploy (local stack)', () => {
  it('--dry-run plans every resource as create and changes nothing', async () => {
    const r = await deploy({ profile, clients }, opts({ dryRun: true }));
    expect(r.dryRun).toBe(true);
    expect(r.summary).toEqual({ create: 4 + 4 + 2 + 3 + 1 });
    const desired = await computeDesired({ profile, clients }, opts());
    expect(await readActual(clients, desired)).toEqual([]);
  });

  it('converges, then a second deploy finds every resource unchanged', async () => {
    const first = await deploy({ profile, clients }, opts());
    expect(first.applied).toHaveLength(14);

    const fn = await clients.lambda.send(new GetFunctionCommand({ FunctionName: `${prefix}-producer` }));
    expect(fn.Configuration).toMatchObject({
      CodeSha256: v1.producer.codeSha256,
      Handler: 'index.handler',
      Timeout: 30,
    });
    expect(fn.Configuration?.DeadLetterConfig?.TargetArn).toMatch(new RegExp(`:${prefix}-producer-dlq$`));
    expect(fn.Configuration?.Environment?.Variables).toMatchObject({
      QUAKECTL_PREFIX: prefix,
      QUAKECTL_LOCAL: 'true',
      NODE_OPTIONS: '--enable-source-maps',
    });
    expect(fn.Concurrency?.ReservedConcurrentExecutions).toBe(10);
    const alias = await clients.lambda.send(new GetAliasCommand({ FunctionName: `${prefix}-producer`, Name: 'live' }));
    expect(alias.FunctionVersion).toMatch(/^\d+$/);

    const invoked = await clients.lambda.send(
      new InvokeCommand({ FunctionName: `${prefix}-producer`, Qualifier: 'live', Payload: Buffer.from('{"x":1}') }),
    );
    expect(JSON.parse(Buffer.from(invoked.Payload!).toString())).toMatchObject({ role: 'producer', version: 'v1' });

    // Provisioned concurrency on alias live, READY when deploy returns (local default: 1 consumer, P workers).
    for (const [role, n] of [
      ['consumer', 1],
      ['segment-worker', profile.fanout.parallelism],
    ] as const) {
      const pc = await clients.lambda.send(
        new GetProvisionedConcurrencyConfigCommand({ FunctionName: `${prefix}-${role}`, Qualifier: 'live' }),
      );
      expect(pc).toMatchObject({ Status: 'READY', RequestedProvisionedConcurrentExecutions: n });
    }

    const mappings = await clients.lambda.send(new ListEventSourceMappingsCommand({}));
    const mine = (mappings.EventSourceMappings ?? []).filter((m) => m.Topics?.includes(names.eventsTopic));
    expect(mine).toHaveLength(1);
    expect(mine[0].FunctionArn).toMatch(new RegExp(`:function:${prefix}-consumer:live$`));
    expect(mine[0].DestinationConfig?.OnFailure?.Destination).toMatch(new RegExp(`:${prefix}-consumer-dlq$`));

    const second = await deploy({ profile, clients }, opts());
    expect(second.summary).toEqual({ unchanged: 14 });
    expect(second.applied).toEqual([]);
  });

  it('re-uploads only the function whose code changed and moves its alias', async () => {
    const v2 = await fixtureBundles('v2');
    const before = await clients.lambda.send(new GetAliasCommand({ FunctionName: `${prefix}-consumer`, Name: 'live' }));
    const onlyConsumer = { ...v1, consumer: v2.consumer };
    const r = await deploy({ profile, clients }, opts({ bundles: onlyConsumer }));
    expect(r.items.filter((i) => i.action !== 'unchanged').map((i) => [i.name, i.action])).toEqual([
      [`${prefix}-consumer`, 'update'],
    ]);
    const after = await clients.lambda.send(new GetAliasCommand({ FunctionName: `${prefix}-consumer`, Name: 'live' }));
    expect(Number(after.FunctionVersion)).toBeGreaterThan(Number(before.FunctionVersion));
    const again = await deploy({ profile, clients }, opts({ bundles: onlyConsumer }));
    expect(again.applied).toEqual([]);
  });

  it('adds partitions to the events topic', async () => {
    const more = { ...profile, eventsPartitions: 3 };
    const r = await deploy({ profile: more, clients }, opts({ bundles: v1 }));
    const changed = r.items.filter((i) => i.action !== 'unchanged').map((i) => i.name);
    expect(changed).toContain(names.eventsTopic);
    const admin = clients.kafka.admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [names.eventsTopic] });
    await admin.disconnect();
    expect(meta.topics[0].partitions).toHaveLength(3);
  });

  it('local: the autoscaler and the polling producer deploy with their settings; their schedules are skipped', async () => {
    const rules = join(dir, 'scaling.yaml');
    await writeFile(rules, 'version: 1\nconsumer:\n  lagPerInstance: 50\n  min: 1\n  max: 4\n');
    const withSchedules: Profile = {
      ...profile,
      eventsPartitions: 3,
      autoscaler: { enabled: true, rules, schedule: 'rate(1 minute)' },
    };
    const settings = { ingest: { usgsFeedUrl: 'http://127.0.0.1:9/all_hour.geojson', schedule: 'rate(1 minute)' } };
    const r = await deploy({ profile: withSchedules, clients }, opts({ settings }));
    expect(r.items.filter((i) => i.action === 'skipped').map((i) => [i.kind, i.name])).toEqual([
      ['schedule', `${prefix}-autoscaler-schedule`],
      ['schedule', `${prefix}-producer-poll`],
    ]);
    expect(r.items.find((i) => i.name === `${prefix}-producer-poll`)?.note).toMatch(/run `quakectl ingest` instead/);
    expect(r.applied.map((a) => a.name).sort()).toEqual([`${prefix}-autoscaler`, `${prefix}-producer`]);
    const producer = await clients.lambda.send(new GetFunctionCommand({ FunctionName: `${prefix}-producer` }));
    expect(producer.Configuration).toMatchObject({ Timeout: 60 });
    expect(producer.Concurrency?.ReservedConcurrentExecutions).toBe(1);
    expect(producer.Configuration?.Environment?.Variables?.QUAKECTL_USGS_FEED_URL).toBe(settings.ingest.usgsFeedUrl);
    const autoscaler = await clients.lambda.send(new GetFunctionCommand({ FunctionName: `${prefix}-autoscaler` }));
    const env = autoscaler.Configuration?.Environment?.Variables ?? {};
    expect(JSON.parse(env.QUAKECTL_SCALING_RULES)).toMatchObject({ consumer: { lagPerInstance: 50, max: 4 } });
    const again = await deploy({ profile: withSchedules, clients }, opts({ settings }));
    expect(again.summary).toEqual({ unchanged: 15, skipped: 2 });
    expect(again.applied).toEqual([]);
  });

  it('destroying another system on the same topics keeps the topics its neighbour still reads', async () => {
    const other = `${prefix}b`;
    const otherNames = {
      ...resourceNames(other),
      eventsTopic: names.eventsTopic,
      notificationsTopic: names.notificationsTopic,
    };
    const otherProfile: Profile = { ...profile, prefix: other, eventsPartitions: 3 };
    await deploy({ profile: otherProfile, clients }, opts({ names: otherNames }));
    const r = await destroy({ profile: otherProfile, clients }, opts({ names: otherNames, yes: true }));
    expect(r.items.filter((i) => i.kind === 'topic').map((i) => [i.name, i.action])).toEqual([
      [names.notificationsTopic, 'skipped'],
      [names.eventsTopic, 'skipped'],
    ]);
    expect(r.items.find((i) => i.kind === 'topic')?.note).toMatch(`shared with ${prefix}-consumer`);
    const admin = clients.kafka.admin();
    await admin.connect();
    const topics = await admin.listTopics();
    await admin.disconnect();
    expect(topics).toEqual(expect.arrayContaining([names.eventsTopic, names.notificationsTopic]));
  });

  it('a non-local profile asks first: without --yes and without a TTY it refuses and changes nothing', async () => {
    const awsLike: Profile = {
      name: 'awsish',
      type: 'aws',
      prefix: `${prefix}-aws`,
      fanout: profile.fanout,
      eventsPartitions: 2,
      roleArn: 'arn:aws:iam::000000000000:role/quakectl-test',
      kafka: { brokers: clients.config.kafka.brokers, ssl: false, clientId: 'quakectl' },
    };
    const awsNames = {
      ...resourceNames(`${prefix}-aws`),
      eventsTopic: `${prefix}-aws.events`,
      notificationsTopic: `${prefix}-aws.n`,
    };
    const noTty = { ...notTty, isTTY: false } as NodeJS.ReadableStream & { isTTY?: boolean };
    const o = opts({ names: awsNames, stdin: noTty });
    await expect(deploy({ profile: awsLike, clients }, o)).rejects.toThrow(NotConfirmedError);
    await expect(deploy({ profile: awsLike, clients }, o)).rejects.toThrow(/pass --yes/);
    expect(await readActual(clients, await computeDesired({ profile: awsLike, clients }, o))).toEqual([]);
    const { roleArn: _none, ...noRole } = awsLike;
    await expect(deploy({ profile: noRole as Profile, clients }, o)).rejects.toThrow(/--role-arn/);
  });

  it('destroy refuses without --yes when stdin is not a TTY, then removes everything', async () => {
    const noTty = { ...notTty, isTTY: false } as NodeJS.ReadableStream & { isTTY?: boolean };
    await expect(destroy({ profile, clients }, opts({ stdin: noTty }))).rejects.toThrow(NotConfirmedError);
    await expect(destroy({ profile, clients }, opts({ stdin: noTty }))).rejects.toThrow(/--yes/);
    const r = await destroy({ profile, clients }, opts({ yes: true }));
    // the 14 of the first deploy and the autoscaler; schedules never existed locally
    expect(r.applied.length).toBe(15);
    const desired = await computeDesired({ profile, clients }, opts());
    expect(await readActual(clients, desired)).toEqual([]);
  });
});
