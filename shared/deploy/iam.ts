/**
 * Least-privilege IAM policies for one quakectl system, generated from the same resource names deploy uses
 * (shared/infra/names.ts), so the role and the operator's rights follow a prefix change:
 * - `functionsPolicy`: the execution role of all four functions (what their code calls, plus what Lambda itself does
 *   with the role: async DLQ sends, the Kafka mapping's secret read and on-failure sends, CloudWatch Logs).
 * - `operatorPolicy`: what the person or pipeline running `quakectl deploy/destroy/scale/dlq/status/logs/replay` needs.
 * test/unit/iam-policy.test.ts reads every AWS SDK command the code constructs and fails when an action is missing.
 *
 * Shapes: IAM policy documents (JSON, version 2012-10-17). Region and account default to `*` (the same policy for
 * every account); pass them for exact ARNs. Sources: AWS Service Authorization Reference (actions, resource types,
 * which actions take no resource-level permission), Lambda developer guide "Lambda execution role" and "Self-managed
 * Apache Kafka: execution role permissions".
 */
import type { ResourceNames } from '../infra/names.ts';
import { DLQ_KINDS, FUNCTION_ROLES, TABLES } from '../infra/names.ts';

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string[];
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export interface PolicyScope {
  names: ResourceNames;
  /** Default `*`. */
  region?: string;
  /** Default `*`. */
  account?: string;
  /** `aws`, `aws-cn`, `aws-us-gov`. */
  partition?: string;
  /** The Kafka SASL secret (kafka.sasl.secretArn); without it no Secrets Manager access is granted. */
  kafkaSecretArn?: string;
  /**
   * The channels deploy configures (deploy.notify, settings.ts): sms sends through SNS, email from `sesFrom` (and its
   * configuration set), the Telegram token's secret. Without them no SNS, SES or channel-secret access is granted.
   */
  channels?: { sms?: boolean; sesFrom?: string; sesConfigurationSet?: string; telegramSecretArn?: string };
  /** Channel secrets the segment worker reads (push.vapidSecretArn; shared/notify/channel-secrets.ts). */
  channelSecretArns?: string[];
  /** The execution role the operator passes to Lambda (iam:PassRole); default any role named `<prefix>-*`. */
  roleArn?: string;
  /** The CAP feed's S3 bucket (profile `cap.bucket`) and key prefix; without it no S3 access is granted. */
  capBucket?: string;
  capPrefix?: string;
}

/**
 * The consumer publishes the CAP feed, and `quakectl cap publish` republishes it: PutObject and GetObject on the
 * feed's keys, ListBucket (the action ListObjectsV2 needs) on the bucket (Service Authorization Reference, Amazon S3).
 */
function capFeedStatements(scope: PolicyScope): PolicyStatement[] {
  if (!scope.capBucket) return [];
  const p = scope.partition ?? 'aws';
  return [
    {
      Sid: 'CapFeedObjects',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:GetObject'],
      Resource: [`arn:${p}:s3:::${scope.capBucket}/${scope.capPrefix ?? ''}*`],
    },
    { Sid: 'CapFeedList', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [`arn:${p}:s3:::${scope.capBucket}`] },
  ];
}

function arns(scope: PolicyScope) {
  const p = scope.partition ?? 'aws';
  const r = scope.region ?? '*';
  const a = scope.account ?? '*';
  const { names } = scope;
  const fn = (name: string) => [
    `arn:${p}:lambda:${r}:${a}:function:${name}`,
    `arn:${p}:lambda:${r}:${a}:function:${name}:*`,
  ];
  return {
    functions: FUNCTION_ROLES.flatMap((role) => fn(names.function(role))),
    worker: fn(names.function('segment-worker')),
    tables: TABLES.flatMap((t) => [
      `arn:${p}:dynamodb:${r}:${a}:table/${names.table(t)}`,
      `arn:${p}:dynamodb:${r}:${a}:table/${names.table(t)}/index/*`,
    ]),
    dlqs: DLQ_KINDS.map((k) => `arn:${p}:sqs:${r}:${a}:${names.dlq(k)}`),
    dlq: (kind: (typeof DLQ_KINDS)[number]) => `arn:${p}:sqs:${r}:${a}:${names.dlq(kind)}`,
    logGroups: FUNCTION_ROLES.flatMap((role) => [
      `arn:${p}:logs:${r}:${a}:log-group:/aws/lambda/${names.function(role)}`,
      `arn:${p}:logs:${r}:${a}:log-group:/aws/lambda/${names.function(role)}:*`,
    ]),
    rules: [
      `arn:${p}:events:${r}:${a}:rule/${names.function('autoscaler')}-schedule`,
      `arn:${p}:events:${r}:${a}:rule/${names.function('producer')}-poll`,
    ],
    role: scope.roleArn ?? `arn:${p}:iam::${a}:role/${names.prefix}*`,
    channelSecrets: `arn:${p}:secretsmanager:${r}:${a}:secret:${names.prefix.replace(/-$/, '')}/*`,
  };
}

