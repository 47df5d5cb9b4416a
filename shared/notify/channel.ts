/**
 * Channels that send one request per notification (telegram, push, sms, email) share one delivery path in the
 * Deliverer (deliverer.ts `deliverEach`): a send token from the provider's rate budget (rate.ts), a late check
 * (`latePolicy`), one `send`, and the outcome's classification — delivered, gone (the subscriber's address no longer
 * exists: not retried, not parked), throttled (waited for and sent again while the channel's time budget lasts, never
 * parked for that alone), or failed (parked in the delivery DLQ with the sender's reason).
 *
 * A sender owns its protocol only: the request, its own retries of transient errors, and the mapping of the
 * provider's answers to a `SendOutcome`. It never logs a target in full (`redact`).
 */
import type { ChannelType } from '../segments/types.ts';
import type { DeliveryItem } from './types.ts';

/** Channel types delivered one notification per request. */
export type PerNotificationChannel = Exclude<ChannelType, 'webhook' | 'kafka' | 'log'>;

export type SendOutcome =
  | {
      ok: true;
      attempts: number;
      /** Throttling answers (429, Throttling) the sender waited out before it succeeded. */
      throttled: number;
      /** The provider's id of what it accepted (SNS MessageId, SES MessageId, Telegram message_id), if any. */
      providerId?: string;
    }
  | {
      ok: false;
      /** The address no longer exists (Telegram 403, push 404/410, SES/SNS permanent refusal of the address). */
      gone: boolean;
      /** A later try may succeed (a redrive is worth it). */
      retriable: boolean;
      /**
       * The provider throttled this send and the sender did not wait it out: the Deliverer waits `retryAfterMs` (or
       * its own backoff) and sends again within the channel's time budget.
       */
      throttle?: { retryAfterMs?: number };
      /** Why, for the DLQ and logs: never the target in full, never a secret. */
      reason: string;
      attempts: number;
      throttled: number;
    };

export interface ChannelSender {
  readonly type: PerNotificationChannel;
  /** The rate budget the sends draw from (rate.ts), e.g. `telegram-bot`, `sns-sms`, `ses`, `web-push`. */
  readonly provider: string;
  /** The target as logs and DLQ messages show it: enough to tell subscribers apart, never the whole address. */
  redact(target: string): string;
  /** Sends one notification. Never throws: every failure is a `SendOutcome` with a reason. */
  send(item: DeliveryItem, signal?: AbortSignal): Promise<SendOutcome>;
}

/** Senders by channel type; a type without one is parked with the reason that no sender is configured. */
export type ChannelSenders = Partial<Record<PerNotificationChannel, ChannelSender>>;
