/**
 * Against moto: the functions' start-up reads the Kafka credentials from Secrets Manager (the secret's ARN in the
 * environment, never the password), and the generated IAM policies are documents IAM accepts.
 */
import { CreatePolicyCommand, CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { functionsPolicy, operatorPolicy } from '../../shared/deploy/iam.ts';
import { ConfigError } from '../../shared/infra/errors.ts';
import { functionRuntime } from '../../shared/infra/handler-support.ts';
import { resourceNames } from '../../shared/infra/names.ts';
import { uniqueName } from '../helpers/stack.ts';

const moto = inject('moto').endpoint;
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const secrets = new SecretsManagerClient({ region: REGION, endpoint: moto, credentials: CREDENTIALS });
const iam = new IAMClient({ region: REGION, endpoint: moto, credentials: CREDENTIALS });

afterAll(() => {
  secrets.destroy();
  iam.destroy();
});

/** The environment deploy writes for an aws profile with SASL, plus what Lambda and the SDK provide. */
function lambdaEnv(secretArn: string): NodeJS.ProcessEnv {
  return {
    QUAKECTL_PREFIX: 'alerts',
    QUAKECTL_KAFKA_BROKERS: 'b1.example:9092,b2.example:9092',
    QUAKECTL_KAFKA_SSL: 'true',
    QUAKECTL_KAFKA_SASL_MECHANISM: 'plain',
    QUAKECTL_KAFKA_SECRET_ARN: secretArn,
    QUAKECTL_FANOUT: '{"parallelism":6}',
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto,
  };
}

describe('function start-up on moto', () => {
  it('reads the Kafka credentials from the secret named in the environment', async () => {
    const secret = await secrets.send(
      new CreateSecretCommand({
        Name: uniqueName('kafka'),
        SecretString: JSON.stringify({ username: 'API_KEY', password: 'API_SECRET' }),
      }),
    );
    // No client passed: the runtime builds its own from the environment, as in Lambda.
    const rt = await functionRuntime('consumer', lambdaEnv(secret.ARN!));
    try {
      expect(rt.config.kafka).toMatchObject({
        brokers: ['b1.example:9092', 'b2.example:9092'],
        ssl: true,
        sasl: { mechanism: 'plain', username: 'API_KEY', password: 'API_SECRET' },
      });
      // Defaults come from the config schema; the environment overrides only what it names.
      expect(rt.config.fanout).toMatchObject({ parallelism: 6, minSubscriberMmi: 3, strategy: 'geo' });
    } finally {
      rt.clients.destroy();
    }
  });

  it('fails start-up with a ConfigError when the secret is not {"username","password"}, never echoing it', async () => {
    const secret = await secrets.send(
      new CreateSecretCommand({ Name: uniqueName('kafka-bad'), SecretString: 'hunter2-not-json' }),
    );
    const err = await functionRuntime('producer', lambdaEnv(secret.ARN!)).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).not.toContain('hunter2');
  });

  it('fails start-up when SASL is on without a secret ARN', async () => {
    const env = lambdaEnv('x');
    delete env.QUAKECTL_KAFKA_SECRET_ARN;
    await expect(functionRuntime('producer', env)).rejects.toThrow(/QUAKECTL_KAFKA_SECRET_ARN/);
  });
});

describe('iam policy documents on moto', () => {
  it('IAM accepts the execution-role policy and the operator policy', async () => {
    const scope = {
      names: resourceNames('alerts'),
      region: REGION,
      account: '123456789012',
      kafkaSecretArn: `arn:aws:secretsmanager:${REGION}:123456789012:secret:alerts/kafka-AbCdEf`,
      // Every channel statement too (sns:Publish on *, SES identities and configuration set, the Telegram secret).
      channels: {
        sms: true,
        sesFrom: 'Alerts <alerts@quake.example>',
        sesConfigurationSet: 'alerts',
        telegramSecretArn: `arn:aws:secretsmanager:${REGION}:123456789012:secret:alerts/telegram-bot-token-AbCdEf`,
      },
    };
    const role = uniqueName('alerts-exec');
    await iam.send(
      new CreateRoleCommand({
        RoleName: role,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: role,
        PolicyName: 'quakectl-functions',
        PolicyDocument: JSON.stringify(functionsPolicy(scope)),
      }),
    );
    const op = await iam.send(
      new CreatePolicyCommand({
        PolicyName: uniqueName('quakectl-operator'),
        PolicyDocument: JSON.stringify(operatorPolicy(scope)),
      }),
    );
    expect(op.Policy?.Arn).toMatch(/^arn:aws:iam::\d{12}:policy\/quakectl-operator-/);
    // moto validates documents: a malformed one is refused, so the acceptance above means something.
    const bad = await iam
      .send(
        new CreatePolicyCommand({
          PolicyName: uniqueName('bad'),
          PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'nope' }] }),
        }),
      )
      .catch((e) => e);
    expect(bad.name).toBe('MalformedPolicyDocumentException');
  });
});
