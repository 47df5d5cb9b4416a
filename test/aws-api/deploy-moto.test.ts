/**
 * `deploy`, a second `deploy`, `scale set`, `dlq list`, the schedules and `destroy` against moto (an AWS API
 * implementation written by others) with an `aws` profile, and the Kafka topics on the real local broker. What moto
 * lacks (the self-managed Kafka event source mapping, qualifier-scoped event invoke configs…) is listed with the AWS
 * reference in docs/architecture.md, "What moto checks"; the mapping is skipped here by kind, never faked.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeRuleCommand, ListRulesCommand, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionEventInvokeConfigCommand,
  GetPolicyCommand,
  ListFunctionsCommand,
} from '@aws-sdk/client-lambda';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueUrlCommand, ListQueuesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { bundleFunction, PROJECT_ROOT } from '../../shared/bundle/index.ts';
import { type DeployOptions, deploy, destroy } from '../../shared/deploy/index.ts';
import { type Clients, createClients } from '../../shared/infra/clients.ts';
import { type AwsProfile, configFileSchema } from '../../shared/infra/config.ts';
import { parseFunctionEnv } from '../../shared/infra/function-env.ts';
import { resourceNames } from '../../shared/infra/names.ts';
import { uniqueName } from '../helpers/stack.ts';
import { runCli } from '../integration/ops-cli.ts';

const moto = inject('moto').endpoint;
const brokers = inject('localStack').kafka.brokers;
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const PASSWORD = 'kafka-password-never-in-env';
const prefix = uniqueName('moto');
const names = { ...resourceNames(prefix), eventsTopic: `${prefix}.events`, notificationsTopic: `${prefix}.notif` };
const SKIP: DeployOptions['skip'] = {
  mapping: 'moto has no self-managed Kafka event source mapping (docs/architecture.md, What moto checks)',
};
const dir = mkdtempSync(join(tmpdir(), 'quakectl-moto-'));

/** Every AWS client on moto, Kafka on the local broker: what an `aws` profile gets, endpoints aside. */
const clients: Clients = createClients({
  region: REGION,
  endpoints: { dynamodb: moto, sqs: moto, lambda: moto, logs: moto, eventbridge: moto },
  credentials: CREDENTIALS,
  kafka: { brokers, ssl: false, clientId: 'quakectl-aws-api' },
  names,
  fanout: configFileSchema.parse({ profiles: { x: { type: 'local' } } }).profiles.x.fanout,
  allowPrivateTargets: false,
  local: false,
});
const iam = new IAMClient({ region: REGION, endpoint: moto, credentials: CREDENTIALS });
const secrets = new SecretsManagerClient({ region: REGION, endpoint: moto, credentials: CREDENTIALS });

let profile: AwsProfile;
let bundles: Record<string, { codeSha256: string; zip: Uint8Array }>;
let configFile: string;
const settings = {
  ingest: { usgsFeedUrl: 'https://earthquake.usgs.gov/feed/all_hour.geojson', schedule: 'rate(2 minutes)' },
};
const opts = (over: Partial<DeployOptions> = {}): DeployOptions => ({
  names,
  bundles,
  settings,
  skip: SKIP,
  yes: true,
  ...over,
});

/** The CLI as an operator runs it: an `aws` profile, the SDK's standard AWS_ENDPOINT_URL pointing at moto. */
function cli(args: string[], profileName = 'moto') {
  return runCli(['--config', configFile, '--profile', profileName, ...args], {
    env: {
      AWS_ENDPOINT_URL: moto,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_REGION: REGION,
    },
  });
}

async function fixtureBundles() {
  const out: typeof bundles = {};
  for (const role of ['producer', 'consumer', 'segment-worker', 'autoscaler'] as const) {
    const entry = join(dir, role, 'index.ts');
    await mkdir(join(dir, role), { recursive: true });
    await writeFile(entry, `export const handler = async () => ({ role: '${role}' });\n`);
    const b = await bundleFunction(role, { entry });
    out[role] = { codeSha256: b.codeSha256, zip: b.zip };
  }
  return out;
}

