/** Notifications (system.md section 8): building, localized text, signing, and delivery with a DLQ behind it. */
export {
  checkedLookup,
  isPrivateAddress,
  type Lookup,
  PrivateTargetError,
  privateAddressReason,
  systemLookup,
  type TargetCheck,
  TargetGuard,
  targetDispatcher,
} from './address.ts';
export {
  buildCancellation,
  buildNotification,
  type NotificationFacts,
  notificationId,
  rebuildForNow,
  shakingPhase,
  UNDER_WAY_S,
} from './build.ts';
export type { ChannelSender, ChannelSenders, PerNotificationChannel, SendOutcome } from './channel.ts';
export { Deliverer, type DelivererOptions } from './deliverer.ts';
export { DeliveryError } from './errors.ts';
export {
  batchIdempotencyKey,
  IDEMPOTENCY_HEADER,
  SIGNATURE_HEADER,
  type StandardVerdict,
  secretProblem,
  sign,
  signingKey,
  signStandard,
  standardHeaders,
  TIMESTAMP_TOLERANCE_S,
  verifySignature,
  verifyStandard,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from './signature.ts';
export { createTelemetry, METRICS_NAMESPACE, redactUrl } from './telemetry.ts';
export {
  cancellationText,
  DRILL_BANNER,
  notificationText,
  TEXT_LOCALES,
  type TextFacts,
  type TextLocale,
  textLocale,
} from './text.ts';
export type { DeliveryDlqMessage, DeliveryItem, DeliveryResult, Notification, NotifyLevel } from './types.ts';
export { encodeBatch, type PostOptions, type PostResult, postBatch } from './webhook.ts';
