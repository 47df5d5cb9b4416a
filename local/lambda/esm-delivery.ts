/**
 * How an event source mapping hands a batch to its function, as Lambda's pollers do: a synchronous invoke; a throttle
 * (429) is not a failure, the poller waits and tries again (polling slows, nothing is lost); a function error is
 * retried with backoff until it succeeds, MaximumRetryAttempts is used up (-1 = until the records expire) or the
 * oldest record is older than MaximumRecordAgeInSeconds. The caller then commits or sends the failure record.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TooManyRequestsError } from './errors.ts';
import type { InvocationResult, Invoker } from './invoker.ts';
import type { FunctionRegistry } from './registry.ts';

export interface DeliveryOutcome {
  ok: boolean;
  /** Invocations that ran the function (not counting throttles). */
  invokeCount: number;
  last?: InvocationResult;
  condition?: 'RetryAttemptsExhausted' | 'RecordAgeExceeded';
  /** The mapping was stopped while delivering: neither commit nor report. */
  aborted?: boolean;
}

export interface DeliveryPolicy {
  functionName: string;
  maximumRetryAttempts?: number;
  maximumRecordAgeInSeconds?: number;
  /** Epoch ms of the oldest record in the batch. */
  oldestRecordMs: number;
  timeScale: number;
  isRunning: () => boolean;
  heartbeat?: () => Promise<void>;
}

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];

export async function deliver(
  deps: { invoker: Invoker; registry: FunctionRegistry },
  payload: string,
  policy: DeliveryPolicy,
): Promise<DeliveryOutcome> {
  let invokeCount = 0;
  let throttles = 0;
  let last: InvocationResult | undefined;
  const maxRetries = policy.maximumRetryAttempts ?? -1;
  const maxAge = policy.maximumRecordAgeInSeconds ?? -1;
  while (policy.isRunning()) {
    let result: InvocationResult;
    try {
      const parsed = deps.registry.resolve(...splitName(policy.functionName), Math.random);
      result = await deps.invoker.invoke(parsed, payload);
    } catch (err) {
      if (!(err instanceof TooManyRequestsError)) {
        // Function deleted or similar: wait like a throttle; AWS keeps the mapping and retries.
        console.error(
          `lambda emulator: event source mapping cannot invoke ${policy.functionName}: ${(err as Error).message}`,
        );
      }
      throttles++;
      await sleep(BACKOFF_MS[Math.min(throttles - 1, BACKOFF_MS.length - 1)]);
      await policy.heartbeat?.();
      continue;
    }
    invokeCount++;
    last = result;
    if (!result.functionError) return { ok: true, invokeCount, last };
    if (maxRetries >= 0 && invokeCount > maxRetries) {
      return { ok: false, invokeCount, last, condition: 'RetryAttemptsExhausted' };
    }
    if (maxAge >= 0 && Date.now() - policy.oldestRecordMs > maxAge * 1000 * policy.timeScale) {
      return { ok: false, invokeCount, last, condition: 'RecordAgeExceeded' };
    }
    await sleep(BACKOFF_MS[Math.min(invokeCount - 1, BACKOFF_MS.length - 1)]);
    await policy.heartbeat?.();
  }
  return { ok: false, invokeCount, last, aborted: true };
}

/** A mapping's FunctionName is stored as the (possibly qualified) function ARN. */
export function splitName(arnOrName: string): [string, string | undefined] {
  const m = /function:([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/.exec(arnOrName);
  if (m) return [m[1], m[2]];
  const [n, q] = arnOrName.split(':');
  return [n, q];
}
