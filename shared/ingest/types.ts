import type { RetractOutcome } from '../events/store.ts';
import type { Quake } from '../quake/types.ts';

/** Producer invocation payload (functions contract). */
export interface ProducerPayload {
  /** Feed documents in any format shared/quake's `parseFeed` reads: raw text, or decoded JSON. */
  documents?: (string | object)[];
  /** Already normalized quakes (validated again). */
  quakes?: unknown[];
  /** Retractions `{id, source, reason?, updatedAt?}` (shared/quake `Retraction`), beside those parsed from documents. */
  retractions?: unknown[];
  /** Marks every event of this payload as a drill. */
  drill?: boolean;
  /** Scheduled mode: poll the configured feeds until the time budget runs low. */
  poll?: boolean;
}

export interface ProducerResult {
  /** Canonical ids produced to quakes.events. */
  accepted: string[];
  /** Inputs that could not become a Quake: `index` is the position in documents, then quakes (documents first). */
  rejected: { index: number; reason: string }[];
  /** Versions dropped because the same or a newer one was already produced. */
  superseded: number;
  /** Inputs merged into another source's event (their canonical id is the other's). */
  associated: number;
  /** Retractions received, each with what became of it (see shared/events `RetractOutcome`). */
  retracted?: { id: string; source: string; eventId?: string; outcome: RetractOutcome | 'unknown' }[];
}

/** Value of a quakes.events record: one version of an event. */
export interface EventMessage {
  schema: 1;
  /** Absent in records written before retractions existed: a version. */
  kind?: 'version';
  quake: Quake;
  acceptedAt: number;
}

/** Value of a quakes.events record that withdraws an event (key = canonical id, header `kind: retraction`). */
export interface RetractionMessage {
  schema: 1;
  kind: 'retraction';
  eventId: string;
  drill: boolean;
  retraction: { source: string; reason: string; updatedAt: number };
  acceptedAt: number;
}

export const EVENT_SCHEMA = 1;