const TABLE_ITEM_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
];

/**
 * What sending on the configured channels needs: the functions, and the operator whose `dlq redrive` sends again
 * (the operator reads no channel secret: a redrive's sender is configured by its own environment).
 */
function channelStatements(scope: PolicyScope, readSecrets: boolean): PolicyStatement[] {
  const out: PolicyStatement[] = [];
  const ch = scope.channels ?? {};
  if (ch.sms) {
    out.push({
      // SMS to a phone number is a Publish without a topic: it has no resource ARN to name (SNS developer guide,
      // "Publishing to a mobile phone"; Service Authorization Reference: Publish's resource type is the topic).
      Sid: 'SmsPublish',
      Effect: 'Allow',
      Action: ['sns:Publish'],
      Resource: ['*'],
    });
  }
  if (ch.sesFrom) {
    const p = scope.partition ?? 'aws';
    const r = scope.region ?? '*';
    const acct = scope.account ?? '*';
    const address = /<([^>]+)>/.exec(ch.sesFrom)?.[1] ?? ch.sesFrom.trim();
    const domain = address.split('@')[1];
    out.push({
      // SES v2 SendEmail is authorised on the sending identity (the address, or the domain it belongs to when that is
      // the verified identity) and on the configuration set it uses (Service Authorization Reference, SES v2).
      Sid: 'EmailSend',
      Effect: 'Allow',
      Action: ['ses:SendEmail'],
      Resource: [
        `arn:${p}:ses:${r}:${acct}:identity/${address}`,
        ...(domain ? [`arn:${p}:ses:${r}:${acct}:identity/${domain}`] : []),
        ...(ch.sesConfigurationSet ? [`arn:${p}:ses:${r}:${acct}:configuration-set/${ch.sesConfigurationSet}`] : []),
      ],
    });
  }
  if (readSecrets && ch.telegramSecretArn) {
    out.push({
      // Read once per execution environment at start-up (shared/infra/handler-support.ts).
      Sid: 'TelegramBotSecret',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [ch.telegramSecretArn],
    });
  }
  return out;
}

