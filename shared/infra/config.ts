/**
 * The one config loader. A profile says where the system runs:
 * - `local`: the stack started by `quakectl local up` (endpoints read from its state file, dummy credentials);
 * - `aws`: real AWS through the standard chain (AWS_PROFILE / AWS_REGION / AWS_ENDPOINT_URL_*), with Kafka settings.
 *
 * Resolution order: flags > environment (QUAKECTL_PROFILE, QUAKECTL_CONFIG) > `./quakectl.config.yaml` >
 * `~/.config/quakectl/config.yaml` > the built-in `local` profile.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

// Objects are strict: a misspelt key (`paralellism:`) is an error naming it, not a setting silently ignored.
const saslSchema = z.strictObject({
  mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer']),
  username: z.string().optional(),
  password: z.string().optional(),
  /** Secrets Manager ARN holding `{"username","password"}`: what the Kafka event source mapping authenticates with. */
  secretArn: z.string().optional(),
});

const kafkaSchema = z.strictObject({
  brokers: z.array(z.string().min(1)).min(1),
  ssl: z.boolean().default(false),
  sasl: saslSchema.optional(),
  clientId: z.string().default('quakectl'),
});

/**
 * One per-notification channel's delivery policy (shared/notify/rate.ts, deliverer.ts):
 * - `ratePerSecond`: sends per second for the whole system (all chains of all events share it: a DynamoDB-backed
 *   budget), the provider's documented default unless the operator's account has a higher quota.
 * - `late`: what to do with an alert that can no longer arrive before the S wave plus `lateGraceS`: `rebuild` sends
 *   it with the text rebuilt for the moment of sending ("shaking under way" / what happened), `drop` does not send
 *   it (counted and logged as dropped). An alert is never sent with a stale "shaking in N s".
 */
const channelPolicy = (ratePerSecond: number, late: 'rebuild' | 'drop') =>
  z
    .strictObject({
      ratePerSecond: z.number().min(0.1).max(100_000).default(ratePerSecond),
      late: z.enum(['rebuild', 'drop']).default(late),
      lateGraceS: z.number().min(0).max(3600).default(10),
    })
    .default({ ratePerSecond, late, lateGraceS: 10 });

/**
 * Defaults: Telegram ~30 messages/s per bot (Bot FAQ); SNS transactional SMS 20 messages/s (AWS SNS quotas, an
 * account's default, raised on request); SES v2 14 messages/s (a new production account's sending rate; the sandbox
 * allows 1); Web Push: push services document no per-sender rate — FCM's quota of 600,000 messages/min per project
 * gives 10,000/s. Every channel's late policy defaults to `rebuild`: a subscriber who will feel the quake is told, a
 * warning while one is still possible, else what happened (at SMS's 20/s most of a large event's SMS come after the
 * S wave; a `drop` default silently skipped them in the five-channel drill). `drop` is for operators who would rather
 * not pay for an SMS or email that can no longer warn.
 */
export const channelsSchema = z
  .strictObject({
    telegram: channelPolicy(30, 'rebuild'),
    push: channelPolicy(10_000, 'rebuild'),
    sms: channelPolicy(20, 'rebuild'),
    email: channelPolicy(14, 'rebuild'),
  })
  .default({
    telegram: { ratePerSecond: 30, late: 'rebuild', lateGraceS: 10 },
    push: { ratePerSecond: 10_000, late: 'rebuild', lateGraceS: 10 },
    sms: { ratePerSecond: 20, late: 'rebuild', lateGraceS: 10 },
    email: { ratePerSecond: 14, late: 'rebuild', lateGraceS: 10 },
  });
export type ChannelPolicies = z.infer<typeof channelsSchema>;

