/**
 * Event source mapping operations (/2015-03-31/event-source-mappings): Create (202, State Creating), Get, List
 * (?FunctionName=, ?EventSourceArn=, Marker/MaxItems), Update (PUT /{UUID}, 202), Delete (202, State Deleting).
 * Sources: self-managed Kafka (`SelfManagedEventSource.Endpoints.KAFKA_BOOTSTRAP_SERVERS`, one topic, StartingPosition
 * TRIM_HORIZON|LATEST required, BatchSize 1–10,000 default 100) and SQS queues (EventSourceArn, BatchSize 1–10,000
 * default 10, a window ≥ 1 s above 10). A second mapping of the same source to the same function is a
 * ResourceConflictException, an unknown UUID a ResourceNotFoundException, as in AWS.
 */
import { functionArn, parseFunctionName } from './arns.ts';
import type { EmulatorContext } from './context.ts';
import { InvalidParameterValueError, ResourceConflictError, ResourceNotFoundError, ValidationError } from './errors.ts';
import { splitName } from './esm-delivery.ts';
import type { MappingConfig } from './event-source-mappings.ts';
import type { ApiRequest, Router } from './http.ts';

interface Body {
  FunctionName?: string;
  EventSourceArn?: string;
  Enabled?: boolean;
  BatchSize?: number;
  MaximumBatchingWindowInSeconds?: number;
  StartingPosition?: string;
  Topics?: string[];
  SelfManagedEventSource?: { Endpoints?: { KAFKA_BOOTSTRAP_SERVERS?: string[] } };
  SelfManagedKafkaEventSourceConfig?: { ConsumerGroupId?: string };
  DestinationConfig?: MappingConfig['DestinationConfig'];
  MaximumRetryAttempts?: number;
  MaximumRecordAgeInSeconds?: number;
  BisectBatchOnFunctionError?: boolean;
  FunctionResponseTypes?: string[];
  ProvisionedPollerConfig?: { MinimumPollers?: number; MaximumPollers?: number };
}

/** The error-handling controls AWS offers a Kafka source in provisioned mode only. */
const KAFKA_PROVISIONED_ONLY = [
  'MaximumRetryAttempts',
  'MaximumRecordAgeInSeconds',
  'BisectBatchOnFunctionError',
  'FunctionResponseTypes',
] as const;

/** Stream and Kafka controls that an SQS mapping does not take (its retries are the queue's redrive policy). */
const NOT_FOR_SQS = ['MaximumRetryAttempts', 'MaximumRecordAgeInSeconds', 'BisectBatchOnFunctionError'] as const;

function checkRange(name: string, v: number | undefined, min: number, max: number): void {
  if (v !== undefined && !(Number.isFinite(v) && v >= min && v <= max)) {
    throw new ValidationError(
      `1 validation error detected: Value '${v}' at '${name}' failed to satisfy constraint: Member must have value between ${min} and ${max}`,
    );
  }
}

function validateCommon(b: Body, sqs: boolean): void {
  checkRange('batchSize', b.BatchSize, 1, 10_000);
  checkRange('maximumBatchingWindowInSeconds', b.MaximumBatchingWindowInSeconds, 0, 300);
  checkRange('maximumRetryAttempts', b.MaximumRetryAttempts, -1, 10_000);
  checkRange('maximumRecordAgeInSeconds', b.MaximumRecordAgeInSeconds, -1, 604_800);
  const age = b.MaximumRecordAgeInSeconds;
  if (age !== undefined && age !== -1 && age < 60) {
    throw new InvalidParameterValueError(
      `MaximumRecordAgeInSeconds must be -1 (infinite) or between 60 and 604800; got ${age}.`,
    );
  }
  if (b.FunctionResponseTypes?.some((t) => t !== 'ReportBatchItemFailures')) {
    throw new ValidationError(
      `1 validation error detected: Value '${JSON.stringify(b.FunctionResponseTypes)}' at 'functionResponseTypes' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]`,
    );
  }
  if (b.FunctionResponseTypes?.length) {
    // Accepted by AWS, but the emulator's pollers do not read a partial batch response: refused, never ignored.
    throw new InvalidParameterValueError(
      'FunctionResponseTypes ReportBatchItemFailures is not supported by this emulator (whole batches are retried).',
    );
  }
  const dest = b.DestinationConfig?.OnFailure?.Destination;
  if (dest && !/^arn:aws[a-zA-Z-]*:(sqs|sns|s3):/.test(dest) && !(!sqs && dest.startsWith('kafka://'))) {
    throw new InvalidParameterValueError(
      `Unsupported DestinationConfig parameter for given event source mapping type: ${dest}`,
    );
  }
  if (dest && !dest.startsWith('arn:aws:sqs:')) {
    // AWS delivers to SNS, S3 and Kafka too; the emulator only to SQS, so it refuses the rest when they are set,
    // never when a batch fails (that would block the partition).
    throw new InvalidParameterValueError(
      `The on-failure destination ${dest} is not supported by this emulator: only SQS queues are delivered to.`,
    );
  }
  if (b.DestinationConfig?.OnSuccess?.Destination) {
    throw new InvalidParameterValueError(
      'Unsupported DestinationConfig parameter for given event source mapping type: OnSuccess',
    );
  }
  if (sqs) {
    for (const k of NOT_FOR_SQS) {
      if (b[k] !== undefined && b[k] !== false) {
        throw new InvalidParameterValueError(`Unsupported ${k} parameter for given event source mapping type.`);
      }
    }
    if (b.DestinationConfig?.OnFailure?.Destination) {
      throw new InvalidParameterValueError(
        "Unsupported DestinationConfig parameter for given event source mapping type: use the queue's redrive policy",
      );
    }
  }
  if (sqs && (b.BatchSize ?? 10) > 10 && !(b.MaximumBatchingWindowInSeconds && b.MaximumBatchingWindowInSeconds >= 1)) {
    throw new InvalidParameterValueError(
      'Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10',
    );
  }
}

