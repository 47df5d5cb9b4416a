/** The events table's item (shared/infra/tables.ts `events`): one per canonical quake id. */
import type { Quake } from '../quake/types.ts';

export type EventState = 'planned' | 'running' | 'complete' | 'skipped' | 'retracted';

/** What a run sends: the version's alerts, or (after a retraction) the cancellation of alerts already sent. */
export type RunMode = 'alert' | 'cancel';

/**
 * One plan revision of an event, as the notification ledger needs it (shared/fanout/ledger.ts): which version it
 * alerted for and which plan (and so which unit locks) it ran. Appended by `savePlan`, never changed.
 */
export interface RunRecord {
  revision: number;
  planKey: string;
  /** The version this run alerted for (for `cancel`: the version alerted last). */
  quake: Quake;
  mode: RunMode;
  strategy: 'geo' | 'scan';
}

/** A network's withdrawal of the event, as the producer recorded it. */
export interface RetractionRecord {
  source: string;
  reason: string;
  /** The network's time of the retraction, epoch ms. */
  updatedAt: number;
  /** When the producer accepted it, epoch ms. */
  acceptedAt: number;
}

export interface EventRecord {
  eventId: string;
  /** The latest version seen (producer or consumer). */
  quake: Quake;
  /** `quake.updatedAt` of the latest version the producer accepted: later versions only may pass. */
  updatedAt: number;
  /** Epoch ms the producer accepted that version (stamped on the Kafka message too). */
  acceptedAt?: number;
  /** False between the producer's version write and its acknowledged produce (a retry may then send it again). */
  published?: boolean;
  /** `updatedAt` of the latest version the consumer handled: a redelivered Kafka record is recognized by it. */
  handledUpdatedAt?: number;
  /** The version the current plan alerts for. */
  plannedQuake?: Quake;
  /** Older records only: the version alerted before (the ledger's `runs` replaced it). */
  previousQuake?: Quake;
  /** Every plan revision so far, oldest first: the notification ledger reads what earlier runs covered from it. */
  runs?: RunRecord[];
  /** `cancel` once the event was retracted and its cancellation run planned. */
  mode?: RunMode;
  /** Sources that reported this event (producer, ADD on every accepted or superseded version). */
  sources?: Set<string>;
  /** Sources that withdrew their report; when it covers `sources`, the event is retracted. */
  retractedSources?: Set<string>;
  /** Set once every reporting source withdrew the event: no version is accepted after it. */
  retractedAt?: number;
  retraction?: RetractionRecord;
  /** False between the producer's retraction write and its acknowledged produce. */
  retractionPublished?: boolean;
  /** 1 for the first plan, +1 per re-plan; segment workers of an older revision stop. */
  revision?: number;
  state?: EventState;
  reason?: string;
  strategy?: 'geo' | 'scan';
  /** Key of the plan item (`getPlan`): the plan is kept out of this item, which every chain writes. */
  planKey?: string;
  /** Records saved before plan items only: segment keys, nearest first, and the distance of each from the epicentre. */
  plan?: string[];
  planDistancesKm?: number[];
  /** Subscribers per plan segment when planned (0: unknown, e.g. scan). */
  planCounts?: number[];
  /** Start index in `plan` of each work unit (shared/fanout `groupUnits`); `total` counts units. */
  units?: number[];
  radiusKm?: number;
  minMmi?: number;
  total?: number;
  /** Next unit index to claim (atomic ADD); past `total` the chains sweep and stop. */
  nextIndex?: number;
  /**
   * Work items 0..directItems-1 are each begun by chain c at hop 0 without a claim (min(chains, total)); the claim
   * counter numbers the items after them. Absent in events planned before it: the front's pieces.
   */
  directItems?: number;
  doneCount?: number;
  /** Units counted into doneCount: makes "unit done" idempotent when a worker dies after counting. */
  doneUnits?: Set<number>;
  /** Plans saved before work units: segment keys counted (read by nothing now; removed on re-plan). */
  doneSegments?: Set<string>;
  eligible?: number;
  delivered?: number;
  failed?: number;
  plannedAt?: number;
  firstDeliveryAt?: number;
  lastDeliveryAt?: number;
  completedAt?: number;
  /** Chains started (P). */
  chains?: number;
}

/** The plan item of one event version (events table, key `<eventId>#plan#<updatedAt>`), immutable once written. */
export interface EventPlan {
  /** Segment keys, nearest first. */
  plan: string[];
  /** Distance from the epicentre to each segment's cell (nearest point), same order. */
  planDistancesKm: number[];
  /** Subscribers per segment when planned (0: unknown). */
  planCounts: number[];
  /** Start index in `plan` of each work unit. */
  units: number[];
  /** The near-field front (shared/fanout `FanoutFront`): absent in plans without one and in older plan items. */
  front?: { units: number; pieces: number; lateBefore: number };
}

/** The lock namespace of one plan revision: locks of an older plan never block a newer one. */
export function runId(eventId: string, revision: number): string {
  return revision <= 1 ? eventId : `${eventId}~r${revision}`;
}
