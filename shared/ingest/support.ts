/** Small pieces the poller, the listener and the forwarders share: logging shape, sleeps, backoff. */

/** The logging shape ingestion needs; Powertools' Logger and the CLI's stderr logger both fit. */
export interface IngestLog {
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
}

export const silentLog: IngestLog = { info() {}, warn() {} };

/** Resolves after `ms`, or at once when `signal` aborts (never rejects: callers check `signal.aborted`). */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  random?: () => number;
}

/**
 * Exponential backoff with "equal jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"): half the capped
 * exponential delay, plus a random part of the other half, so many clients dropped at once do not return in step
 * while none retries immediately.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}): number {
  const initial = opts.initialMs ?? 1_000;
  const max = opts.maxMs ?? 60_000;
  const factor = opts.factor ?? 2;
  const random = opts.random ?? Math.random;
  const capped = Math.min(max, initial * factor ** Math.max(0, attempt));
  return Math.round(capped / 2 + random() * (capped / 2));
}
