/**
 * Applies a plan, resource by resource in the plan's order (queues and tables, topics, functions, then the mapping
 * that needs the consumer's alias and the DLQ's ARN). Each step is idempotent, so an interrupted deploy is finished
 * by running it again.
 */
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  AddPermissionCommand,
  CreateAliasCommand,
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  DeleteEventSourceMappingCommand,
  DeleteFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  GetAliasCommand,
  GetEventSourceMappingCommand,
  GetFunctionConfigurationCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
  PutProvisionedConcurrencyConfigCommand,
  type Runtime,
  UpdateAliasCommand,
  UpdateEventSourceMappingCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import type { Clients } from '../infra/clients.ts';
import { RETRY_POLICIES, withRetry } from '../infra/retry.ts';
import { waitProvisionedReady } from '../scaling/concurrency.ts';
import { findMappings, queueArn } from './actual.ts';
import { ConvergeError } from './errors.ts';
import { resourceKey } from './plan.ts';
import type {
  FunctionSpec,
  MappingSpec,
  Plan,
  PlanItem,
  QueueSpec,
  ScheduleSpec,
  TableSpec,
  TopicSpec,
} from './types.ts';

export interface AppliedItem {
  kind: string;
  name: string;
  action: string;
  ms: number;
}

export interface ConvergeOptions {
  onItem?: (item: AppliedItem) => void;
  /** Poll interval of the waits (tests shorten it). */
  pollMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function converge(clients: Clients, plan: Plan, opts: ConvergeOptions = {}): Promise<AppliedItem[]> {
  const queueArns = new Map<string, string>();
  const applied: AppliedItem[] = [];
  for (const item of plan.items) {
    const start = Date.now();
    try {
      if (item.kind === 'queue') queueArns.set(item.name, await applyQueue(clients, item));
      else if (item.action === 'unchanged' || item.action === 'skipped') continue;
      else if (item.kind === 'table') await applyTable(clients, item, opts);
      else if (item.kind === 'topic') await applyTopic(clients, item);
      else if (item.kind === 'function') await applyFunction(clients, item, queueArns, opts);
      else if (item.kind === 'mapping') await applyMapping(clients, item, queueArns, opts);
      else if (item.kind === 'schedule') await applySchedule(clients, item);
    } catch (err) {
      if (err instanceof ConvergeError) throw err;
      throw new ConvergeError(resourceKey(item), (err as Error).message, { cause: err });
    }
    if (item.action === 'unchanged' || item.action === 'skipped') continue;
    const done = { kind: item.kind, name: item.name, action: item.action, ms: Date.now() - start };
    applied.push(done);
    opts.onItem?.(done);
  }
  return applied;
}

/** Returns the queue's ARN (functions and the mapping name DLQs by ARN), creating or updating it first. */
async function applyQueue(clients: Clients, item: PlanItem): Promise<string> {
  const spec = item.desired as QueueSpec;
  if (item.action === 'create') {
    const r = await clients.sqs.send(new CreateQueueCommand({ QueueName: spec.name, Attributes: spec.attributes }));
    return queueArn(clients, r.QueueUrl!);
  }
  const url = item.actual?.ref ?? (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: spec.name }))).QueueUrl!;
  if (item.action === 'update') {
    await clients.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: spec.attributes }));
  }
  return item.actual?.arn ?? queueArn(clients, url);
}

