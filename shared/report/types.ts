/**
 * The data of one event report (issue 17): everything the HTML page draws, as plain JSON. `buildReportData` makes it
 * from what the system records; the browser code (`client.ts`) draws it; tests assert on it. Times are seconds after
 * the event's origin time unless a name ends in `At` (epoch ms); distances are kilometres.
 */

/**
 * Warning-time classes of a subscriber: S arrival − delivery, seconds. `after-s`: notified after the S wave (the
 * blind zone); `missing`: eligible but never notified. Bounds in `WARNING_CLASS_BOUNDS_S`.
 */
export type WarningClass = 'after-s' | 'under-5s' | 'under-15s' | 'over-15s' | 'missing';

export const WARNING_CLASSES: readonly WarningClass[] = ['after-s', 'under-5s', 'under-15s', 'over-15s', 'missing'];

/** Lower bounds (s of warning) of the delivered classes: below 0 is `after-s`. */
export const WARNING_CLASS_BOUNDS_S = { underFive: 0, underFifteen: 5, overFifteen: 15 } as const;

/** Where a subscriber's delivery time comes from. */
export type DeliveryTimeSource =
  /** The local drill receiver's first receipt of the notification. */
  | 'receiver'
  /** No receiver (AWS): the time the subscriber's work unit finished (its lock's last write), an upper bound. */
  | 'unit-done';

export interface SubscriberPoint {
  id: string;
  lat: number;
  lon: number;
  hypocentralKm: number;
  /** Predicted MMI at the site (the event's intensity model). */
  mmi: number;
  channel: string;
  /** Work unit (index into `units`) whose plan segment holds the subscriber; -1 when unknown. */
  unit: number;
  /** Delivery, seconds after origin; null when not delivered (or not known). */
  deliveredS: number | null;
  /** S arrival at the site (ak135 first arrival), seconds after origin. */
  sArrivalS: number;
  /** sArrivalS − deliveredS; null when not delivered. */
  warningS: number | null;
  cls: WarningClass;
}

export interface UnitRow {
  index: number;
  key: string;
  segments: number;
  /** Epicentral distance of the unit's nearest and farthest segment (nearest point of the cell). */
  minKm: number;
  maxKm: number;
  /** Subscribers in the unit when planned (0: unknown). */
  planned: number;
  /** From the unit's lock: notifications acknowledged, sent to the delivery DLQ, eligible; state; acquisitions. */
  delivered: number;
  failed: number;
  eligible: number;
  state: string;
  attempts: number;
  /** The lock's last write (the unit's completion once done), seconds after origin. */
  doneS: number | null;
  /** From the points of this unit: first/last delivery (s after origin) and share notified before S. */
  firstS: number | null;
  lastS: number | null;
  beforeSShare: number | null;
}

export interface ChannelRow {
  channel: string;
  eligible: number;
  delivered: number;
  missing: number;
  firstS: number | null;
  lastS: number | null;
  beforeSShare: number | null;
}

export interface VersionRow {
  /** `latest`, `planned`, `previous` (older records), or a run of the ledger: `run <revision> (<alert|cancel>)`. */
  role: string;
  updatedAt: number;
  magnitude: number;
  magType: string;
  lat: number;
  lon: number;
  depthKm: number;
  status: string;
  source: string;
  sourceIds: string[];
}

/** This event's DLQ messages, grouped by queue, message kind and reason. */
export interface DlqRow {
  queue: string;
  kind: string;
  /** What the messages are (decoded kind) and why they are there (reason, error message). */
  message: string;
  reason: string;
  messages: number;
  notifications: number;
  /** Earliest and latest time SQS received one of them (epoch ms). */
  firstSentAt: number | null;
  lastSentAt: number | null;
}

export interface ColdRow {
  function: string;
  invocations: number;
  /** Invocations whose REPORT line carries an Init Duration (a new execution environment). */
  cold: number;
  maxInitMs: number | null;
  /** Cold invocations that started before the event's first delivery: the first notification's path was cold. */
  coldBeforeFirst?: number;
}

/** One intensity band of the footprint: the area where the predicted MMI reaches `mmi`, as a GeoJSON polygon. */
export interface IntensityBand {
  mmi: number;
  polygon: GeoJsonPolygon;
}

export interface GeoJsonPolygon {
  type: 'Polygon';
  coordinates: number[][][];
}

/** A plan segment's H3 cell, for the map without subscriber points (live console). */
export interface CellShape {
  unit: number;
  /** Ring of [lon, lat]. */
  ring: number[][];
  /** done, running, failed or pending, from the unit's lock. */
  state: string;
  /** Warning class at the cell's nearest point when its unit finished (lock's last write); null until done. */
  cls: WarningClass | null;
}

export interface TravelCurvePoint {
  hypocentralKm: number;
  pS: number;
  sS: number;
}

export interface ReportData {
  generatedAt: number;
  eventId: string;
  drill: boolean;
  quake: {
    magnitude: number;
    magType: string;
    place: string;
    lat: number;
    lon: number;
    depthKm: number;
    originTime: number;
    source: string;
  };
  intensityModel: string;
  state: string;
  revision: number | null;
  strategy: string | null;
  radiusKm: number | null;
  minMmi: number | null;
  acceptedAt: number | null;
  /** Acceptance by the producer − origin: the network's detection and publication delay. */
  detectionDelayS: number | null;
  firstDeliveryS: number | null;
  lastDeliveryS: number | null;
  /** Epicentral radius inside which the S wave arrived before the first delivery. */
  blindZoneKm: number | null;
  deliveryTimes: DeliveryTimeSource;
  totals: {
    /** Eligible: recomputed from the subscribers of the plan's segments (null when they were not read). */
    eligible: number | null;
    /** The pipeline's own counters (events table item). */
    countedEligible: number;
    countedDelivered: number;
    countedFailed: number;
    /** Distinct subscribers notified (receiver) or counted delivered (sender). */
    delivered: number;
    missing: number | null;
    duplicates: number | null;
    beforeS: number | null;
    beforeSShare: number | null;
  };
  /** Points drawn: every subscriber, or an even sample when there are more than `maxPoints`. */
  points: SubscriberPoint[];
  pointsTotal: number;
  /** Class counts over all subscribers (not only the sample). */
  classCounts: Record<WarningClass, number>;
  bands: IntensityBand[];
  curves: TravelCurvePoint[];
  cells: CellShape[];
  units: UnitRow[];
  channels: ChannelRow[];
  versions: VersionRow[];
  /** Networks that reported the event (producer's record), and its retraction if every one withdrew it. */
  sources: string[];
  retraction: { source: string; reason: string; updatedAt: number } | null;
  dlq: DlqRow[];
  cold: ColdRow[] | null;
  notes: string[];
}
