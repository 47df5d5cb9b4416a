/**
 * The desired state of one quakectl system, computed from its profile and the function bundles. Pure: the caller
 * resolves brokers (local stack or profile), the execution role and the bundles.
 */
import type { Profile } from '../infra/config.ts';
import { ConfigError } from '../infra/errors.ts';
import { type FunctionEnvInput, parseFunctionEnv } from '../infra/function-env.ts';
import { DLQ_KINDS, type FunctionRole, type ResourceNames, resourceNames, TABLES } from '../infra/names.ts';
import { tableDefinition } from '../infra/tables.ts';
import { autoscalerEnvironment } from '../scaling/autoscale.ts';
import {
  type DeploySettings,
  DLQ_ATTRIBUTES,
  functionSettings,
  MAPPING_DEFAULTS,
  type NotifySettings,
  POLL_SCHEDULE,
  pollingEnabled,
  provisionedDefault,
  RUNTIME,
} from './settings.ts';
import type { DesiredState, FunctionSpec, KafkaAuthType, MappingSpec, ResourceSpec, ScheduleSpec } from './types.ts';

export interface BundleRef {
  codeSha256: string;
  zip?: Uint8Array;
}

export interface DesiredInput {
  profile: Profile;
  names: ResourceNames;
  brokers: string[];
  roleArn: string;
  bundles: Partial<Record<FunctionRole, BundleRef>>;
  settings?: DeploySettings;
  allowPrivateTargets: boolean;
  /** Local profile: moto's SNS, SES v2 and Secrets Manager endpoint, passed to the functions (function-env.ts). */
  localAwsEndpoint?: string;
  /** The segment worker's channel settings (shared/notify/senders.ts), e.g. the local profile's VAPID keys. */
  channelEnv?: Record<string, string>;
  /** The consumer's CAP feed variables (shared/notify/cap-config.ts `capFunctionEnv`); none: no feed. */
  capEnv?: Record<string, string>;
  /**
   * Destroy: every resource any deploy may have created (all schedules, whatever the settings say now), and no
   * per-role environment (the autoscaler's rules file need not exist to remove it).
   */
  destroying?: boolean;
}

/**
 * The functions deploy converges, in its order: the segment worker before the consumer, so that the worker's alias
 * exists when the consumer's provisioned environments initialise (their priming `DryRun`-invokes it, and its first
 * real invoke follows) and a new consumer never starts chains on a worker older than itself.
 */
export function deployedRoles(profile: Profile): FunctionRole[] {
  const roles: FunctionRole[] = ['producer', 'segment-worker', 'consumer'];
  if (profile.autoscaler?.enabled) roles.push('autoscaler');
  return roles;
}

/**
 * The functions' environment, validated against the contract the handlers parse (shared/infra/function-env.ts).
 * Endpoints are not set here: on AWS the SDK resolves them, locally the emulator sets AWS_ENDPOINT_URL_*. Kafka SASL
 * credentials are passed as the Secrets Manager secret's ARN, never as values: the environment is readable by anyone
 * allowed GetFunctionConfiguration.
 */
export function functionEnv(input: DesiredInput): Record<string, string> {
  const { profile, brokers } = input;
  // Lease and reserve are the segment worker's own variables (roleEnv), not part of QUAKECTL_FANOUT.
  const { leaseMs: _lease, reserveMs: _reserve, ...fanout } = profile.fanout;
  const env: FunctionEnvInput & Record<string, string> = {
    QUAKECTL_PREFIX: profile.prefix,
    QUAKECTL_KAFKA_BROKERS: brokers.join(','),
    QUAKECTL_FANOUT: JSON.stringify(fanout),
    QUAKECTL_ALLOW_PRIVATE_TARGETS: String(input.allowPrivateTargets),
    QUAKECTL_LOCAL: String(profile.type === 'local'),
    NODE_OPTIONS: '--enable-source-maps',
  };
  // A non-default events topic (an isolated test system on a shared broker) must reach the producer too.
  if (input.names.eventsTopic !== resourceNames().eventsTopic) env.QUAKECTL_EVENTS_TOPIC = input.names.eventsTopic;
  if (input.settings?.prime === false) env.QUAKECTL_PRIME = 'false';
  if (input.settings?.logUrlPathsFor?.length) env.QUAKECTL_LOG_URL_PATHS_FOR = input.settings.logUrlPathsFor.join(',');
  if (profile.type === 'local' && input.localAwsEndpoint) {
    env.QUAKECTL_SNS_ENDPOINT = input.localAwsEndpoint;
    env.QUAKECTL_SESV2_ENDPOINT = input.localAwsEndpoint;
    env.QUAKECTL_SECRETS_ENDPOINT = input.localAwsEndpoint;
  }
  if (profile.type === 'aws') {
    env.QUAKECTL_KAFKA_SSL = String(profile.kafka.ssl);
    const sasl = profile.kafka.sasl;
    if (sasl) {
      if (sasl.mechanism === 'oauthbearer') {
        throw new ConfigError('kafka sasl oauthbearer is not supported by the deployed functions (use plain or scram)');
      }
      // Same secret as the mapping's (mappingAuth refuses a profile without it).
      env.QUAKECTL_KAFKA_SASL_MECHANISM = sasl.mechanism;
      env.QUAKECTL_KAFKA_SECRET_ARN = mappingAuth(profile)!.secretArn;
    }
  }
  // Guard the contract: what we set must be what the functions parse.
  parseFunctionEnv(env);
  return env;
}

