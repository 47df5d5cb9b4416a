/**
 * Reads what the system recorded about one event and builds its report data: the events table item and its plan
 * item, the lock item of every work unit (per-unit counts and completion), the subscribers of the plan's segments
 * (who was eligible, where), this event's messages in the four DLQs (peeked, made visible again at once), and the
 * cold starts in the function logs during the event (REPORT lines with an Init Duration). Receipts come from the
 * caller (the local drill receiver); without them delivery times are the work units' completion times.
 */

import { getEvent, getPlan } from '../events/store.ts';
import type { EventRecord } from '../events/types.ts';
import { runId } from '../events/types.ts';
import { workKeys } from '../fanout/plan.ts';
import type { Clients } from '../infra/clients.ts';
import { errorMessage, QuakectlError } from '../infra/errors.ts';
import type { ResourceNames } from '../infra/names.ts';
import { getMany } from '../locks/batch.ts';
import { decodeMessage } from '../ops/dlq/decode.ts';
import { listDlqs, peek, resolveDlq } from '../ops/dlq/queues.ts';
import type { LogSource } from '../ops/logs/source.ts';
import { readLogs } from '../ops/logs/source.ts';
import type { SubscriberStore } from '../segments/store.ts';
import { buildReportData, type PlannedSubscriber, type ReportReceipt } from './build.ts';
import type { ColdRow, DlqRow, ReportData } from './types.ts';

/** The event id names no event in the events table. */
export class EventNotFoundError extends QuakectlError {
  constructor(eventId: string) {
    super(`no event "${eventId}" in the events table (quakectl status lists recent drills)`);
    this.name = 'EventNotFoundError';
  }
}

export interface GatherOptions {
  clients: Clients;
  names: ResourceNames;
  eventId: string;
  /** Read the plan's subscribers (default true); the live console leaves them out. */
  store?: SubscriberStore;
  receipts?: ReportReceipt[];
  duplicates?: number;
  /** Function logs for cold starts; undefined: not known. */
  logs?: LogSource;
  /** Peek the DLQs (default true). */
  dlq?: boolean;
  maxPoints?: number;
  now?: number;
  /** An already-read event record (the drill has it). */
  record?: EventRecord;
}

export async function gatherReport(opts: GatherOptions): Promise<ReportData> {
  const { clients, names, eventId } = opts;
  const events = { ddb: clients.ddb, table: names.table('events') };
  const record = opts.record ?? (await getEvent(events, eventId));
  if (!record) throw new EventNotFoundError(eventId);
  const notes: string[] = [];
  const plan = await getPlan(events, record);
  let locks: Awaited<ReturnType<typeof getMany>> | undefined;
  let subscribers: PlannedSubscriber[] | undefined;
  if (plan) {
    const keys = workKeys(plan.plan, plan);
    locks = await getMany(
      { ddb: clients.ddb, table: names.table('locks') },
      runId(eventId, record.revision ?? 1),
      keys,
    );
    if (opts.store && !plan.plan.some((k) => k.startsWith('scan#')))
      subscribers = await readPlanSubscribers(opts.store, plan.plan);
    else if (opts.store)
      notes.push('scan strategy: the plan names table scan segments, not cells; subscribers not read');
  }
  const [dlq, cold] = await Promise.all([
    opts.dlq === false
      ? Promise.resolve([])
      : eventDlqRows(clients, names, eventId).catch((err) => {
          notes.push(`DLQs not read: ${errorMessage(err)}`);
          return [];
        }),
    opts.logs
      ? coldStarts(opts.logs, names, record, opts.now ?? Date.now()).catch((err) => {
          notes.push(`function logs not read: ${errorMessage(err)}`);
          return null;
        })
      : Promise.resolve(null),
  ]);
  return buildReportData({
    eventId,
    record,
    plan,
    locks,
    subscribers,
    receipts: opts.receipts,
    duplicates: opts.duplicates,
    dlq,
    cold,
    maxPoints: opts.maxPoints,
    alertProbability: clients.config.fanout.alertProbability,
    now: opts.now,
    notes,
  });
}

