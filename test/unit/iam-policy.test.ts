/**
 * `quakectl iam policy` covers every AWS action the code calls: the SDK commands constructed in the files each
 * function bundles (execution role) and in the CLI's files (operator) are read from the source, so a new call without
 * its permission fails here, not in production with AccessDenied.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../shared/bundle/index.ts';
import { allowedActions, functionsPolicy, operatorPolicy } from '../../shared/deploy/iam.ts';
import { FUNCTION_ROLES, resourceNames } from '../../shared/infra/names.ts';
import { actionsIn, reachableFiles } from '../helpers/aws-actions.ts';

const scope = {
  names: resourceNames('alerts'),
  region: 'eu-central-1',
  account: '123456789012',
  kafkaSecretArn: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:alerts/kafka-AbCdEf',
  channels: {
    sms: true,
    sesFrom: 'Quake alerts <alerts@quake.example>',
    sesConfigurationSet: 'alerts',
    telegramSecretArn: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:alerts/telegram-bot-token-AbCdEf',
  },
  capBucket: 'alerts-cap-feed',
  capPrefix: 'cap/',
};

/** The real bin/quakectl in an empty directory: the built-in local profile, no services. */
function runCli(args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'quakectl-iam-'));
  const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'quakectl'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    input: '',
    env: { ...process.env, NO_COLOR: '1', QUAKECTL_STATE_DIR: join(dir, 'state'), QUAKECTL_CONFIG: '' },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function missing(used: Map<string, string[]>, allowed: Set<string>): Record<string, string[]> {
  return Object.fromEntries(
    [...used]
      .filter(([action]) => !allowed.has(action))
      .map(([a, files]) => [a, files.map((f) => f.replace(`${PROJECT_ROOT}/`, ''))]),
  );
}

describe('iam policy', () => {
  it('the execution role allows every action any function calls', () => {
    const allowed = allowedActions(functionsPolicy(scope));
    for (const role of FUNCTION_ROLES) {
      const used = actionsIn(reachableFiles([join(PROJECT_ROOT, 'functions', role, 'index.ts')]));
      expect(used.size, role).toBeGreaterThan(0);
      expect(missing(used, allowed), role).toEqual({});
    }
  });

  it('the operator policy allows every action the CLI calls on AWS (the local stack commands aside)', () => {
    const commands = readdirSync(join(PROJECT_ROOT, 'cli', 'commands'))
      .filter((f) => f !== 'local.ts')
      .map((f) => join(PROJECT_ROOT, 'cli', 'commands', f));
    // local/ talks to the local stack only (health checks, the emulator); drill is local-only too.
    const files = reachableFiles(commands).filter((f) => !f.includes('/local/'));
    const used = actionsIn(files);
    expect(used.has('lambda:CreateFunction')).toBe(true);
    expect(missing(used, allowedActions(operatorPolicy(scope)))).toEqual({});
  });

  it('grants nothing account-wide that has resource-level permissions, and names the system’s own resources', () => {
    const doc = functionsPolicy(scope);
    const wildcard = doc.Statement.filter((s) => s.Resource.includes('*')).flatMap((s) => s.Action);
    // sns:Publish to a phone number has no resource to name; granted only with sms configured.
    expect(wildcard.sort()).toEqual(['lambda:GetAccountSettings', 'lambda:ListEventSourceMappings', 'sns:Publish']);
    expect(
      functionsPolicy({ ...scope, channels: undefined })
        .Statement.flatMap((s) => s.Action)
        .filter((a) => /^(sns|ses):|GetSecretValue/.test(a)),
    ).toEqual(['secretsmanager:GetSecretValue']); // the Kafka secret only
    expect(doc.Statement.find((s) => s.Sid === 'EmailSend')?.Resource).toEqual([
      'arn:aws:ses:eu-central-1:123456789012:identity/alerts@quake.example',
      'arn:aws:ses:eu-central-1:123456789012:identity/quake.example',
      'arn:aws:ses:eu-central-1:123456789012:configuration-set/alerts',
    ]);
    expect(doc.Statement.find((s) => s.Sid === 'TelegramBotSecret')?.Resource).toEqual([
      scope.channels.telegramSecretArn,
    ]);
    const invoke = doc.Statement.find((s) => s.Action.includes('lambda:InvokeFunction'))!;
    expect(invoke.Resource).toEqual([
      'arn:aws:lambda:eu-central-1:123456789012:function:alerts-segment-worker',
      'arn:aws:lambda:eu-central-1:123456789012:function:alerts-segment-worker:*',
    ]);
    expect(doc.Statement.find((s) => s.Sid === 'KafkaSecret')?.Resource).toEqual([scope.kafkaSecretArn]);
    expect(functionsPolicy({ ...scope, kafkaSecretArn: undefined }).Statement.map((s) => s.Sid)).not.toContain(
      'KafkaSecret',
    );
  });

  it('every statement id is unique within its policy (IAM refuses a repeated Sid), every channel configured', () => {
    const full = { ...scope, channelSecretArns: ['arn:aws:secretsmanager:eu-central-1:123456789012:secret:vapid-AbC'] };
    for (const doc of [functionsPolicy(full), operatorPolicy(full)]) {
      const sids = doc.Statement.map((s) => s.Sid).filter(Boolean);
      expect(sids.length).toBe(new Set(sids).size);
    }
    expect(operatorPolicy(full).Statement.find((s) => s.Sid === 'ChannelSecretsRead')?.Resource).toEqual(
      expect.arrayContaining([full.channelSecretArns[0], scope.channels.telegramSecretArn]),
    );
  });

  it('the command prints valid policy documents and refuses contradictory flags with exit 2', () => {
    const both = runCli(['iam', 'policy', '--profile', 'local']);
    expect(both.code).toBe(0);
    const docs = JSON.parse(both.stdout);
    expect(docs.functions.Version).toBe('2012-10-17');
    expect(docs.operator.Statement.length).toBeGreaterThan(3);
    const bad = runCli(['iam', 'policy', '--functions', '--operator']);
    expect(bad.code).toBe(2);
    const account = runCli(['iam', 'policy', '--account', '12']);
    expect(account.code).toBe(2);
  });

  it('grants the CAP feed bucket only when the profile names one, limited to its key prefix', () => {
    const cap = (doc: ReturnType<typeof functionsPolicy>) => doc.Statement.filter((s) => s.Sid.startsWith('CapFeed'));
    expect(cap(functionsPolicy({ ...scope, capBucket: undefined }))).toEqual([]);
    for (const doc of [functionsPolicy(scope), operatorPolicy(scope)]) {
      expect(cap(doc).map((s) => [s.Action, s.Resource])).toEqual([
        [['s3:PutObject', 's3:GetObject'], ['arn:aws:s3:::alerts-cap-feed/cap/*']],
        [['s3:ListBucket'], ['arn:aws:s3:::alerts-cap-feed']],
      ]);
    }
    const dir = mkdtempSync(join(tmpdir(), 'quakectl-iam-cap-'));
    const config = join(dir, 'quakectl.config.yaml');
    writeFileSync(
      config,
      'profiles:\n  prod:\n    type: aws\n    region: eu-central-1\n    kafka: { brokers: ["b:9092"] }\n' +
        '    cap: { bucket: alerts-cap-feed, sender: alerts.example.org }\n',
    );
    const r = runCli(['iam', 'policy', '--functions', '--profile', 'prod', '--config', config]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).Statement.find((s: { Sid: string }) => s.Sid === 'CapFeedList').Resource).toEqual([
      'arn:aws:s3:::alerts-cap-feed',
    ]);
  });
});
