/**
 * Asynchronous (`Event`) invocation, following AWS's documented behaviour:
 * - Accepted with 202 once the event is written to `<state>/lambda/async/<requestId>.json` (durable: fsync + rename),
 *   so no accepted event is lost across a restart; the file is removed only once the event has succeeded or been
 *   handed to its DLQ/destination. After a crash an event that was running is run again (at-least-once, as in AWS).
 * - Throttles (429) are not failures: the event waits and is retried, up to its maximum age.
 * - Function errors are retried MaximumRetryAttempts times (default 2), about 1 minute then 2 minutes later.
 * - An event older than MaximumEventAgeInSeconds (default 21,600) is discarded to the failure targets with condition
 *   `EventAgeExceeded`; after the last retry the condition is `RetriesExhausted`.
 * - Failure targets: the OnFailure destination gets the invocation record (version, timestamp, requestContext,
 *   requestPayload, responseContext, responsePayload); the function's DLQ gets the event as body with attributes
 *   RequestID, ErrorCode, ErrorMessage. An OnSuccess destination gets the record with condition `Success`.
 * All delays and ages run on the emulator's local clock: `timeScale` 0.01 makes 1 minute 600 ms.
 */
import { join } from 'node:path';
import { functionArn } from './arns.ts';
import type { Destinations } from './destinations.ts';
import { TooManyRequestsError } from './errors.ts';
import type { InvocationResult, Invoker } from './invoker.ts';
import { readJsonDir, removeFile, writeJsonDurable } from './persist.ts';
import type { EventInvokeConfig, FunctionRegistry, Resolved } from './registry.ts';

export const RETRY_DELAYS_MS = [60_000, 120_000];
export const DEFAULT_MAX_EVENT_AGE_S = 21_600;
export const DEFAULT_MAX_RETRIES = 2;
const THROTTLE_BACKOFF_MS = [1000, 2000, 5000, 10_000, 30_000];
const DELIVERY_RETRY_MS = 5000;

export interface AsyncEvent {
  requestId: string;
  functionName: string;
  qualifier: string;
  payload: string;
  acceptedAt: number;
  /** Function-error attempts so far. */
  attempts: number;
  throttles: number;
  nextAttemptAt: number;
  /** Set once the event failed for good and only its delivery to the failure targets is pending. */
  failure?: { condition: string; result: OutcomeSummary };
}

type OutcomeSummary = Pick<InvocationResult, 'payload' | 'functionError' | 'executedVersion' | 'error'>;

export class AsyncQueue {
  readonly #dir: string;
  readonly #registry: FunctionRegistry;
  readonly #invoker: Invoker;
  readonly #destinations: Destinations;
  readonly #timeScale: number;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #running = new Set<Promise<void>>();
  #closed = false;

  constructor(deps: {
    stateDir: string;
    registry: FunctionRegistry;
    invoker: Invoker;
    destinations: Destinations;
    timeScale: number;
  }) {
    this.#dir = join(deps.stateDir, 'lambda', 'async');
    this.#registry = deps.registry;
    this.#invoker = deps.invoker;
    this.#destinations = deps.destinations;
    this.#timeScale = deps.timeScale;
  }

  /** Schedules every event persisted by a previous run. */
  restore(): number {
    const events = readJsonDir<AsyncEvent>(this.#dir);
    for (const e of events) this.#schedule(e);
    return events.length;
  }

  accept(target: Resolved, payload: string): string {
    const now = Date.now();
    const event: AsyncEvent = {
      requestId: crypto.randomUUID(),
      functionName: target.record.name,
      qualifier: target.qualifier,
      payload,
      acceptedAt: now,
      attempts: 0,
      throttles: 0,
      nextAttemptAt: now,
    };
    this.#save(event);
    this.#schedule(event);
    return event.requestId;
  }

  pending(): number {
    return this.#timers.size + this.#running.size;
  }

  #path(e: AsyncEvent): string {
    return join(this.#dir, `${e.requestId}.json`);
  }

  #save(e: AsyncEvent): void {
    writeJsonDurable(this.#path(e), e);
  }

  #schedule(e: AsyncEvent): void {
    if (this.#closed) return;
    const delay = Math.max(0, e.nextAttemptAt - Date.now());
    const timer = setTimeout(() => {
      this.#timers.delete(e.requestId);
      const run = this.#process(e).catch((err) => {
        console.error(`lambda emulator: async event ${e.requestId} of ${e.functionName}: ${(err as Error).message}`);
        e.nextAttemptAt = Date.now() + DELIVERY_RETRY_MS;
        this.#save(e);
        this.#schedule(e);
      });
      this.#running.add(run);
      void run.finally(() => this.#running.delete(run));
    }, delay);
    this.#timers.set(e.requestId, timer);
  }