beforeAll(async () => {
  // moto checks that the execution role exists (as AWS checks that Lambda can assume it).
  const role = await iam.send(
    new CreateRoleCommand({
      RoleName: `${prefix}-exec`,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    }),
  );
  const secret = await secrets.send(
    new CreateSecretCommand({
      Name: `${prefix}/kafka`,
      SecretString: JSON.stringify({ username: 'alerts', password: PASSWORD }),
    }),
  );
  const rules = join(dir, 'scaling.yaml');
  writeFileSync(rules, 'version: 1\nconsumer:\n  lagPerInstance: 50\n  min: 1\n  max: 4\n');
  const raw = {
    type: 'aws' as const,
    region: REGION,
    roleArn: role.Role!.Arn!,
    prefix,
    eventsPartitions: 2,
    kafka: { brokers, sasl: { mechanism: 'scram-sha-512' as const, secretArn: secret.ARN! } },
    autoscaler: { enabled: true, rules, schedule: 'rate(5 minutes)' },
  };
  const file = configFileSchema.parse({
    profiles: {
      moto: raw,
      // The same system with a broker nobody listens on: what a dry run sees when Kafka is unreachable.
      'moto-no-kafka': { ...raw, kafka: { ...raw.kafka, brokers: ['127.0.0.1:1'] } },
    },
  });
  profile = { ...file.profiles.moto, name: 'moto' } as AwsProfile;
  configFile = join(dir, 'quakectl.config.yaml');
  writeFileSync(configFile, stringify({ profiles: { moto: raw, 'moto-no-kafka': file.profiles['moto-no-kafka'] } }));
  bundles = await fixtureBundles();
});

afterAll(async () => {
  await destroy({ profile, clients }, opts()).catch(() => {});
  clients.destroy();
  iam.destroy();
  secrets.destroy();
  rmSync(dir, { recursive: true, force: true });
  void PROJECT_ROOT;
});

