/**
 * One webhook batch POST with retries: JSON body `{"notifications":[…]}`, signed, with a per-batch Idempotency-Key,
 * a hard timeout per attempt (AbortSignal.timeout), and exponential backoff with full jitter between attempts.
 *
 * Retried: timeouts, connection errors, 5xx, 408 and 429 (after Retry-After when given, capped at backoffMaxMs). Not retried: other 4xx (the receiver rejects the content;
 * repeating it cannot help) and 3xx (redirects are not followed: they could lead to an address the guard refused).
 * Uses the global fetch (undici) whose default agent keeps connections alive and opens as many per origin as there are
 * requests in flight; the caller bounds that number.
 */
import { sleep } from '../segments/concurrency.ts';
import { batchIdempotencyKey, sign } from './signature.ts';
import type { Notification } from './types.ts';

export interface PostOptions {
  timeoutMs: number;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
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

type Attempt = { ok: true; status: number } | { ok: false; retriable: boolean; reason: string; retryAfterMs?: number };

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
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Attempt> {
  let res: Response;
  try {
    const timeout = AbortSignal.timeout(timeoutMs);
    res = await fetch(url, {
      method: 'POST',
      body,
      headers,
      redirect: 'manual',
      signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      return { ok: false, retriable: true, reason: `timeout after ${timeoutMs} ms` };
    }
    const detail = e.cause?.code ?? e.cause?.message ?? e.message;
    return { ok: false, retriable: true, reason: `connection error: ${detail}` };
  }
  // Drain the body so the connection returns to the pool.
  await res.arrayBuffer().catch(() => undefined);
  if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
  const retriable = res.status >= 500 || res.status === 408 || res.status === 429;
  return {
    ok: false,
    retriable,
    reason: `HTTP ${res.status}`,
    retryAfterMs: retryAfterMs(res.headers.get('retry-after')),
  };
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
  let firstFailureAt: number | undefined;
  const deadline = opts.budgetMs !== undefined ? Date.now() + opts.budgetMs : Number.POSITIVE_INFINITY;
  const aborted = (n: number) => ({
    ok: false as const,
    attempts: n,
    reason: `aborted: ${String(opts.signal?.reason?.message ?? opts.signal?.reason ?? 'by the caller')}`,
    firstFailureAt: firstFailureAt ?? Date.now(),
    aborted: true,
  });
  for (let n = 1; ; n++) {
    if (opts.signal?.aborted) return aborted(n - 1);
    const left = deadline - Date.now();
    const r = await attempt(target, body, headers, Math.max(1, Math.min(opts.timeoutMs, left)), opts.signal);
    if (r.ok) return { ok: true, attempts: n, status: r.status, firstFailureAt };
    if (opts.signal?.aborted) return aborted(n);
    firstFailureAt ??= Date.now();
    if (!r.retriable || n >= opts.maxAttempts) return { ok: false, attempts: n, reason: r.reason, firstFailureAt };
    const backoff = Math.random() * Math.min(opts.backoffMaxMs, opts.backoffBaseMs * 2 ** (n - 1));
    // A receiver's Retry-After (429/503) is honoured up to backoffMaxMs: an alert cannot wait minutes.
    const asked = 'retryAfterMs' in r && r.retryAfterMs !== undefined ? Math.min(r.retryAfterMs, opts.backoffMaxMs) : 0;
    const pause = Math.max(backoff, asked);
    if (Date.now() + pause >= deadline) {
      return {
        ok: false,
        attempts: n,
        reason: `${r.reason}; target budget of ${opts.budgetMs} ms spent after ${n} attempt(s)`,
        firstFailureAt,
      };
    }
    await sleep(pause);
  }
}