/** Every subscriber of the plan's segments, 8 segments read at a time. */
export async function readPlanSubscribers(
  store: SubscriberStore,
  segments: readonly string[],
): Promise<PlannedSubscriber[]> {
  const out: PlannedSubscriber[] = [];
  const queue = [...segments];
  const worker = async () => {
    for (let key = queue.shift(); key; key = queue.shift()) {
      for (const s of await store.readSegment(key)) {
        out.push({
          id: s.id,
          lat: s.lat,
          lon: s.lon,
          minMmi: s.minMmi,
          channel: { type: s.channel.type },
          segment: key,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return out;
}

/**
 * Messages about this event in the DLQs (at most 500 per queue), decoded and grouped by queue, kind and reason: what
 * they are and why they are there.
 */
export async function eventDlqRows(clients: Clients, names: ResourceNames, eventId: string): Promise<DlqRow[]> {
  const rows = new Map<string, DlqRow>();
  for (const q of await listDlqs(clients.sqs, names)) {
    if (!q.exists || q.depth === 0) continue;
    const ref = await resolveDlq(clients.sqs, names, q.kind);
    for (const m of await peek(clients.sqs, ref.url, 500)) {
      const d = decodeMessage(m);
      if (!d.eventIds.includes(eventId)) continue;
      const reason = d.delivery?.reason ?? d.errorMessage ?? d.errorCode ?? '';
      const key = JSON.stringify([q.queue, d.kind, reason]);
      const row = rows.get(key) ?? {
        queue: q.queue,
        kind: q.kind,
        message: d.kind,
        reason,
        messages: 0,
        notifications: 0,
        firstSentAt: null,
        lastSentAt: null,
      };
      row.messages++;
      row.notifications += d.delivery?.notifications.length ?? 0;
      if (d.sentAt !== undefined) {
        row.firstSentAt = Math.min(row.firstSentAt ?? d.sentAt, d.sentAt);
        row.lastSentAt = Math.max(row.lastSentAt ?? d.sentAt, d.sentAt);
      }
      rows.set(key, row);
    }
  }
  return [...rows.values()];
}

const INIT = /Init Duration: ([\d.]+) ms/;
const DURATION = /\tDuration: ([\d.]+) ms/;

/** When the invocation of a REPORT line started (epoch ms): the line is written at its end. */
function startOf(l: { timestamp: number; message: string }): number {
  return l.timestamp - Number(DURATION.exec(l.message)?.[1] ?? 0) - Number(INIT.exec(l.message)?.[1] ?? 0);
}

/**
 * Invocations and cold starts of the consumer and the segment worker between acceptance and completion, from their
 * REPORT lines (Lambda's format; the emulator writes the same). Other events running at the same time count too.
 */
export async function coldStarts(
  logs: LogSource,
  names: ResourceNames,
  record: EventRecord,
  now: number,
): Promise<ColdRow[]> {
  const from = (record.acceptedAt ?? record.quake.updatedAt) - 1000;
  // Chains still sweeping when the event completes write their REPORT lines later: every invocation that started
  // before completion counts (its start: the REPORT time minus Duration and Init Duration).
  const end = record.completedAt ?? now;
  const to = end + 120_000;
  const rows: ColdRow[] = [];
  for (const role of ['consumer', 'segment-worker'] as const) {
    const fn = names.function(role);
    const lines = (await readLogs(logs, fn, from)).filter(
      (l) => l.timestamp <= to && l.message.startsWith('REPORT RequestId:') && startOf(l) <= end,
    );
    const inits = lines
      .map((l) => INIT.exec(l.message))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]));
    // A REPORT line is written when the invocation ends: it started Duration (and Init Duration) earlier.
    const first = record.firstDeliveryAt;
    const coldBeforeFirst =
      first === undefined ? 0 : lines.filter((l) => INIT.test(l.message) && startOf(l) <= first).length;
    rows.push({
      function: fn,
      invocations: lines.length,
      cold: inits.length,
      maxInitMs: inits.length ? Math.max(...inits) : null,
      coldBeforeFirst,
    });
  }
  return rows;
}
