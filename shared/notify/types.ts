/** Notifications (system.md section 8): one per (event, subscriber, level), its id the idempotency key. */
import type { Channel } from '../segments/types.ts';

/** Levels that produce a notification (seismo's `alertLevel` minus 'none'). */
export type NotifyLevel = 'take-action' | 'be-aware';

export interface Notification {
  /** `eventId:subscriberId:level`: the idempotency key receivers de-duplicate on. */
  id: string;
  subscriberId: string;
  eventId: string;
  /** True for every notification of a simulated event: its text starts with the DRILL banner. */
  drill: boolean;
  level: NotifyLevel;
  /** Predicted intensity at the subscriber, one decimal. */
  mmi: number;
  /** Epicentral distance, one decimal. */
  distanceKm: number;
  /** S-wave arrival minus the time the notification was built, one decimal; negative once shaking has begun. */
  secondsUntilShaking: number;
  magnitude: number;
  place: string;
  /** Epoch ms. */
  originTime: number;
  text: string;
  /** The locale the text was written in ('en', 'ro'). */
  locale: string;
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
}

/** Body of a delivery DLQ message: everything needed to redrive, never the channel secret. */
export interface DeliveryDlqMessage {
  kind: 'delivery';
  reason: string;
  /** Webhook URL (credentials and query stripped) or `kafka:<topic>`. */
  target: string;
  eventId: string;
  attempts: number;
  /** Epoch ms of the first failed attempt. */
  firstFailureAt: number;
  notifications: Notification[];
}