async function applyTable(clients: Clients, item: PlanItem, opts: ConvergeOptions): Promise<void> {
  const spec = item.desired as TableSpec;
  const d = spec.definition;
  if (item.action === 'create') {
    await clients.dynamodb.send(new CreateTableCommand(d));
  } else {
    const fieldsChanged = new Set(item.changes.map((c) => c.field));
    if (fieldsChanged.has('billingMode')) {
      await clients.dynamodb.send(new UpdateTableCommand({ TableName: spec.name, BillingMode: d.BillingMode }));
      await waitTableActive(clients, spec.name, opts);
    }
    if (fieldsChanged.has('indexes')) {
      const have = new Set((item.actual?.fields.indexes as string[] | undefined) ?? []);
      for (const gsi of d.GlobalSecondaryIndexes ?? []) {
        if (have.has(gsi.IndexName!)) continue;
        // One index per UpdateTable call: DynamoDB refuses several index creations at once.
        await clients.dynamodb.send(
          new UpdateTableCommand({
            TableName: spec.name,
            AttributeDefinitions: d.AttributeDefinitions,
            GlobalSecondaryIndexUpdates: [
              { Create: { IndexName: gsi.IndexName, KeySchema: gsi.KeySchema, Projection: gsi.Projection } },
            ],
          }),
        );
        await waitTableActive(clients, spec.name, opts);
      }
    }
  }
  await waitTableActive(clients, spec.name, opts);
}

async function waitTableActive(clients: Clients, name: string, opts: ConvergeOptions): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  while (Date.now() < deadline) {
    const t = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: name }))).Table;
    const indexesReady = (t?.GlobalSecondaryIndexes ?? []).every((i) => !i.IndexStatus || i.IndexStatus === 'ACTIVE');
    if (t?.TableStatus === 'ACTIVE' && indexesReady) return;
    await sleep(opts.pollMs ?? 250);
  }
  throw new ConvergeError(`table/${name}`, 'did not become ACTIVE within 10 minutes');
}

/** True once `spec.name` exists with `spec.partitions` partitions, each with a leader (polls up to 15 s). */
async function leadersElected(admin: ReturnType<Clients['kafka']['admin']>, spec: TopicSpec): Promise<boolean> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [spec.name] });
      const parts = meta.topics[0]?.partitions ?? [];
      if (parts.length === spec.partitions && parts.every((p) => p.leader >= 0)) return true;
    } catch {
      // not there yet
    }
    await sleep(250);
  }
  return false;
}

