/**
 * What every handler needs, made once per execution environment at module load (`await functionRuntime(role)`):
 * the parsed environment contract (function-env.ts), Kafka credentials from Secrets Manager when SASL is on, the
 * clients from the one factory, Powertools logger and metrics, the two-method logger the domain takes, and a cached
 * DLQ URL lookup. Start-up errors (bad environment, unreadable secret) fail the init phase, so Lambda reports them on
 * the first invocation and retries the init on the next.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import type { ChannelSecrets } from '../notify/senders.ts';
import { createTelemetry } from '../notify/telemetry.ts';
import { type Clients, createClients, type ServiceConfig } from './clients.ts';
import {
  channelSecret,
  type FunctionEnv,
  kafkaCredentials,
  parseFunctionEnv,
  serviceConfigFromFunctionEnv,
} from './function-env.ts';
import type { DlqKind } from './names.ts';

/** The domain's logging interface (shared/fanout, shared/ingest): a message and structured fields. */
export interface DomainLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

type Telemetry = ReturnType<typeof createTelemetry>;

export interface FunctionRuntime {
  env: FunctionEnv;
  config: ServiceConfig;
  clients: Clients;
  logger: Telemetry['logger'];
  metrics: Telemetry['metrics'];
  log: DomainLog;
  /** Channel secrets read from Secrets Manager at start-up (QUAKECTL_TELEGRAM_SECRET_ARN); never logged. */
  channelSecrets: ChannelSecrets;
  /** The URL of one of the system's DLQs, looked up once (GetQueueUrl) and cached; a failed lookup is not cached. */
  dlqUrl(kind: DlqKind): Promise<string>;
}

/**
 * A Secrets Manager client from the given environment (in Lambda, process.env: AWS_REGION and the role's
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN; an endpoint override only where one is set).
 */
function secretsClient(env: NodeJS.ProcessEnv, fe: FunctionEnv): SecretsManagerClient {
  const endpoint = fe.QUAKECTL_SECRETS_ENDPOINT ?? env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? env.AWS_ENDPOINT_URL;
  const {
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_SESSION_TOKEN: sessionToken,
  } = env;
  return new SecretsManagerClient({
    region: env.AWS_REGION,
    ...(endpoint ? { endpoint } : {}),
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, sessionToken } } : {}),
  });
}

export async function functionRuntime(
  role: string,
  env: NodeJS.ProcessEnv = process.env,
  secrets?: SecretsManagerClient,
): Promise<FunctionRuntime> {
  const fe = parseFunctionEnv(env);
  let credentials: Awaited<ReturnType<typeof kafkaCredentials>> | undefined;
  const channelSecrets: ChannelSecrets = {};
  const kafkaSecret = fe.QUAKECTL_KAFKA_SASL_MECHANISM ? fe.QUAKECTL_KAFKA_SECRET_ARN : undefined;
  if (kafkaSecret || fe.QUAKECTL_TELEGRAM_SECRET_ARN) {
    const client = secrets ?? secretsClient(env, fe);
    try {
      if (kafkaSecret) credentials = await kafkaCredentials(client, kafkaSecret);
      if (fe.QUAKECTL_TELEGRAM_SECRET_ARN) {
        channelSecrets.telegramBotToken = await channelSecret(client, fe.QUAKECTL_TELEGRAM_SECRET_ARN);
      }
    } finally {
      if (!secrets) client.destroy();
    }
  }
  const config = serviceConfigFromFunctionEnv(fe, env, credentials);
  const clients = createClients(config);
  const { logger, metrics } = createTelemetry(role);
  // Powertools' Logger takes the fields as structured attributes.
  const log: DomainLog = {
    info: (message, fields = {}) => logger.info(message, fields as never),
    warn: (message, fields = {}) => logger.warn(message, fields as never),
  };
  const urls = new Map<DlqKind, Promise<string>>();
  const dlqUrl = (kind: DlqKind) => {
    let url = urls.get(kind);
    if (!url) {
      url = clients.sqs
        .send(new GetQueueUrlCommand({ QueueName: config.names.dlq(kind) }))
        .then((r) => r.QueueUrl!)
        .catch((err) => {
          urls.delete(kind);
          throw err;
        });
      urls.set(kind, url);
    }
    return url;
  };
  return { env: fe, config, clients, logger, metrics, log, channelSecrets, dlqUrl };
}
