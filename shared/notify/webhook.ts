/**
 * One webhook batch POST with retries: JSON body `{"notifications":[…]}`, signed, with a per-batch Idempotency-Key,
 * a hard timeout per attempt (AbortSignal.timeout), retried under the webhook policy of shared/infra/retry.ts.
 *
 * Retried: timeouts, connection errors, 5xx, 408 and 429 (after Retry-After when given, capped at backoffMaxMs). Not
 * retried: other 4xx (the receiver rejects the content; repeating it cannot help), 3xx (redirects are not followed:
 * they could lead to an address the guard refused) and a connection refused by the private-address guard.
 * Requests go through the guard's undici dispatcher, which checks the address each new connection is made to
 * (address.ts); it keeps connections alive and opens as many per origin as there are requests in flight, which the
 * caller bounds.
 */
import { fetch } from 'undici';
import { RetryBudgetSpent, withRetry } from '../infra/retry.ts';
import { PrivateTargetError, TargetGuard } from './address.ts';
import { batchIdempotencyKey, sign, standardHeaders } from './signature.ts';
import type { Notification } from './types.ts';

export interface PostOptions {
  timeoutMs: number;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Decides where connections may go; default: private targets refused, system DNS. */
  guard?: TargetGuard;
  /**
   * The target's whole time budget for this batch, attempts and backoff included: a slow or hanging target gives up
   * after it instead of holding the batch (and its lease) for maxAttempts × timeoutMs plus backoff.
   */
  budgetMs?: number;
  /** Aborts the post at once (the worker lost its lease): the result is a failure with `aborted: true`. */
  signal?: AbortSignal;
}

export type PostResult =
  | { ok: true; attempts: number; status: number; firstFailureAt?: number }
  | { ok: false; attempts: number; reason: string; firstFailureAt: number; aborted?: boolean };

/** One failed attempt: why, whether another can help, and how long the receiver asked us to wait. */
class AttemptError extends Error {
  readonly retriable: boolean;
  readonly retryAfterMs: number | undefined;
  constructor(reason: string, retriable: boolean, retryAfterMs?: number) {
    super(reason);
    this.name = 'AttemptError';
    this.retriable = retriable;
    this.retryAfterMs = retryAfterMs;
  }
}

let defaultGuard: TargetGuard | undefined;

/** Retry-After in seconds (HTTP-date is not worth the parsing here); undefined when absent or unusable. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const s = Number(header);
  return Number.isFinite(s) && s >= 0 ? s * 1000 : undefined;
}

/**
 * Body and headers of one batch. Signed (a secret given): the Standard Webhooks headers, whose `webhook-id` is the
 * batch's idempotency key (the same on every retry and redrive of the same batch, as the spec asks) and whose
 * timestamp is `now` (epoch ms; retries within one post reuse it, well inside the receivers' ±5 min tolerance), plus
 * the legacy `X-Quake-Signature`, kept for one minor version (signature.ts).
 */
export function encodeBatch(notifications: readonly Notification[], secret: string | undefined, now = Date.now()) {
  const body = JSON.stringify({ notifications });
  const key = batchIdempotencyKey(notifications.map((n) => n.id));
  const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': key };
  if (secret) {
    Object.assign(headers, standardHeaders(key, body, secret, now));
    headers['x-quake-signature'] = sign(body, secret);
  }
  return { body, headers };
}

async function attempt(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  guard: TargetGuard,
): Promise<number> {
  let res: Awaited<ReturnType<typeof fetch>>;
  try {
    const timeout = AbortSignal.timeout(timeoutMs);
    res = await fetch(url, {
      method: 'POST',
      body,
      headers,
      redirect: 'manual',
      dispatcher: guard.dispatcher,
      signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
    });
  } catch (err) {
    const e = err as Error & { cause?: Error & { code?: string } };
    if (e.cause instanceof PrivateTargetError) throw new AttemptError(e.cause.message, false);
    if (signal?.aborted) throw new AttemptError('aborted', false);
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      throw new AttemptError(`timeout after ${timeoutMs} ms`, true);
    }
    throw new AttemptError(`connection error: ${e.cause?.code ?? e.cause?.message ?? e.message}`, true);
  }
  // Drain the body so the connection returns to the pool.
  await res.arrayBuffer().catch(() => undefined);
  if (res.status >= 200 && res.status < 300) return res.status;
  const retriable = res.status >= 500 || res.status === 408 || res.status === 429;
  throw new AttemptError(`HTTP ${res.status}`, retriable, retryAfterMs(res.headers.get('retry-after')));
}

/**
 * fetch refuses URLs carrying credentials (WHATWG Fetch); a target written `https://user:pass@host/…` means HTTP
 * Basic authentication, so move them into an Authorization header.
 */
function withoutUserInfo(url: string, headers: Record<string, string>): string {
  const u = new URL(url);
  if (!u.username && !u.password) return url;
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  u.username = '';
  u.password = '';
  return u.toString();
}

export async function postBatch(
  url: string,
  notifications: readonly Notification[],
  secret: string | undefined,
  opts: PostOptions,
): Promise<PostResult> {
  const { body, headers } = encodeBatch(notifications, secret);
  const target = withoutUserInfo(url, headers);
  defaultGuard ??= new TargetGuard({ allowPrivate: false });
  const guard = opts.guard ?? defaultGuard;
  let firstFailureAt: number | undefined;
  let attempts = 0;
  const deadline = opts.budgetMs !== undefined ? Date.now() + opts.budgetMs : undefined;
  const aborted = () => ({
    ok: false as const,
    attempts,
    reason: `aborted: ${String(opts.signal?.reason?.message ?? opts.signal?.reason ?? 'by the caller')}`,
    firstFailureAt: firstFailureAt ?? Date.now(),
    aborted: true,
  });
  try {
    const status = await withRetry(
      { attempts: opts.maxAttempts, baseMs: opts.backoffBaseMs, maxMs: opts.backoffMaxMs },
      async (n) => {
        attempts = n;
        const left = deadline === undefined ? opts.timeoutMs : deadline - Date.now();
        try {
          return await attempt(target, body, headers, Math.max(1, Math.min(opts.timeoutMs, left)), opts.signal, guard);
        } catch (err) {
          firstFailureAt ??= Date.now();
          throw err;
        }
      },
      {
        retriable: (err) => err instanceof AttemptError && err.retriable,
        // A receiver's Retry-After (429/503) is honoured up to backoffMaxMs: an alert cannot wait minutes.
        waitAtLeastMs: (err) => (err instanceof AttemptError ? err.retryAfterMs : undefined),
        deadline,
        signal: opts.signal,
      },
    );
    return { ok: true, attempts, status, firstFailureAt };
  } catch (err) {
    if (opts.signal?.aborted) return aborted();
    if (err instanceof RetryBudgetSpent) {
      return {
        ok: false,
        attempts,
        reason: `${(err.cause as Error).message}; target budget of ${opts.budgetMs} ms spent after ${attempts} attempt(s)`,
        firstFailureAt: firstFailureAt ?? Date.now(),
      };
    }
    const reason = err instanceof AttemptError ? err.message : `failed: ${(err as Error)?.message ?? String(err)}`;
    return { ok: false, attempts, reason, firstFailureAt: firstFailureAt ?? Date.now() };
  }
}