async function applyTopic(clients: Clients, item: PlanItem): Promise<void> {
  const spec = item.desired as TopicSpec;
  const admin = clients.kafka.admin();
  await admin.connect();
  try {
    if (item.action === 'create') {
      try {
        await admin.createTopics({
          topics: [{ topic: spec.name, numPartitions: spec.partitions }],
          waitForLeaders: true,
        });
      } catch (err) {
        // kafkajs' wait for leaders can run out (UNKNOWN_TOPIC_OR_PARTITION on a loaded broker) after the topic was
        // created: the topic is there if every partition gets a leader shortly; otherwise the error stands.
        if (!(await leadersElected(admin, spec))) throw err;
      }
    } else {
      await admin.createPartitions({ topicPartitions: [{ topic: spec.name, count: spec.partitions }] });
    }
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * A function: code, then configuration, then reserved concurrency (a function-level setting); then a version is
 * published and alias `live` moved to it, so what `live` runs is always exactly what was deployed; then the async-invoke
 * settings of `live`.
 */
async function applyFunction(
  clients: Clients,
  item: PlanItem,
  queueArns: Map<string, string>,
  opts: ConvergeOptions,
): Promise<void> {
  const spec = item.desired as FunctionSpec;
  const changed = new Set(item.changes.map((c) => c.field));
  const config = {
    FunctionName: spec.name,
    Runtime: spec.runtime as Runtime,
    Role: spec.executionRole,
    Handler: spec.handler,
    MemorySize: spec.memoryMb,
    Timeout: spec.timeoutS,
    Environment: { Variables: spec.env },
    DeadLetterConfig: { TargetArn: spec.dlq ? requireArn(queueArns, spec.dlq) : '' },
  };
  if (item.action === 'create') {
    if (!spec.zip) throw new ConvergeError(resourceKey(item), 'no deployment package');
    const { DeadLetterConfig, ...rest } = config;
    await retryWhileRoleNotReady(() =>
      clients.lambda.send(
        new CreateFunctionCommand({
          ...rest,
          ...(spec.dlq ? { DeadLetterConfig } : {}),
          Code: { ZipFile: spec.zip },
          Publish: false,
        }),
      ),
    );
    await waitFunctionReady(clients, spec.name, opts);
  } else {
    if (changed.has('code')) {
      if (!spec.zip) throw new ConvergeError(resourceKey(item), 'no deployment package');
      await retryOnConflict(() =>
        clients.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: spec.name, ZipFile: spec.zip })),
      );
      await waitFunctionReady(clients, spec.name, opts);
    }
    if (['runtime', 'handler', 'executionRole', 'memoryMb', 'timeoutS', 'env', 'dlq'].some((f) => changed.has(f))) {
      await retryOnConflict(() => clients.lambda.send(new UpdateFunctionConfigurationCommand(config)));
      await waitFunctionReady(clients, spec.name, opts);
    }
  }
  if (item.action === 'create' || changed.has('reservedConcurrency')) {
    if (spec.reservedConcurrency !== undefined) {
      await clients.lambda.send(
        new PutFunctionConcurrencyCommand({
          FunctionName: spec.name,
          ReservedConcurrentExecutions: spec.reservedConcurrency,
        }),
      );
    } else if (item.action !== 'create') {
      await clients.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: spec.name }));
    }
  }
  const versionChanges = ['code', 'runtime', 'handler', 'executionRole', 'memoryMb', 'timeoutS', 'env', 'dlq', 'alias'];
  const published = item.action === 'create' || versionChanges.some((f) => changed.has(f));
  if (published) {
    // CodeSha256 guards against publishing code that changed under us; AWS returns the existing version when
    // nothing changed since the last publish.
    const v = await retryOnConflict(() =>
      clients.lambda.send(new PublishVersionCommand({ FunctionName: spec.name, CodeSha256: spec.codeSha256 })),
    );
    const exists = item.action !== 'create' && item.actual?.fields.alias !== `${spec.alias}:missing`;
    if (exists) {
      await clients.lambda.send(
        new UpdateAliasCommand({ FunctionName: spec.name, Name: spec.alias, FunctionVersion: v.Version }),
      );
    } else {
      await clients.lambda.send(
        new CreateAliasCommand({ FunctionName: spec.name, Name: spec.alias, FunctionVersion: v.Version }),
      );
    }
  }
  // On the alias, after it exists: AWS applies async settings per version or alias, and EventBridge, the consumer and
  // the CLI all invoke `<fn>:live`; settings on `$LATEST` would leave `live` at the defaults (2 retries, 6 h).
  if (spec.eventInvoke && (item.action === 'create' || changed.has('eventInvoke'))) {
    await clients.lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: spec.name,
        Qualifier: spec.alias,
        MaximumRetryAttempts: spec.eventInvoke.maximumRetryAttempts,
        MaximumEventAgeInSeconds: spec.eventInvoke.maximumEventAgeS,
      }),
    );
  }
  await applyProvisioned(clients, spec, item, published, opts);
}

/**
 * Provisioned concurrency on the alias (AWS: never on $LATEST; it follows the alias to each new version). Allocation
 * runs in the background (Status IN_PROGRESS → READY, or FAILED with a reason): wait for READY, because the first alert
 * after a deploy is what it is for. 0 removes it; undefined leaves it unmanaged.
 */
async function applyProvisioned(
  clients: Clients,
  spec: FunctionSpec,
  item: PlanItem,
  published: boolean,
  opts: ConvergeOptions,
) {
  const want = spec.provisionedConcurrency;
  if (want === undefined) return;
  if (!(item.action === 'create' || published || item.changes.some((c) => c.field === 'provisionedConcurrency')))
    return;
  if (want === 0) {
    await clients.lambda
      .send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: spec.name, Qualifier: spec.alias }))
      .catch((err: Error) => {
        if (err.name !== 'ProvisionedConcurrencyConfigNotFoundException' && err.name !== 'ResourceNotFoundException')
          throw err;
      });
    return;
  }
  await clients.lambda.send(
    new PutProvisionedConcurrencyConfigCommand({
      FunctionName: spec.name,
      Qualifier: spec.alias,
      ProvisionedConcurrentExecutions: want,
    }),
  );
  try {
    await waitProvisionedReady(clients.lambda, spec.name, spec.alias, { pollMs: opts.pollMs });
  } catch (err) {
    throw new ConvergeError(`function/${spec.name}`, (err as Error).message);
  }
}

