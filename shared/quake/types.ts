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

export interface ParseResult {
  accepted: Quake[];
  rejected: Rejection[];
}

export interface ParseOptions {
  /** Skip detection and parse as this format. */
  format?: FeedFormat;
  /** Mark every accepted event as a drill. */
  drill?: boolean;
}
