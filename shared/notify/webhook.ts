/**
 * One webhook batch POST with retries: JSON body `{"notifications":[…]}`, signed, with a per-batch Idempotency-Key,
 * a hard timeout per attempt (AbortSignal.timeout), and exponential backoff with full jitter between attempts.
 *
 * Retried: timeouts, connection errors, 5xx, 408 and 429. Not retried: other 4xx (the receiver rejects the content;
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
}

export type PostResult =
  | { ok: true; attempts: number; status: number; firstFailureAt?: number }
  | { ok: false; attempts: number; reason: string; firstFailureAt: number };

type Attempt = { ok: true; status: number } | { ok: false; retriable: boolean; reason: string };

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
): Promise<Attempt> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      body,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
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
  return { ok: false, retriable, reason: `HTTP ${res.status}` };
}

export async function postBatch(
  url: string,
  notifications: readonly Notification[],
  secret: string | undefined,
  opts: PostOptions,
): Promise<PostResult> {
  const { body, headers } = encodeBatch(notifications, secret);
  let firstFailureAt: number | undefined;
  for (let n = 1; ; n++) {
    const r = await attempt(url, body, headers, opts.timeoutMs);
    if (r.ok) return { ok: true, attempts: n, status: r.status, firstFailureAt };
    firstFailureAt ??= Date.now();
    if (!r.retriable || n >= opts.maxAttempts) return { ok: false, attempts: n, reason: r.reason, firstFailureAt };
    await sleep(Math.random() * Math.min(opts.backoffMaxMs, opts.backoffBaseMs * 2 ** (n - 1)));
  }
}
