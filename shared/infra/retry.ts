/**
 * The one retry policy of quakectl. Every call site that retries names a `RetryPolicy` (attempts in all, first delay,
 * delay cap) and runs through `withRetry` (p-retry: exponential delays base·2ⁿ⁻¹ capped at maxMs, each multiplied by a
 * random factor in [1, 2) so clients dropped together do not return in step) or, for AWS SDK calls, through the SDK's
 * own retry strategy built from the same policy (`sdkRetryStrategy`). Nothing retries without a bound.
 *
 * Throttling on the alert path (DynamoDB ProvisionedThroughputExceededException / ThrottlingException, Lambda
 * TooManyRequestsException) is retried fast: the SDK's standard mode waits from a 500 ms throttling base and gives up
 * after 3 attempts, after which an async invocation waits about a minute for Lambda's own retry. Here the delays start
 * at 25 ms and stop at 1 s, for at most 8 attempts (about 4 s in all): a throttle on the alert path usually clears in
 * well under a second (a concurrency slot or a partition's burst capacity comes back), an alert cannot wait minutes,
 * and a bounded failure still leaves the invocation to Lambda's retry and DLQ. Sources: AWS SDK "Retry behavior"
 * (standard mode, retry quota), AWS Architecture Blog "Exponential Backoff And Jitter".
 */
import { ConfiguredRetryStrategy } from '@smithy/util-retry';
import pRetry, { AbortError } from 'p-retry';

export interface RetryPolicy {
  /** Attempts in all, the first included (≥ 1). */
  attempts: number;
  /** Delay before the first retry, ms. */
  baseMs: number;
  /** Cap of any one delay, ms. */
  maxMs: number;
}

/** The configured policies. Call sites override fields from their own settings (webhook timeouts, tests). */
export const RETRY_POLICIES = {
  /** Webhook batch POSTs (system.md 8): a few fast retries; a receiver's Retry-After is honoured up to maxMs. */
  webhook: { attempts: 4, baseMs: 100, maxMs: 2000 },
  /**
   * AWS SDK calls: throttling and transient errors, fast and bounded (see above). The same on the local stack, whose
   * emulator throttles like Lambda (reserved concurrency); a dead local port fails after about 2.5 s of retries.
   */
  sdk: { attempts: 8, baseMs: 25, maxMs: 1000 },
  /** BatchWriteItem / BatchGetItem UnprocessedItems / UnprocessedKeys (throttled part of a batch). */
  unprocessed: { attempts: 10, baseMs: 25, maxMs: 1000 },
  /** Forwarding an ingested event to the producer. */
  forward: { attempts: 5, baseMs: 500, maxMs: 10_000 },
  /** Deploy: IAM eventual consistency and ResourceConflictException while a function update is in progress. */
  deploy: { attempts: 20, baseMs: 500, maxMs: 4000 },
  /** Deploy: a just-created IAM role is not assumable by Lambda for some seconds. */
  deployIam: { attempts: 9, baseMs: 2000, maxMs: 16_000 },
} as const satisfies Record<string, RetryPolicy>;

export interface RetryOptions {
  /** False: give up at once with this error (default: every error is retriable). */
  retriable?: (err: unknown) => boolean;
  /** A minimum wait the failure asks for (e.g. HTTP Retry-After), honoured up to the policy's maxMs. */
  waitAtLeastMs?: (err: unknown) => number | undefined;
  /** Called before each retry. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Stops retrying (the pending wait included); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Epoch ms: a retry whose wait would end at or after it is not made; the promise rejects with RetryBudgetSpent
   * (its `cause` the last error). For a time budget that covers attempts and waits together.
   */
  deadline?: number;
}

