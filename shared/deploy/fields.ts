/**
 * The comparable projection of each resource kind: the fields deploy manages, as plain JSON values. The actual-state
 * readers produce the same projection from what the services return, so the diff is a field-by-field comparison.
 */
import type { ResourceSpec } from './types.ts';

export function fields(spec: ResourceSpec): Record<string, unknown> {
  switch (spec.kind) {
    case 'topic':
      return { partitions: spec.partitions };
    case 'table': {
      const d = spec.definition;
      return {
        keySchema: (d.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`),
        indexes: (d.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName).sort(),
        billingMode: d.BillingMode ?? 'PROVISIONED',
      };
    }
    case 'queue':
      return { attributes: spec.attributes };
    case 'function':
      return {
        code: spec.codeSha256,
        runtime: spec.runtime,
        handler: spec.handler,
        executionRole: spec.executionRole,
        memoryMb: spec.memoryMb,
        timeoutS: spec.timeoutS,
        env: spec.env,
        dlq: spec.dlq ?? null,
        ...(spec.reservedConcurrency !== undefined ? { reservedConcurrency: spec.reservedConcurrency } : {}),
        ...(spec.eventInvoke ? { eventInvoke: spec.eventInvoke } : {}),
        ...(spec.provisionedConcurrency !== undefined ? { provisionedConcurrency: spec.provisionedConcurrency } : {}),
        // `<alias> → the published version of exactly this code and configuration`.
        alias: `${spec.alias}:current`,
      };
    case 'mapping':
      return {
        target: spec.qualifier ? `${spec.functionName}:${spec.qualifier}` : spec.functionName,
        topic: spec.topic,
        brokers: spec.brokers,
        auth: spec.auth ?? null,
        batchSize: spec.batchSize,
        batchWindowS: spec.batchWindowS,
        startingPosition: spec.startingPosition,
        onFailureQueue: spec.onFailureQueue,
        maximumRetryAttempts: spec.maximumRetryAttempts,
        pollers: spec.pollers,
      };
    case 'schedule':
      return { expression: spec.expression, state: 'ENABLED', target: `${spec.functionName}:${spec.qualifier}` };
  }
}

/** Fields a service cannot change in place: a difference means delete and create again. */
export const CREATE_ONLY: Record<string, readonly string[]> = {
  mapping: ['topic', 'brokers', 'startingPosition'],
};

/** Fields that cannot be changed by deploy at all (would lose data): a difference blocks the plan. */
export const IMMUTABLE: Record<string, readonly string[]> = {
  table: ['keySchema'],
};
