/**
 * What exists: each desired resource looked up in its service and projected onto the same fields as `fields(spec)`.
 * A missing resource is simply absent from the result; a service that does not answer is an error.
 */
import { DescribeTableCommand, ResourceNotFoundException as TableNotFound } from '@aws-sdk/client-dynamodb';
import { DescribeRuleCommand, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import {
  type EventSourceMappingConfiguration,
  type FunctionConfiguration,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetFunctionEventInvokeConfigCommand,
  GetProvisionedConcurrencyConfigCommand,
  ResourceNotFoundException as LambdaNotFound,
  ListEventSourceMappingsCommand,
} from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, GetQueueUrlCommand, QueueDoesNotExist } from '@aws-sdk/client-sqs';
import type { Clients } from '../infra/clients.ts';
import { ServiceUnavailableError } from '../infra/errors.ts';
import { sameValue } from './plan.ts';
import type {
  ActualResource,
  DesiredState,
  FunctionSpec,
  MappingSpec,
  QueueSpec,
  ScheduleSpec,
  TableSpec,
  TopicSpec,
} from './types.ts';

export interface ReadOptions {
  /**
   * Dry run: when Kafka does not answer, report its resources as unknown (with this call's warning) instead of
   * failing, so the AWS side can still be planned. A real deploy never sets it: it cannot converge what it cannot see.
   */
  onKafkaUnreachable?: (warning: string) => void;
}

export async function readActual(
  clients: Clients,
  desired: DesiredState,
  opts: ReadOptions = {},
): Promise<ActualResource[]> {
  const specs = desired.resources;
  const topics = specs.filter((s): s is TopicSpec => s.kind === 'topic');
  const mappings = specs.filter((s): s is MappingSpec => s.kind === 'mapping');
  const [others, topicStates, mappingStates] = await Promise.all([
    Promise.all(
      specs.map((s) => {
        if (s.kind === 'queue') return readQueue(clients, s);
        if (s.kind === 'table') return readTable(clients, s);
        if (s.kind === 'function') return readFunction(clients, s);
        // A skipped schedule (local stack: no EventBridge) is not looked up at all.
        if (s.kind === 'schedule' && !s.skipped) return readSchedule(clients, s);
        return undefined;
      }),
    ),
    topics.length ? readTopicsOrUnknown(clients, topics, opts) : [],
    mappings.length ? readMappings(clients, mappings) : [],
  ]);
  return [...others, ...topicStates, ...mappingStates].filter((r): r is ActualResource => r !== undefined);
}

export async function queueArn(clients: Clients, queueUrl: string): Promise<string> {
  const r = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const arn = r.Attributes?.QueueArn;
  if (!arn) throw new ServiceUnavailableError('sqs', `no QueueArn reported for ${queueUrl}`);
  return arn;
}

async function readQueue(clients: Clients, spec: QueueSpec): Promise<ActualResource | undefined> {
  let url: string | undefined;
  try {
    url = (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: spec.name }))).QueueUrl;
  } catch (err) {
    if (err instanceof QueueDoesNotExist || (err as Error).name === 'AWS.SimpleQueueService.NonExistentQueue') {
      return undefined;
    }
    throw wrap('sqs', `cannot look up queue ${spec.name}`, err);
  }
  if (!url) return undefined;
  const r = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
  const attrs: Record<string, string | undefined> = r.Attributes ?? {};
  // Compare only what the service reports: ElasticMQ does not report MessageRetentionPeriod, and an attribute that
  // cannot be read back cannot be compared (it was set at creation).
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.attributes)) attributes[k] = attrs[k] ?? v;
  return { kind: 'queue', name: spec.name, fields: { attributes }, ref: url, arn: attrs.QueueArn };
}