async function waitFunctionReady(clients: Clients, name: string, opts: ConvergeOptions): Promise<void> {
  const deadline = Date.now() + 5 * 60_000;
  while (Date.now() < deadline) {
    const c = await clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
    if (c.State === 'Failed' || c.LastUpdateStatus === 'Failed') {
      throw new ConvergeError(
        `function/${name}`,
        `${c.StateReason ?? c.LastUpdateStatusReason ?? 'failed'} (${c.StateReasonCode ?? c.LastUpdateStatusReasonCode})`,
      );
    }
    if (c.State !== 'Pending' && c.LastUpdateStatus !== 'InProgress') return;
    await sleep(opts.pollMs ?? 500);
  }
  throw new ConvergeError(`function/${name}`, 'not ready within 5 minutes');
}

/** A just-created IAM role takes seconds to become assumable by Lambda (eventual consistency in IAM). */
function retryWhileRoleNotReady<T>(fn: () => Promise<T>): Promise<T> {
  return withRetry(RETRY_POLICIES.deployIam, fn, {
    retriable: (err) =>
      (err as Error).name === 'InvalidParameterValueException' && /cannot be assumed/i.test((err as Error).message),
  });
}

/** An update while the previous one is in progress answers ResourceConflictException: wait and retry. */
function retryOnConflict<T>(fn: () => Promise<T>): Promise<T> {
  return withRetry(RETRY_POLICIES.deploy, fn, {
    retriable: (err) => (err as Error).name === 'ResourceConflictException',
  });
}

function requireArn(queueArns: Map<string, string>, queue: string): string {
  const arn = queueArns.get(queue);
  if (!arn) throw new ConvergeError(`queue/${queue}`, 'ARN unknown: the queue is not part of this deploy');
  return arn;
}

async function applyMapping(
  clients: Clients,
  item: PlanItem,
  queueArns: Map<string, string>,
  opts: ConvergeOptions,
): Promise<void> {
  const spec = item.desired as MappingSpec;
  const target = spec.qualifier ? `${spec.functionName}:${spec.qualifier}` : spec.functionName;
  const common = {
    FunctionName: target,
    BatchSize: spec.batchSize,
    MaximumBatchingWindowInSeconds: spec.batchWindowS,
    DestinationConfig: { OnFailure: { Destination: requireArn(queueArns, spec.onFailureQueue) } },
    MaximumRetryAttempts: spec.maximumRetryAttempts,
    // The retry limit and on-failure destination are error-handling controls that AWS applies to Kafka sources in
    // provisioned mode (Lambda developer guide: kafka-retry-configurations; API: ProvisionedPollerConfig).
    ProvisionedPollerConfig: { MinimumPollers: spec.pollers.minimum, MaximumPollers: spec.pollers.maximum },
    ...(spec.auth ? { SourceAccessConfigurations: [{ Type: spec.auth.type, URI: spec.auth.secretArn }] } : {}),
  };
  if (item.action === 'update' && item.actual?.ref) {
    await retryOnConflict(() =>
      clients.lambda.send(new UpdateEventSourceMappingCommand({ UUID: item.actual!.ref, ...common })),
    );
    return;
  }
  if (item.action === 'replace' && item.actual?.ref) await deleteMapping(clients, item.actual.ref, opts);
  await retryOnConflict(() =>
    clients.lambda.send(
      new CreateEventSourceMappingCommand({
        ...common,
        Topics: [spec.topic],
        SelfManagedEventSource: { Endpoints: { KAFKA_BOOTSTRAP_SERVERS: spec.brokers } },
        StartingPosition: spec.startingPosition,
      }),
    ),
  );
}

/** Target id of the one target a schedule rule has. */
const SCHEDULE_TARGET_ID = 'function';

