/**
 * Subscribers as stored and read by segment (system.md section 5). A subscriber lives in exactly one segment
 * `<h3 cell>#<shard>` of the subscribers table; the segments table counts them per shard.
 */
import { z } from 'zod';
import { secretProblem } from '../notify/signature.ts';
import { channelTargetProblem } from '../notify/targets.ts';

export const CHANNEL_TYPES = ['webhook', 'kafka', 'log', 'telegram', 'push', 'sms', 'email'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

export const channelSchema = z.object({
  type: z.enum(CHANNEL_TYPES),
  /**
   * webhook: an http(s) URL; kafka: a free-form routing hint for the downstream gateway; log: a label; telegram: a
   * chat id (integer, negative for groups) or `@channelusername`; push: a browser PushSubscription as JSON
   * (`{"endpoint","keys":{"p256dh","auth"}}`, W3C Push API); sms: an E.164 phone number; email: an address.
   * Checked by shared/notify/targets.ts (`channelTargetProblem`).
   */
  target: z.string().min(1).max(4096),
  /**
   * HMAC-SHA256 key of a webhook channel: `whsec_<base64 of 24–64 bytes>` (Standard Webhooks) or a plain secret used
   * as its UTF-8 bytes (shared/notify/signature.ts). Never logged, never sent to a DLQ.
   */
  secret: z
    .string()
    .min(1)
    .max(512)
    .superRefine((secret, ctx) => {
      const problem = secretProblem(secret);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
});

export type Channel = z.infer<typeof channelSchema>;

export const subscriberSchema = z
  .object({
    id: z
      .string()
      .min(1)
      .max(200)
      // `#` and `:` separate the parts of segment keys and notification ids.
      .regex(/^[^#:\s]+$/, 'must not contain "#", ":" or whitespace'),
    lat: z.number().min(-90).max(90),
    lon: z.number().min(-180).max(180),
    /** The subscriber's own threshold: notified when the predicted MMI at their location reaches it. */
    minMmi: z.number().min(1).max(10).default(3),
    channel: channelSchema,
    /** BCP 47 tag; notification text falls back to English for languages without a translation. */
    locale: z.string().min(2).max(35).default('en'),
  })
  .superRefine((s, ctx) => {
    const problem = channelTargetProblem(s.channel.type, s.channel.target);
    if (problem) ctx.addIssue({ code: 'custom', path: ['channel', 'target'], message: problem });
  });

export type Subscriber = z.infer<typeof subscriberSchema>;
/** What callers may pass in: defaults (minMmi, locale) filled by validation. */
export type SubscriberInput = z.input<typeof subscriberSchema>;

/** One shard of one cell, as the segments table records it. `key` is the subscribers table's hash key. */
export interface SegmentRef {
  cell: string;
  shard: number;
  count: number;
  key: string;
  /**
   * Where the shard's subscribers are: the res-7 cells (cells.ts `AREA_RESOLUTION`) holding at least one of them, as
   * recorded when they were written (a superset after removals and moves; `resegment` makes it exact). Absent for a
   * shard written before areas were recorded: the planner then uses the whole res-5 cell.
   */
  area?: readonly string[];
}

export interface SegmentPage {
  items: Subscriber[];
  /** JSON of DynamoDB's LastEvaluatedKey; absent on the last page. */
  cursor?: string;
}

export interface ReadPageOptions {
  cursor?: string;
  limit?: number;
}

export interface ScanPageOptions {
  /** Scan segment index 0..totalSegments-1 (DynamoDB parallel Scan). */
  segment: number;
  totalSegments: number;
  cursor?: string;
  limit?: number;
}

export interface UpsertOptions {
  /**
   * Skip the bySubscriber lookup of where each id lives now: only for bulk loads into a table known to hold none of
   * these ids (benchmarks). Re-running such a load duplicates subscribers; the default path is idempotent.
   */
  assumeNew?: boolean;
  /** Current segments already looked up (`locate`), e.g. once for a whole import split into chunks. */
  locations?: ReadonlyMap<string, string>;
}

export interface UpsertResult {
  /** Subscribers written for the first time. */
  inserted: number;
  /** Existing ids rewritten in place (same cell). */
  updated: number;
  /** Existing ids whose location moved them to another cell (old item deleted). */
  moved: number;
  /** Inputs that failed validation, with reasons (the rest are written). */
  rejected: { index: number; id?: string; reason: string }[];
}

export interface SegmentStats {
  subscribers: number;
  cells: number;
  segments: number;
  largest?: SegmentRef;
  /** Subscribers per cell, largest first. */
  perCell: { cell: string; shards: number; count: number }[];
  maxSegmentSize: number;
  /** Shards above maxSegmentSize (need `resegment`). */
  overfull: number;
  /**
   * Cells `resegment` would lay out again (store.ts `needsLayout`): over-full or surplus shards, shards written before
   * areas were recorded, or shards whose areas overlap (no longer compact in space).
   */
  toLayOut: number;
}

export interface ResegmentResult {
  cellsChanged: number;
  /** Subscribers rewritten to another shard of their cell. */
  moved: number;
  /** Shards created by splits. */
  created: number;
  /** Shards removed by merges. */
  removed: number;
}
