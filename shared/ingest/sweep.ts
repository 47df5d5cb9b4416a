/**
 * The producer's sweep of stranded versions (`republishStranded`: accepted versions and retractions whose Kafka send
 * never completed), at most once per interval per execution environment, and what a failed sweep does to the
 * environment's Kafka connection.
 */
import kafkajs from 'kafkajs';
import type { SweepResult } from './produce.ts';

// kafkajs is CommonJS and spreads its error classes into `module.exports`: Node's own ESM loader (the CLI, any
// unbundled run) does not see them as named exports (`import { KafkaJSError }` is a SyntaxError there; only esbuild
// and vitest accept it), so the class is read off the default export.
const { KafkaJSError } = kafkajs;

/** Default interval between two sweeps of one environment: the Scan reads the whole events table. */
export const SWEEP_EVERY_MS = 60_000;

/**
 * True when `err` came from the Kafka client: whatever a producer's `connect` or `send` rejects with is a
 * `KafkaJSError` subclass (connection, request timeout, protocol errors; the retrier wraps the last one in
 * `KafkaJSNumberOfRetriesExceeded`, anything non-retriable in `KafkaJSNonRetriableError`); the name test also covers
 * `KafkaJSAggregateError` (admin calls only, a plain `Error`). The connection may then be broken and must not be
 * reused. Errors that wrap one as their `cause` count too (`UnpublishedError`: the producer's send failed). A DynamoDB
 * error (the Scan, the `published` marks, identity) says nothing about the connection.
 */
export function isKafkaFailure(err: unknown): boolean {
  // The cause chain, a few links deep (a cycle of causes must not loop).
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof KafkaJSError || e.name.startsWith('KafkaJS')) return true;
  }
  return false;
}

export interface StrandedSweeperDeps<P> {
  /** The environment's shared producer connection (connecting it when there is none). */
  connect(): Promise<P>;
  /**
   * Forgets `broken` as the shared connection (when it still is: see `dropIfCurrent`) and closes it; the next
   * `connect` opens a new one. Not called when `connect` itself failed: there is no connection to close. A rejection
   * is ignored.
   */
  dropConnection(broken: P): Promise<void>;
  /** One sweep on `producer` (`republishStranded` bound to the environment's events table and topic). */
  sweep(producer: P): Promise<SweepResult>;
  log?: { warn(msg: string, fields?: Record<string, unknown>): void };
  /** Minimum milliseconds between two sweeps; default SWEEP_EVERY_MS. */
  everyMs?: number;
  now?: () => number;
}

/**
 * Runs the sweep at most once per `everyMs` (a call inside the interval returns `[]` without reading anything).
 * Never throws: a failed sweep is logged (`sweep of stranded events failed`) and tried again at the next interval,
 * since the invocation's own events were already sent or reported. When the sweep's send failed in Kafka
 * (`isKafkaFailure`) the connection it used is dropped and closed; a DynamoDB failure (the
 * Scan, the marks) leaves the connection that concurrent polls of the same invocation are using; a failed connect
 * leaves nothing to close.
 *
 * Returns the event ids republished (`SweepResult.republished`).
 */
export class StrandedSweeper<P> {
  readonly #deps: StrandedSweeperDeps<P>;
  #last = Number.NEGATIVE_INFINITY;

  constructor(deps: StrandedSweeperDeps<P>) {
    this.#deps = deps;
  }

  async run(): Promise<string[]> {
    const now = (this.#deps.now ?? Date.now)();
    if (now - this.#last < (this.#deps.everyMs ?? SWEEP_EVERY_MS)) return [];
    this.#last = now;
    let producer: P | undefined;
    try {
      producer = await this.#deps.connect();
      return (await this.#deps.sweep(producer)).republished;
    } catch (err) {
      const kafka = isKafkaFailure(err);
      if (kafka && producer !== undefined) await this.#deps.dropConnection(producer).catch(() => {});
      this.#deps.log?.warn('sweep of stranded events failed', {
        error: err instanceof Error ? err.message : String(err),
        kafka,
      });
      return [];
    }
  }
}

/** The environment's shared connection as `dropIfCurrent` sees it: the memoised connect promise, if any. */
export interface ConnectionSlot<P> {
  current(): Promise<P> | undefined;
  clear(): void;
}

/**
 * A `dropConnection` for a memoised connect promise: clears the slot only when it still resolves to `broken` (a
 * concurrent poll may have dropped it and opened a new one meanwhile, which stays), then closes `broken`. When the slot
 * holds a connect still in progress, waits for it to settle before comparing.
 */
export async function dropIfCurrent<P extends { disconnect(): Promise<void> }>(
  slot: ConnectionSlot<P>,
  broken: P,
): Promise<void> {
  const current = slot.current();
  if (current && (await current.catch(() => undefined)) === broken && slot.current() === current) slot.clear();
  await broken.disconnect();
}
