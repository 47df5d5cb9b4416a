/**
 * Deploy's own knobs. Defaults live here; a profile may override them under an optional `deploy:` block, read by
 * `readDeploySettings` from the same config file the one loader uses (config.ts keeps its schema; this object is
 * merged on top of it, optional fields only).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { configFileCandidates, type LoadOptions, readConfigFile } from '../infra/config.ts';
import { ConfigError } from '../infra/errors.ts';
import { type DlqKind, FUNCTION_ROLES, type FunctionRole } from '../infra/names.ts';
import type { EventInvokeSpec } from './types.ts';

export const RUNTIME = 'nodejs24.x';
/** The scheduled producer polls for most of each invocation (shared/ingest/feed-poller.ts `pollUntil`). */
export const POLL_SCHEDULE = 'rate(1 minute)';
/** A polling producer: one invocation at a time (no overlapping pollers), a minute's budget. */
export const POLLING_PRODUCER = { timeoutS: 60, reservedConcurrency: 1 };
export const LOCAL_ROLE_ARN = 'arn:aws:iam::000000000000:role/quakectl-local';

export interface FunctionDefaults {
  memoryMb: number;
  timeoutS: number;
  reservedConcurrency?: number;
  /**
   * Provisioned concurrency on alias `live`: environments initialised before any request, so the first alert after a
   * deploy does not wait for a cold start (0 = none). Default: on the local profile (drills) one consumer and one
   * segment worker per chain (`provisionedDefault`); on AWS off unless the profile sets it (it is billed while idle).
   */
  provisionedConcurrency?: number;
  /** Async-invoke DLQ (producer and worker are invoked asynchronously; the consumer's failures go to its mapping). */
  dlq?: DlqKind;
  eventInvoke?: EventInvokeSpec;
}

export const FUNCTION_DEFAULTS: Record<FunctionRole, FunctionDefaults> = {
  producer: {
    memoryMb: 512,
    timeoutS: 30,
    reservedConcurrency: 10,
    dlq: 'producer',
    eventInvoke: { maximumRetryAttempts: 2, maximumEventAgeS: 3600 },
  },
  consumer: { memoryMb: 512, timeoutS: 60 },
  // The worker hands over to a successor before its time runs out (the domino); 5 minutes keeps a chain's hop long.
  'segment-worker': {
    memoryMb: 1024,
    timeoutS: 300,
    dlq: 'worker',
    eventInvoke: { maximumRetryAttempts: 2, maximumEventAgeS: 3600 },
  },
  autoscaler: {
    memoryMb: 256,
    timeoutS: 60,
    reservedConcurrency: 1,
    eventInvoke: { maximumRetryAttempts: 0, maximumEventAgeS: 300 },
  },
};

export const MAPPING_DEFAULTS = {
  batchSize: 100,
  // Alerts are latency-bound: do not wait to fill a batch (Kafka's default window is 0.5 s; 0 is allowed).
  batchWindowS: 0,
  // A mapping created after the first event was produced must still see it; the consumer is idempotent per event.
  startingPosition: 'TRIM_HORIZON' as const,
  // A batch that keeps failing (a poison record) must not stall its partition forever: after 3 retries it goes to the
  // consumer DLQ for `quakectl dlq` to inspect and redrive.
  maximumRetryAttempts: 3,
  // Provisioned mode, which those retry limits need on AWS: one poller at least (billed as event poller units while
  // the mapping exists); at most one per partition, since a consumer group never uses more consumers than partitions.
  minimumPollers: 1,
};

/** Dead letters are kept the longest SQS allows (14 days): they wait for an operator's redrive. */
export const DLQ_ATTRIBUTES = { MessageRetentionPeriod: '1209600' };

// Strict, as the rest of the profile: a misspelt key (`provisionedConcurency:`, `prim:`) is an error naming it.
const functionOverride = z
  .strictObject({
    memoryMb: z.number().int().min(128).max(10240),
    timeoutS: z.number().int().min(1).max(900),
    reservedConcurrency: z.number().int().min(0),
    provisionedConcurrency: z.number().int().min(0),
  })
  .partial();

/**
 * The producer's scheduled mode (shared/ingest/scheduled.ts): feeds it polls every minute. Either URL enables polling;
 * neither (the default) deploys no producer schedule.
 */
const ingestSettings = z.strictObject({
  /** A USGS GeoJSON summary feed, e.g. https://earthquake.usgs.gov/earthquakes/feed/v1.0/summary/all_hour.geojson */
  usgsFeedUrl: z.url().optional(),
  /** An FDSN event query with format=text. */
  fdsnQueryUrl: z.url().optional(),
  /** Events older than this are not forwarded (the poller's default: 3600; 0 = no limit). */
  maxAgeS: z.number().int().min(0).optional(),
  schedule: z.string().default(POLL_SCHEDULE),
});

