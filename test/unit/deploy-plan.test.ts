import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type DesiredInput, desiredState, functionEnv } from '../../shared/deploy/desired.ts';
import { fields } from '../../shared/deploy/fields.ts';
import { hasChanges, planDeploy, planDestroy, planSummary, skipKinds } from '../../shared/deploy/plan.ts';
import { deploySettingsSchema, LOCAL_ROLE_ARN } from '../../shared/deploy/settings.ts';
import type { ActualResource, DesiredState, FunctionSpec, ResourceSpec } from '../../shared/deploy/types.ts';
import type { AwsProfile, LocalProfile } from '../../shared/infra/config.ts';
import { DEFAULT_FANOUT } from '../../shared/infra/config.ts';
import { ConfigError } from '../../shared/infra/errors.ts';
import { parseFunctionEnv, serviceConfigFromFunctionEnv } from '../../shared/infra/function-env.ts';
import { resourceNames } from '../../shared/infra/names.ts';

const fanout = {
  parallelism: 4,
  maxSegmentSize: 2000,
  strategy: 'geo' as const,
  batchSize: 100,
  minMagnitude: 3,
  minSubscriberMmi: 3,
  maxEventAgeS: 3600,
  alertProbability: 0.3,
  expectedRate: 20_000,
  measureRate: true,
  scanSegments: 32,
  webhookTimeoutMs: 5000,
  targetBudgetMs: 12_000,
  channels: DEFAULT_FANOUT.channels,
};
const RULES = join(mkdtempSync(join(tmpdir(), 'quakectl-rules-')), 'scaling.yaml');
writeFileSync(RULES, 'version: 1\nconsumer:\n  lagPerInstance: 100\n  min: 1\n  max: 12\n');
const local: LocalProfile = { name: 'local', type: 'local', prefix: 'qt', fanout, eventsPartitions: 6 };
const aws: AwsProfile = {
  name: 'prod',
  type: 'aws',
  prefix: 'quakectl',
  fanout,
  eventsPartitions: 12,
  roleArn: 'arn:aws:iam::123456789012:role/quakectl',
  kafka: {
    brokers: ['b1.example.com:9092'],
    ssl: true,
    clientId: 'quakectl',
    sasl: { mechanism: 'plain', secretArn: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:kafka-AbCdEf' },
  },
};
const bundles = {
  producer: { codeSha256: 'P1' },
  consumer: { codeSha256: 'C1' },
  'segment-worker': { codeSha256: 'W1' },
  autoscaler: { codeSha256: 'A1' },
};

function input(profile: LocalProfile | AwsProfile, over: Partial<DesiredInput> = {}): DesiredInput {
  return {
    profile,
    names: resourceNames(profile.prefix),
    brokers: profile.type === 'aws' ? profile.kafka.brokers : ['127.0.0.1:19092'],
    roleArn: profile.type === 'aws' ? profile.roleArn! : LOCAL_ROLE_ARN,
    bundles,
    allowPrivateTargets: profile.type === 'local',
    ...over,
  };
}

/** What the services would report after a successful deploy of `state`. */
function existing(state: DesiredState): ActualResource[] {
  return state.resources.map((r) => ({ kind: r.kind, name: r.name, fields: structuredClone(fields(r)) }));
}

function find<K extends ResourceSpec['kind']>(state: DesiredState, kind: K, name: string) {
  const r = state.resources.find((x) => x.kind === kind && x.name === name);
  if (!r) throw new Error(`no ${kind} ${name}`);
  return r as Extract<ResourceSpec, { kind: K }>;
}

describe('desiredState', () => {
  it('lists queues and tables before functions, functions before the mapping', () => {
    const kinds = desiredState(input(local)).resources.map((r) => r.kind);
    expect(kinds.lastIndexOf('queue')).toBeLessThan(kinds.indexOf('function'));
    expect(kinds.lastIndexOf('table')).toBeLessThan(kinds.indexOf('function'));
    expect(kinds.lastIndexOf('function')).toBeLessThan(kinds.indexOf('mapping'));
  });

  it('derives names, partitions, DLQs and the local role from the profile', () => {
    const s = desiredState(input(local));
    expect(s.resources.filter((r) => r.kind === 'queue').map((r) => r.name)).toEqual([
      'qt-producer-dlq',
      'qt-consumer-dlq',
      'qt-worker-dlq',
      'qt-delivery-dlq',
    ]);
    expect(find(s, 'topic', 'quakes.events').partitions).toBe(6);
    const producer = find(s, 'function', 'qt-producer');
    expect(producer).toMatchObject({ dlq: 'qt-producer-dlq', executionRole: LOCAL_ROLE_ARN, handler: 'index.handler' });
    expect(find(s, 'function', 'qt-segment-worker').dlq).toBe('qt-worker-dlq');
    expect(find(s, 'function', 'qt-consumer').dlq).toBeUndefined();
    expect(s.resources.some((r) => r.name === 'qt-autoscaler')).toBe(false);
    const mapping = s.resources.find((r) => r.kind === 'mapping');
    expect(mapping).toMatchObject({
      functionName: 'qt-consumer',
      qualifier: 'live',
      onFailureQueue: 'qt-consumer-dlq',
    });
    expect(mapping).not.toHaveProperty('auth.type');
  });

  it('gives the functions an environment the function-env contract reads back', () => {
    const env = functionEnv(input(aws));
    const cfg = serviceConfigFromFunctionEnv(parseFunctionEnv(env), {}, { username: 'u', password: 'from-the-secret' });
    expect(cfg.kafka).toMatchObject({ brokers: ['b1.example.com:9092'], ssl: true, sasl: { mechanism: 'plain' } });
    expect(cfg.names.function('producer')).toBe('quakectl-producer');
    expect(cfg.fanout).toEqual(fanout);
    expect(cfg.local).toBe(false);
    expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
  });

  it('authenticates the AWS mapping with the Secrets Manager secret and deploys the autoscaler when enabled', () => {
    const s = desiredState(input({ ...aws, autoscaler: { enabled: true, rules: RULES, schedule: 'rate(1 minute)' } }));
    const mapping = s.resources.find((r) => r.kind === 'mapping');
    expect(mapping).toMatchObject({ auth: { type: 'BASIC_AUTH', secretArn: aws.kafka.sasl!.secretArn } });
    expect(find(s, 'function', 'quakectl-autoscaler').reservedConcurrency).toBe(1);
  });

  it('refuses an AWS SASL profile without a secret ARN', () => {
    const noSecret = { ...aws, kafka: { ...aws.kafka, sasl: { mechanism: 'scram-sha-512' as const } } };
    expect(() => desiredState(input(noSecret))).toThrow(ConfigError);
    expect(() => desiredState(input(noSecret))).toThrow(/secretArn/);
  });
});

describe('schedules, polling and optional fan-out settings (AWS plan, pure)', () => {
  const settings = deploySettingsSchema.parse({
    ingest: {
      usgsFeedUrl: 'https://earthquake.usgs.gov/earthquakes/feed/v1.0/summary/all_hour.geojson',
      fdsnQueryUrl: 'https://www.seismicportal.eu/fdsnws/event/1/query?format=text&limit=100',
      maxAgeS: 1800,
    },
  });
  const profile: AwsProfile = {
    ...aws,
    autoscaler: { enabled: true, rules: RULES, schedule: 'rate(2 minutes)' },
    fanout: { ...fanout, leaseMs: 20_000, reserveMs: 5_000 },
  };
  const s = desiredState(input(profile, { settings }));

  it('deploys the autoscaler with its rules and an EventBridge schedule targeting its alias', () => {
    const fn = find(s, 'function', 'quakectl-autoscaler');
    expect(JSON.parse(fn.env.QUAKECTL_SCALING_RULES)).toMatchObject({ version: 1, consumer: { lagPerInstance: 100 } });
    expect(find(s, 'schedule', 'quakectl-autoscaler-schedule')).toEqual({
      kind: 'schedule',
      name: 'quakectl-autoscaler-schedule',
      expression: 'rate(2 minutes)',
      functionName: 'quakectl-autoscaler',
      qualifier: 'live',
    });
    // the rules stay on the autoscaler: Lambda environments are limited to 4 KB
    expect(find(s, 'function', 'quakectl-consumer').env).not.toHaveProperty('QUAKECTL_SCALING_RULES');
  });

  it('refuses an enabled autoscaler without a rules file', () => {
    expect(() => desiredState(input({ ...aws, autoscaler: { enabled: true, schedule: 'rate(1 minute)' } }))).toThrow(
      /autoscaler.rules/,
    );
  });

  it('gives a polling producer its feeds, a minute of time, one instance and a rate(1 minute) schedule', () => {
    const producer = find(s, 'function', 'quakectl-producer');
    expect(producer.env).toMatchObject({
      QUAKECTL_USGS_FEED_URL: settings.ingest!.usgsFeedUrl,
      QUAKECTL_FDSN_QUERY_URL: settings.ingest!.fdsnQueryUrl,
      QUAKECTL_INGEST_MAX_AGE_S: '1800',
    });
    expect(producer).toMatchObject({ timeoutS: 60, reservedConcurrency: 1 });
    expect(find(s, 'schedule', 'quakectl-producer-poll')).toMatchObject({
      expression: 'rate(1 minute)',
      functionName: 'quakectl-producer',
      qualifier: 'live',
    });
    expect(find(s, 'schedule', 'quakectl-producer-poll')).not.toHaveProperty('skipped');
  });

  it('deploys no producer schedule and no feed variables when nothing is polled', () => {
    const plain = desiredState(input(aws));
    expect(plain.resources.some((r) => r.kind === 'schedule')).toBe(false);
    const producer = find(plain, 'function', 'quakectl-producer');
    expect(Object.keys(producer.env).filter((k) => /FEED|FDSN|MAX_AGE/.test(k))).toEqual([]);
    expect(producer).toMatchObject({ timeoutS: 30, reservedConcurrency: 10 });
  });

  it('passes lease and reserve to the segment worker only when the profile sets them', () => {
    expect(find(s, 'function', 'quakectl-segment-worker').env).toMatchObject({
      QUAKECTL_LEASE_MS: '20000',
      QUAKECTL_RESERVE_MS: '5000',
    });
    expect(JSON.parse(find(s, 'function', 'quakectl-segment-worker').env.QUAKECTL_FANOUT)).not.toHaveProperty(
      'leaseMs',
    );
    const plain = find(desiredState(input(aws)), 'function', 'quakectl-segment-worker').env;
    expect(plain).not.toHaveProperty('QUAKECTL_LEASE_MS');
    expect(plain).not.toHaveProperty('QUAKECTL_RESERVE_MS');
  });

  it('puts schedules after the functions they invoke, creates them, and sees a changed rate as an update', () => {
    const kinds = s.resources.map((r) => r.kind);
    expect(kinds.indexOf('schedule')).toBeGreaterThan(kinds.lastIndexOf('function'));
    expect(planSummary(planDeploy(s, []))).toEqual({ create: s.resources.length });
    const actual = existing(s).map((a) =>
      a.name === 'quakectl-producer-poll' ? { ...a, fields: { ...a.fields, expression: 'rate(5 minutes)' } } : a,
    );
    const plan = planDeploy(s, actual);
    expect(planSummary(plan)).toEqual({ unchanged: s.resources.length - 1, update: 1 });
    expect(plan.items.find((i) => i.action === 'update')).toMatchObject({
      kind: 'schedule',
      changes: [{ field: 'expression', from: 'rate(5 minutes)', to: 'rate(1 minute)' }],
    });
  });

  it('reports schedules as skipped on the local profile: nothing to read or apply', () => {
    const l = desiredState(
      input({ ...local, autoscaler: { enabled: true, rules: RULES, schedule: 'rate(1 minute)' } }, { settings }),
    );
    const plan = planDeploy(
      l,
      existing(l).filter((a) => a.kind !== 'schedule'),
    );
    const skipped = plan.items.filter((i) => i.action === 'skipped');
    expect(skipped.map((i) => [i.name, i.note])).toEqual([
      ['qt-autoscaler-schedule', 'local: no EventBridge; run `quakectl scale apply --rules FILE` instead'],
      ['qt-producer-poll', 'local: no EventBridge; run `quakectl ingest` instead'],
    ]);
    expect(hasChanges(plan)).toBe(false);
  });

  it('destroys every schedule a deploy may have created, whatever the settings say now', () => {
    const all = desiredState(input(aws, { destroying: true }));
    expect(all.resources.filter((r) => r.kind === 'schedule').map((r) => r.name)).toEqual([
      'quakectl-autoscaler-schedule',
      'quakectl-producer-poll',
    ]);
    const plan = planDestroy(all, existing(all));
    expect(plan.items.slice(0, 2).map((i) => i.kind)).toEqual(['schedule', 'schedule']);
  });
});

describe('planDeploy', () => {
  const desired = desiredState(input(local));

  it('creates everything on an empty account', () => {
    const plan = planDeploy(desired, []);
    expect(plan.items).toHaveLength(desired.resources.length);
    expect(planSummary(plan)).toEqual({ create: desired.resources.length });
  });

  it('changes nothing when everything matches', () => {
    const plan = planDeploy(desired, existing(desired));
    expect(planSummary(plan)).toEqual({ unchanged: desired.resources.length });
    expect(hasChanges(plan)).toBe(false);
  });

  it('updates a function whose code changed, and only that', () => {
    const next = desiredState(input(local, { bundles: { ...bundles, producer: { codeSha256: 'P2' } } }));
    const plan = planDeploy(next, existing(desired));
    const changed = plan.items.filter((i) => i.action !== 'unchanged');
    expect(changed.map((i) => [i.name, i.action])).toEqual([['qt-producer', 'update']]);
    expect(changed[0].changes).toEqual([{ field: 'code', from: 'P1', to: 'P2' }]);
  });

  it('updates every function when the shared environment changes', () => {
    const next = desiredState(input({ ...local, fanout: { ...fanout, parallelism: 8 } }));
    const updated = planDeploy(next, existing(desired)).items.filter((i) => i.action === 'update');
    // The worker before the consumer: its alias exists when the consumer's provisioned environments prime against it.
    expect(updated.map((i) => i.name)).toEqual(['qt-producer', 'qt-segment-worker', 'qt-consumer']);
    // The worker's provisioned concurrency follows the chain count on the local profile (one environment per chain).
    expect(updated.map((i) => i.changes.map((c) => c.field).join())).toEqual([
      'env',
      'env,provisionedConcurrency',
      'env',
    ]);
  });

  it('provisions the producer, the consumer and one worker per chain on the local profile, nothing on AWS unless set', () => {
    const pc = (d: ReturnType<typeof desiredState>) =>
      Object.fromEntries(
        d.resources.filter((r) => r.kind === 'function').map((f) => [f.role, f.provisionedConcurrency]),
      );
    expect(pc(desired)).toEqual({ producer: 1, consumer: 1, 'segment-worker': fanout.parallelism });
    const off = desiredState({
      ...input(local),
      settings: { functions: { 'segment-worker': { provisionedConcurrency: 0 } } },
    });
    expect(pc(off)['segment-worker']).toBe(0);
    expect(pc(desiredState(input(aws)))).toEqual({
      producer: undefined,
      consumer: undefined,
      'segment-worker': undefined,
    });
  });

  it('re-points a stale alias', () => {
    const actual = existing(desired);
    const worker = actual.find((a) => a.name === 'qt-segment-worker')!;
    worker.fields.alias = 'live:stale';
    const item = planDeploy(desired, actual).items.find((i) => i.name === 'qt-segment-worker')!;
    expect(item).toMatchObject({ action: 'update', changes: [{ field: 'alias', from: 'live:stale' }] });
  });

  it('adds partitions but never removes them', () => {
    const more = desiredState(input({ ...local, eventsPartitions: 12 }));
    expect(planDeploy(more, existing(desired)).items.find((i) => i.name === 'quakes.events')?.action).toBe('update');
    const fewer = desiredState(input({ ...local, eventsPartitions: 3 }));
    const item = planDeploy(fewer, existing(desired)).items.find((i) => i.name === 'quakes.events')!;
    expect(item.action).toBe('blocked');
    expect(item.note).toMatch(/cannot reduce/);
  });

  it('blocks a table whose keys differ (it would lose data)', () => {
    const actual = existing(desired);
    const events = actual.find((a) => a.kind === 'table' && a.name === 'qt-events')!;
    events.fields.keySchema = ['id:HASH'];
    const item = planDeploy(desired, actual).items.find((i) => i.name === 'qt-events')!;
    expect(item.action).toBe('blocked');
  });

  it('replaces a mapping whose create-only fields differ, updates one whose batch size differs', () => {
    const actual = existing(desired);
    const mapping = actual.find((a) => a.kind === 'mapping')!;
    mapping.fields.brokers = ['old:9092'];
    expect(planDeploy(desired, actual).items.find((i) => i.kind === 'mapping')?.action).toBe('replace');
    const resized = existing(desired);
    resized.find((a) => a.kind === 'mapping')!.fields.batchSize = 10;
    expect(planDeploy(desired, resized).items.find((i) => i.kind === 'mapping')?.action).toBe('update');
  });

  it('leaves reserved concurrency alone where deploy does not manage it', () => {
    const actual = existing(desired);
    actual.find((a) => a.name === 'qt-segment-worker')!.fields.reservedConcurrency = 50;
    const worker = desired.resources.find((r) => r.name === 'qt-segment-worker') as FunctionSpec;
    expect(worker.reservedConcurrency).toBeUndefined();
    expect(planDeploy(desired, actual).items.find((i) => i.name === 'qt-segment-worker')?.action).toBe('unchanged');
  });
});

describe('planDestroy', () => {
  it('deletes what exists, mapping first and queues last', () => {
    const desired = desiredState(input(local));
    const actual = existing(desired).filter((a) => a.kind !== 'topic');
    const plan = planDestroy(desired, actual);
    expect(plan.items.every((i) => i.action === 'delete')).toBe(true);
    expect(plan.items[0].kind).toBe('mapping');
    expect(plan.items.at(-1)?.kind).toBe('queue');
    expect(plan.items.some((i) => i.kind === 'topic')).toBe(false);
  });
});

describe('issue 15: the Kafka mapping as AWS defines it, unknown and skipped resources', () => {
  it('creates the mapping in provisioned mode, at most one poller per partition', () => {
    const mapping = desiredState(input(aws)).resources.find((r) => r.kind === 'mapping');
    expect(mapping).toMatchObject({ maximumRetryAttempts: 3, pollers: { minimum: 1, maximum: 12 } });
    expect(fields(mapping!)).toMatchObject({ pollers: { minimum: 1, maximum: 12 } });
  });

  it('a mapping read back without provisioned mode is an update, not unchanged', () => {
    const state = desiredState(input(local));
    const actual = existing(state).map((a) =>
      a.kind === 'mapping' ? { ...a, fields: { ...a.fields, pollers: null } } : a,
    );
    const item = planDeploy(state, actual).items.find((i) => i.kind === 'mapping')!;
    expect(item.action).toBe('update');
    expect(item.changes.map((c) => c.field)).toEqual(['pollers']);
  });

  it('topics that could not be read are unknown, and unknown is not a change', () => {
    const state = desiredState(input(local));
    const actual = existing(state).map((a) =>
      a.kind === 'topic' ? { kind: a.kind, name: a.name, fields: {}, unknown: 'Kafka unreachable' } : a,
    );
    const plan = planDeploy(state, actual);
    expect(plan.items.filter((i) => i.kind === 'topic').map((i) => [i.action, i.note])).toEqual([
      ['unknown', 'Kafka unreachable'],
      ['unknown', 'Kafka unreachable'],
    ]);
    expect(hasChanges(plan)).toBe(false);
  });

  it('skipKinds reports the kinds a target cannot hold as skipped, with the reason, and changes nothing of them', () => {
    const state = desiredState(input(local));
    const plan = skipKinds(planDeploy(state, []), { mapping: 'no such API' });
    expect(plan.items.filter((i) => i.kind === 'mapping')).toMatchObject([{ action: 'skipped', note: 'no such API' }]);
    expect(planSummary(plan)).toEqual({ create: 4 + 4 + 2 + 3, skipped: 1 });
  });
});

describe('channel settings (deploy.notify) in the functions’ environment', () => {
  const notify = deploySettingsSchema.parse({
    notify: {
      sms: { senderId: 'QuakeAlert' },
      email: { from: 'Alerte <alerts@quake.test>', unsubscribeUrl: 'https://q.example/u/{subscriber}' },
      telegram: { secretArn: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:quakectl/telegram-bot-token-x' },
    },
  });

  it('only the segment worker gets them; the token as an ARN, never a value; the contract parses them', () => {
    const s = desiredState(input(aws, { settings: notify }));
    const worker = find(s, 'function', 'quakectl-segment-worker').env;
    expect(worker).toMatchObject({
      QUAKECTL_SMS_ENABLED: 'true',
      QUAKECTL_SMS_SENDER_ID: 'QuakeAlert',
      QUAKECTL_SES_FROM: 'Alerte <alerts@quake.test>',
      QUAKECTL_EMAIL_UNSUBSCRIBE_URL: 'https://q.example/u/{subscriber}',
      QUAKECTL_TELEGRAM_SECRET_ARN: notify.notify!.telegram!.secretArn,
    });
    expect(Object.keys(worker)).not.toContain('QUAKECTL_TELEGRAM_BOT_TOKEN');
    expect(parseFunctionEnv(worker).QUAKECTL_SMS_ENABLED).toBe(true);
    expect(Object.keys(find(s, 'function', 'quakectl-consumer').env).filter((k) => /SMS|SES|TELEGRAM/.test(k))).toEqual(
      [],
    );
    // On AWS the SDK resolves SNS/SES endpoints: none is written.
    expect(worker.QUAKECTL_SNS_ENDPOINT).toBeUndefined();
  });

  it('local profile: moto’s endpoint for SNS, SES v2 and Secrets Manager reaches the functions’ clients', () => {
    const env = functionEnv(input(local, { localAwsEndpoint: 'http://127.0.0.1:19500' }));
    const cfg = serviceConfigFromFunctionEnv(parseFunctionEnv(env), {});
    expect(cfg.endpoints).toMatchObject({
      sns: 'http://127.0.0.1:19500',
      sesv2: 'http://127.0.0.1:19500',
      secretsmanager: 'http://127.0.0.1:19500',
    });
  });

  it('refuses a plain-http unsubscribe URL and a malformed sender ID', () => {
    expect(
      deploySettingsSchema.safeParse({ notify: { email: { from: 'a@b.c', unsubscribeUrl: 'http://x.example/u' } } })
        .success,
    ).toBe(false);
    expect(deploySettingsSchema.safeParse({ notify: { sms: { senderId: 'TOO-LONG-ID-1' } } }).success).toBe(false);
  });
});
