/**
 * The normalized earthquake event every part of quakectl shares (system.md section 3). Parsers produce it, the
 * producer associates and versions it, the consumer predicts intensity from it. Times are epoch milliseconds (UTC).
 */

/** Review state as the networks publish it (USGS sends `reviewed` or `automatic`, older feeds in upper case). */
export type QuakeStatus = 'automatic' | 'reviewed';

/**
 * The network's event type, lower-cased: 'earthquake', 'quarry blast', 'explosion', 'ice quake', 'unknown'…, or
 * 'not reported' (QuakeML 1.2's word) when the feed gives none. Explicit non-earthquake types are kept but never
 * alerted; 'unknown' and 'not reported' mean "possibly an earthquake" and are (see `isAlertable`).
 */
export type QuakeKind = string;

/**
 * The publisher, not the format, lower-cased: 'usgs' (USGS GeoJSON), 'emsc' (EMSC websocket and FDSN JSON), an FDSN
 * text row's Catalog/Contributor/Author ('emsc-rts', 'us', 'gns'), a QuakeML event's agencyID ('niep'); 'drill' for
 * simulations. docs/ingest.md lists where each format's comes from.
 */
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
  /** Kilometres below sea level, −10..800 (negative: above sea level). 10 when the feed gave none (`depthKnown`). */
  depthKm: number;
  /**
   * False when the feed gave no depth and `depthKm` is the networks' usual fixed depth for an unconstrained solution
   * (10 km), not a measurement. Absent means measured.
   */
  depthKnown?: boolean;
  /**
   * False when the feed carries no update time (FDSN text): `updatedAt` is then the origin time as parsed, and the
   * producer stamps the version with the time it received it, so solutions of one quake from different servers are
   * ordered by when they were published, not by their origin times. Absent: the feed's own update time.
   */
  updatedAtKnown?: boolean;
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
export type FeedFormat = 'usgs-geojson' | 'usgs-feature' | 'emsc-ws' | 'emsc-json' | 'fdsn-text' | 'quakeml';

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

/** What one feed item became: an event, a retraction of one, or a rejection with its reason. */
export type ItemOutcome =
  | { kind: 'quake'; quake: Quake }
  | { kind: 'retraction'; retraction: Retraction }
  | { kind: 'rejection'; reason: string };

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
  /**
   * "Now" in epoch ms for the origin-time checks (an origin more than `MAX_ORIGIN_LEAD_MS` ahead of it is refused) and
   * for a retraction without its own time. Default `Date.now()`.
   */
  now?: number;
  /**
   * The server the document came from (a host name such as `service.geonet.org.nz`): the `source` of FDSN text rows
   * and QuakeML events that name no agency. Default: 'fdsn'.
   */
  server?: string;
}