describe('deploy on moto, Kafka on the local broker', () => {
  it('creates queues, tables, topics, functions with alias live, and both schedules', async () => {
    const r = await deploy({ profile, clients }, opts());
    expect(r.summary).toEqual({ create: 4 + 4 + 2 + 4 + 2, skipped: 1 });
    expect(r.applied).toHaveLength(16);

    const queues = (await clients.sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix }))).QueueUrls ?? [];
    expect(queues.map((u) => u.slice(u.lastIndexOf('/') + 1)).sort()).toEqual(
      ['consumer', 'delivery', 'producer', 'worker'].map((k) => `${prefix}-${k}-dlq`),
    );
    const subscribers = await clients.dynamodb.send(
      new DescribeTableCommand({ TableName: names.table('subscribers') }),
    );
    expect(subscribers.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['bySubscriber']);

    const admin = clients.kafka.admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [names.eventsTopic, names.notificationsTopic] });
    await admin.disconnect();
    expect(meta.topics.map((t) => t.partitions.length)).toEqual([2, 2]);

    const fns = (await clients.lambda.send(new ListFunctionsCommand({}))).Functions ?? [];
    expect(
      fns
        .filter((f) => f.FunctionName?.startsWith(prefix))
        .map((f) => f.FunctionName)
        .sort(),
    ).toEqual(['autoscaler', 'consumer', 'producer', 'segment-worker'].map((r) => `${prefix}-${r}`));
    const alias = await clients.lambda.send(
      new GetAliasCommand({ FunctionName: names.function('producer'), Name: 'live' }),
    );
    expect(alias.FunctionVersion).toBe('1');
  });

  it('a second deploy finds every resource unchanged but what moto cannot read back (DeadLetterConfig)', async () => {
    const r = await deploy({ profile, clients }, opts());
    // moto neither stores nor returns DeadLetterConfig (gap list): the two functions with an async DLQ always read
    // back without one. Nothing else may differ.
    const differing = r.items.filter((i) => i.action !== 'unchanged' && i.action !== 'skipped');
    expect(differing).toEqual(
      (['producer', 'segment-worker'] as const).map((role) => ({
        kind: 'function',
        name: names.function(role),
        action: 'update',
        changes: [`dlq none → ${names.dlq(role === 'producer' ? 'producer' : 'worker')}`],
      })),
    );
    expect(r.summary).toEqual({ unchanged: 14, update: 2, skipped: 1 });
  });

  it('writes the functions the environment contract: the secret ARN, never the Kafka password', async () => {
    for (const role of ['producer', 'consumer', 'segment-worker', 'autoscaler'] as const) {
      const fn = await clients.lambda.send(new GetFunctionCommand({ FunctionName: names.function(role) }));
      const env = fn.Configuration?.Environment?.Variables ?? {};
      expect(JSON.stringify(env)).not.toContain(PASSWORD);
      const parsed = parseFunctionEnv(env);
      expect(parsed.QUAKECTL_KAFKA_SECRET_ARN).toBe(profile.kafka.sasl?.secretArn);
      expect(parsed.QUAKECTL_KAFKA_SASL_MECHANISM).toBe('scram-sha-512');
    }
  });

  it('puts the async settings on alias live, the qualifier every caller invokes', async () => {
    const c = await clients.lambda.send(
      new GetFunctionEventInvokeConfigCommand({ FunctionName: names.function('autoscaler'), Qualifier: 'live' }),
    );
    expect(c).toMatchObject({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 300 });
  });

  it('schedules: rules on their expressions, targets on alias live, EventBridge allowed to invoke that alias only', async () => {
    for (const [role, rule, expression] of [
      ['autoscaler', `${names.function('autoscaler')}-schedule`, 'rate(5 minutes)'],
      ['producer', `${names.function('producer')}-poll`, 'rate(2 minutes)'],
    ] as const) {
      const r = await clients.eventbridge.send(new DescribeRuleCommand({ Name: rule }));
      expect(r).toMatchObject({ ScheduleExpression: expression, State: 'ENABLED' });
      const targets = (await clients.eventbridge.send(new ListTargetsByRuleCommand({ Rule: rule }))).Targets ?? [];
      expect(targets.map((t) => t.Arn)).toEqual([
        `arn:aws:lambda:${REGION}:123456789012:function:${names.function(role)}:live`,
      ]);
      const policy = await clients.lambda.send(
        new GetPolicyCommand({ FunctionName: names.function(role), Qualifier: 'live' }),
      );
      const statements = JSON.parse(policy.Policy!).Statement as {
        Principal: { Service: string };
        Condition?: { ArnLike?: Record<string, string> };
      }[];
      expect(statements).toContainEqual(
        expect.objectContaining({
          Principal: { Service: 'events.amazonaws.com' },
          Condition: { ArnLike: { 'AWS:SourceArn': r.Arn } },
        }),
      );
    }
  });

  it('scale set (the CLI, aws profile) changes the fan-out parallelism and expected rate on the live alias', async () => {
    // `scale set --reserved` first reads GetAccountSettings, which moto does not implement (gap list): reserved
    // concurrency is exercised here through deploy's PutFunctionConcurrency, and `scale set --reserved` on the emulator.
    const set = await cli(['scale', 'set', '--parallelism', '8', '--expected-rate', '30000', '--yes']);
    expect(set.code, set.stderr).toBe(0);
    for (const role of ['consumer', 'segment-worker'] as const) {
      // On the alias every caller invokes: scale set publishes a version and moves `live` to it.
      const fn = await clients.lambda.send(
        new GetFunctionCommand({ FunctionName: names.function(role), Qualifier: 'live' }),
      );
      const env = parseFunctionEnv(fn.Configuration?.Environment?.Variables ?? {});
      expect(env.QUAKECTL_FANOUT.parallelism).toBe(8);
      expect(env.QUAKECTL_FANOUT.expectedRate).toBe(30_000);
    }
  });

  it('dlq list (the CLI) reports the four DLQs with their depths', async () => {
    const url = (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: names.dlq('worker') }))).QueueUrl!;
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{"eventId":"us7000test"}' }));
    const r = await cli(['dlq', 'list', '-o', 'json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { queue: string; kind: string; depth: number }[];
    expect(Object.fromEntries(rows.map((q) => [q.kind, q.depth]))).toEqual({
      producer: 0,
      consumer: 0,
      worker: 1,
      delivery: 0,
    });
  });

  it('deploy --dry-run with the broker unreachable plans the AWS side, reports the Kafka side unknown, exits 0', async () => {
    const r = await cli(['deploy', '--dry-run', '-o', 'json'], 'moto-no-kafka');
    expect(r.stderr).toMatch(/warning: Kafka side not planned/);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as { items: { kind: string; action: string }[]; warnings: string[] };
    expect(plan.items.filter((i) => i.kind === 'topic').map((i) => i.action)).toEqual(['unknown', 'unknown']);
    // The AWS side was read from moto: the real functions are there, the real code differs from the fixtures.
    expect(plan.items.filter((i) => i.kind === 'queue').map((i) => i.action)).toEqual([
      'unchanged',
      'unchanged',
      'unchanged',
      'unchanged',
    ]);
    expect(plan.warnings).toHaveLength(1);
  }, 240_000);

  it('destroy deletes every resource, the topics on the broker included', async () => {
    const r = await destroy({ profile, clients }, opts());
    expect(r.applied.map((a) => a.kind).sort()).toEqual(
      [
        ...Array(4).fill('function'),
        ...Array(4).fill('queue'),
        ...Array(2).fill('schedule'),
        ...Array(4).fill('table'),
        ...Array(2).fill('topic'),
      ].sort(),
    );
    expect((await clients.sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix }))).QueueUrls ?? []).toEqual([]);
    const rules = await clients.eventbridge.send(new ListRulesCommand({ NamePrefix: prefix }));
    expect(rules.Rules ?? []).toEqual([]);
    const admin = clients.kafka.admin();
    await admin.connect();
    const topics = await admin.listTopics();
    await admin.disconnect();
    expect(topics).not.toContain(names.eventsTopic);
    const again = await deploy({ profile, clients }, opts({ dryRun: true }));
    expect(again.summary).toEqual({ create: 16, skipped: 1 });
  });
});
