/**
 * Errors of real-time ingestion, in the quakectl family (shared/infra/errors.ts): each says whether trying again can
 * help, so the poller, the listener and the forwarders decide retries from the class, not from message text.
 */
import { QuakectlError, ServiceUnavailableError, ValidationError } from '../infra/errors.ts';

/** A feed did not answer in time, refused the connection, or answered 408/425/429/5xx: the next poll may succeed. */
export class FeedUnavailableError extends ServiceUnavailableError {
  readonly url: string;
  readonly status: number | undefined;
  /** From a `Retry-After` header: the feed asked not to be polled again before this many ms. */
  readonly retryAfterMs: number | undefined;
  constructor(url: string, message: string, options?: ErrorOptions & { status?: number; retryAfterMs?: number }) {
    super('feed', message, options);
    this.name = 'FeedUnavailableError';
    this.url = url;
    this.status = options?.status;
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** A feed answered with a client error (400, 401, 403, 404…): the URL or query is wrong; polling again will not help. */
export class FeedRequestError extends QuakectlError {
  readonly url: string;
  readonly status: number;
  constructor(url: string, status: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FeedRequestError';
    this.url = url;
    this.status = status;
  }
}

/** A feed answered 200 with a body no parser reads (an HTML error page, a truncated document). */
export class FeedFormatError extends ValidationError {
  readonly url: string;
  constructor(url: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FeedFormatError';
    this.url = url;
  }
}

/** Forwarding to the producer failed. `retriable` is decided by the forwarder (throttled, timed out, Kafka down…). */
export class ForwardError extends QuakectlError {
  override readonly retriable: boolean;
  constructor(message: string, options?: ErrorOptions & { retriable?: boolean }) {
    super(message, options);
    this.name = 'ForwardError';
    this.retriable = options?.retriable ?? true;
  }
}

/** True when retrying the operation that threw `err` can help (unknown errors count as retriable: network blips). */
export function isRetriable(err: unknown): boolean {
  if (err instanceof QuakectlError) return err.retriable;
  return true;
}

/** HTTP statuses worth retrying: timeouts, too early, throttling and server errors. */
export function retriableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * Kafka refused the produce after the producer had accepted the versions in the events table (`published = false`):
 * nothing is lost — the producer's sweep (`republishStranded`) publishes them once Kafka answers, and `quakectl
 * status` lists them — but the caller must hear which ids are waiting.
 */
export class UnpublishedError extends QuakectlError {
  readonly eventIds: string[];
  constructor(eventIds: string[], options?: ErrorOptions) {
    const cause = (options?.cause as Error | undefined)?.message;
    super(
      `Kafka did not take ${eventIds.length} accepted event(s): ${eventIds.join(', ')}` +
        `${cause ? ` (${cause})` : ''}. They are kept unpublished in the events table and published by the ` +
        "producer's sweep once Kafka answers; `quakectl status` lists them.",
      options,
    );
    this.name = 'UnpublishedError';
    this.eventIds = eventIds;
  }
}
