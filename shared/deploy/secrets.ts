/**
 * Channel secrets in Secrets Manager (`quakectl secrets set`): a secret per kind, named `<prefix>/<kind>` so the
 * operator policy can grant exactly the system's own (iam.ts, ChannelSecrets), its value a plain SecretString. The
 * functions get the ARN, never the value (deploy.notify.telegram.secretArn → QUAKECTL_TELEGRAM_SECRET_ARN, read once
 * per execution environment at start-up; shared/infra/handler-support.ts).
 *
 * Errors: UsageError for an unknown kind or a value of the wrong shape (the message never contains the value); the
 * SDK's errors otherwise.
 */
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { UsageError } from '../infra/errors.ts';
import type { ResourceNames } from '../infra/names.ts';

/** What each kind of channel secret must look like (a value check, not a proof that it works). */
export const CHANNEL_SECRETS = {
  /** Telegram Bot API token, `<bot id>:<secret>` (BotFather). */
  'telegram-bot-token': /^\d+:[A-Za-z0-9_-]{20,}$/,
} as const;
export type ChannelSecretKind = keyof typeof CHANNEL_SECRETS;

export function channelSecretName(names: ResourceNames, kind: ChannelSecretKind): string {
  return `${names.prefix.replace(/-$/, '')}/${kind}`;
}

export interface PutSecretResult {
  name: string;
  arn: string;
  /** false: the secret existed and got a new version. */
  created: boolean;
}

/** Stores `value` as the secret `kind` of the system: created on first use, a new version afterwards. */
export async function putChannelSecret(
  sm: SecretsManagerClient,
  names: ResourceNames,
  kind: string,
  value: string,
): Promise<PutSecretResult> {
  if (!Object.hasOwn(CHANNEL_SECRETS, kind)) {
    throw new UsageError(`unknown secret "${kind}": expected one of ${Object.keys(CHANNEL_SECRETS).join(', ')}`);
  }
  const k = kind as ChannelSecretKind;
  const secret = value.trim();
  if (!CHANNEL_SECRETS[k].test(secret)) throw new UsageError(`the value given for ${k} does not have its shape`);
  const name = channelSecretName(names, k);
  try {
    const r = await sm.send(
      new CreateSecretCommand({ Name: name, SecretString: secret, Description: `quakectl ${k}` }),
    );
    return { name, arn: r.ARN!, created: true };
  } catch (err) {
    if (!(err instanceof ResourceExistsException)) throw err;
  }
  const r = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: secret }));
  return { name, arn: r.ARN!, created: false };
}