/**
 * What one role reads beyond the shared environment: the producer's feeds (scheduled mode, shared/ingest/scheduled.ts),
 * the consumer's CAP feed (QUAKECTL_CAP_*),
 * the autoscaler's rules (shared/scaling/autoscale.ts, validated here so a bad file fails the deploy), the worker's
 * lease and reserve (functions/segment-worker; only when the profile sets them, else the worker's defaults hold).
 */
export function roleEnv(role: FunctionRole, input: DesiredInput): Record<string, string> {
  const { profile, settings = {} } = input;
  const env: Record<string, string> = {};
  if (role === 'producer' && pollingEnabled(settings)) {
    const ingest = settings.ingest!;
    if (ingest.usgsFeedUrl) env.QUAKECTL_USGS_FEED_URL = ingest.usgsFeedUrl;
    if (ingest.fdsnQueryUrl) env.QUAKECTL_FDSN_QUERY_URL = ingest.fdsnQueryUrl;
    if (ingest.maxAgeS !== undefined) env.QUAKECTL_INGEST_MAX_AGE_S = String(ingest.maxAgeS);
  }
  if (role === 'consumer' && !input.destroying) Object.assign(env, input.capEnv ?? {});
  if (role === 'segment-worker') {
    Object.assign(env, notifyEnv(settings.notify));
    if (profile.fanout.leaseMs !== undefined) env.QUAKECTL_LEASE_MS = String(profile.fanout.leaseMs);
    if (profile.fanout.reserveMs !== undefined) env.QUAKECTL_RESERVE_MS = String(profile.fanout.reserveMs);
    if (profile.type === 'aws' && profile.push) {
      // The private key stays in Secrets Manager: the worker reads it at start-up (shared/notify/channel-secrets.ts).
      env.QUAKECTL_VAPID_PUBLIC_KEY = profile.push.vapidPublicKey;
      env.QUAKECTL_VAPID_SUBJECT = profile.push.vapidSubject;
      env.QUAKECTL_VAPID_SECRET_ARN = profile.push.vapidSecretArn;
    }
    if (!input.destroying) Object.assign(env, input.channelEnv);
  }
  if (role === 'autoscaler' && !input.destroying) {
    const rules = profile.autoscaler?.rules;
    if (!rules) {
      throw new ConfigError(
        `profile "${profile.name}": autoscaler.enabled needs autoscaler.rules (a rules file, see docs/scaling.md)`,
      );
    }
    Object.assign(env, autoscalerEnvironment(rules));
  }
  return env;
}

/** The channels' provider settings as the segment worker's variables (shared/notify/senders.ts reads them). */
export function notifyEnv(notify: NotifySettings | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  if (notify?.sms?.enabled) {
    env.QUAKECTL_SMS_ENABLED = 'true';
    if (notify.sms.senderId) env.QUAKECTL_SMS_SENDER_ID = notify.sms.senderId;
    if (notify.sms.originationNumber) env.QUAKECTL_SMS_ORIGINATION_NUMBER = notify.sms.originationNumber;
  }
  if (notify?.email) {
    env.QUAKECTL_SES_FROM = notify.email.from;
    if (notify.email.configurationSet) env.QUAKECTL_SES_CONFIGURATION_SET = notify.email.configurationSet;
    if (notify.email.unsubscribeUrl) env.QUAKECTL_EMAIL_UNSUBSCRIBE_URL = notify.email.unsubscribeUrl;
  }
  if (notify?.telegram) env.QUAKECTL_TELEGRAM_SECRET_ARN = notify.telegram.secretArn;
  return env;
}

/** The shared environment plus the role's own, validated as a whole against the contract the handler parses. */
function roleEnvChecked(role: FunctionRole, env: Record<string, string>, input: DesiredInput): Record<string, string> {
  const all = { ...env, ...roleEnv(role, input) };
  parseFunctionEnv(all);
  return all;
}

