/**
 * One simulation end to end, shared by `simulate` and `drill`: send, follow every accepted event, then build each
 * report from the event record, the receiver's receipts (when a sink listens) and an independent census of who had to
 * be notified.
 */
import type { EventRecord } from '../events/types.ts';
import type { Clients } from '../infra/clients.ts';
import type { ResourceNames } from '../infra/names.ts';
import type { ProducerPayload, ProducerResult } from '../ingest/index.ts';
import type { Quake } from '../quake/types.ts';
import type { SubscriberStore } from '../segments/index.ts';
import { intensityModelFor } from '../seismo/intensity.ts';
import { buildReport, type DrillReport } from './report.ts';
import { followEvent, footprintCensus, SimulateError, sendDirect, sendViaProducer } from './simulate.ts';

/** What the run needs from a receiver (local/webhook-sink.ts provides it). */
export interface ReceiverView {
  /** Base URL subscribers' webhooks point at when they are routed to this receiver. */
  url?: string;
  receipts(): { notification: { eventId: string; subscriberId: string }; receivedAt: number }[];
  duplicates(): number;
}

export interface ProgressUpdate {
  eventId: string;
  record: EventRecord | undefined;
  elapsedMs: number;
  /** Notifications seen at the receiver so far (undefined without one). */
  received?: number;
}

export interface RunOptions {
  clients: Clients;
  names: ResourceNames;
  store: SubscriberStore;
  payload: ProducerPayload;
  direct?: boolean;
  wait?: boolean;
  timeoutMs?: number;
  receiver?: ReceiverView;
  onSent?: (result: ProducerResult) => void;
  onProgress?: (update: ProgressUpdate) => void;
  signal?: AbortSignal;
}

export interface RunResult {
  sent: ProducerResult;
  reports: DrillReport[];
}

export async function runSimulation(opts: RunOptions): Promise<RunResult> {
  const { clients, names } = opts;
  const sent = opts.direct
    ? await sendDirect(clients, names, opts.payload)
    : await sendViaProducer(clients, names, opts.payload);
  opts.onSent?.(sent);
  if (sent.accepted.length === 0) {
    const why = sent.rejected.map((r) => `#${r.index}: ${r.reason}`).join('; ');
    throw new SimulateError(
      `the producer accepted no event${why ? ` (${why})` : sent.superseded ? ' (already sent: superseded)' : ''}`,
    );
  }
  if (!opts.wait) return { sent, reports: [] };
  const duplicatesBefore = opts.receiver?.duplicates() ?? 0;
  const receivedFor = (eventId: string) =>
    opts.receiver?.receipts().filter((r) => r.notification.eventId === eventId).length;
  const records = await Promise.all(
    sent.accepted.map((eventId) =>
      followEvent(clients, names, eventId, {
        timeoutMs: opts.timeoutMs,
        signal: opts.signal,
        onProgress: (record, elapsedMs) =>
          opts.onProgress?.({ eventId, record, elapsedMs, received: receivedFor(eventId) }),
      }),
    ),
  );
  const reports: DrillReport[] = [];
  for (const [i, eventId] of sent.accepted.entries()) {
    const record = records[i];
    const quake = (record?.plannedQuake ?? record?.quake) as Quake | undefined;
    if (!quake) {
      throw new SimulateError(`event ${eventId} never reached the events table: is the pipeline deployed?`);
    }
    // Who had to be alerted, counted without the plan: every subscriber within the radius where the lowest threshold
    // anyone may hold (MMI 1) is reached, so subscribers the plan's footprint missed show up as missed.
    const census = record
      ? await footprintCensus(opts.store, quake, censusRadiusKm(quake), opts.receiver?.url)
      : undefined;
    const receipts = opts.receiver
      ?.receipts()
      .filter((r) => r.notification.eventId === eventId)
      .map((r) => ({ subscriberId: r.notification.subscriberId, receivedAt: r.receivedAt }));
    reports.push(
      buildReport({
        eventId,
        quake,
        record,
        receipts,
        duplicates: opts.receiver ? opts.receiver.duplicates() - duplicatesBefore : undefined,
        eligibleSites: opts.receiver ? census?.eligible : undefined,
        subscribersInFootprint: census?.inFootprint,
      }),
    );
  }
  return { sent, reports };
}

/** The census radius: where the predicted MMI falls below 1, the lowest threshold a subscriber can hold. */
export function censusRadiusKm(quake: Quake): number {
  return intensityModelFor(quake).footprintRadiusKm(1);
}