export const fanoutSchema = z.strictObject({
  /** Number of segment-worker chains started per event (P). */
  parallelism: z.number().int().min(1).max(1000).default(4),
  maxSegmentSize: z.number().int().min(10).max(100_000).default(2000),
  strategy: z.enum(['geo', 'scan']).default('geo'),
  /** Webhook batch size. */
  batchSize: z.number().int().min(1).max(1000).default(100),
  /**
   * One webhook attempt's timeout (ms). 5 s: a receiver that answers in 3 s is slow, not down (at 2 s such a receiver
   * got every batch three times and none counted). The lease is renewed while a batch is out.
   */
  webhookTimeoutMs: z.number().int().min(100).max(60_000).default(5000),
  /** One target's whole time for one batch, attempts and backoff included (ms): a hanging target gives up after it. */
  targetBudgetMs: z.number().int().min(500).max(300_000).default(12_000),
  minMagnitude: z.number().min(-2).max(10).default(3),
  /** The lowest threshold a subscriber may hold: it sets the footprint the consumer plans (shared/fanout/plan.ts). */
  minSubscriberMmi: z.number().min(1).max(10).default(3),
  /**
   * Events whose origin is older than this many seconds are recorded but not alerted (a replayed catalogue, a feed
   * that lagged for hours, a 1970 origin). Within it, alerts built after the S wave say what happened.
   */
  maxEventAgeS: z
    .number()
    .int()
    .min(60)
    .max(7 * 86400)
    .default(3600),
  /**
   * Alert policy (issue 13): notify a subscriber when the probability that their threshold is reached is at least this,
   * given the intensity equation's σ (shared/seismo/alert.ts). 0.5 alerts on the median prediction only; the default
   * 0.3 alerts a little below the threshold, as ShakeAlert does (missed/false rates in docs/seismology.md). The planner's
   * footprint uses the same level (`footprintRadiusKm(minSubscriberMmi, alertProbability)`).
   */
  alertProbability: z.number().gt(0).lt(1).default(0.3),
  /**
   * The fan-out's expected throughput, subscribers per second across all chains (0: off). The planner places
   * segments the S wave will have wholly passed before this rate reaches them after everyone it can still warn
   * (shared/fanout/plan.ts `deferUnreachable`). Set it from a drill's measured notifications/s (where most of the
   * footprint is eligible, as under a strong quake, the two are close): too high and it defers
   * nothing (the nearest-first order), too low and it defers segments that could have been warned
   * (docs/fanout-benchmark.md, "A front that outruns the rate").
   */
  expectedRate: z.number().int().min(0).max(100_000_000).default(20_000),
  /**
   * Plan with the rate this deployment measured (shared/fanout/rate.ts): the largest of the last fan-outs of at least
   * 10,000 subscribers at the same parallelism, recorded by the worker that completes each; `expectedRate` until one
   * is measured, and 0 there still turns the deferral off.
   */
  measureRate: z.boolean().default(true),
  /** `scan` strategy: parallel Scan segments (DynamoDB TotalSegments) per event. */
  scanSegments: z.number().int().min(1).max(1_000_000).default(32),
  /**
   * Segment lease and hand-over reserve of the segment worker (ms). Optional: unset, the worker's own defaults hold
   * (30 s / 10 s, functions/segment-worker); deploy passes them as QUAKECTL_LEASE_MS / QUAKECTL_RESERVE_MS.
   */
  leaseMs: z.number().int().min(1000).max(900_000).optional(),
  reserveMs: z.number().int().min(100).max(900_000).optional(),
  /** Per-notification channels' send rates and late policies (see `channelsSchema`). */
  channels: channelsSchema,
});

/**
 * The CAP 1.2 feed the consumer publishes (shared/notify/cap-config.ts): an S3 bucket on `aws` profiles (none: no
 * feed), a directory on `local` ones (default `<stateDir>/cap`, served by `quakectl local up`).
 */
export const capSchema = z.strictObject({
  /** S3 bucket (aws): objects `<prefix><identifier>.xml` and `<prefix>index.atom`. */
  bucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name')
    .optional(),
  /** Key prefix in the bucket: empty or ending in `/`. */
  prefix: z
    .string()
    .regex(/^([^/].*\/)?$/, 'empty or ending in / (not starting with one)')
    .default(''),
  /** Directory (local). */
  dir: z.string().min(1).optional(),
  /** CAP `sender`: a domain or e-mail form you control (CAP 1.2 3.2.1: no spaces, commas, < or &). */
  sender: z
    .string()
    .regex(/^[^\s,<&]+$/, 'no spaces, commas, < or &')
    .optional(),
  /** Where the feed is served (the documents' `web` and the index links); default the bucket's or the local feed's URL. */
  baseUrl: z.url().optional(),
  /** Local profiles publish unless this is false. */
  enabled: z.boolean().optional(),
});

const profileBase = {
  prefix: z.string().default('quakectl'),
  fanout: fanoutSchema.default(fanoutSchema.parse({})),
  /** Allow webhook targets on private / loopback / link-local addresses (true only for local testing). */
  allowPrivateTargets: z.boolean().optional(),
  /** Import webhook channels without a secret (unsigned, replayable requests). Default false in every profile. */
  allowUnsignedWebhooks: z.boolean().optional(),
  eventsPartitions: z.number().int().min(1).max(1000).default(6),
  autoscaler: z
    .strictObject({
      enabled: z.boolean().default(false),
      rules: z.string().optional(),
      schedule: z.string().default('rate(1 minute)'),
    })
    .optional(),
  cap: capSchema.optional(),
  /** Deploy's own knobs: validated by shared/deploy/settings.ts (readDeploySettings), not here. */
  deploy: z.unknown().optional(),
};

