/**
 * The desired state of a quakectl system, one spec per resource, and the plan that turns what exists into it.
 * Specs hold only the fields deploy manages; `fields(spec)` is the comparable projection both sides are diffed on.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { FunctionRole } from '../infra/names.ts';

export interface TopicSpec {
  kind: 'topic';
  name: string;
  partitions: number;
}

export interface TableSpec {
  kind: 'table';
  name: string;
  definition: CreateTableCommandInput;
}

export interface QueueSpec {
  kind: 'queue';
  name: string;
  /** SQS attributes deploy sets (strings, as SQS returns them). */
  attributes: Record<string, string>;
}

export interface EventInvokeSpec {
  maximumRetryAttempts: number;
  maximumEventAgeS: number;
}

export interface FunctionSpec {
  kind: 'function';
  name: string;
  role: FunctionRole;
  codeSha256: string;
  /** The deployment package; absent when a plan is read back (e.g. from JSON). */
  zip?: Uint8Array;
  runtime: string;
  handler: string;
  executionRole: string;
  memoryMb: number;
  timeoutS: number;
  env: Record<string, string>;
  /** Async-invoke dead-letter queue (queue name), for functions invoked asynchronously. */
  dlq?: string;
  /** Reserved concurrency; undefined = not managed by deploy (left as `quakectl scale` set it). */
  reservedConcurrency?: number;
  /** Provisioned concurrency on the alias; undefined = not managed, 0 = none. */
  provisionedConcurrency?: number;
  eventInvoke?: EventInvokeSpec;
  alias: string;
}

export type KafkaAuthType = 'BASIC_AUTH' | 'SASL_SCRAM_256_AUTH' | 'SASL_SCRAM_512_AUTH';

export interface MappingSpec {
  kind: 'mapping';
  /** `<topic> → <function>:<alias>`: mappings have no name of their own (their id is a UUID). */
  name: string;
  functionName: string;
  qualifier?: string;
  topic: string;
  brokers: string[];
  /** AWS: the Secrets Manager secret holding `{"username","password"}` for the broker's SASL. */
  auth?: { type: KafkaAuthType; secretArn: string };
  batchSize: number;
  batchWindowS: number;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** On-failure destination (queue name). */
  onFailureQueue: string;
  /** Retries of a failing batch before it goes to the on-failure destination (Kafka's default -1 = forever). */
  maximumRetryAttempts: number;
  /**
   * Provisioned mode (`ProvisionedPollerConfig`): AWS configures a Kafka mapping's error-handling controls
   * (MaximumRetryAttempts, MaximumRecordAgeInSeconds, BisectBatchOnFunctionError) in provisioned mode only
   * (Lambda developer guide, "Configuring error handling controls for Kafka event sources").
   */
  pollers: { minimum: number; maximum: number };
}

/**
 * A schedule: on AWS an EventBridge rule (ScheduleExpression) targeting `<function>:<alias>`, with the Lambda
 * permission that lets events.amazonaws.com invoke it. The local stack has no EventBridge: `skipped` says what to run
 * instead, and the plan reports it without reading or changing anything.
 */
export interface ScheduleSpec {
  kind: 'schedule';
  /** The rule's name. */
  name: string;
  /** `rate(1 minute)`, `cron(...)`: EventBridge schedule expression. */
  expression: string;
  functionName: string;
  qualifier: string;
  skipped?: string;
}

export type ResourceSpec = TopicSpec | TableSpec | QueueSpec | FunctionSpec | MappingSpec | ScheduleSpec;
export type ResourceKind = ResourceSpec['kind'];

/** What exists, projected onto the same fields as the desired spec (see `fields`). */
export interface ActualResource {
  kind: ResourceKind;
  name: string;
  fields: Record<string, unknown>;
  /** Service-side identity needed to change or delete it (queue URL, mapping UUID…). */
  ref?: string;
  /** ARN where the service reports one (queues: the DLQ targets need it). */
  arn?: string;
  /** The service could not be asked (dry run with Kafka unreachable): its state is unknown, `fields` is empty. */
  unknown?: string;
}

export interface DesiredState {
  /**
   * In convergence order: queues and tables before the functions that name them, functions before mappings and
   * schedules.
   */
  resources: ResourceSpec[];
}

/** `unknown`: what exists could not be read (dry run only: a real deploy fails instead). */
export type PlanAction = 'create' | 'update' | 'replace' | 'unchanged' | 'blocked' | 'delete' | 'skipped' | 'unknown';

export interface Change {
  field: string;
  from: unknown;
  to: unknown;
}

export interface PlanItem {
  kind: ResourceKind;
  name: string;
  action: PlanAction;
  changes: Change[];
  /** Why an item is blocked or replaced. */
  note?: string;
  desired?: ResourceSpec;
  actual?: ActualResource;
}

export interface Plan {
  items: PlanItem[];
}
