/**
 * Channel secrets on AWS: the deployed environment names a Secrets Manager secret per secret setting
 * (`…_SECRET_ARN`), never the value — anything in a function's environment is visible to whoever may call
 * GetFunctionConfiguration. At start-up the segment worker reads each named secret once (GetSecretValue,
 * `SecretString` = the value itself) and hands the values to the senders (senders.ts) as the variable the sender reads.
 * Locally the value variables are set directly (the local stack has no Secrets Manager).
 *
 * Errors: ConfigError naming the variable and the ARN when a secret is empty; the SDK's error when it cannot be read
 * (both fail the init phase, as an unreadable Kafka secret does). Values are never logged or put in a message.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../infra/errors.ts';

/** Secret-ARN variable → the variable its value is handed to the sender as. */
export const CHANNEL_SECRETS = {
  QUAKECTL_VAPID_SECRET_ARN: 'QUAKECTL_VAPID_PRIVATE_KEY',
  QUAKECTL_TELEGRAM_SECRET_ARN: 'QUAKECTL_TELEGRAM_BOT_TOKEN',
} as const;

/** True when `env` names any channel secret (a Secrets Manager client is needed). */
export function namesChannelSecrets(env: NodeJS.ProcessEnv): boolean {
  return Object.keys(CHANNEL_SECRETS).some((k) => env[k]);
}

/** The values of the channel secrets `env` names, as `{valueVariable: value}`. */
export async function channelSecretEnv(
  env: NodeJS.ProcessEnv,
  secrets: SecretsManagerClient,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [arnVar, valueVar] of Object.entries(CHANNEL_SECRETS)) {
    const arn = env[arnVar];
    if (!arn) continue;
    const r = await secrets.send(new GetSecretValueCommand({ SecretId: arn }));
    const value = r.SecretString?.trim();
    if (!value) throw new ConfigError(`${arnVar}: secret ${arn} has no SecretString`);
    out[valueVar] = value;
  }
  return out;
}