/** The functions' execution role. */
export function functionsPolicy(scope: PolicyScope): PolicyDocument {
  const a = arns(scope);
  const statements: PolicyStatement[] = [
    {
      Sid: 'Logs',
      Effect: 'Allow',
      Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: a.logGroups,
    },
    { Sid: 'Tables', Effect: 'Allow', Action: TABLE_ITEM_ACTIONS, Resource: a.tables },
    {
      // The consumer and the worker send to their DLQs; Lambda sends async failures (producer, worker) and the
      // mapping's failed batches (consumer) with this role too.
      Sid: 'DeadLetterQueues',
      Effect: 'Allow',
      Action: ['sqs:GetQueueUrl', 'sqs:SendMessage'],
      Resource: a.dlqs,
    },
    {
      // The consumer starts chains, a worker its successor (the domino).
      Sid: 'StartWorkers',
      Effect: 'Allow',
      Action: ['lambda:InvokeFunction'],
      Resource: a.worker,
    },
    {
      // The autoscaler reads metrics and sets concurrency on the system's own functions.
      Sid: 'Autoscaler',
      Effect: 'Allow',
      Action: [
        'lambda:GetFunctionConfiguration',
        'lambda:GetFunctionConcurrency',
        'lambda:PutFunctionConcurrency',
        'lambda:DeleteFunctionConcurrency',
        'lambda:GetProvisionedConcurrencyConfig',
        'lambda:PutProvisionedConcurrencyConfig',
        'lambda:DeleteProvisionedConcurrencyConfig',
      ],
      Resource: a.functions,
    },
    {
      Sid: 'AutoscalerLogs',
      Effect: 'Allow',
      Action: ['logs:FilterLogEvents'],
      Resource: a.logGroups,
    },
    {
      // No resource-level permissions for these (Service Authorization Reference).
      Sid: 'AccountReads',
      Effect: 'Allow',
      Action: ['lambda:GetAccountSettings', 'lambda:ListEventSourceMappings'],
      Resource: ['*'],
    },
  ];
  statements.push(...channelStatements(scope, true));
  statements.push(...capFeedStatements(scope));
  if (scope.kafkaSecretArn) {
    statements.push({
      // The functions' own Kafka clients and the Kafka event source mapping both read it.
      Sid: 'KafkaSecret',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [scope.kafkaSecretArn],
    });
  }
  if (scope.channelSecretArns?.length) {
    statements.push({
      // The segment worker reads the channels' secrets once per execution environment.
      Sid: 'ChannelSecrets',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: scope.channelSecretArns,
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

/** The operator: deploy/destroy, scale, dlq, status, logs, replay, simulate. Kafka rights are the cluster's own. */
export function operatorPolicy(scope: PolicyScope): PolicyDocument {
  const a = arns(scope);
  const statements: PolicyStatement[] = [
    {
      Sid: 'Functions',
      Effect: 'Allow',
      Action: [
        'lambda:CreateFunction',
        'lambda:DeleteFunction',
        'lambda:GetFunction',
        'lambda:GetFunctionConfiguration',
        'lambda:UpdateFunctionCode',
        'lambda:UpdateFunctionConfiguration',
        'lambda:PublishVersion',
        'lambda:CreateAlias',
        'lambda:GetAlias',
        'lambda:UpdateAlias',
        'lambda:InvokeFunction',
        'lambda:AddPermission',
        'lambda:GetFunctionConcurrency',
        'lambda:PutFunctionConcurrency',
        'lambda:DeleteFunctionConcurrency',
        'lambda:GetProvisionedConcurrencyConfig',
        'lambda:PutProvisionedConcurrencyConfig',
        'lambda:DeleteProvisionedConcurrencyConfig',
        'lambda:GetFunctionEventInvokeConfig',
        'lambda:PutFunctionEventInvokeConfig',
      ],
      Resource: a.functions,
    },
    {
      // Event source mappings are named by UUID and the list and account reads take no resource (Service
      // Authorization Reference); the create call is checked against the function it names.
      Sid: 'MappingsAndAccount',
      Effect: 'Allow',
      Action: [
        'lambda:CreateEventSourceMapping',
        'lambda:GetEventSourceMapping',
        'lambda:UpdateEventSourceMapping',
        'lambda:DeleteEventSourceMapping',
        'lambda:ListEventSourceMappings',
        'lambda:GetAccountSettings',
      ],
      Resource: ['*'],
    },
    {
      // `status` lists what exists; neither list call takes a resource.
      Sid: 'StatusLists',
      Effect: 'Allow',
      Action: ['dynamodb:ListTables', 'sqs:ListQueues'],
      Resource: ['*'],
    },
    { Sid: 'PassExecutionRole', Effect: 'Allow', Action: ['iam:PassRole'], Resource: [a.role] },
    {
      Sid: 'Tables',
      Effect: 'Allow',
      Action: [
        'dynamodb:CreateTable',
        'dynamodb:DescribeTable',
        'dynamodb:UpdateTable',
        'dynamodb:DeleteTable',
        ...TABLE_ITEM_ACTIONS,
      ],
      Resource: a.tables,
    },
    {
      Sid: 'DeadLetterQueues',
      Effect: 'Allow',
      Action: [
        'sqs:CreateQueue',
        'sqs:DeleteQueue',
        'sqs:GetQueueUrl',
        'sqs:GetQueueAttributes',
        'sqs:SetQueueAttributes',
        'sqs:SendMessage',
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:PurgeQueue',
        'sqs:StartMessageMoveTask',
        'sqs:ListMessageMoveTasks',
        'sqs:ListDeadLetterSourceQueues',
      ],
      Resource: a.dlqs,
    },
    {
      Sid: 'Schedules',
      Effect: 'Allow',
      Action: [
        'events:PutRule',
        'events:DescribeRule',
        'events:DeleteRule',
        'events:PutTargets',
        'events:ListTargetsByRule',
        'events:RemoveTargets',
      ],
      Resource: a.rules,
    },
    { Sid: 'Logs', Effect: 'Allow', Action: ['logs:FilterLogEvents'], Resource: a.logGroups },
    {
      // `quakectl secrets set`: the channel secrets it creates, all named `<prefix>/…` (Secrets Manager appends a
      // random suffix to the ARN, hence the wildcard after the name).
      Sid: 'ChannelSecrets',
      Effect: 'Allow',
      Action: ['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue', 'secretsmanager:DescribeSecret'],
      Resource: [a.channelSecrets],
    },
    {
      // `quakectl dlq redrive` sends parked per-person notifications with the deployed worker's senders, whose
      // secrets (Telegram bot token, VAPID private key) it reads as the worker does.
      Sid: 'ChannelSecretsRead',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [
        a.channelSecrets,
        ...(scope.channelSecretArns ?? []),
        ...(scope.channels?.telegramSecretArn ? [scope.channels.telegramSecretArn] : []),
      ],
    },
    ...channelStatements(scope, false),
    ...capFeedStatements(scope),
  ];
  if (scope.kafkaSecretArn) {
    statements.push({
      Sid: 'KafkaSecret',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [scope.kafkaSecretArn],
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

/** Every action a policy allows (for the coverage test and `iam policy -o json` readers). */
export function allowedActions(doc: PolicyDocument): Set<string> {
  return new Set(doc.Statement.flatMap((s) => s.Action));
}