async function readTable(clients: Clients, spec: TableSpec): Promise<ActualResource | undefined> {
  try {
    const t = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: spec.name }))).Table;
    if (!t || t.TableStatus === 'DELETING') return undefined;
    return {
      kind: 'table',
      name: spec.name,
      fields: {
        keySchema: (t.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`),
        indexes: (t.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName).sort(),
        billingMode: t.BillingModeSummary?.BillingMode ?? 'PROVISIONED',
      },
      arn: t.TableArn,
    };
  } catch (err) {
    if (err instanceof TableNotFound || (err as Error).name === 'ResourceNotFoundException') return undefined;
    throw wrap('dynamodb', `cannot describe table ${spec.name}`, err);
  }
}

async function readTopicsOrUnknown(clients: Clients, specs: TopicSpec[], opts: ReadOptions): Promise<ActualResource[]> {
  if (!opts.onKafkaUnreachable) return readTopics(clients, specs);
  try {
    return await readTopics(clients, specs);
  } catch (err) {
    const reason = (err as Error).message;
    opts.onKafkaUnreachable(`Kafka side not planned (${reason}); its topics are shown as unknown`);
    return specs.map((s) => ({ kind: 'topic' as const, name: s.name, fields: {}, unknown: 'Kafka unreachable' }));
  }
}

async function readTopics(clients: Clients, specs: TopicSpec[]): Promise<ActualResource[]> {
  const admin = clients.kafka.admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const present = specs.filter((s) => existing.has(s.name));
    if (present.length === 0) return [];
    const meta = await admin.fetchTopicMetadata({ topics: present.map((s) => s.name) });
    return meta.topics.map((t) => ({
      kind: 'topic' as const,
      name: t.name,
      fields: { partitions: t.partitions.length },
    }));
  } catch (err) {
    throw wrap('kafka', `cannot read Kafka topics from ${clients.config.kafka.brokers.join(',')}`, err);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** The projection of a function configuration shared by $LATEST and a published version. */
function configFields(c: FunctionConfiguration): Record<string, unknown> {
  return {
    code: c.CodeSha256,
    runtime: c.Runtime,
    handler: c.Handler,
    executionRole: c.Role,
    memoryMb: c.MemorySize,
    timeoutS: c.Timeout,
    env: c.Environment?.Variables ?? {},
    dlq: c.DeadLetterConfig?.TargetArn ? nameFromArn(c.DeadLetterConfig.TargetArn) : null,
  };
}

async function readFunction(clients: Clients, spec: FunctionSpec): Promise<ActualResource | undefined> {
  let fn: Awaited<ReturnType<typeof getFunction>>;
  try {
    fn = await getFunction(clients, spec.name);
  } catch (err) {
    if (err instanceof LambdaNotFound || (err as Error).name === 'ResourceNotFoundException') return undefined;
    throw wrap('lambda', `cannot read function ${spec.name}`, err);
  }
  const latest = fn.Configuration ?? {};
  const fields: Record<string, unknown> = {
    ...configFields(latest),
    reservedConcurrency: fn.Concurrency?.ReservedConcurrentExecutions,
    eventInvoke: await readEventInvoke(clients, spec.name, spec.alias),
    // Read only where the profile manages it: unmanaged functions are left as they are (and moto, for one, has no
    // provisioned-concurrency API at all).
    provisionedConcurrency:
      spec.provisionedConcurrency === undefined ? undefined : await readProvisioned(clients, spec.name, spec.alias),
    alias: `${spec.alias}:${await aliasState(clients, spec, latest)}`,
  };
  return { kind: 'function', name: spec.name, fields, arn: latest.FunctionArn };
}

function getFunction(clients: Clients, name: string) {
  return clients.lambda.send(new GetFunctionCommand({ FunctionName: name }));
}

/** Requested provisioned concurrency on the alias (0 when none is configured). */
async function readProvisioned(clients: Clients, name: string, alias: string): Promise<number> {
  try {
    const r = await clients.lambda.send(
      new GetProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: alias }),
    );
    return r.RequestedProvisionedConcurrentExecutions ?? 0;
  } catch (err) {
    const n = (err as Error).name;
    if (n === 'ProvisionedConcurrencyConfigNotFoundException' || n === 'ResourceNotFoundException') return 0;
    throw wrap('lambda', `cannot read provisioned concurrency of ${name}:${alias}`, err);
  }
}

/**
 * The async-invoke settings of the alias that every caller invokes: AWS keeps them per version or alias
 * (PutFunctionEventInvokeConfig, `Qualifier`), and an invocation of `fn:live` never uses `$LATEST`'s.
 */
async function readEventInvoke(clients: Clients, name: string, alias: string) {
  try {
    const r = await clients.lambda.send(
      new GetFunctionEventInvokeConfigCommand({ FunctionName: name, Qualifier: alias }),
    );
    return { maximumRetryAttempts: r.MaximumRetryAttempts, maximumEventAgeS: r.MaximumEventAgeInSeconds };
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return undefined;
    throw wrap('lambda', `cannot read event invoke config of ${name}`, err);
  }
}

/** `current` when the alias points at a version with exactly $LATEST's code and configuration. */
async function aliasState(
  clients: Clients,
  spec: FunctionSpec,
  latest: FunctionConfiguration,
): Promise<'current' | 'stale' | 'missing'> {
  let version: string | undefined;
  try {
    version = (await clients.lambda.send(new GetAliasCommand({ FunctionName: spec.name, Name: spec.alias })))
      .FunctionVersion;
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return 'missing';
    throw wrap('lambda', `cannot read alias ${spec.name}:${spec.alias}`, err);
  }
  if (!version || version === '$LATEST') return 'stale';
  const published = await clients.lambda.send(
    new GetFunctionConfigurationCommand({ FunctionName: spec.name, Qualifier: version }),
  );
  return sameValue(configFields(published), configFields(latest)) ? 'current' : 'stale';
}

export async function listMappings(clients: Clients): Promise<EventSourceMappingConfiguration[]> {
  const all: EventSourceMappingConfiguration[] = [];
  let Marker: string | undefined;
  do {
    const r = await clients.lambda.send(new ListEventSourceMappingsCommand({ Marker, MaxItems: 100 }));
    all.push(...(r.EventSourceMappings ?? []));
    Marker = r.NextMarker;
  } while (Marker);
  return all;
}

/** `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]` → name and qualifier. */
export function parseFunctionArn(arn: string): { name: string; qualifier?: string } {
  const parts = arn.split(':');
  const i = parts.indexOf('function');
  if (i < 0) return { name: arn };
  return { name: parts[i + 1], qualifier: parts[i + 2] };
}

export async function findMappings(clients: Clients, spec: MappingSpec): Promise<EventSourceMappingConfiguration[]> {
  try {
    const all = await listMappings(clients);
    return all.filter(
      (m) =>
        m.FunctionArn &&
        parseFunctionArn(m.FunctionArn).name === spec.functionName &&
        (m.Topics ?? []).includes(spec.topic) &&
        m.State !== 'Deleting',
    );
  } catch (err) {
    throw wrap('lambda', 'cannot list event source mappings', err);
  }
}

async function readMappings(clients: Clients, specs: MappingSpec[]): Promise<ActualResource[]> {
  const out: ActualResource[] = [];
  for (const spec of specs) {
    const [m] = await findMappings(clients, spec);
    if (!m) continue;
    const { name, qualifier } = parseFunctionArn(m.FunctionArn!);
    const auth = (m.SourceAccessConfigurations ?? []).find((s) =>
      ['BASIC_AUTH', 'SASL_SCRAM_256_AUTH', 'SASL_SCRAM_512_AUTH'].includes(s.Type ?? ''),
    );
    const onFailure = m.DestinationConfig?.OnFailure?.Destination;
    out.push({
      kind: 'mapping',
      name: spec.name,
      ref: m.UUID,
      fields: {
        target: qualifier ? `${name}:${qualifier}` : name,
        topic: m.Topics?.[0],
        brokers: m.SelfManagedEventSource?.Endpoints?.KAFKA_BOOTSTRAP_SERVERS ?? [],
        auth: auth ? { type: auth.Type, secretArn: auth.URI } : null,
        batchSize: m.BatchSize,
        batchWindowS: m.MaximumBatchingWindowInSeconds ?? 0,
        startingPosition: m.StartingPosition,
        onFailureQueue: onFailure ? nameFromArn(onFailure) : null,
        maximumRetryAttempts: m.MaximumRetryAttempts ?? -1,
        pollers: m.ProvisionedPollerConfig
          ? { minimum: m.ProvisionedPollerConfig.MinimumPollers, maximum: m.ProvisionedPollerConfig.MaximumPollers }
          : null,
      },
    });
  }
  return out;
}

/** An EventBridge rule and its (single) target, projected like `fields(schedule)`. */
async function readSchedule(clients: Clients, spec: ScheduleSpec): Promise<ActualResource | undefined> {
  try {
    const rule = await clients.eventbridge.send(new DescribeRuleCommand({ Name: spec.name }));
    const targets = await clients.eventbridge.send(new ListTargetsByRuleCommand({ Rule: spec.name }));
    const arn = targets.Targets?.[0]?.Arn;
    const fn = arn ? parseFunctionArn(arn) : undefined;
    return {
      kind: 'schedule',
      name: spec.name,
      fields: {
        expression: rule.ScheduleExpression,
        state: rule.State,
        target: fn ? `${fn.name}${fn.qualifier ? `:${fn.qualifier}` : ''}` : null,
      },
      arn: rule.Arn,
    };
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return undefined;
    throw wrap('eventbridge', `cannot read schedule ${spec.name}`, err);
  }
}

/**
 * Functions outside `own` whose event source mappings read `topic`: another system (another prefix) on the same
 * broker. Topic names carry no prefix, so destroy must not delete a topic such a system still consumes.
 */
export async function otherTopicConsumers(clients: Clients, topic: string, own: Set<string>): Promise<string[]> {
  try {
    return (await listMappings(clients))
      .filter((m) => m.State !== 'Deleting' && (m.Topics ?? []).includes(topic) && m.FunctionArn)
      .map((m) => parseFunctionArn(m.FunctionArn!).name)
      .filter((name) => !own.has(name));
  } catch (err) {
    throw wrap('lambda', 'cannot list event source mappings', err);
  }
}

export function nameFromArn(arn: string): string {
  return arn.slice(arn.lastIndexOf(':') + 1);
}

function wrap(service: string, message: string, err: unknown): Error {
  if (err instanceof ServiceUnavailableError) return err;
  return new ServiceUnavailableError(service, `${message}: ${(err as Error).message}`, { cause: err });
}
