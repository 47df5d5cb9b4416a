/** Notifications (system.md section 8): one per (event, subscriber, level), its id the idempotency key. */
import type { Channel } from '../segments/types.ts';

/** Levels that produce a notification (seismo's `alertLevel` minus 'none'). */
export type NotifyLevel = 'take-action' | 'be-aware';

/**
 * When, relative to the S wave at the subscriber, the notification was built (shared/notify/build.ts `shakingPhase`):
 * `warning` before the S arrival, `under-way` up to a minute after it (strong shaking lasts tens of seconds), `after`
 * later — the text then says what happened instead of "shaking in N s".
 */
export type ShakingPhase = 'warning' | 'under-way' | 'after';

/** `alert`: a version's alert; `cancel`: the network withdrew the event, the alerts sent for it are withdrawn. */
export type NotificationKind = 'alert' | 'cancel';

export interface Notification {
  /**
   * The idempotency key receivers de-duplicate on: `eventId:subscriberId:level` for an alert (one per level reached),
   * `eventId:subscriberId:cancel` for the cancellation.
   */
  id: string;
  kind: NotificationKind;
  subscriberId: string;
  eventId: string;
  /** True for every notification of a simulated event: its text starts with the DRILL banner. */
  drill: boolean;
  /** The level reached (an alert), or the highest level that was sent and is now withdrawn (a cancellation). */
  level: NotifyLevel;
  /** Predicted intensity at the subscriber, one decimal. */
  mmi: number;
  /** Epicentral distance, one decimal. */
  distanceKm: number;
  /** S-wave arrival minus `builtAt`, one decimal; negative once shaking has begun. */
  secondsUntilShaking: number;
  magnitude: number;
  place: string;
  /** Epoch ms. */
  originTime: number;
  text: string;
  /** The locale the text was written in ('en', 'ro'). */
  locale: string;
  /** See `ShakingPhase`; for a cancellation, the phase when it was built. */
  phase: ShakingPhase;
  /** Epoch ms the notification (and its text) was built: a redrive builds it again. */
  builtAt: number;
}

/** A notification and where it goes. */
export interface DeliveryItem {
  notification: Notification;
  channel: Channel;
}

export interface DeliveryResult {
  /** Ids acknowledged by their channel (2xx for webhooks, acked produce for Kafka, written for log). */
  delivered: string[];
  /** Ids not delivered: each of them is in a DLQ message. */
  failed: string[];
  /** DLQ messages sent. */
  dlq: number;
  /** Why the `failed` ids failed, per batch (always set with `park: false`). */
  failures?: { reason: string; ids: string[] }[];
  /**
   * Ids among `failed` whose subscriber is gone (Telegram 403: the bot was blocked): not retried and not parked, since
   * a redrive would be refused the same way; the subscriber should be removed.
   */
  gone?: string[];
  /**
   * Alerts not sent because the S wave had passed more than the channel's grace when their turn came and the
   * channel's late policy is `drop` (config.ts channelsSchema): neither delivered nor parked, each with why.
   */
  dropped?: { id: string; reason: string }[];
  /** Throttling answers from providers that were waited out (or, past the budget, parked). */
  throttled?: number;
}

/** Body of a delivery DLQ message: everything needed to redrive, never the channel secret. */
export interface DeliveryDlqMessage {
  kind: 'delivery';
  reason: string;
  /**
   * Webhook URL (credentials and query stripped), `kafka:<topic>`, or a redacted per-notification target
   * (`telegram:…123`, `sms:+4072…67`, `email:a…@example.org`, `push:https://push.example/…AbC`; targets.ts).
   */
  target: string;
  eventId: string;
  attempts: number;
  /** Epoch ms of the first failed attempt. */
  firstFailureAt: number;
  notifications: Notification[];
}
