import type { DeliveryItem, DeliveryResult } from '../notify/types.ts';
import type { ReadPageOptions, ScanPageOptions, SegmentPage } from '../segments/types.ts';
import type { AlertThresholds } from '../seismo/alert.ts';

/** Payload of a segment-worker invocation (functions contract). `revision`/`resume` are the worker's own additions. */
export interface WorkerPayload {
  eventId: string;
  /** Which of the P chains this is (0..P-1): only for logs. */
  chain: number;
  /** Invocations before this one in the chain (the domino's step). */
  hop: number;
  /** Plan revision the chain works for; absent = the current one. */
  revision?: number;
  /** A work unit (index) handed over mid-way by the predecessor: acquire it first and resume from its cursor. */
  resume?: number;
  /**
   * The plan item's key (`planKey` of the event record) as the starter saw it: the worker reads the plan beside the
   * event instead of after it, and uses it only if the event still names it (otherwise it reads the event's own).
   */
  planKey?: string;
}

/** `hop-limit`: the chain reached `maxHops` and parked its payload in the worker DLQ instead of invoking again. */
export type WorkerOutcome = 'exhausted' | 'handed-off' | 'stale' | 'complete' | 'no-plan' | 'hop-limit';

export interface WorkerResult {
  outcome: WorkerOutcome;
  /** Work units (runs of nearest-first shards) this invocation finished. */
  segments: number;
  /** Work units taken over from an expired lease. */
  takeovers: number;
  eligible: number;
  delivered: number;
  failed: number;
  /** True when this invocation marked the event complete. */
  completedEvent: boolean;
}

/** What the worker reads subscribers with (shared/segments `SubscriberStore` fits). */
export interface SubscriberReader {
  readSegmentPage(key: string, opts?: ReadPageOptions): Promise<SegmentPage>;
  scanPages(opts: ScanPageOptions): Promise<SegmentPage>;
}

export interface WorkerLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** Everything the loop touches, passed in (the handler wires the real ones; tests may pass their own clock). */
export interface WorkerDeps {
  events: import('../events/store.ts').EventStore;
  locks: import('../locks/segment-lock.ts').LockStore;
  subscribers: SubscriberReader;
  /**
   * Delivers a batch; rejects with the signal's reason once `signal` aborts (the worker lost its lease while the
   * batch was out).
   */
  deliver(items: DeliveryItem[], opts?: { signal?: AbortSignal }): Promise<DeliveryResult>;
  /**
   * A chain past `maxHops` (a domino that never ends: a bug, or an event far beyond one machine's throughput) parks its
   * payload here (the worker DLQ) with the reason, for an operator to look at and redrive.
   */
  parkChain?(payload: WorkerPayload, reason: string): Promise<void>;
  /** Invocations one chain may chain; the payload's `hop` reaching it parks the chain (default 50). */
  maxHops?: number;
  /** Starts the next link of the chain (Lambda async invoke of the segment worker). */
  invokeSuccessor(payload: WorkerPayload): Promise<void>;
  /** Milliseconds this invocation has left (context.getRemainingTimeInMillis). */
  remainingMs(): number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Unique per invocation: the lock owner. */
  owner: string;
  leaseMs: number;
  /** Subscribers read per batch (one or more pages, across a unit's small shards) = per delivery and checkpoint. */
  pageSize: number;
  /** Hand over to a successor when fewer than this many ms remain. */
  reserveMs: number;
  thresholds?: AlertThresholds;
  /**
   * Which completed fan-outs' rates the completing invocation records (shared/fanout/rate.ts; default
   * `DEFAULT_RATE_RULE`: 10,000 eligible subscribers over at least 1 s).
   */
  rateRule?: import('./rate.ts').RateRule;
  /** fanout.alertProbability: alert when P(MMI ≥ the subscriber's threshold) ≥ this (default 0.3). */
  alertProbability?: number;
  log?: WorkerLog;
  /** Counted into metrics by the handler. */
  onMetric?(name: string, value: number): void;
  /**
   * Called after each batch was delivered and before its checkpoint: the worst moment to die (test hook for crashing a
   * worker mid-segment: the batch in flight is delivered again by the next holder, under the same keys).
   */
  afterDeliver?(info: { segment: string; batches: number }): void | Promise<void>;
  /**
   * Deliver an urgent unit of a geo plan in S-arrival order per subscriber, the whole unit sorted (worker.ts
   * `processSorted`; default true). False: in key order, each batch sorted on its own (the order before; kept so the
   * benchmark measures both in one run).
   */
  sortUrgentUnits?: boolean;
}

/** The part of Lambda's `context` the functions use (no @types/aws-lambda dependency for three fields). */
export interface LambdaContext {
  awsRequestId: string;
  functionName?: string;
  getRemainingTimeInMillis(): number;
}
