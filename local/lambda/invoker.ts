/**
 * One invocation, as Lambda runs it: take a unit of concurrency (or throw 429 TooManyRequestsException), take a warm
 * or new execution environment, log `START`, run the handler within the function's Timeout, log `END` and `REPORT`
 * (with `Init Duration` on a cold start), release. A function error is not an API error: the result carries
 * `functionError: 'Unhandled'` and the error JSON `{errorType, errorMessage, trace}` as payload, as AWS returns it.
 * Shared by synchronous Invoke, the async queue and the event source mappings.
 */
import { functionArn } from './arns.ts';
import type { CodeStore } from './code-store.ts';
import type { Concurrency } from './concurrency.ts';
import type { FunctionError } from './environment.ts';
import type { EnvironmentPool } from './environment-pool.ts';
import { type FunctionLogs, reportLine } from './logging.ts';
import type { Resolved } from './registry.ts';

export interface InvocationResult {
  requestId: string;
  executedVersion: string;
  /** JSON text: the handler's result, or the error object on a function error. */
  payload: string;
  functionError?: 'Unhandled';
  error?: FunctionError;
  /** Log lines of this invocation (for LogType Tail). */
  logLines: string[];
  durationMs: number;
  initMs?: number;
}

export class Invoker {
  readonly #pool: EnvironmentPool;
  readonly #concurrency: Concurrency;
  readonly #logs: FunctionLogs;
  readonly #code: CodeStore;

  constructor(deps: { pool: EnvironmentPool; concurrency: Concurrency; logs: FunctionLogs; code: CodeStore }) {
    this.#pool = deps.pool;
    this.#concurrency = deps.concurrency;
    this.#logs = deps.logs;
    this.#code = deps.code;
  }

  /** Throws TooManyRequestsError when throttled; never throws for a function error. */
  async invoke(target: Resolved, payload: string, requestId: string = crypto.randomUUID()): Promise<InvocationResult> {
    const name = target.record.name;
    this.#concurrency.acquire(name);
    try {
      const { config, version } = target;
      const lease = this.#pool.acquire({
        functionName: name,
        version,
        config,
        taskRoot: this.#code.taskRoot(config.CodeSha256),
      });
      const lines: string[] = [];
      const stream = lease.env.logStreamName;
      const log = (message: string) => {
        lines.push(message);
        this.#logs.append(name, { timestamp: Date.now(), logStreamName: stream, requestId, message });
      };
      try {
        lease.sink.requestId = requestId;
        lease.sink.tail = lines;
        log(`START RequestId: ${requestId} Version: ${version}`);
        const out = await lease.env.invoke(
          requestId,
          payload,
          functionArn(name, target.qualifier === '$LATEST' ? undefined : target.qualifier),
          config.Timeout * 1000,
        );
        if (out.error?.errorType === 'Sandbox.Timedout') {
          log(`${new Date().toISOString()} ${requestId} Task timed out after ${config.Timeout.toFixed(2)} seconds`);
        }
        log(`END RequestId: ${requestId}`);
        log(
          reportLine({
            requestId,
            durationMs: out.durationMs,
            memoryMb: config.MemorySize,
            maxMemoryMb: out.maxMemoryMb,
            initMs: out.initMs,
          }),
        );
        if (out.ok) {
          return {
            requestId,
            executedVersion: version,
            payload: out.result ?? 'null',
            logLines: lines,
            durationMs: out.durationMs,
            initMs: out.initMs,
          };
        }
        const error = out.error ?? { errorType: 'Error', errorMessage: 'unknown error' };
        return {
          requestId,
          executedVersion: version,
          payload: JSON.stringify(error),
          functionError: 'Unhandled',
          error,
          logLines: lines,
          durationMs: out.durationMs,
          initMs: out.initMs,
        };
      } finally {
        lease.release();
      }
    } finally {
      this.#concurrency.release(name);
    }
  }
}

/** LogType Tail: base64 of the last 4 KB of the invocation's log. */
export function logTail(lines: string[]): string {
  const text = Buffer.from(`${lines.join('\n')}\n`);
  return text.subarray(Math.max(0, text.length - 4096)).toString('base64');
}