const localProfileSchema = z.strictObject({
  type: z.literal('local'),
  stateDir: z.string().optional(),
  ...profileBase,
});

const awsProfileSchema = z.strictObject({
  type: z.literal('aws'),
  region: z.string().optional(),
  awsProfile: z.string().optional(),
  roleArn: z.string().optional(),
  kafka: kafkaSchema,
  /**
   * Web Push (shared/notify/push.ts): the VAPID public key and subject, the private key in a Secrets Manager secret
   * (SecretString = the base64url key; `quakectl push vapid-keys` makes a pair). The local profile's keys live in its
   * state dir (shared/notify/push-keys.ts).
   */
  push: z
    .strictObject({
      vapidPublicKey: z.string().regex(/^[A-Za-z0-9_-]{86,88}$/, 'a base64url P-256 public key (65 bytes)'),
      vapidSubject: z.string().regex(/^(mailto:|https:)/, 'a mailto: or https: contact'),
      vapidSecretArn: z.string().startsWith('arn:'),
    })
    .optional(),
  ...profileBase,
});

const profileSchema = z.discriminatedUnion('type', [localProfileSchema, awsProfileSchema]);

export const configFileSchema = z.strictObject({
  defaultProfile: z.string().optional(),
  profiles: z.record(z.string(), profileSchema).default({}),
});

export type LocalProfile = z.infer<typeof localProfileSchema> & { name: string };
export type AwsProfile = z.infer<typeof awsProfileSchema> & { name: string };
export type Profile = LocalProfile | AwsProfile;
export type FanoutSettings = z.infer<typeof fanoutSchema>;
/** Fan-out settings when nothing overrides them (profile defaults; what a function uses without QUAKECTL_FANOUT). */
export const DEFAULT_FANOUT: FanoutSettings = fanoutSchema.parse({});
export type KafkaSettings = z.infer<typeof kafkaSchema>;

export interface LoadOptions {
  profile?: string;
  configFile?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export function configFileCandidates(opts: LoadOptions = {}): string[] {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  if (opts.configFile) return [resolve(cwd, opts.configFile)];
  if (env.QUAKECTL_CONFIG) return [resolve(cwd, env.QUAKECTL_CONFIG)];
  const xdg = env.XDG_CONFIG_HOME ?? join(homedir(), '.config');
  return [join(cwd, 'quakectl.config.yaml'), join(xdg, 'quakectl', 'config.yaml')];
}

export function readConfigFile(path: string): z.infer<typeof configFileSchema> {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = configFileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid config file ${path}: ${issues}`);
  }
  return parsed.data;
}

/** Loads the named (or default) profile. The built-in `local` profile needs no file. */
export function loadProfile(opts: LoadOptions = {}): Profile {
  const env = opts.env ?? process.env;
  const candidates = configFileCandidates(opts);
  const explicit = Boolean(opts.configFile || env.QUAKECTL_CONFIG);
  const file = candidates.find((c) => existsSync(c));
  if (explicit && !file) throw new ConfigError(`config file not found: ${candidates[0]}`);
  const config = file ? readConfigFile(file) : { profiles: {} as Record<string, z.infer<typeof profileSchema>> };
  const name = opts.profile ?? env.QUAKECTL_PROFILE ?? config.defaultProfile ?? 'local';
  const found = config.profiles[name];
  if (found) return { ...found, name } as Profile;
  if (name === 'local') return { ...localProfileSchema.parse({ type: 'local' }), name };
  const known = ['local', ...Object.keys(config.profiles).filter((k) => k !== 'local')];
  throw new ConfigError(
    `unknown profile "${name}"${file ? ` in ${file}` : ' (no config file found)'}; known: ${known.join(', ')}. ` +
      'Define it under profiles: in quakectl.config.yaml (see README).',
  );
}

/** Where the local stack keeps its state, pids and logs. */
export function stateDir(profile?: Profile, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  if (env.QUAKECTL_STATE_DIR) return resolve(cwd, env.QUAKECTL_STATE_DIR);
  if (profile?.type === 'local' && profile.stateDir) return resolve(cwd, profile.stateDir);
  return resolve(cwd, '.quakectl');
}

/** Where downloaded jars are cached across projects and runs. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.QUAKECTL_CACHE) return resolve(env.QUAKECTL_CACHE);
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'quakectl');
}

export function allowPrivateTargets(profile: Profile): boolean {
  return profile.allowPrivateTargets ?? profile.type === 'local';
}
