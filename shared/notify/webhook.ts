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
import { withRetry } from '../infra/retry.ts';
import { PrivateTargetError, TargetGuard } from './address.ts';
import { batchIdempotencyKey, sign } from './signature.ts';
import type { Notification } from './types.ts';

export interface PostOptions {
  timeoutMs: number;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Decides where connections may go; default: private targets refused, system DNS. */
  guard?: TargetGuard;
  /** Ends the retries (and the attempt in flight) at once, e.g. at a batch deadline. */
  signal?: AbortSignal;
}

export type PostResult =
  | { ok: true; attempts: number; status: number; firstFailureAt?: number }
  | { ok: false; attempts: number; reason: string; firstFailureAt: number };

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

export function encodeBatch(notifications: readonly Notification[], secret: string | undefined) {
  const body = JSON.stringify({ notifications });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'idempotency-key': batchIdempotencyKey(notifications.map((n) => n.id)),
  };
  if (secret) headers['x-quake-signature'] = sign(body, secret);
  return { body, headers };
}

async function attempt(
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: PostOptions,
  guard: TargetGuard,
): Promise<number> {
  let res: Awaited<ReturnType<typeof fetch>>;
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  try {
    res = await fetch(url, {
      method: 'POST',
      body,
      headers,
      redirect: 'manual',
      dispatcher: guard.dispatcher,
      signal: opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout,
    });
  } catch (err) {
    const e = err as Error & { cause?: Error & { code?: string } };
    if (e.cause instanceof PrivateTargetError) throw new AttemptError(e.cause.message, false);
    if (opts.signal?.aborted) throw new AttemptError(`stopped: ${String(opts.signal.reason)}`, false);
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      throw new AttemptError(`timeout after ${opts.timeoutMs} ms`, true);
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
  try {
    const status = await withRetry(
      { attempts: opts.maxAttempts, baseMs: opts.backoffBaseMs, maxMs: opts.backoffMaxMs },
      async (n) => {
        attempts = n;
        try {
          return await attempt(target, body, headers, opts, guard);
        } catch (err) {
          firstFailureAt ??= Date.now();
          throw err;
        }
      },
      {
        retriable: (err) => err instanceof AttemptError && err.retriable,
        // A receiver's Retry-After (429/503) is honoured up to backoffMaxMs: an alert cannot wait minutes.
        waitAtLeastMs: (err) => (err instanceof AttemptError ? err.retryAfterMs : undefined),
        signal: opts.signal,
      },
    );
    return { ok: true, attempts, status, firstFailureAt };
  } catch (err) {
    const reason = err instanceof AttemptError ? err.message : `stopped: ${(err as Error)?.message ?? String(err)}`;
    return { ok: false, attempts, reason, firstFailureAt: firstFailureAt ?? Date.now() };
  }
}