/**
 * A schedule on AWS: the rule (PutRule creates or updates), its target (the function's alias ARN), and the resource
 * policy statement allowing EventBridge to invoke that alias from this rule only. All three are idempotent (an
 * existing statement answers ResourceConflictException), so create and update are the same steps.
 */
async function applySchedule(clients: Clients, item: PlanItem): Promise<void> {
  const spec = item.desired as ScheduleSpec;
  const alias = await clients.lambda.send(
    new GetAliasCommand({ FunctionName: spec.functionName, Name: spec.qualifier }),
  );
  const rule = await clients.eventbridge.send(
    new PutRuleCommand({
      Name: spec.name,
      ScheduleExpression: spec.expression,
      State: 'ENABLED',
      Description: `quakectl: invoke ${spec.functionName}:${spec.qualifier} on ${spec.expression}`,
    }),
  );
  await clients.eventbridge.send(
    new PutTargetsCommand({ Rule: spec.name, Targets: [{ Id: SCHEDULE_TARGET_ID, Arn: alias.AliasArn }] }),
  );
  try {
    await clients.lambda.send(
      new AddPermissionCommand({
        FunctionName: spec.functionName,
        Qualifier: spec.qualifier,
        StatementId: `${spec.name}-events`,
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: rule.RuleArn,
      }),
    );
  } catch (err) {
    if ((err as Error).name !== 'ResourceConflictException') throw err;
  }
}

async function deleteMapping(clients: Clients, uuid: string, opts: ConvergeOptions): Promise<void> {
  try {
    await clients.lambda.send(new DeleteEventSourceMappingCommand({ UUID: uuid }));
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return;
    throw err;
  }
  const deadline = Date.now() + 2 * 60_000;
  while (Date.now() < deadline) {
    try {
      await clients.lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
    } catch (err) {
      if ((err as Error).name === 'ResourceNotFoundException') return;
      throw err;
    }
    await sleep(opts.pollMs ?? 500);
  }
  throw new ConvergeError(`mapping/${uuid}`, 'still deleting after 2 minutes');
}

/** Deletes what a destroy plan lists (mapping first, queues last). Missing resources are not an error. */
export async function destroyResources(
  clients: Clients,
  plan: Plan,
  opts: ConvergeOptions = {},
): Promise<AppliedItem[]> {
  const applied: AppliedItem[] = [];
  for (const item of plan.items) {
    const start = Date.now();
    try {
      await destroyOne(clients, item, opts);
    } catch (err) {
      if ((err as Error).name === 'ResourceNotFoundException') continue;
      throw new ConvergeError(resourceKey(item), (err as Error).message, { cause: err });
    }
    const done = { kind: item.kind, name: item.name, action: 'delete', ms: Date.now() - start };
    applied.push(done);
    opts.onItem?.(done);
  }
  return applied;
}

async function destroyOne(clients: Clients, item: PlanItem, opts: ConvergeOptions): Promise<void> {
  switch (item.kind) {
    case 'mapping': {
      for (const m of await findMappings(clients, item.desired as MappingSpec)) {
        await deleteMapping(clients, m.UUID!, opts);
      }
      return;
    }
    case 'schedule':
      // Targets first: EventBridge refuses to delete a rule that still has targets. The permission goes with the
      // function, deleted after it.
      await clients.eventbridge.send(new RemoveTargetsCommand({ Rule: item.name, Ids: [SCHEDULE_TARGET_ID] }));
      await clients.eventbridge.send(new DeleteRuleCommand({ Name: item.name }));
      return;
    case 'function':
      await clients.lambda.send(new DeleteFunctionCommand({ FunctionName: item.name }));
      return;
    case 'topic': {
      const admin = clients.kafka.admin();
      await admin.connect();
      try {
        await admin.deleteTopics({ topics: [item.name] });
      } finally {
        await admin.disconnect().catch(() => {});
      }
      return;
    }
    case 'table':
      await clients.dynamodb.send(new DeleteTableCommand({ TableName: item.name }));
      return;
    case 'queue': {
      const url =
        item.actual?.ref ?? (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: item.name }))).QueueUrl;
      await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
      return;
    }
  }
}
