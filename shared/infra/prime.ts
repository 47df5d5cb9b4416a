/**
 * Priming an execution environment during its init phase, so that the first alert it handles runs at warm speed.
 *
 * With provisioned concurrency, Lambda runs a function's init code (module scope, including a top-level await) before
 * any request reaches the environment (AWS Lambda developer guide, "Configuring provisioned concurrency"; AWS Compute
 * Blog, "Operating Lambda: Performance optimization – Part 1": work done in INIT does not add to the latency of a
 * provisioned environment's invocations). Creating the SDK clients there is not enough: the first request of each
 * client still resolves credentials and endpoints, opens its connection, and runs code V8 has not compiled yet. On
 * this project's local stack that made the first notification after a deploy 0.4–1.0 s from acceptance against
 * 0.14 s warm (docs/fanout-benchmark.md, "The cold path").
 *
 * A priming step makes the requests the first alert will make, on keys that cannot exist, so that nothing is written
 * and nothing is read that matters: a GetItem of a missing event, a conditional UpdateItem that fails its condition
 * (the error path the claims take), a Query of a missing segment, a Lambda `DryRun` invoke, an SQS GetQueueUrl; and
 * runs the pure code of the alert path (intensity, travel time, notification, signature) on a synthetic quake.
 *
 * Priming never fails init: every step's error is recorded, not thrown (a service that is down at init is reported
 * by the first real request, with its own retries), and the whole is bounded by `timeoutMs` (steps still running are
 * left to finish in the background). The profile's `deploy.prime: false` turns it off (QUAKECTL_PRIME=false in the
 * functions' environment), to measure what it saves.
 */

/** One priming step: what it touches, and the call. Its result is ignored; its error is expected for some steps. */
export interface PrimeStep {
  readonly name: string;
  run(): unknown;
}

export interface PrimeReport {
  /** Wall time of the priming, ms (at most about `timeoutMs`). */
  ms: number;
  /** Per step: ms to its answer, and the error's name when it failed (expected for the conditional writes). */
  steps: Record<string, { ms: number; error?: string }>;
  /** Names of the steps still running when the time ran out. */
  unfinished: string[];
}

/** Default bound on priming, ms: well inside Lambda's 10 s init limit for on-demand environments. */
export const DEFAULT_PRIME_TIMEOUT_MS = 3000;

/**
 * Runs the steps concurrently and reports each one's time and error (pure of side effects beyond the steps).
 * Never throws. Resolves when every step answered or after `timeoutMs`, whichever comes first.
 */
export async function primeEnvironment(
  steps: readonly PrimeStep[],
  opts: { timeoutMs?: number; now?: () => number } = {},
): Promise<PrimeReport> {
  const now = opts.now ?? (() => performance.now());
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PRIME_TIMEOUT_MS;
  const start = now();
  const report: PrimeReport = { ms: 0, steps: {}, unfinished: [] };
  const pending = new Set(steps.map((s) => s.name));
  const runs = steps.map(async (step) => {
    const t0 = now();
    try {
      await step.run();
      report.steps[step.name] = { ms: Math.round(now() - t0) };
    } catch (err) {
      report.steps[step.name] = { ms: Math.round(now() - t0), error: (err as Error)?.name ?? String(err) };
    } finally {
      pending.delete(step.name);
    }
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref?.();
  });
  await Promise.race([Promise.all(runs), timeout]);
  clearTimeout(timer);
  report.unfinished = [...pending];
  report.ms = Math.round(now() - start);
  return report;
}

/** The event id and segment key priming reads: no feed id has this form, and no H3 cell is `quakectl-prime`. */
export const PRIME_EVENT_ID = 'quakectl-prime-0000';
export const PRIME_SEGMENT = 'quakectl-prime#0';
