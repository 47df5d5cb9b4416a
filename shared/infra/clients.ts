/**
 * The one factory for service clients (DynamoDB, SQS, Lambda, CloudWatch Logs, EventBridge, S3, SNS, SES v2, Secrets
 * Manager, Kafka). The CLI builds a
 * `ServiceConfig` from its profile (`serviceConfigFromProfile`), a function from its environment contract
 * (`serviceConfigFromFunctionEnv`, shared/infra/function-env.ts); both then get the same clients. Local and AWS differ only in endpoints and credentials.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Kafka, type KafkaConfig, logLevel, type SASLOptions } from 'kafkajs';
import { allowPrivateTargets, type FanoutSettings, type KafkaSettings, type Profile, stateDir } from './config.ts';
import { ConfigError } from './errors.ts';
import { type ResourceNames, resourceNames } from './names.ts';
import { providerRetryStrategy, RETRY_POLICIES, sdkRetryStrategy } from './retry.ts';
import { requireStackState } from './stack-state.ts';

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface ServiceConfig {
  region?: string;
  /** Per-service endpoint overrides (local stack); undefined = the SDK's standard resolution. */
  endpoints: {
    dynamodb?: string;
    sqs?: string;
    lambda?: string;
    logs?: string;
    eventbridge?: string;
    /** SNS (sms channel), SES v2 (email channel), Secrets Manager: moto on the local stack. */
    sns?: string;
    sesv2?: string;
    secretsmanager?: string;
    s3?: string;
  };
  credentials?: { accessKeyId: string; secretAccessKey: string };
  awsProfile?: string;
  kafka: KafkaSettings;
  names: ResourceNames;
  fanout: FanoutSettings;
  allowPrivateTargets: boolean;
  local: boolean;
}

export function serviceConfigFromProfile(profile: Profile): ServiceConfig {
  const names = resourceNames(profile.prefix);
  if (profile.type === 'local') {
    const stack = requireStackState(stateDir(profile));
    return {
      region: LOCAL_REGION,
      endpoints: {
        dynamodb: stack.dynamodb.endpoint,
        sqs: stack.sqs.endpoint,
        lambda: stack.lambda?.endpoint,
        ...motoEndpoints(stack.moto?.endpoint),
      },
      credentials: LOCAL_CREDENTIALS,
      kafka: { brokers: stack.kafka.brokers, ssl: false, clientId: 'quakectl' },
      names,
      fanout: profile.fanout,
      allowPrivateTargets: allowPrivateTargets(profile),
      local: true,
    };
  }
  return {
    region: profile.region,
    endpoints: {},
    awsProfile: profile.awsProfile,
    kafka: profile.kafka,
    names,
    fanout: profile.fanout,
    allowPrivateTargets: allowPrivateTargets(profile),
    local: false,
  };
}

/** moto serves SNS, SES v2 and Secrets Manager on one endpoint (local/stack/moto.ts). */
export function motoEndpoints(
  endpoint: string | undefined,
): Pick<ServiceConfig['endpoints'], 'sns' | 'sesv2' | 'secretsmanager'> {
  return endpoint ? { sns: endpoint, sesv2: endpoint, secretsmanager: endpoint } : {};
}

function awsClientConfig(cfg: ServiceConfig, endpoint: string | undefined) {
  return {
    region: cfg.region ?? (cfg.local ? LOCAL_REGION : undefined),
    ...(endpoint ? { endpoint } : {}),
    ...(cfg.credentials ? { credentials: cfg.credentials } : {}),
    ...(cfg.awsProfile ? { profile: cfg.awsProfile } : {}),
    // One bounded policy for every SDK call (shared/infra/retry.ts): throttling retried from 25 ms, not 500 ms.
    retryStrategy: sdkRetryStrategy(RETRY_POLICIES.sdk),
  };
}

export interface Clients {
  config: ServiceConfig;
  dynamodb: DynamoDBClient;
  /** Document client (plain JS values) over `dynamodb`. */
  ddb: DynamoDBDocumentClient;
  sqs: SQSClient;
  lambda: LambdaClient;
  logs: CloudWatchLogsClient;
  /** Schedules (deploy). AWS only: the local stack has no EventBridge. */
  eventbridge: EventBridgeClient;
  /**
   * The sms channel (SNS Publish), the email channel (SES v2 SendEmail; locally also deploy's sender identity) and
   * channel secrets (`quakectl secrets`): loaded on first use like `s3`, so no function evaluates these modules at cold
   * start unless it sends on those channels.
   */
  sns(): Promise<SNSClient>;
  sesv2(): Promise<SESv2Client>;
  secretsmanager(): Promise<SecretsManagerClient>;
  /**
   * The CAP feed's bucket (shared/notify/cap-store.ts), loaded on first use: functions that never publish (producer,
   * worker) do not evaluate the S3 module at cold start (about 0.1 s here: a bundle importing it started in 0.48 s
   * against 0.33 s, best of 15 runs each).
   */
  s3(): Promise<S3Client>;
  kafka: Kafka;
  destroy(): void;
}

