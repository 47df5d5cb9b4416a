/**
 * The deployed functions' environment as a contract: one zod schema that `quakectl deploy` validates what it writes
 * against (shared/deploy/desired.ts) and every handler parses once at start-up (shared/infra/handler-support.ts).
 * Values are strings (Lambda environment variables); the schema turns them into typed values and fills defaults, so
 * no handler reads `process.env` for a setting of its own.
 *
 * Kafka credentials are never in the environment: with SASL, `QUAKECTL_KAFKA_SECRET_ARN` names a Secrets Manager
 * secret `{"username","password"}` (the same secret the Kafka event source mapping authenticates with, AWS Lambda
 * developer guide "Self-managed Apache Kafka: authentication"), read once per execution environment at start-up.
 * Anything in the environment is visible to whoever may call GetFunctionConfiguration.
 *
 * Errors: `ConfigError` naming every variable that fails, so a bad deploy shows in the first invocation's log.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import type { ServiceConfig } from './clients.ts';
import { fanoutSchema } from './config.ts';
import { ConfigError } from './errors.ts';
import { resourceNames } from './names.ts';

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const jsonOf = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);

export const KAFKA_SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

export const functionEnvSchema = z
  .object({
    QUAKECTL_PREFIX: z.string().min(1),
    QUAKECTL_KAFKA_BROKERS: list.pipe(z.array(z.string().min(1)).min(1, 'at least one broker')),
    QUAKECTL_KAFKA_SSL: bool.default(false),
    QUAKECTL_KAFKA_SASL_MECHANISM: z.enum(KAFKA_SASL_MECHANISMS).optional(),
    /** Secrets Manager secret ARN holding `{"username","password"}`; required with a SASL mechanism. */
    QUAKECTL_KAFKA_SECRET_ARN: z.string().startsWith('arn:').optional(),
    /** Fan-out settings as JSON; missing keys take the config schema's defaults (shared/infra/config.ts). */
    QUAKECTL_FANOUT: jsonOf(fanoutSchema.partial()).default({}),
    QUAKECTL_ALLOW_PRIVATE_TARGETS: bool.default(false),
    QUAKECTL_LOCAL: bool.default(false),
    /** Init-phase priming of the producer, consumer and segment worker (shared/infra/prime.ts); `false`: none. */
    QUAKECTL_PRIME: bool.default(true),
    /** A non-default events topic (an isolated test system on a shared broker). */
    QUAKECTL_EVENTS_TOPIC: z.string().min(1).optional(),
    /** Segment worker: lease of a segment lock, and the remaining time below which it hands over (ms). */
    QUAKECTL_LEASE_MS: int(1000, 900_000).default(30_000),
    QUAKECTL_RESERVE_MS: int(100, 900_000).default(10_000),
    /** Segment worker: subscribers read, delivered and checkpointed per batch; default max(500, webhook batch). */
    QUAKECTL_PAGE_SIZE: int(1, 100_000).optional(),
    /** Segment worker: invocations one chain may chain before it parks its payload in the worker DLQ. */
    QUAKECTL_MAX_HOPS: int(1, 10_000).default(50),
    /**
     * Hosts (exact, lower case) whose URL paths may appear in logs and DLQ messages; every other URL is reduced to
     * scheme://host/… (shared/notify/telemetry.ts redactUrl).
     */
    QUAKECTL_LOG_URL_PATHS_FOR: list.default([]),
    /** Producer, scheduled mode (read by shared/ingest/scheduled.ts). */
    QUAKECTL_USGS_FEED_URL: z.url().optional(),
    QUAKECTL_FDSN_QUERY_URL: z.url().optional(),
    QUAKECTL_INGEST_MAX_AGE_S: int(0, 10 * 365 * 86_400).optional(),
    /** Autoscaler rules as JSON (validated by shared/scaling/rules.ts when the autoscaler starts). */
    QUAKECTL_SCALING_RULES: z.string().min(2).optional(),
    /**
     * Channels (shared/notify/senders.ts): sms via SNS when enabled (sms.ts), email via SES v2 from a verified sender
     * (email.ts), the Telegram bot token from a Secrets Manager secret read once at start-up (never logged; the plain
     * QUAKECTL_TELEGRAM_BOT_TOKEN is for the local profile only).
     */
    QUAKECTL_SMS_ENABLED: bool.default(false),
    QUAKECTL_SMS_SENDER_ID: z
      .string()
      .regex(/^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$/, '1–11 letters or digits')
      .optional(),
    QUAKECTL_SMS_ORIGINATION_NUMBER: z
      .string()
      .regex(/^\+[1-9]\d{1,14}$/, 'an E.164 number')
      .optional(),
    QUAKECTL_SES_FROM: z.string().min(3).optional(),
    QUAKECTL_SES_CONFIGURATION_SET: z.string().min(1).optional(),
    QUAKECTL_EMAIL_UNSUBSCRIBE_URL: z.url({ protocol: /^https$/ }).optional(),
    QUAKECTL_TELEGRAM_SECRET_ARN: z.string().startsWith('arn:').optional(),
    /** Local profile: SNS, SES v2 and Secrets Manager endpoints (moto); unset on AWS, where the SDK resolves them. */
    QUAKECTL_SNS_ENDPOINT: z.url().optional(),
    QUAKECTL_SESV2_ENDPOINT: z.url().optional(),
    QUAKECTL_SECRETS_ENDPOINT: z.url().optional(),
    /**
     * Consumer: where it publishes the CAP 1.2 feed (shared/notify/cap-config.ts), a directory or an S3 bucket with a
     * key prefix; neither: no feed. Sender and base URL as in the profile's `cap` block.
     */
    QUAKECTL_CAP_DIR: z.string().min(1).optional(),
    QUAKECTL_CAP_BUCKET: z.string().min(3).optional(),
    QUAKECTL_CAP_PREFIX: z
      .string()
      .regex(/^([^/].*\/)?$/)
      .default(''),
    QUAKECTL_CAP_SENDER: z
      .string()
      .regex(/^[^\s,<&]+$/)
      .default('quakectl.local'),
    QUAKECTL_CAP_BASE_URL: z.url().optional(),
    /** Local test hook of the segment worker (honoured only with QUAKECTL_LOCAL=true): exit after N batches. */
    QUAKECTL_TEST_CRASH_AFTER_BATCHES: int(0, 1_000_000).default(0),
    QUAKECTL_TEST_CRASH_DIR: z.string().min(1).optional(),
  })
  .superRefine((e, ctx) => {
    if (e.QUAKECTL_CAP_DIR && e.QUAKECTL_CAP_BUCKET) {
      ctx.addIssue({ code: 'custom', path: ['QUAKECTL_CAP_BUCKET'], message: 'QUAKECTL_CAP_DIR or _BUCKET, not both' });
    }
    if (e.QUAKECTL_KAFKA_SASL_MECHANISM && !e.QUAKECTL_KAFKA_SECRET_ARN) {
      ctx.addIssue({
        code: 'custom',
        path: ['QUAKECTL_KAFKA_SECRET_ARN'],
        message: 'required with QUAKECTL_KAFKA_SASL_MECHANISM (the credentials live in Secrets Manager)',
      });
    }
  });