/**
 * Kafka: the retry limit, record age, bisection and partial batch responses are error-handling controls of
 * provisioned mode (Lambda developer guide, kafka-retry-configurations: "select provisioned mode to configure error
 * handling controls"); ProvisionedPollerConfig MinimumPollers 1–200, MaximumPollers 1–2000 (API reference).
 */
function validateKafka(b: Body): void {
  const p = b.ProvisionedPollerConfig;
  if (p) {
    checkRange('provisionedPollerConfig.minimumPollers', p.MinimumPollers, 1, 200);
    checkRange('provisionedPollerConfig.maximumPollers', p.MaximumPollers, 1, 2000);
    if ((p.MinimumPollers ?? 1) > (p.MaximumPollers ?? 200)) {
      throw new InvalidParameterValueError('MinimumPollers must be less than or equal to MaximumPollers.');
    }
    return;
  }
  const set = KAFKA_PROVISIONED_ONLY.filter((k) => b[k] !== undefined && b[k] !== false && !isEmptyList(b[k]));
  if (set.length > 0) {
    throw new InvalidParameterValueError(
      `${set.join(', ')} can be configured for a Kafka event source only in provisioned mode: set ProvisionedPollerConfig.`,
    );
  }
}

function isEmptyList(v: unknown): boolean {
  return Array.isArray(v) && v.length === 0;
}