  #config(e: AsyncEvent): EventInvokeConfig | undefined {
    return this.#registry.find(e.functionName)?.eventInvokeConfigs[e.qualifier];
  }

  async #process(e: AsyncEvent): Promise<void> {
    if (e.failure) return this.#fail(e);
    const rec = this.#registry.find(e.functionName);
    if (!rec) {
      console.error(`lambda emulator: dropping async event ${e.requestId}: function ${e.functionName} was deleted`);
      removeFile(this.#path(e));
      return;
    }
    const cfg = this.#config(e);
    const maxAgeMs = (cfg?.MaximumEventAgeInSeconds ?? DEFAULT_MAX_EVENT_AGE_S) * 1000 * this.#timeScale;
    if (Date.now() - e.acceptedAt > maxAgeMs) {
      e.failure = {
        condition: 'EventAgeExceeded',
        result: { payload: 'null', executedVersion: rec.latest.Version },
      };
      return this.#fail(e);
    }
    let result: InvocationResult;
    try {
      result = await this.#invoker.invoke(
        this.#registry.resolve(e.functionName, e.qualifier, Math.random),
        e.payload,
        e.requestId,
      );
    } catch (err) {
      if (!(err instanceof TooManyRequestsError)) throw err;
      e.throttles++;
      e.nextAttemptAt = Date.now() + THROTTLE_BACKOFF_MS[Math.min(e.throttles - 1, THROTTLE_BACKOFF_MS.length - 1)];
      this.#save(e);
      this.#schedule(e);
      return;
    }
    e.attempts++;
    if (!result.functionError) {
      const success = cfg?.DestinationConfig?.OnSuccess?.Destination;
      if (success) await this.#destinations.send(success, JSON.stringify(this.#record(e, 'Success', result)));
      removeFile(this.#path(e));
      return;
    }
    const maxRetries = cfg?.MaximumRetryAttempts ?? DEFAULT_MAX_RETRIES;
    const failure = {
      payload: result.payload,
      functionError: result.functionError,
      executedVersion: result.executedVersion,
      error: result.error,
    };
    if (e.attempts <= maxRetries) {
      e.nextAttemptAt =
        Date.now() + RETRY_DELAYS_MS[Math.min(e.attempts - 1, RETRY_DELAYS_MS.length - 1)] * this.#timeScale;
      this.#save(e);
      this.#schedule(e);
      return;
    }
    e.failure = { condition: 'RetriesExhausted', result: failure };
    this.#save(e);
    return this.#fail(e);
  }

  #record(e: AsyncEvent, condition: string, result: OutcomeSummary) {
    return {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: {
        requestId: e.requestId,
        functionArn: functionArn(e.functionName, e.qualifier),
        condition,
        approximateInvokeCount: e.attempts,
      },
      requestPayload: parseOr(e.payload),
      responseContext: {
        statusCode: 200,
        executedVersion: result.executedVersion,
        ...(result.functionError ? { functionError: result.functionError } : {}),
      },
      responsePayload: parseOr(result.payload),
    };
  }

  /** Hands a failed event to the OnFailure destination and the DLQ, then forgets it. */
  async #fail(e: AsyncEvent): Promise<void> {
    const failure = e.failure!;
    const rec = this.#registry.find(e.functionName);
    const onFailure = this.#config(e)?.DestinationConfig?.OnFailure?.Destination;
    // The DLQ is part of the version's configuration: the one of the version that ran (or would have).
    let dlq: string | undefined;
    try {
      dlq = rec && this.#registry.resolve(e.functionName, e.qualifier).config.DeadLetterConfig?.TargetArn;
    } catch {
      dlq = rec?.latest.DeadLetterConfig?.TargetArn;
    }
    if (onFailure)
      await this.#destinations.send(onFailure, JSON.stringify(this.#record(e, failure.condition, failure.result)));
    if (dlq) {
      await this.#destinations.sendDeadLetter(dlq, {
        requestId: e.requestId,
        payload: e.payload,
        errorCode: 200,
        errorMessage: failure.result.error?.errorMessage ?? failure.condition,
      });
    }
    if (!onFailure && !dlq) {
      console.error(
        `lambda emulator: async event ${e.requestId} of ${e.functionName} discarded (${failure.condition})`,
      );
    }
    removeFile(this.#path(e));
  }

  /** Stops scheduling; events stay on disk for the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    await Promise.allSettled([...this.#running]);
  }
}

function parseOr(text: string): unknown {
  try {
    return text === '' ? {} : JSON.parse(text);
  } catch {
    return text;
  }
}
