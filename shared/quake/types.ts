/**
 * The normalized earthquake event every part of quakectl shares (system.md section 3). Parsers produce it, the
 * producer associates and versions it, the consumer predicts intensity from it. Times are epoch milliseconds (UTC).
 */

/** Review state as the networks publish it (USGS sends `reviewed` or `automatic`, older feeds in upper case). */
export type QuakeStatus = 'automatic' | 'reviewed';

/**
 * The network's event type, lower-cased: 'earthquake', 'quarry blast', 'explosion', 'ice quake', 'other event'…
 * Only 'earthquake' is alertable (see `isAlertable`); the rest are kept but never alerted.
 */
export type QuakeKind = string;

/** Where an event came from: the feed family that published it ('usgs', 'emsc', 'fdsn', or 'drill' for simulations). */
export type QuakeSource = string;

export interface Quake {
  /** Stable across updates: the first id seen for this earthquake stays canonical after association. */
  id: string;
  /** The source of the canonical id. */
  source: QuakeSource;
  /** Every feed id associated with this event, the canonical id first (no duplicates). */
  sourceIds: string[];
  /** Origin time, epoch ms. */
  originTime: number;
  /** Degrees, −90..90. */
  lat: number;
  /** Degrees, −180..180 (180..360 is normalized on input). */
  lon: number;
  /** Kilometres below sea level, −10..800 (negative: above sea level). */
  depthKm: number;
  /** −2..10. */
  magnitude: number;
  /** Lower-cased magnitude type ('mww', 'ml', 'mb', 'md', 'm'…); '' when the feed leaves it out. */
  magType: string;
  /** Human-readable region; '' when the feed leaves it out. */
  place: string;
  /** Last update by the network, epoch ms; a newer value for the same id supersedes. */
  updatedAt: number;
  status: QuakeStatus;
  kind: QuakeKind;
  /** True for every simulated event, end to end: a drill is never delivered as real. */
  drill: boolean;
}

/** The feed formats `parseFeed` understands. */
export type FeedFormat = 'usgs-geojson' | 'usgs-feature' | 'emsc-ws' | 'fdsn-text';

/** One input item that could not become a Quake, with a reason naming the field and the value. */
export interface Rejection {
  /** Position of the item in the feed (feature index, message index, or data line index). */
  index: number;
  reason: string;
}

/**
 * A network's withdrawal of an event it published (USGS `status: "deleted"`, EMSC websocket `action: "delete"`,
 * QuakeML `evaluationStatus` `rejected` or event type `not existing`). Parsers emit it beside accepted quakes; the
 * producer maps `id` to the canonical event and publishes it as its own Kafka message kind (`kind: "retraction"`), and
 * the pipeline cancels the alerts already sent for that event.
 */
export interface Retraction {
  /** The id the network retracted, as that network publishes it (any of an event's `sourceIds`). */
  id: string;
  /** The publisher (same meaning as `Quake.source`). */
  source: QuakeSource;
  /** When the network retracted it, epoch ms (the deletion's own update time; the time of parsing when absent). */
  updatedAt: number;
  /** What the feed said, for logs and the operator: e.g. `usgs status "deleted"`, `emsc action "delete"`. */
  reason: string;
  drill: boolean;
}

export interface ParseResult {
  accepted: Quake[];
  rejected: Rejection[];
  /** Retractions of earlier events (absent or empty when the input holds none). */
  retracted?: Retraction[];
}

export interface ParseOptions {
  /** Skip detection and parse as this format. */
  format?: FeedFormat;
  /** Mark every accepted event as a drill. */
  drill?: boolean;
}