/** The schedules deploy manages: the autoscaler's (when enabled) and the polling producer's (when a feed is set). */
export function schedules(input: DesiredInput): ScheduleSpec[] {
  const { profile, names, settings = {} } = input;
  const out: ScheduleSpec[] = [];
  const local = profile.type === 'local';
  if (profile.autoscaler?.enabled || input.destroying) {
    out.push({
      kind: 'schedule',
      name: `${names.function('autoscaler')}-schedule`,
      expression: profile.autoscaler?.schedule ?? 'rate(1 minute)',
      functionName: names.function('autoscaler'),
      qualifier: names.alias,
      ...(local ? { skipped: 'local: no EventBridge; run `quakectl scale apply --rules FILE` instead' } : {}),
    });
  }
  if (pollingEnabled(settings) || input.destroying) {
    out.push({
      kind: 'schedule',
      name: `${names.function('producer')}-poll`,
      expression: settings.ingest?.schedule ?? POLL_SCHEDULE,
      functionName: names.function('producer'),
      qualifier: names.alias,
      ...(local ? { skipped: 'local: no EventBridge; run `quakectl ingest` instead' } : {}),
    });
  }
  return out;
}

const AUTH_TYPES: Record<string, KafkaAuthType> = {
  plain: 'BASIC_AUTH',
  'scram-sha-256': 'SASL_SCRAM_256_AUTH',
  'scram-sha-512': 'SASL_SCRAM_512_AUTH',
};

/** The mapping's broker credentials: AWS reads them from Secrets Manager, never from the function's environment. */
export function mappingAuth(profile: Profile): MappingSpec['auth'] {
  if (profile.type !== 'aws' || !profile.kafka.sasl) return undefined;
  const { mechanism, secretArn } = profile.kafka.sasl;
  const type = AUTH_TYPES[mechanism];
  if (!type) {
    throw new ConfigError(
      `kafka sasl mechanism "${mechanism}" is not supported by Lambda's Kafka event source (use plain or scram-sha-256/512)`,
    );
  }
  if (!secretArn) {
    throw new ConfigError(
      `profile "${profile.name}": kafka.sasl.secretArn is required: the Kafka event source mapping reads the broker ` +
        'credentials from a Secrets Manager secret {"username","password"} (see README, Deploying to AWS)',
    );
  }
  return { type, secretArn };
}

export function desiredState(input: DesiredInput): DesiredState {
  const { profile, names, settings = {} } = input;
  const resources: ResourceSpec[] = [];
  for (const kind of DLQ_KINDS) resources.push({ kind: 'queue', name: names.dlq(kind), attributes: DLQ_ATTRIBUTES });
  for (const role of TABLES) {
    resources.push({ kind: 'table', name: names.table(role), definition: tableDefinition(names, role) });
  }
  resources.push({ kind: 'topic', name: names.eventsTopic, partitions: profile.eventsPartitions });
  resources.push({
    kind: 'topic',
    name: names.notificationsTopic,
    partitions: settings.notificationsPartitions ?? profile.eventsPartitions,
  });
  const env = functionEnv(input);
  for (const role of deployedRoles(profile)) {
    const bundle = input.bundles[role];
    if (!bundle) throw new ConfigError(`no bundle for function ${role}`);
    const s = functionSettings(role, settings);
    const fn: FunctionSpec = {
      kind: 'function',
      name: names.function(role),
      role,
      codeSha256: bundle.codeSha256,
      zip: bundle.zip,
      runtime: RUNTIME,
      handler: 'index.handler',
      executionRole: input.roleArn,
      memoryMb: s.memoryMb,
      timeoutS: s.timeoutS,
      env: roleEnvChecked(role, env, input),
      dlq: s.dlq ? names.dlq(s.dlq) : undefined,
      reservedConcurrency: s.reservedConcurrency,
      provisionedConcurrency:
        s.provisionedConcurrency ?? provisionedDefault(role, profile.type === 'local', profile.fanout.parallelism),
      eventInvoke: s.eventInvoke,
      alias: names.alias,
    };
    resources.push(fn);
  }
  const consumer = names.function('consumer');
  resources.push({
    kind: 'mapping',
    name: mappingName(names.eventsTopic, consumer, names.alias),
    functionName: consumer,
    qualifier: names.alias,
    topic: names.eventsTopic,
    brokers: input.brokers,
    auth: mappingAuth(profile),
    batchSize: settings.consumerBatchSize ?? MAPPING_DEFAULTS.batchSize,
    batchWindowS: MAPPING_DEFAULTS.batchWindowS,
    startingPosition: MAPPING_DEFAULTS.startingPosition,
    onFailureQueue: names.dlq('consumer'),
    maximumRetryAttempts: MAPPING_DEFAULTS.maximumRetryAttempts,
    // ProvisionedPollerConfig ranges: MinimumPollers 1–200, MaximumPollers 1–2000 (Lambda API reference).
    pollers: {
      minimum: MAPPING_DEFAULTS.minimumPollers,
      maximum: Math.min(2000, Math.max(MAPPING_DEFAULTS.minimumPollers, profile.eventsPartitions)),
    },
  });
  resources.push(...schedules(input));
  return { resources };
}

export function mappingName(topic: string, functionName: string, qualifier?: string): string {
  return `${topic} → ${functionName}${qualifier ? `:${qualifier}` : ''}`;
}