let kafkaWarningFilterInstalled = false;
/**
 * kafkajs 2.2.4 schedules timers with negative delays, which Node 24 reports as TimeoutNegativeWarning on every call
 * (tulios/kafkajs#1751, unfixed upstream; the delay is clamped to 1 ms, so nothing breaks). Drop exactly that warning
 * and pass every other one to Node's own handler.
 */
function filterKafkaJsTimeoutWarnings(): void {
  if (kafkaWarningFilterInstalled) return;
  kafkaWarningFilterInstalled = true;
  const defaults = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'TimeoutNegativeWarning') return;
    for (const listener of defaults) listener(warning);
  });
}

export function createKafka(settings: KafkaSettings): Kafka {
  filterKafkaJsTimeoutWarnings();
  const config: KafkaConfig = {
    clientId: settings.clientId,
    brokers: settings.brokers,
    ssl: settings.ssl,
    logLevel: process.env.QUAKECTL_KAFKA_LOG === 'debug' ? logLevel.DEBUG : logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 100 },
    connectionTimeout: 3000,
  };
  if (settings.sasl) {
    const { mechanism, username = '', password = '' } = settings.sasl;
    if (mechanism === 'oauthbearer') {
      throw new ConfigError('kafka sasl oauthbearer needs an oauthBearerProvider: not configurable from a profile yet');
    }
    config.sasl = { mechanism, username, password } as SASLOptions;
  }
  return new Kafka(config);
}

export function createClients(cfg: ServiceConfig): Clients {
  let lazy: Partial<Omit<Clients, 'config' | 'destroy' | 's3' | 'sns' | 'sesv2' | 'secretsmanager'>> = {};
  let s3: Promise<S3Client> | undefined;
  let sns: Promise<SNSClient> | undefined;
  let sesv2: Promise<SESv2Client> | undefined;
  let secretsmanager: Promise<SecretsManagerClient> | undefined;
  const clients = {
    config: cfg,
    get dynamodb() {
      lazy.dynamodb ??= new DynamoDBClient(awsClientConfig(cfg, cfg.endpoints.dynamodb));
      return lazy.dynamodb;
    },
    get ddb() {
      lazy.ddb ??= DynamoDBDocumentClient.from(this.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
      return lazy.ddb;
    },
    get sqs() {
      lazy.sqs ??= new SQSClient(awsClientConfig(cfg, cfg.endpoints.sqs));
      return lazy.sqs;
    },
    get lambda() {
      lazy.lambda ??= new LambdaClient(awsClientConfig(cfg, cfg.endpoints.lambda));
      return lazy.lambda;
    },
    get logs() {
      lazy.logs ??= new CloudWatchLogsClient(awsClientConfig(cfg, cfg.endpoints.logs));
      return lazy.logs;
    },
    get eventbridge() {
      lazy.eventbridge ??= new EventBridgeClient(awsClientConfig(cfg, cfg.endpoints.eventbridge));
      return lazy.eventbridge;
    },
    s3() {
      // An endpoint override (moto, any S3 work-alike) serves buckets by path, not by virtual host.
      s3 ??= import('@aws-sdk/client-s3').then(
        ({ S3Client }) =>
          new S3Client({ ...awsClientConfig(cfg, cfg.endpoints.s3), forcePathStyle: Boolean(cfg.endpoints.s3) }),
      );
      return s3;
    },
    sns() {
      sns ??= import('@aws-sdk/client-sns').then(
        ({ SNSClient }) =>
          new SNSClient({
            ...awsClientConfig(cfg, cfg.endpoints.sns),
            retryStrategy: providerRetryStrategy(RETRY_POLICIES.sdk),
          }),
      );
      return sns;
    },
    sesv2() {
      sesv2 ??= import('@aws-sdk/client-sesv2').then(
        ({ SESv2Client }) =>
          new SESv2Client({
            ...awsClientConfig(cfg, cfg.endpoints.sesv2),
            retryStrategy: providerRetryStrategy(RETRY_POLICIES.sdk),
          }),
      );
      return sesv2;
    },
    secretsmanager() {
      secretsmanager ??= import('@aws-sdk/client-secrets-manager').then(
        ({ SecretsManagerClient }) => new SecretsManagerClient(awsClientConfig(cfg, cfg.endpoints.secretsmanager)),
      );
      return secretsmanager;
    },
    get kafka() {
      lazy.kafka ??= createKafka(cfg.kafka);
      return lazy.kafka;
    },
    destroy() {
      lazy.dynamodb?.destroy();
      lazy.sqs?.destroy();
      lazy.lambda?.destroy();
      lazy.logs?.destroy();
      lazy.eventbridge?.destroy();
      for (const c of [s3, sns, sesv2, secretsmanager]) void c?.then((x) => x.destroy());
      lazy = {};
      s3 = sns = sesv2 = secretsmanager = undefined;
    },
  };
  return clients as Clients;
}