/** The retries' time budget (`RetryOptions.deadline`) would be spent by the next wait; `cause` is the last error. */
export class RetryBudgetSpent extends Error {
  constructor(cause: unknown) {
    super(`retry budget spent: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'RetryBudgetSpent';
  }
}

/** Thrown by `withRetry` callers' `fn` to stop at once; `withRetry` rejects with `cause`. */
export { AbortError as StopRetrying };

/**
 * Runs `fn(attempt)` (attempt counts from 1) until it resolves, an error is not retriable, or `policy.attempts` are
 * used; rejects with the last error.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  fn: (attempt: number) => Promise<T>,
  opts: RetryOptions = {},
): Promise<T> {
  return pRetry(fn, {
    retries: Math.max(0, policy.attempts - 1),
    minTimeout: policy.baseMs,
    maxTimeout: policy.maxMs,
    factor: 2,
    randomize: true,
    signal: opts.signal,
    // p-retry waits `retryDelay` after this callback: top it up to what the failure asked for.
    onFailedAttempt: async ({ error, attemptNumber, retriesLeft, retryDelay }) => {
      if (retriesLeft === 0 || (opts.retriable && !opts.retriable(error))) return;
      const asked = Math.min(opts.waitAtLeastMs?.(error) ?? 0, policy.maxMs);
      if (opts.deadline !== undefined && Date.now() + Math.max(retryDelay, asked) >= opts.deadline) {
        throw new RetryBudgetSpent(error);
      }
      opts.onRetry?.(error, attemptNumber, Math.max(retryDelay, asked));
      if (asked > retryDelay) await abortableDelay(asked - retryDelay, opts.signal);
    },
    shouldRetry: ({ error }) => !opts.retriable || opts.retriable(error),
  });
}

function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/**
 * The AWS SDK v3 retry strategy for `policy`: the SDK's standard mode (its error classification: throttling,
 * transient and 5xx errors retried; its retry quota; Retry-After hints) with our attempts and delays:
 * full jitter over min(maxMs, baseMs·2ⁿ⁻¹), so throttling is retried from baseMs, not from the SDK's 500 ms.
 */
export function sdkRetryStrategy(policy: RetryPolicy, random: () => number = Math.random): ConfiguredRetryStrategy {
  return new ConfiguredRetryStrategy(policy.attempts, (attempt) =>
    Math.round(Math.max(1, random() * Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1)))),
  );
}

/**
 * `sdkRetryStrategy` for clients of rate-limited providers (SNS SMS, SES): transient errors are retried as usual, but a
 * throttling answer is handed straight to the caller (the SDK's retry middleware rethrows the last error when the
 * strategy refuses a retry token). The Deliverer then waits for the provider's shared rate (shared/notify/rate.ts) and
 * its own backoff and counts the throttle; eight quick SDK retries at 25 ms–1 s would only be throttled again, outside
 * the shared rate, and hide the throttle from the report.
 */
export function providerRetryStrategy(
  policy: RetryPolicy,
  random: () => number = Math.random,
): ConfiguredRetryStrategy {
  return new (class extends ConfiguredRetryStrategy {
    override async refreshRetryTokenForRetry(
      token: Parameters<ConfiguredRetryStrategy['refreshRetryTokenForRetry']>[0],
      errorInfo: Parameters<ConfiguredRetryStrategy['refreshRetryTokenForRetry']>[1],
    ) {
      if (errorInfo.errorType === 'THROTTLING') throw new Error('throttling is left to the caller');
      return super.refreshRetryTokenForRetry(token, errorInfo);
    }
  })(policy.attempts, (attempt) =>
    Math.round(Math.max(1, random() * Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1)))),
  );
}

/**
 * Resubmits the unprocessed part of a DynamoDB batch call until nothing is left, under `policy`
 * (DynamoDB "BatchWriteItem": "If DynamoDB returns any unprocessed items, you should retry the batch operation on
 * those items … we strongly recommend that you use an exponential backoff algorithm"). `send` receives the pending
 * requests and returns those still unprocessed. Throws UnprocessedError when the policy's attempts are used.
 */
export async function drainUnprocessed<R>(
  policy: RetryPolicy,
  initial: R[],
  send: (pending: R[]) => Promise<R[]>,
  what: string,
): Promise<void> {
  let pending = initial;
  if (pending.length === 0) return;
  await withRetry(
    policy,
    async () => {
      pending = await send(pending);
      if (pending.length > 0) throw new UnprocessedError(what, pending.length, policy.attempts);
    },
    { retriable: (err) => err instanceof UnprocessedError },
  ); // the SDK already retried the call's own errors
}

export class UnprocessedError extends Error {
  readonly remaining: number;
  constructor(what: string, remaining: number, attempts: number) {
    super(`${what}: ${remaining} items still unprocessed after ${attempts} attempts`);
    this.name = 'UnprocessedError';
    this.remaining = remaining;
  }
}