/**
 * The per-notification channels' provider settings, written into the segment worker's environment (function-env.ts):
 * sms through SNS, email through SES v2, the Telegram bot token's Secrets Manager secret (`quakectl secrets set
 * telegram-bot-token` creates it and prints its ARN). None is a secret; `quakectl iam policy` grants exactly these.
 */
export const notifySettingsSchema = z.strictObject({
  sms: z
    .strictObject({
      enabled: z.boolean().default(true),
      senderId: z
        .string()
        .regex(/^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$/)
        .optional(),
      originationNumber: z
        .string()
        .regex(/^\+[1-9]\d{1,14}$/)
        .optional(),
    })
    .optional(),
  email: z
    .strictObject({
      /** A verified SES identity (the address or its domain); on the local profile deploy verifies it in moto. */
      from: z.string().min(3),
      configurationSet: z.string().min(1).optional(),
      /** https URL with `{subscriber}`: RFC 8058 one-click unsubscribe; else a mailto to `from`. */
      unsubscribeUrl: z.url({ protocol: /^https$/ }).optional(),
    })
    .optional(),
  telegram: z.strictObject({ secretArn: z.string().startsWith('arn:') }).optional(),
});
export type NotifySettings = z.infer<typeof notifySettingsSchema>;

/** The email sender's bare address (`Name <a@b>` → `a@b`). */
export function senderAddress(from: string): string {
  return /<([^>]+)>/.exec(from)?.[1] ?? from.trim();
}

export const deploySettingsSchema = z.strictObject({
  functions: z.partialRecord(z.enum(FUNCTION_ROLES), functionOverride).optional(),
  ingest: ingestSettings.optional(),
  consumerBatchSize: z.number().int().min(1).max(10_000).optional(),
  notificationsPartitions: z.number().int().min(1).max(1000).optional(),
  /**
   * Webhook hosts whose URL paths may appear in logs and DLQ messages. Every other URL is logged as scheme://host/…:
   * Slack-style hooks carry their token in the path. Exact host names, compared in lower case.
   */
  logUrlPathsFor: z.array(z.string().min(1).toLowerCase()).optional(),
  notify: notifySettingsSchema.optional(),
  /**
   * Init-phase priming of the producer, consumer and segment worker (default true): their first alert after a deploy
   * runs at warm speed on provisioned environments (shared/infra/prime.ts). `false` sets QUAKECTL_PRIME=false.
   */
  prime: z.boolean().optional(),
});
export type DeploySettings = z.infer<typeof deploySettingsSchema>;

/** The profile's optional `deploy:` block, validated with deploy's schema. */
export function readDeploySettings(profileName: string, opts: LoadOptions = {}): DeploySettings {
  const file = configFileCandidates(opts).find((c) => existsSync(c));
  if (!file) return {};
  readConfigFile(file); // the one loader validates the rest of the file
  const raw = parseYaml(readFileSync(file, 'utf8')) as { profiles?: Record<string, { deploy?: unknown }> } | null;
  const block = raw?.profiles?.[profileName]?.deploy;
  if (block === undefined) return {};
  const parsed = deploySettingsSchema.safeParse(block);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${['deploy', ...i.path].join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid deploy settings in profile "${profileName}" (${file}): ${issues}`);
  }
  return parsed.data;
}

/**
 * Default provisioned concurrency of a role (Lambda developer guide, "Configuring provisioned concurrency"): on the
 * local profile, where drills measure the first alert after a fresh deploy from acceptance, the producer gets one
 * environment (acceptance happens in it, and what follows it, the version's write and the Kafka send, is on the
 * alert's path), the consumer one (one mapping poller invokes it) and the segment worker one per chain
 * (`parallelism`: the consumer starts that many at once); nothing elsewhere.
 */
export function provisionedDefault(role: FunctionRole, local: boolean, parallelism: number): number | undefined {
  if (!local) return undefined;
  if (role === 'producer' || role === 'consumer') return 1;
  if (role === 'segment-worker') return parallelism;
  return undefined;
}

/** Polling is on when the profile names a feed to poll. */
export function pollingEnabled(settings: DeploySettings = {}): boolean {
  return Boolean(settings.ingest?.usgsFeedUrl || settings.ingest?.fdsnQueryUrl);
}

/** Defaults, then what polling needs (producer), then the profile's explicit per-function overrides. */
export function functionSettings(role: FunctionRole, settings: DeploySettings = {}): FunctionDefaults {
  const polling = role === 'producer' && pollingEnabled(settings) ? POLLING_PRODUCER : {};
  return { ...FUNCTION_DEFAULTS[role], ...polling, ...(settings.functions?.[role] ?? {}) };
}
