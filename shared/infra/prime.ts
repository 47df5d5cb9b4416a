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
 * A priming step makes the requests the first alert will make, so that nothing is written: reads (a GetItem of a
 * missing event, a few real items of the events table, a real shard's first page), conditional writes whose condition
 * no item meets (the error path the claims take: `PRIME_REVISION`), a Lambda `DryRun` invoke, an SQS GetQueueUrl; and
 * runs the pure code of the alert path (intensity, travel time, notification, signature) on a synthetic quake.
 *
 * Priming never fails init: every step's error is recorded, not thrown (a service that is down at init is reported
 * by the first real request, with its own retries), and the whole is bounded by `timeoutMs` (steps still waiting are
 * left to finish in the background; CPU work stops between slices). It runs only in environments Lambda initialises
 * for provisioned concurrency (`shouldPrime`): an on-demand environment would pay for it inside the invocation that
 * needs it. The profile's `deploy.prime: false` turns it off everywhere (QUAKECTL_PRIME=false in the functions'
 * environment), to measure what it saves.
 */

/**
 * What a step's CPU work checks between its slices: `slice()` yields to the event loop (so the bound's timer and the
 * other steps' I/O run) and rejects with PrimeTimeUp once the time is up, which ends the step.
 */
export interface PrimeContext {
  slice(): Promise<void>;
}

/** One priming step: what it touches, and the call. Its result is ignored; its error is expected for some steps. */
export interface PrimeStep {
  readonly name: string;
  run(ctx: PrimeContext): unknown;
}

export interface PrimeReport {
  /** Wall time of the priming, ms: at most `timeoutMs` plus one slice of a step's CPU work. */
  ms: number;
  /**
   * Per step that answered: ms to its answer, and `name: message` of its error (expected for the conditional writes;
   * a service that is down shows here with its own message).
   */
  steps: Record<string, { ms: number; error?: string }>;
  /** Names of the steps that had not answered when the time ran out (not started, still waiting, or stopped). */
  unfinished: string[];
}

/**
 * Times a request step is made (`primeRepeated`): a first alert's reads and conditional writes then run in code V8 has
 * seen a few times rather than once (with one call each, a fresh environment's steps took 1.5–3x their warm time:
 * docs/fanout-benchmark.md, "The cold path, step by step").
 */
export const PRIME_REPEAT = 3;

/**
 * `call` made `times` times one after the other, `ctx.slice()` between them (the priming's time bound); the earlier
 * calls' failures are ignored, the last one's is the step's.
 */
export async function primeRepeated(
  call: () => Promise<unknown>,
  ctx: PrimeContext,
  times: number = PRIME_REPEAT,
): Promise<void> {
  for (let i = 0; i < times - 1; i++) {
    await call().catch(() => {});
    await ctx.slice();
  }
  await call();
}

/** Default bound on priming, ms: well inside Lambda's 10 s init limit. */
export const DEFAULT_PRIME_TIMEOUT_MS = 3000;

/** Thrown by `PrimeContext.slice` once the priming's time is up. */
export class PrimeTimeUp extends Error {
  constructor() {
    super('priming time is up');
    this.name = 'PrimeTimeUp';
  }
}

/** A thrown value that is not an Error, as text (`[object Object]` says nothing). */
function describe(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs the steps concurrently and reports each one's time and error. Never throws. Resolves when every step answered
 * or `timeoutMs` after the start, whichever comes first: the timer is armed before any step starts, every step starts
 * on a later turn of the event loop, and steps with CPU work call `ctx.slice()` between slices, so a step can hold
 * priming past the bound by one slice at most (the heaviest: one synthetic quake's plan, ~0.25 s of CPU cold). Steps
 * still waiting for I/O are left to finish in the background.
 */
export async function primeEnvironment(
  steps: readonly PrimeStep[],
  opts: { timeoutMs?: number; now?: () => number } = {},
): Promise<PrimeReport> {
  const now = opts.now ?? (() => performance.now());
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PRIME_TIMEOUT_MS;
  const start = now();
  const report: PrimeReport = { ms: 0, steps: {}, unfinished: [] };
  let timeUp = false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      timeUp = true;
      resolve();
    }, timeoutMs);
  });
  const expired = () => timeUp || now() - start >= timeoutMs;
  const ctx: PrimeContext = {
    async slice() {
      await nextTurn();
      if (expired()) throw new PrimeTimeUp();
    },
  };
  const pending = new Set(steps.map((s) => s.name));
  const runs = steps.map(async (step) => {
    await nextTurn();
    if (expired()) return;
    const t0 = now();
    try {
      await step.run(ctx);
      report.steps[step.name] = { ms: Math.round(now() - t0) };
      pending.delete(step.name);
    } catch (err) {
      if (err instanceof PrimeTimeUp) return;
      const error = (err instanceof Error ? `${err.name}: ${err.message}` : describe(err)).slice(0, 300);
      report.steps[step.name] = { ms: Math.round(now() - t0), error };
      pending.delete(step.name);
    }
  });
  await Promise.race([Promise.all(runs), timeout]);
  clearTimeout(timer);
  report.unfinished = steps.map((s) => s.name).filter((n) => pending.has(n));
  report.ms = Math.round(now() - start);
  return report;
}

/**
 * Whether this environment should prime: the profile allows it (`QUAKECTL_PRIME`, deploy.prime) and Lambda initialises
 * it for provisioned concurrency (`AWS_LAMBDA_INITIALIZATION_TYPE`, Lambda developer guide, "Defined runtime
 * environment variables"). An on-demand environment initialises inside the invocation that needs it: priming there
 * would only delay that invocation's own first requests.
 */
export function shouldPrime(primeSetting: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return primeSetting && env.AWS_LAMBDA_INITIALIZATION_TYPE === 'provisioned-concurrency';
}

/**
 * The event id, segment key and cell priming reads: no feed we poll uses this form, and no H3 cell is `quakectl-prime`.
 * A pushed payload may still carry any id, so priming's conditional writes never rely on the id being absent: they use
 * `PRIME_REVISION` or a condition that holds for no item.
 */
export const PRIME_EVENT_ID = 'quakectl-prime-0000';
/**
 * The plan revision priming's refused claims name: plan revisions start at 1 (shared/events/store.ts `savePlan`), so a
 * claim at revision 0 is refused by its condition even where an event with the prime id exists, and adds nothing.
 */
export const PRIME_REVISION = 0;
export const PRIME_SEGMENT = 'quakectl-prime#0';
export const PRIME_CELL = 'quakectl-prime';
