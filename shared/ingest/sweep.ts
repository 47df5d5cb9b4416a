/**
 * The producer's sweep of stranded versions (`republishStranded`: accepted versions and retractions whose Kafka send
 * never completed), at most once per interval per execution environment, and what a failed sweep does to the
 * environment's Kafka connection.
 */
import { KafkaJSError } from 'kafkajs';
import type { SweepResult } from './produce.ts';

/** Default interval between two sweeps of one environment: the Scan reads the whole events table. */
export const SWEEP_EVERY_MS = 60_000;

/**
 * True when `err` came from the Kafka client (kafkajs throws subclasses of `KafkaJSError`: connection, request
 * timeout, retries exhausted, protocol errors): the environment's producer connection may be broken and must not be
 * reused. A DynamoDB error (the Scan, the `published` marks) says nothing about the connection.
 */
export function isKafkaFailure(err: unknown): boolean {
  return err instanceof KafkaJSError || (err instanceof Error && err.name.startsWith('KafkaJS'));
}

export interface StrandedSweeperDeps<P> {
  /** The environment's shared producer connection (connecting it when there is none). */
  connect(): Promise<P>;
  /**
   * Forgets `broken` as the shared connection (when it still is) and closes it; the next `connect` opens a new one.
   * Not called when `connect` itself failed: there is no connection to close.
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
 * (`isKafkaFailure`) the connection it used is dropped and closed, as a failed produce does; a DynamoDB failure (the
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
        error: (err as Error).message,
        kafka,
      });
      return [];
    }
  }
}