export type FunctionEnv = z.output<typeof functionEnvSchema>;
/** What deploy writes: every key a string, as Lambda stores them. */
export type FunctionEnvInput = Partial<Record<keyof z.input<typeof functionEnvSchema>, string>>;

/** Parses the contract's variables out of an environment (other variables are ignored). */
export function parseFunctionEnv(env: NodeJS.ProcessEnv = process.env): FunctionEnv {
  const r = functionEnvSchema.safeParse(env);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`).join('; ');
  throw new ConfigError(`invalid function environment: ${issues}`);
}

export interface KafkaCredentials {
  username: string;
  password: string;
}

const secretSchema = z.object({ username: z.string().min(1), password: z.string().min(1) });

/**
 * Reads `{"username","password"}` from the secret (GetSecretValue, SecretString). Errors: ConfigError when the
 * secret is not that JSON (the message never contains the secret's value); the SDK's error when it cannot be read.
 */
export async function kafkaCredentials(secrets: SecretsManagerClient, secretArn: string): Promise<KafkaCredentials> {
  const r = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.SecretString ?? '');
  } catch {
    throw new ConfigError(`secret ${secretArn} is not JSON {"username","password"}`);
  }
  const ok = secretSchema.safeParse(parsed);
  if (!ok.success) throw new ConfigError(`secret ${secretArn} lacks a username and password`);
  return ok.data;
}

/**
 * The function's ServiceConfig: endpoints from the SDK's own AWS_ENDPOINT_URL_* variables (set by the emulator
 * locally; unset on AWS), Kafka with the credentials read from Secrets Manager.
 */
export function serviceConfigFromFunctionEnv(
  fe: FunctionEnv,
  env: NodeJS.ProcessEnv = process.env,
  credentials?: KafkaCredentials,
): ServiceConfig {
  const names = resourceNames(fe.QUAKECTL_PREFIX);
  return {
    region: env.AWS_REGION,
    endpoints: {
      dynamodb: env.AWS_ENDPOINT_URL_DYNAMODB,
      sqs: env.AWS_ENDPOINT_URL_SQS,
      lambda: env.AWS_ENDPOINT_URL_LAMBDA,
      logs: env.AWS_ENDPOINT_URL_CLOUDWATCH_LOGS,
      eventbridge: env.AWS_ENDPOINT_URL_EVENTBRIDGE,
      sns: fe.QUAKECTL_SNS_ENDPOINT ?? env.AWS_ENDPOINT_URL_SNS,
      sesv2: fe.QUAKECTL_SESV2_ENDPOINT ?? env.AWS_ENDPOINT_URL_SESV2,
      secretsmanager: fe.QUAKECTL_SECRETS_ENDPOINT ?? env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
      s3: env.AWS_ENDPOINT_URL_S3,
    },
    kafka: {
      brokers: fe.QUAKECTL_KAFKA_BROKERS,
      ssl: fe.QUAKECTL_KAFKA_SSL,
      clientId: env.AWS_LAMBDA_FUNCTION_NAME ?? 'quakectl-fn',
      sasl:
        fe.QUAKECTL_KAFKA_SASL_MECHANISM && credentials
          ? { mechanism: fe.QUAKECTL_KAFKA_SASL_MECHANISM, ...credentials }
          : undefined,
    },
    names: fe.QUAKECTL_EVENTS_TOPIC ? { ...names, eventsTopic: fe.QUAKECTL_EVENTS_TOPIC } : names,
    fanout: fanoutSchema.parse(fe.QUAKECTL_FANOUT),
    allowPrivateTargets: fe.QUAKECTL_ALLOW_PRIVATE_TARGETS,
    local: fe.QUAKECTL_LOCAL,
  };
}