export function registerEventSourceMappingRoutes(router: Router, ctx: EmulatorContext): void {
  const { registry, mappings } = ctx;

  const resolveFunction = (name: string | undefined): string => {
    if (!name) throw new InvalidParameterValueError('FunctionName is required.');
    const n = parseFunctionName(name);
    registry.resolve(n.name, n.qualifier);
    return functionArn(n.name, n.qualifier);
  };
  const mapping = (req: ApiRequest): MappingConfig => {
    const m = mappings.get(req.params.UUID);
    if (!m) throw new ResourceNotFoundError('The resource you requested does not exist.');
    return m;
  };

  router.add('POST', '/2015-03-31/event-source-mappings', (req) => {
    const b = req.json<Body>();
    const fnArn = resolveFunction(b.FunctionName);
    const kafka = b.SelfManagedEventSource?.Endpoints?.KAFKA_BOOTSTRAP_SERVERS;
    let m: MappingConfig;
    const base = {
      UUID: crypto.randomUUID(),
      FunctionArn: fnArn,
      State: 'Creating',
      StateTransitionReason: 'USER_INITIATED',
      LastModified: Date.now() / 1000,
      ...(b.DestinationConfig ? { DestinationConfig: b.DestinationConfig } : {}),
    };
    if (kafka) {
      if (!kafka.length) throw new InvalidParameterValueError('KAFKA_BOOTSTRAP_SERVERS must list at least one broker.');
      if (b.Topics?.length !== 1) throw new InvalidParameterValueError('Topics must contain exactly one topic name.');
      if (b.StartingPosition !== 'TRIM_HORIZON' && b.StartingPosition !== 'LATEST') {
        throw new InvalidParameterValueError(
          'StartingPosition must be TRIM_HORIZON or LATEST for a self-managed Kafka event source.',
        );
      }
      validateCommon(b, false);
      validateKafka(b);
      const clash = mappings
        .list()
        .find(
          (x) =>
            x.FunctionArn === fnArn &&
            x.Topics?.[0] === b.Topics![0] &&
            (x.SelfManagedEventSource?.Endpoints?.KAFKA_BOOTSTRAP_SERVERS ?? []).join(',') === kafka.join(','),
        );
      if (clash) {
        throw new ResourceConflictError(
          `An event source mapping with event source ("${kafka.join(',')}"), function ("${fnArn}"), topics ("${b.Topics[0]}") already exists. Please update or delete the existing mapping with UUID ${clash.UUID}`,
        );
      }
      m = {
        ...base,
        Topics: b.Topics,
        SelfManagedEventSource: { Endpoints: { KAFKA_BOOTSTRAP_SERVERS: kafka } },
        SelfManagedKafkaEventSourceConfig: {
          ConsumerGroupId: b.SelfManagedKafkaEventSourceConfig?.ConsumerGroupId ?? base.UUID,
        },
        StartingPosition: b.StartingPosition,
        BatchSize: b.BatchSize ?? 100,
        MaximumBatchingWindowInSeconds: b.MaximumBatchingWindowInSeconds ?? 0.5,
        ...(b.MaximumRetryAttempts !== undefined ? { MaximumRetryAttempts: b.MaximumRetryAttempts } : {}),
        ...(b.MaximumRecordAgeInSeconds !== undefined
          ? { MaximumRecordAgeInSeconds: b.MaximumRecordAgeInSeconds }
          : {}),
        ...(b.BisectBatchOnFunctionError !== undefined
          ? { BisectBatchOnFunctionError: b.BisectBatchOnFunctionError }
          : {}),
        ...(b.ProvisionedPollerConfig
          ? {
              ProvisionedPollerConfig: {
                MinimumPollers: b.ProvisionedPollerConfig.MinimumPollers ?? 1,
                MaximumPollers: b.ProvisionedPollerConfig.MaximumPollers ?? 200,
              },
            }
          : {}),
      };
    } else if (b.EventSourceArn?.startsWith('arn:aws:sqs:')) {
      if (b.StartingPosition)
        throw new InvalidParameterValueError('StartingPosition is not valid for SQS event sources.');
      validateCommon(b, true);
      const clash = mappings.list().find((x) => x.FunctionArn === fnArn && x.EventSourceArn === b.EventSourceArn);
      if (clash) {
        throw new ResourceConflictError(
          `An event source mapping with SQS arn (" ${b.EventSourceArn} ") and function (" ${splitName(fnArn)[0]} ") already exists. Please update or delete the existing mapping with UUID ${clash.UUID}`,
        );
      }
      m = {
        ...base,
        EventSourceArn: b.EventSourceArn,
        BatchSize: b.BatchSize ?? 10,
        MaximumBatchingWindowInSeconds: b.MaximumBatchingWindowInSeconds ?? 0,
        ...(b.FunctionResponseTypes ? { FunctionResponseTypes: b.FunctionResponseTypes } : {}),
      };
    } else {
      throw new InvalidParameterValueError(
        'Unrecognized event source: this emulator supports SelfManagedEventSource (Kafka) and SQS queue ARNs.',
      );
    }
    return { status: 202, body: mappings.add(m, b.Enabled ?? true) };
  });

  router.add('GET', '/2015-03-31/event-source-mappings', (req) => {
    const fn = req.query.get('FunctionName');
    const src = req.query.get('EventSourceArn');
    const fnName = fn ? parseFunctionName(fn).name : undefined;
    const list = mappings
      .list()
      .filter((m) => (!fnName || splitName(m.FunctionArn)[0] === fnName) && (!src || m.EventSourceArn === src));
    const start = Number(req.query.get('Marker') ?? 0) || 0;
    const max = Number(req.query.get('MaxItems') ?? 100) || 100;
    const items = list.slice(start, start + max);
    const next = start + max < list.length ? String(start + max) : undefined;
    return { status: 200, body: { EventSourceMappings: items, ...(next ? { NextMarker: next } : {}) } };
  });

  router.add('GET', '/2015-03-31/event-source-mappings/{UUID}', (req) => ({ status: 200, body: mapping(req) }));

  router.add('PUT', '/2015-03-31/event-source-mappings/{UUID}', (req) => {
    const m = mapping(req);
    const b = req.json<Body>();
    const sqs = Boolean(m.EventSourceArn);
    // Validated as the mapping will be after the update: an update cannot leave provisioned mode with retry limits set.
    const merged: Body = {
      ...(m as Body),
      ...Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)),
    };
    validateCommon(merged, sqs);
    if (!sqs) validateKafka(merged);
    if (m.State === 'Deleting') throw new ResourceConflictError(`The event source mapping ${m.UUID} is being deleted.`);
    const changes: Partial<MappingConfig> = {};
    if (b.FunctionName) changes.FunctionArn = resolveFunction(b.FunctionName);
    for (const k of [
      'BatchSize',
      'MaximumBatchingWindowInSeconds',
      'DestinationConfig',
      'MaximumRetryAttempts',
      'MaximumRecordAgeInSeconds',
      'BisectBatchOnFunctionError',
      'FunctionResponseTypes',
      'ProvisionedPollerConfig',
    ] as const) {
      if (b[k] !== undefined) (changes as Record<string, unknown>)[k] = b[k];
    }
    return { status: 202, body: mappings.update(m, changes, b.Enabled) };
  });

  router.add('DELETE', '/2015-03-31/event-source-mappings/{UUID}', (req) => ({
    status: 202,
    body: mappings.remove(mapping(req)),
  }));
}
