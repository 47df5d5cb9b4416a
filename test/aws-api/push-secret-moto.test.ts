/**
 * Against moto: the push channel's VAPID private key on AWS lives in Secrets Manager. Deploy writes only its ARN (with
 * the public key and subject) into the segment worker's environment; the worker's start-up reads the key and builds
 * the push sender from it; the execution-role policy grants GetSecretValue on exactly that secret.
 */
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { roleEnv } from '../../shared/deploy/desired.ts';
import { functionsPolicy } from '../../shared/deploy/iam.ts';
import { type AwsProfile, DEFAULT_FANOUT } from '../../shared/infra/config.ts';
import { ConfigError } from '../../shared/infra/errors.ts';
import { functionRuntime } from '../../shared/infra/handler-support.ts';
import { resourceNames } from '../../shared/infra/names.ts';
import { generateVapidKeys, type PushSender } from '../../shared/notify/push.ts';
import { channelSendersFromEnv } from '../../shared/notify/senders.ts';
import { uniqueName } from '../helpers/stack.ts';

const moto = inject('moto').endpoint;
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const secrets = new SecretsManagerClient({ region: REGION, endpoint: moto, credentials: CREDENTIALS });
afterAll(() => secrets.destroy());

const keys = generateVapidKeys();

function profile(secretArn: string): AwsProfile {
  return {
    name: 'prod',
    type: 'aws',
    prefix: 'alerts',
    fanout: DEFAULT_FANOUT,
    eventsPartitions: 6,
    kafka: { brokers: ['b1.example:9092'], ssl: true, clientId: 'quakectl' },
    push: { vapidPublicKey: keys.publicKey, vapidSubject: 'mailto:ops@example.org', vapidSecretArn: secretArn },
  };
}

function workerEnv(secretArn: string): NodeJS.ProcessEnv {
  const p = profile(secretArn);
  const input = {
    profile: p,
    names: resourceNames('alerts'),
    brokers: p.kafka.brokers,
    roleArn: 'arn:aws:iam::123456789012:role/alerts',
    bundles: {},
    allowPrivateTargets: false,
  };
  return {
    QUAKECTL_PREFIX: 'alerts',
    QUAKECTL_KAFKA_BROKERS: 'b1.example:9092',
    ...roleEnv('segment-worker', input),
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto,
  };
}

describe('VAPID private key from Secrets Manager (moto)', () => {
  it('deploy writes the ARN, never the key; start-up reads it and the worker gets a push sender', async () => {
    const secret = await secrets.send(
      new CreateSecretCommand({ Name: uniqueName('vapid'), SecretString: keys.privateKey }),
    );
    const env = workerEnv(secret.ARN!);
    expect(env.QUAKECTL_VAPID_SECRET_ARN).toBe(secret.ARN);
    expect(Object.values(env)).not.toContain(keys.privateKey);
    const rt = await functionRuntime('segment-worker', env);
    try {
      expect(rt.channelEnv.QUAKECTL_VAPID_PRIVATE_KEY).toBe(keys.privateKey);
      const push = channelSendersFromEnv(rt.channelEnv).push as PushSender | undefined;
      expect(push?.opts.vapid).toEqual({
        publicKey: keys.publicKey,
        privateKey: keys.privateKey,
        subject: 'mailto:ops@example.org',
      });
    } finally {
      rt.clients.destroy();
    }
  });

  it('an empty secret fails start-up with a ConfigError naming the variable', async () => {
    const secret = await secrets.send(new CreateSecretCommand({ Name: uniqueName('vapid-empty'), SecretString: ' ' }));
    const err = await functionRuntime('segment-worker', workerEnv(secret.ARN!)).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/QUAKECTL_VAPID_SECRET_ARN/);
  });

  it('the execution-role policy allows reading exactly that secret', () => {
    const arn = `arn:aws:secretsmanager:${REGION}:123456789012:secret:alerts/vapid-AbCdEf`;
    const doc = functionsPolicy({ names: resourceNames('alerts'), channelSecretArns: [arn] });
    expect(doc.Statement.find((s) => s.Sid === 'ChannelSecrets')).toMatchObject({
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [arn],
    });
    expect(functionsPolicy({ names: resourceNames('alerts') }).Statement.map((s) => s.Sid)).not.toContain(
      'ChannelSecrets',
    );
  });
});
